"""Learning and celebration: marking an audit, observation or piece of feedback as good practice
with a line on why, and the quarterly pack (Markdown and HTML) that gathers them with the themes
of the quarter."""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from qa_tui.config import AUDIT_KIND_NAMES
from qa_tui.dates import financial_year_label
from qa_tui.db import trail
from qa_tui.db.models import (
    GOOD_PRACTICE_SOURCES,
    Audit,
    AuditTemplate,
    Case,
    Feedback,
    GoodPractice,
    Observation,
    Person,
    ThemeCase,
)
from qa_tui.errors import ChangedElsewhere, NotFound, ValidationError
from qa_tui.files import exports_dir, write_export
from qa_tui.services.practice.feedback import GIVER_LABELS, feedback_summary
from qa_tui.services.practice.observations import KIND_LABELS as OBSERVATION_KIND_LABELS
from qa_tui.services.practice.observations import ThemeCount, observation_themes
from qa_tui.services.programme.periods import Period, period_containing
from qa_tui.services.audits.themes import ThemeSummary, list_themes

PACK_STYLE = ("body{font-family:system-ui,sans-serif;max-width:50em;margin:2em auto;line-height:1.5}"
              "h1{color:#1d4f91}li{margin:.3em 0}.why{font-style:italic}")
SOURCE_NAMES = {"audit": "Audit", "observation": "Practice observation", "feedback": "Feedback"}


@dataclass(frozen=True)
class GoodPracticeItem:
    id: uuid.UUID
    version: int
    source_kind: str
    source_id: uuid.UUID
    what: str  # e.g. "Themed audit of case CASE-0042"; cases by reference only
    happened_on: date
    worker_id: uuid.UUID | None
    worker_name: str
    why: str
    marked_by_name: str
    marked_on: date


def mark_good_practice(session: Session, *, source_kind: str, source_id: uuid.UUID, why: str,
                       marked_by_id: uuid.UUID | None, today: date) -> GoodPracticeItem:
    """Mark an audit, observation or piece of feedback as good practice to celebrate; marking it
    again replaces the line on why. The worker is the one the record is about."""
    if source_kind not in GOOD_PRACTICE_SOURCES:
        raise ValidationError("source", f"expected one of {', '.join(GOOD_PRACTICE_SOURCES)}, got {source_kind!r}")
    if not why.strip():
        raise ValidationError("why", "say in a line what was good, so it can be celebrated")
    worker_id = _source_worker(session, source_kind, source_id)
    row = session.scalar(select(GoodPractice).where(GoodPractice.source_kind == source_kind,
                                                    GoodPractice.source_id == source_id))
    if row is None:
        row = GoodPractice(source_kind=source_kind, source_id=source_id)
        session.add(row)
    row.worker_id, row.why, row.marked_by_id, row.marked_on = worker_id, why.strip(), marked_by_id, today
    try:
        session.flush()
    except (IntegrityError, StaleDataError):
        raise ChangedElsewhere("This good practice mark") from None
    return _items(session, [row])[0]


def unmark_good_practice(session: Session, source_kind: str, source_id: uuid.UUID) -> None:
    row = session.scalar(select(GoodPractice).where(GoodPractice.source_kind == source_kind,
                                                    GoodPractice.source_id == source_id))
    if row is None:
        raise NotFound("This record is not marked as good practice.")
    session.delete(row)
    session.flush()


def good_practice_for(session: Session, source_kind: str, source_id: uuid.UUID) -> GoodPracticeItem | None:
    row = session.scalar(select(GoodPractice).where(GoodPractice.source_kind == source_kind,
                                                    GoodPractice.source_id == source_id))
    return _items(session, [row])[0] if row else None


def good_practice_between(session: Session, start: date, end: date) -> list[GoodPracticeItem]:
    """Good practice marked from `start` to `end` inclusive, oldest mark first."""
    rows = session.scalars(select(GoodPractice).where(GoodPractice.marked_on >= start, GoodPractice.marked_on <= end)
                           .order_by(GoodPractice.marked_on, GoodPractice.created_at, GoodPractice.id)).all()
    return _items(session, list(rows))


def _source_worker(session: Session, source_kind: str, source_id: uuid.UUID) -> uuid.UUID | None:
    model = {"audit": Audit, "observation": Observation, "feedback": Feedback}[source_kind]
    row = session.get(model, source_id)
    if row is None:
        raise NotFound(f"{SOURCE_NAMES[source_kind]} {source_id} does not exist.")
    return row.worker_id


