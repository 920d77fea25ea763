"""Practice work around the worker: observations, supervision and its agenda of follow-ups, dip samples, family feedback, support plans and good practice."""
