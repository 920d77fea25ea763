"""How far a theme's audits have got, per auditor, and the themed report written from them."""

from __future__ import annotations

import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from qa_tui.config import Config
from qa_tui.db import trail
from qa_tui.files import exports_dir, write_export
from qa_tui.services.audits.record import AuditDTO, get_audit
from qa_tui.services.audits.themes import ThemeCaseRow, ThemeView, agency_findings, get_theme, theme_cases


@dataclass(frozen=True)
class AuditorProgress:
    auditor_id: uuid.UUID | None  # None: the cases not given to anyone
    name: str
    assigned: int
    not_started: int
    draft: int
    submitted: int
    done: int  # moderated or finalised


@dataclass(frozen=True)
class ThemeProgress:
    theme: ThemeView
    cases: int
    by_auditor: tuple[AuditorProgress, ...]  # by name; the unassigned last

    @property
    def completed(self) -> int:
        return sum(p.submitted + p.done for p in self.by_auditor)


def theme_progress(session: Session, theme_id: uuid.UUID) -> ThemeProgress:
    """How far each auditor has got with the cases given to them."""
    return _progress(get_theme(session, theme_id), theme_cases(session, theme_id))


def _progress(theme: ThemeView, rows: Sequence[ThemeCaseRow]) -> ThemeProgress:
    grouped: dict[uuid.UUID | None, list[ThemeCaseRow]] = defaultdict(list)
    for r in rows:
        grouped[r.auditor_id].append(r)
    progress = []
    for auditor_id, mine in grouped.items():
        statuses = Counter(r.audit_status for r in mine)
        progress.append(AuditorProgress(
            auditor_id, mine[0].auditor_name if auditor_id else "Not given to anyone", len(mine), statuses[""],
            statuses["draft"], statuses["submitted"], statuses["moderated"] + statuses["finalised"]))
    progress.sort(key=lambda p: (p.auditor_id is None, p.name))
    return ThemeProgress(theme, len(rows), tuple(progress))


# --- the report -----------------------------------------------------------------------------


def theme_report_markdown(session: Session, theme_id: uuid.UUID, *, today: date, cfg: Config) -> str:
    """The themed report: what was asked, how far the audits got, the grades, what was found in
    each case (by reference only), findings per agency and the learning fed back."""
    theme, rows = get_theme(session, theme_id), theme_cases(session, theme_id)
    progress = _progress(theme, rows)
    audits = [get_audit(session, r.audit_id, today=today, cfg=cfg) for r in rows
              if r.audit_id is not None and r.audit_status != "draft"]
    lines = [f"# {theme.kind_name}: {_cell(theme.name)}", "", "| | |", "|---|---|",
             f"| Requested by | {_cell(theme.requested_by) or '—'} |",
             f"| Set up on | {theme.created_on.isoformat()} |",
             f"| Template | {_cell(_template_name(cfg, theme))} |",
             f"| Status | {theme.status} |",
             f"| Cases | {progress.cases} ({progress.completed} audited, {len(audits)} past draft) |"]
    if theme.agencies:
        lines.append(f"| Agencies taking part | {_cell(', '.join(theme.agencies))} |")
    if theme.description:
        lines += ["", "## What the theme looks at", "", theme.description]
    if theme.rules:
        lines += ["", "## How the cases were chosen", ""]
        lines += [f"- {applied.applied_on.isoformat()}: {applied.describe()} ({applied.added} added)"
                  for applied in theme.rules]
    lines += ["", "## Progress", "", "| Auditor | Cases | Not started | Draft | Sent for moderation | Moderated or finalised |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {_cell(p.name)} | {p.assigned} | {p.not_started} | {p.draft} | {p.submitted} | {p.done} |"
              for p in progress.by_auditor]
    lines += ["", "## Grades", ""]
    if audits:
        lines += _grade_table(audits)
    else:
        lines.append("_No audit has been sent for moderation yet._")
    if audits:
        lines += ["", "## What the audits found", ""]
        for a in sorted(audits, key=lambda a: a.case_reference):
            overall = a.template.grade_label(a.moderated_overall if a.moderated_overall is not None else a.overall_grade)
            lines += [f"### Case {a.case_reference} ({overall})", ""]
            for label, text in (("Strengths", a.strengths), ("To improve", a.to_improve)):
                if text.strip():
                    lines.append(f"- **{label}:** {' '.join(text.split())}")
            lines.append("")
    if theme.kind == "multi_agency":
        lines += ["## Findings per agency", ""]
        findings = [(f, r.reference) for r in rows if r.audit_id for f in agency_findings(session, r.audit_id)]
        for agency in theme.agencies:
            mine = [(f, ref) for f, ref in findings if f.agency == agency]
            lines += [f"### {agency}", ""]
            lines += [f"- Case {ref}: {' '.join(f.finding.split())}"
                      + (f" **Learning:** {' '.join(f.learning.split())}" if f.learning.strip() else "")
                      for f, ref in mine] or ["_No findings recorded._"]
            lines.append("")
    lines += ["## Learning fed back", "", theme.learning or "_Nothing recorded yet._", "",
              f"_Report produced on {today.isoformat()}._", ""]
    return "\n".join(lines)


def export_theme_report(session: Session, theme_id: uuid.UUID, *, today: date, cfg: Config,
                        out_dir: Path | None = None) -> Path:
    """Write the themed report (Markdown, 0600) and note the export on the audit trail."""
    theme = get_theme(session, theme_id)
    slug = re.sub(r"[^a-z0-9]+", "-", theme.name.lower()).strip("-")[:60] or "theme"
    path = (out_dir or exports_dir()) / f"theme-{slug}-{today.isoformat()}.md"
    write_export(path, theme_report_markdown(session, theme_id, today=today, cfg=cfg))
    trail.record_event(session, "export", "theme", theme_id, detail=f"themed report written to {path}")
    return path


def _template_name(cfg: Config, theme: ThemeView) -> str:
    try:
        return cfg.template(theme.template_key).name
    except KeyError:
        return f"{theme.template_key} (no longer in the config)"


def _grade_table(audits: Sequence[AuditDTO]) -> list[str]:
    """Agreed grades per domain (moderated where moderated), counted per grade of the scale."""
    scale = audits[0].template.scale
    same = [a for a in audits if a.template.scale == scale]
    header = "| Domain | " + " | ".join(_cell(s) for s in scale) + " |"
    lines = [header, "|---|" + "---|" * len(scale)]
    labels = {g.domain: g.label for a in same for g in a.grades}
    for domain, label in labels.items():
        counts = Counter(g.moderated if g.moderated is not None else g.agreed
                         for a in same for g in a.grades if g.domain == domain)
        lines.append(f"| {_cell(label)} | " + " | ".join(str(counts[i]) for i in range(len(scale))) + " |")
    overall = Counter(a.moderated_overall if a.moderated_overall is not None else a.overall_grade for a in same)
    lines.append("| **Overall** | " + " | ".join(str(overall[i]) for i in range(len(scale))) + " |")
    return lines


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