def _items(session: Session, rows: list[GoodPractice]) -> list[GoodPracticeItem]:
    """Each mark with a line saying what it celebrates (one query per kind of source)."""
    ids = {kind: [r.source_id for r in rows if r.source_kind == kind] for kind in GOOD_PRACTICE_SOURCES}
    described: dict[uuid.UUID, tuple[str, date]] = {}
    if ids["audit"]:
        worker = aliased(Person)
        for a_id, kind, day, ref, wname, template, overall in session.execute(
                select(Audit.id, Audit.kind, Audit.audit_date, Case.reference, worker.name, AuditTemplate.scale,
                       Audit.overall_grade)
                .outerjoin(Case, Case.id == Audit.case_id).outerjoin(worker, worker.id == Audit.worker_id)
                .join(AuditTemplate, AuditTemplate.id == Audit.template_id).where(Audit.id.in_(ids["audit"]))):
            subject = f"case {ref}" if ref else f"the supervision file of {wname or 'a worker'}"
            grade = f" ({template[overall]})" if overall is not None else ""
            described[a_id] = (f"{AUDIT_KIND_NAMES.get(kind, kind)} of {subject}{grade}", day)
    if ids["observation"]:
        for o_id, kind, day, setting in session.execute(
                select(Observation.id, Observation.kind, Observation.observed_on, Observation.setting)
                .where(Observation.id.in_(ids["observation"]))):
            where = f": {setting}" if setting.strip() else ""
            label = OBSERVATION_KIND_LABELS.get(kind, kind)
            described[o_id] = (f"{label[:1].upper()}{label[1:]}{where}", day)
    if ids["feedback"]:
        for f_id, giver, day, rating, ref in session.execute(
                select(Feedback.id, Feedback.giver, Feedback.received_on, Feedback.rating, Case.reference)
                .outerjoin(Case, Case.id == Feedback.case_id).where(Feedback.id.in_(ids["feedback"]))):
            about = f" about case {ref}" if ref else ""
            rated = f", rated {rating}/5" if rating is not None else ""
            described[f_id] = (f"Feedback from {GIVER_LABELS.get(giver, giver)}{about}{rated}", day)
    people = {p_id: name for p_id, name in session.execute(select(Person.id, Person.name).where(
        Person.id.in_(({r.worker_id for r in rows} | {r.marked_by_id for r in rows}) - {None})))}
    return [GoodPracticeItem(r.id, r.version, r.source_kind, r.source_id, *described.get(r.source_id, ("", r.marked_on)),
                             r.worker_id, people.get(r.worker_id, ""), r.why, people.get(r.marked_by_id, ""),
                             r.marked_on) for r in rows]


# --- the quarterly pack ---------------------------------------------------------------------


@dataclass(frozen=True)
class ThemedAuditLine:
    theme: ThemeSummary
    audited_in_quarter: int


@dataclass(frozen=True)
class CelebrationPack:
    quarter: Period
    title: str
    good_practice: tuple[GoodPracticeItem, ...]
    observation_themes: tuple[ThemeCount, ...]
    feedback_received: int
    feedback_average: float | None
    feedback_themes: tuple[ThemeCount, ...]
    themed_audits: tuple[ThemedAuditLine, ...]
    prepared_on: date


def quarter_of(day: date) -> Period:
    """The financial quarter containing `day` (Q1 = April to June)."""
    return period_containing("quarterly", day)


def quarter_after(quarter: Period, steps: int = 1) -> Period:
    """The quarter `steps` after `quarter` (before it, when negative)."""
    for _ in range(abs(steps)):
        quarter = quarter_of(quarter.start - timedelta(days=1) if steps < 0 else quarter.end + timedelta(days=1))
    return quarter


def quarter_title(quarter: Period) -> str:
    number = quarter.label.rsplit("Q", 1)[-1]
    return (f"Q{number} {financial_year_label(quarter.start)} "
            f"({quarter.start:%-d %B} to {quarter.end:%-d %B %Y})")


def celebration_pack(session: Session, quarter: Period, *, today: date) -> CelebrationPack:
    """Everything for the quarter's learning and celebration event: the good practice marked in
    the quarter, the themes of observations and feedback, and the themed and multi-agency audits
    set up or carried out in it."""
    start, end = quarter.start, quarter.end
    audited: dict[uuid.UUID, int] = {}
    for theme_id, day in session.execute(
            select(ThemeCase.theme_id, Audit.audit_date).join(Audit, Audit.id == ThemeCase.audit_id)
            .where(Audit.audit_date >= start, Audit.audit_date <= end, Audit.status != "draft")):
        audited[theme_id] = audited.get(theme_id, 0) + 1
    themed = tuple(ThemedAuditLine(t, audited.get(t.theme.id, 0)) for t in list_themes(session)
                   if start <= t.theme.created_on <= end or t.theme.id in audited)
    feedback = feedback_summary(session, start, end)
    return CelebrationPack(
        quarter=quarter, title=f"Learning and celebration: {quarter_title(quarter)}",
        good_practice=tuple(good_practice_between(session, start, end)),
        observation_themes=tuple(observation_themes(session, start, end)),
        feedback_received=feedback.received, feedback_average=feedback.average_rating,
        feedback_themes=feedback.themes, themed_audits=themed, prepared_on=today)


