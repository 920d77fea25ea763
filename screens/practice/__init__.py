"""Practice screens: observations, supervision, dip sampling and family feedback."""
