"""What leaves an audit meeting: the session summary of its audits for moderation, and the
worker's one-page record of one audit in Markdown (cases by reference only)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from qa_tui.config import Config
from qa_tui.db import trail
from qa_tui.db.models import CASE_CATEGORY_NAMES
from qa_tui.files import exports_dir, write_export
from qa_tui.services.audits.actions import ActionRow
from qa_tui.services.audits.record import (
    NO_GRADE,
    STATUS_LABELS,
    TEXT_FIELDS,
    PersonName,
    get_audit,
    load_audit,
)


@dataclass(frozen=True)
class SummaryRow:
    audit_id: uuid.UUID
    case_reference: str
    worker_name: str
    grades: tuple[tuple[str, str], ...]  # (domain label, agreed grade label)
    overall: str
    actions: tuple[ActionRow, ...]
    status: str


def session_summary(session: Session, audit_ids: Sequence[uuid.UUID], *, today: date,
                    cfg: Config) -> list[SummaryRow]:
    """One row per audit of a meeting, in the order given: what goes to moderation."""
    rows = []
    for audit_id in audit_ids:
        a = get_audit(session, audit_id, today=today, cfg=cfg)
        rows.append(SummaryRow(
            a.id, a.case_reference, a.worker.name if a.worker else "",
            tuple((g.label, a.template.grade_label(g.agreed)) for g in a.grades),
            a.template.grade_label(a.overall_grade), a.actions, a.status))
    return rows


def audit_record_markdown(session: Session, audit_id: uuid.UUID, *, today: date, cfg: Config) -> str:
    """A one-page record of the audit for the worker, in Markdown. Cases appear by reference only."""
    a = get_audit(session, audit_id, today=today, cfg=cfg)
    t = a.template
    moderated = any(m.outcome != "returned" for m in a.moderations)
    category = CASE_CATEGORY_NAMES.get(a.case_category, a.case_category)
    lines = [
        f"# {t.name}: {f'case {a.case_reference}' if a.case_reference else _person_label(a.worker)}",
        "",
        "| | |",
        "|---|---|",
        f"| Case | {_cell(a.case_reference)}{f' ({category})' if category else ''} |",
        f"| Worker | {_cell(_person_label(a.worker))} |",
        f"| Auditor | {_cell(_person_label(a.auditor))} |",
        f"| Taking part | {_cell(', '.join(p.name for p in a.participants))} |",
        f"| Date of audit | {a.audit_date.isoformat()} |",
        f"| Template | {_cell(t.name)}, version {t.version} |",
        f"| Status | {STATUS_LABELS.get(a.status, a.status)} |",
        "",
        "## Grades",
        "",
        "| Domain | Agreed grade | Moderated grade |" if moderated else "| Domain | Agreed grade |",
        "|---|---|---|" if moderated else "|---|---|",
    ]
    for g in a.grades:
        row = f"| {_cell(g.label)} | {_cell(t.grade_label(g.agreed))} |"
        lines.append(row + f" {_moderated_cell(t.grade_label(g.moderated), g.moderated != g.agreed)} |"
                     if moderated else row)
    overall = f"| **Overall** | {_cell(t.grade_label(a.overall_grade))} |"
    lines.append(overall + f" {_moderated_cell(t.grade_label(a.moderated_overall), a.moderated_overall != a.overall_grade)} |"
                 if moderated else overall)
    for field, heading in TEXT_FIELDS.items():
        text = getattr(a, field).strip()
        lines += ["", f"## {heading}", "", text or "_Nothing recorded._"]
    lines += ["", "## Actions", ""]
    if a.actions:
        lines += ["| Action | Owner | Due | Status |", "|---|---|---|---|"]
        lines += [f"| {_cell(x.title)} | {_cell(x.owner_name)} | {x.due_on.isoformat()} | {x.status} |"
                  for x in a.actions]
    else:
        lines.append("_No actions._")
    if a.moderations:
        lines += ["", "## Moderation", ""]
        lines += [f"- {m.moderated_on.isoformat()}: {m.outcome} by {m.moderator.name}"
                  + (f" ({m.comment.strip()})" if m.comment.strip() else "") for m in a.moderations]
    lines += ["", f"_Record produced on {today.isoformat()}._", ""]
    return "\n".join(lines)


def export_audit_record(session: Session, audit_id: uuid.UUID, *, today: date, cfg: Config,
                        out_dir: Path | None = None) -> Path:
    """Write the worker's record (Markdown, 0600) to `out_dir` (default: the exports folder) and
    note the export on the audit trail; call it in a unit of work that commits."""
    audit = load_audit(session, audit_id)
    reference = re.sub(r"[^A-Za-z0-9_-]+", "-", audit.case.reference if audit.case else "case").strip("-")
    path = (out_dir or exports_dir()) / f"audit-{reference}-{audit.audit_date.isoformat()}.md"
    write_export(path, audit_record_markdown(session, audit_id, today=today, cfg=cfg))
    trail.record_event(session, "export", "audit", audit_id, detail=f"worker's record written to {path}")
    return path


def _person_label(person: PersonName | None) -> str:
    return f"{person.name} ({person.staff_id})" if person else NO_GRADE


def _moderated_cell(label: str, regraded: bool) -> str:
    return f"**{_cell(label)}** (regraded)" if regraded else _cell(label)


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")