def _by_worker(pack: CelebrationPack) -> list[tuple[str, list[GoodPracticeItem]]]:
    groups: dict[str, list[GoodPracticeItem]] = {}
    for item in pack.good_practice:
        groups.setdefault(item.worker_name or "Not about one worker", []).append(item)
    return sorted(groups.items())


def _themes_line(themes: tuple[ThemeCount, ...]) -> str:
    return ", ".join(f"{t.theme} ({t.count})" for t in themes)


def pack_markdown(pack: CelebrationPack) -> str:
    """The pack as Markdown; cases appear by reference only."""
    lines = [f"# {pack.title}", "", f"_Prepared on {pack.prepared_on.isoformat()}._", "",
             f"## Good practice to celebrate ({len(pack.good_practice)})", ""]
    for worker, items in _by_worker(pack):
        lines += [f"### {worker}", ""]
        lines += [f"- **{_line(i.what)}** ({i.happened_on.isoformat()}): {_line(i.why)}"
                  + (f" _Marked by {i.marked_by_name}._" if i.marked_by_name else "") for i in items]
        lines.append("")
    if not pack.good_practice:
        lines += ["_Nothing marked as good practice this quarter._", ""]
    lines += ["## Themes of the quarter", "",
              f"- **Practice observations:** {_themes_line(pack.observation_themes) or 'no themes recorded'}",
              f"- **Feedback from children and families:** {pack.feedback_received} received"
              + (f", average rating {pack.feedback_average}/5" if pack.feedback_average is not None else "")
              + (f"; themes: {_themes_line(pack.feedback_themes)}" if pack.feedback_themes else ""), ""]
    lines += ["## Themed and multi-agency audits", ""]
    for line in pack.themed_audits:
        t = line.theme
        lines.append(f"- **{_line(t.theme.name)}** ({t.theme.kind_name.lower()}): {t.cases} cases, "
                     f"{t.completed} audited, {line.audited_in_quarter} this quarter"
                     + (f". Learning: {_line(t.theme.learning)}" if t.theme.learning else ""))
    if not pack.themed_audits:
        lines.append("_No themed or multi-agency audits this quarter._")
    return "\n".join(lines) + "\n"


def pack_html(pack: CelebrationPack) -> str:
    """The pack as a standalone HTML page for the event; every value escaped."""
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en-GB"><head><meta charset="utf-8">', f"<title>{e(pack.title)}</title>",
             f"<style>{PACK_STYLE}</style></head><body>",
             f"<h1>{e(pack.title)}</h1>", f"<p>Prepared on {e(pack.prepared_on.isoformat())}.</p>",
             f"<h2>Good practice to celebrate ({len(pack.good_practice)})</h2>"]
    for worker, items in _by_worker(pack):
        parts.append(f"<h3>{e(worker)}</h3><ul>")
        parts += [f"<li><strong>{e(_line(i.what))}</strong> ({e(i.happened_on.isoformat())}): "
                  f"<span class=\"why\">{e(_line(i.why))}</span></li>" for i in items]
        parts.append("</ul>")
    if not pack.good_practice:
        parts.append("<p>Nothing marked as good practice this quarter.</p>")
    average = f", average rating {pack.feedback_average}/5" if pack.feedback_average is not None else ""
    parts += ["<h2>Themes of the quarter</h2><ul>",
              f"<li><strong>Practice observations:</strong> {e(_themes_line(pack.observation_themes) or 'no themes recorded')}</li>",
              f"<li><strong>Feedback from children and families:</strong> {pack.feedback_received} received{e(average)}"
              + (f"; themes: {e(_themes_line(pack.feedback_themes))}" if pack.feedback_themes else "") + "</li></ul>",
              "<h2>Themed and multi-agency audits</h2><ul>"]
    for line in pack.themed_audits:
        t = line.theme
        learning = f". Learning: {e(_line(t.theme.learning))}" if t.theme.learning else ""
        parts.append(f"<li><strong>{e(_line(t.theme.name))}</strong> ({e(t.theme.kind_name.lower())}): {t.cases} cases, "
                     f"{t.completed} audited, {line.audited_in_quarter} this quarter{learning}</li>")
    if not pack.themed_audits:
        parts.append("<li>No themed or multi-agency audits this quarter.</li>")
    parts += ["</ul>", "</body></html>", ""]
    return "\n".join(parts)


def export_celebration_pack(session: Session, quarter: Period, *, today: date,
                            out_dir: Path | None = None) -> tuple[Path, Path]:
    """Write the pack as Markdown and HTML (each 0600) and note the export on the audit trail."""
    pack = celebration_pack(session, quarter, today=today)
    folder = out_dir or exports_dir()
    stem = f"learning-and-celebration-{quarter.label}"
    markdown = write_export(folder / f"{stem}.md", pack_markdown(pack))
    page = write_export(folder / f"{stem}.html", pack_html(pack))
    trail.record_event(session, "export", "good_practice", None,
                       detail=f"learning and celebration pack {quarter.label} written to {markdown} and {page}")
    return markdown, page


def _line(text: str) -> str:
    return " ".join(text.split())
