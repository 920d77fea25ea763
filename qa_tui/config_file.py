"""The commented starter config: every key with its default, written by `qa-tui config init`.

Values are rendered with tomli-w; the comments come from the table below. `config.example.toml`
is this same text (a test keeps them equal).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomli_w

from qa_tui.config import (
    CASE_HOLDING_ROLES,
    DEFAULT_CADENCE,
    DEFAULT_PROGRAMME,
    OFSTED_SCALE,
    PROGRAMME_FREQUENCIES,
    PROGRAMME_TASKS,
    ROLE_NAMES,
    ProgrammeTask,
    Template,
    default_templates,
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
# reaudit_months: a case is not audited again within this many months.
# escalation_response_days: an Inadequate finding or a child at risk now is answered within these days.
# impact_reaudit_months: a case moderated Requires improvement or Inadequate is re-audited this long after.""",
     {"moderation_day": 28, "action_due_weeks": 4, "finalise_within_weeks": 4, "reaudit_months": 12,
      "escalation_response_days": 2, "impact_reaudit_months": 3}),
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
    ("serve", """\
# qa-tui serve (the app in a web browser, docs/browser.md). mode "token": it prints an address
# holding a secret token, and nobody without it gets in. mode "proxy": your council's reverse
# proxy signs people in and passes each person's user name in user_header, believed only from
# proxy_addresses (IP addresses or networks); on PostgreSQL each person then works as their own
# database login. Any other request is refused.""",
     {"mode": "token", "user_header": "X-Forwarded-User", "proxy_addresses": ["127.0.0.1"]}),
    ("import.cin_census", """\
# The CIN census import (qa-tui import cin-census FILE.xml). child_id: the element of
# <ChildIdentifiers> holding the case system's ID, stored as the case reference after
# reference_prefix (for references such as "LCS-1234"). new_children: "add" children not yet in
# qa-tui as unallocated cases, or "skip" them. UPNs and dates of birth are never a reference.""",
     {"child_id": "LAchildID", "reference_prefix": "", "new_children": "add"}),
]

TEMPLATES_COMMENT = """\
# Audit templates, one for each kind of audit: "live" (the monthly live audit), "dip" (the dip
# sample), "themed", "multi_agency", "closure" (on closure or transfer: the framework's checks),
# "supervision_file" and "cross_service". A [[templates]] entry with the same key replaces one;
# change the domains and raise the version, because every audit keeps the version it was
# recorded against. A new key adds a template (a theme can choose any template of its kind).
# kind is one of: live, dip_sample, themed, multi_agency, closure, supervision_file, cross_service.
# scale (best first) defaults to [grading] scale."""


def _template_table(template: Template) -> dict[str, Any]:
    table: dict[str, Any] = {"key": template.key, "name": template.name, "version": template.version,
                             "kind": template.kind}
    if template.scale != OFSTED_SCALE:
        table["scale"] = list(template.scale)
    table["domains"] = [{"key": d.key, "label": d.label} for d in template.domains]
    return table


EXAMPLE_TEMPLATES = [_template_table(t) for t in default_templates()]


PROGRAMME_COMMENT = """\
# The QA programme: who owes what, and how often. Each [[programme]] table gives the roles that
# owe a task, the task, how often (frequency), how many each time (count) and why (purpose).
# Writing any [[programme]] table replaces this whole default programme. A table holding only
# preset = "portsmouth-2016" or preset = "wirral-2023" stands for a council's whole shipped table
# (see `qa-tui programme show`); more tables may follow it.
# Extra keys: kinds (audit_record: audit kinds, required; observe_practice: observation kinds),
# own_service (observe_practice: only people in one's own area), scope = "council" (coverage and
# CP review duties over the whole council), sample_count or sample_percent (audit_on_closure:
# that many closures and transfers a month rather than every one), per_role (a role of the row
# with its own frequency and count: per_role.NQSW = { frequency = "fortnightly", count = 2 }).
# Tasks:
""" + "".join(f"#   {k:<28} {v}\n" for k, v in PROGRAMME_TASKS.items()) + """\
# Frequencies: """ + ", ".join(PROGRAMME_FREQUENCIES) + """.
# Months, quarters and half-years are counted from 1 April (Q1 = April to June); weeks start on
# Monday. Tasks about people or children (supervise_each_practitioner, have_case_audited,
# be_observed, review_cp_long_or_ending) owe `count` for each one concerned. audit_on_closure is
# the one on_event task: each case closed in (or moved out of) the area is audited within
# `within_days` of the closure or move."""

PROGRAMME_NOTES = {
    "supervise_each_practitioner": "# Team managers: every line report (people whose manager they are) supervised.",
    "review_cp_long_or_ending": "# Team managers: each child in their team whose CP plan ended having lasted under\n"
                                "# 3 months, or has run 18 months or more, is reviewed (any audit of the case) each quarter.",
    "have_case_audited": "# Case-holders: at least one of their cases audited (any case audit past draft).",
    "audit_cross_service": "# Service leaders: a case file from a team in another service.",
    "audit_on_closure": "# Service leaders: each case closed in their service audited (kind \"closure\").",
}


def _programme_table(task: ProgrammeTask) -> dict[str, Any]:
    table: dict[str, Any] = {"roles": list(task.roles), "task": task.task, "frequency": task.frequency,
                             "count": task.count, "purpose": task.purpose}
    if task.frequency == "on_event":
        table["within_days"] = task.within_days
    return table


def _programme_text() -> str:
    parts = [PROGRAMME_COMMENT + "\n"]
    for task in DEFAULT_PROGRAMME:
        note = PROGRAMME_NOTES.get(task.task)
        parts.append(("" if not note else note + "\n") + tomli_w.dumps({"programme": [_programme_table(task)]}))
    return "\n".join(parts)


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
    parts.append("\n" + _programme_text())
    return "".join(parts)


def write_starter_config(path: Path) -> None:
    """Write the starter file atomically, 0600 (it may later hold a URL with a user name)."""
    from qa_tui.files import write_private

    write_private(path, starter_config_text())
