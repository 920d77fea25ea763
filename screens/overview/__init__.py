"""Overview screens: the dashboard, triage and reports."""
