"""Audits: the audit record and its lifecycle, actions, the provable draw, the live meeting, moderation, and the other audit kinds (themed, multi-agency, closure, supervision-file, cross-service)."""
