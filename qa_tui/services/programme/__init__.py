"""The QA programme: what each role owes and when, compliance, everything late (triage) and the dashboard's figures."""
