"""History: what the audit trail recorded about one record (an audit, an action, an observation, a person), with people named."""
