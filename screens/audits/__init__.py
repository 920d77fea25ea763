"""Audit screens: the live audit and its meeting, the audit form every other kind opens, moderation and the other-audits lists."""
