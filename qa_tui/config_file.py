"""The commented starter config: every key with its default, written by `qa-tui config init`.

Values are rendered with tomli-w; the comments come from the table below. `config.example.toml`
is this same text (a test keeps them equal).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import tomli_w

from qa_tui.config import (
    CASE_HOLDING_ROLES,
    DEFAULT_CADENCE,
    DIP_SAMPLE_AREAS,
    LIVE_AUDIT_DOMAINS,
    OFSTED_SCALE,
    ROLE_NAMES,
)

HEADER = """\
# qa-tui configuration.
#
# Read from the user config directory (qa-tui config path prints where). Every key is optional;
# the value shown is the default. This file is never rewritten by the app.
# Roles:
""" + "".join(f"#   {k:<5} {v}\n" for k, v in ROLE_NAMES.items())

SECTIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("database", """\
# Where the data lives. Empty: a SQLite file in the user data directory.
# A team shares PostgreSQL: url = "postgresql+psycopg://alex@qa-db.council.local/qa"
# Never put a password here: use PGPASSWORD, ~/.pgpass or a pg_service.conf service
# (url = "postgresql+psycopg:///?service=qa"). QA_TUI_DATABASE_URL or --db override this.""",
     {"url": ""}),
    ("user", """\
# Who is recording, shown by default. On PostgreSQL your database login decides who you are; on a
# laptop it is your operating-system account. staff_id picks your person record when neither
# login is linked to one yet; team is your default team code.""",
     {"staff_id": "", "name": "", "team": ""}),
    ("grading", """\
# The grading scale, best first (Ofsted's four judgements by default).""",
     {"scale": list(OFSTED_SCALE)}),
    ("deadlines", """\
# moderation_day: live audits go to moderation by this day of the month.
# action_due_weeks: actions are due this many weeks after the audit.
# finalise_within_weeks: audits not finalised this many weeks after the audit are flagged.
# reaudit_months: a case is not audited again within this many months.""",
     {"moderation_day": 28, "action_due_weeks": 4, "finalise_within_weeks": 4, "reaudit_months": 12}),
    ("supervision.cadence", """\
# How often each role is supervised: weekly, fortnightly, monthly or quarterly.
# "default" covers every role not listed.""",
     dict(DEFAULT_CADENCE)),
    ("draw", """\
# The monthly random draw of one case per case-holding worker, and which cases are eligible.""",
     {"roles": list(CASE_HOLDING_ROLES), "require_open": True, "require_allocated": True,
      "exclude_audited_within_months": 12, "exclude_drawn_this_month": True}),
    ("observation", """\
# Newly qualified workers (ASYE) are observed this many times in their ASYE year; everyone
# else at least once each financial year (April to March).""",
     {"nqsw_per_year": 3}),
    ("feedback", """\
# The council's feedback form for children and families, shown as a QR code.""",
     {"form_url": ""}),
    ("retention", """\
# Years after a case closes before its QA records are purged; 0 keeps them.""",
     {"years_after_closure": 0}),
]

TEMPLATES_COMMENT = """\
# Audit templates. Built in: "live" (the monthly live audit) and "dip" (the dip sample). A
# [[templates]] entry with the same key replaces one; change the domains and raise the version,
# because every audit keeps the version it was recorded against. kind is one of: live,
# dip_sample, themed, multi_agency, closure, supervision_file, cross_service."""

EXAMPLE_TEMPLATES = [
    {"key": "live", "name": "Live case audit", "version": 1, "kind": "live",
     "domains": [{"key": k, "label": v} for k, v in LIVE_AUDIT_DOMAINS]},
    {"key": "dip", "name": "Monthly dip sample", "version": 1, "kind": "dip_sample",
     "scale": ["Met", "Partly met", "Not met"],
     "domains": [{"key": k, "label": v} for k, v in DIP_SAMPLE_AREAS]},
]


def _nest(dotted: str, values: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = values
    for part in reversed(dotted.split(".")):
        result = {part: result}
    return result


def starter_config_text() -> str:
    parts = [HEADER]
    for name, comment, values in SECTIONS:
        parts.append("\n" + comment + "\n" + tomli_w.dumps(_nest(name, values)))
    parts.append("\n" + TEMPLATES_COMMENT + "\n" + tomli_w.dumps({"templates": EXAMPLE_TEMPLATES}))
    return "".join(parts)


def write_starter_config(path: Path) -> None:
    """Write the starter file atomically, 0600 (it may later hold a URL with a user name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(starter_config_text())
    os.replace(tmp, path)
