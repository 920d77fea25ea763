"""The QA programme: periods, task rules, what each person owes, compliance, CP plan reviews, triage and the dashboard's figures."""
