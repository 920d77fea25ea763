"""The CIN census import: each child in a DfE Children in Need census file becomes (or updates)
the case whose reference is the child's ID, with its current CIN episode's dates, its category
(CP while a plan runs) and its latest CP plan; every CP plan goes into the case's plan history.
The census names no team or worker: stored cases keep theirs and new ones are unallocated. It is
true as at its reference date, so it never undoes what qa-tui learned after that date."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_tui.config import CinCensusImport
from qa_tui.db import trail
from qa_tui.db.models import Case, CpPlan
from qa_tui.services.imports.caseload import CaseloadPlan, ImportResult, IncomingCase, apply_caseload, plan_caseload
from qa_tui.services.imports.cin_census_xml import (
    CensusChild,
    CensusEpisode,
    CensusHeader,
    CensusNote,
    CensusPlan,
    children_label,
    read_census,
    summary_notes,
)
from qa_tui.services.people.permissions import IMPORT_CASELOAD, require

CHUNK = 500
KEPT_CATEGORIES = ("CLA", "CL")  # the census cannot tell a looked-after child or care leaver: kept


@dataclass(frozen=True)
class PlanHistory:
    """What the import does to the stored CP plan history."""

    added: int = 0
    updated: int = 0  # an end date the census gives or corrects
    unchanged: int = 0


@dataclass(frozen=True)
class CinCensusPreview:
    """Everything the user needs to decide, and everything `apply_cin_census` needs to write."""

    source: str
    today: date
    header: CensusHeader
    settings: CinCensusImport
    children_in_file: int
    children_used: int
    episodes: int
    open_episodes: int
    cp_plans: int
    running_cp_plans: int
    skipped_new: int  # children not in qa-tui, not added (new_children = "skip")
    cases: tuple[IncomingCase, ...]
    plans: tuple[tuple[str, tuple[CensusPlan, ...]], ...]  # by case reference: the plan history to store
    problems: tuple[CensusNote, ...]
    notes: tuple[CensusNote, ...]
    plan: CaseloadPlan
    history: PlanHistory


@dataclass(frozen=True)
class CinCensusResult:
    result: ImportResult
    history: PlanHistory
    matches_preview: bool


@dataclass(frozen=True)
class _Stored:
    id: uuid.UUID
    category: str
    opened_on: date | None
    closed_on: date | None
    cp_plan_start: date | None
    cp_plan_end: date | None


def current_episode(child: CensusChild) -> CensusEpisode:
    """The episode the case is about now: the open one (the latest referral, if the file has
    several), else the latest referral."""
    open_ones = [e for e in child.episodes if e.closure is None]
    return max(open_ones or child.episodes, key=lambda e: e.referral)


def latest_plan(child: CensusChild) -> CensusPlan | None:
    plans = child.plans
    running = [p for p in plans if p.end is None]
    return max(running or plans, key=lambda p: p.start) if plans else None


def census_category(episode: CensusEpisode, plan: CensusPlan | None, stored: str | None) -> str:
    """CP while the case's latest plan runs (to the end of a closed episode), else CIN; a stored
    looked-after or care-leaver case keeps its category."""
    if stored in KEPT_CATEGORIES:
        return stored
    running = plan is not None and (plan.end is None if episode.closure is None else
                                    plan.end is None or plan.end >= episode.closure)
    return "CP" if running else "CIN"


def preview_cin_census(session: Session, path: Path | str, today: date,
                       settings: CinCensusImport | None = None) -> CinCensusPreview:
    """Read the census and compare it with the database. Writes nothing."""
    settings = settings or CinCensusImport()
    reading = read_census(Path(path), today=today, child_id=settings.child_id, prefix=settings.reference_prefix)
    stored = _stored_cases(session, [c.reference for c in reading.children])
    as_at = reading.header.reference_date or max(
        (d for c in reading.children for e in c.episodes for d in (e.referral, e.closure) if d), default=today)
    cases: list[IncomingCase] = []
    plans: list[tuple[str, tuple[CensusPlan, ...]]] = []
    left: dict[str, list[str]] = defaultdict(list)
    skipped = 0
    for child in sorted(reading.children, key=lambda c: c.reference):
        case = stored.get(child.reference)
        if case is None and settings.new_children == "skip":
            skipped += 1
            continue
        if child.plans:
            plans.append((child.reference, child.plans))
        reason = _newer_in_qa_tui(child, case, as_at)
        if reason:
            left[reason].append(f"child {child.reference}")
            continue
        cases.append(_incoming(child, case, left))
    notes = [*reading.notes, *summary_notes(reading)]
    notes += [CensusNote(children_label(labels), "", reason) for reason, labels in left.items()]
    if reading.header.reference_date is None:
        notes.append(CensusNote("Header", "ReferenceDate", (
            f"no census date: the file is taken to be true as at its latest date, {as_at:%d/%m/%Y}")))
    episodes = [e for c in reading.children for e in c.episodes]
    all_plans = [p for c in reading.children for p in c.plans]
    return CinCensusPreview(
        source=reading.source, today=today, header=reading.header, settings=settings,
        children_in_file=reading.children_in_file, children_used=len(reading.children),
        episodes=len(episodes), open_episodes=sum(e.closure is None for e in episodes),
        cp_plans=len(all_plans), running_cp_plans=sum(p.end is None for p in all_plans), skipped_new=skipped,
        cases=tuple(cases), plans=tuple(plans), problems=tuple(reading.problems), notes=tuple(notes),
        plan=plan_caseload(session, cases, today=today),
        history=_history(session, plans, {ref: case.id for ref, case in stored.items()}, write=False),
    )


def _newer_in_qa_tui(child: CensusChild, case: _Stored | None, as_at: date) -> str:
    """Why the stored case is left as it is (qa-tui knows of a change after the census), or ""."""
    if case is None:
        return ""
    episode = current_episode(child)
    if (episode.closure is not None and case.closed_on is None and case.opened_on is not None
            and case.opened_on > episode.closure):
        return "reopened in qa-tui after the episode the census shows closed; the cases are left open"
    if episode.closure is None and case.closed_on is not None and case.closed_on > as_at:
        return (f"closed in qa-tui after the census date ({as_at:%d/%m/%Y}); "
                "the cases are left closed")
    return ""


def _incoming(child: CensusChild, case: _Stored | None, left: dict[str, list[str]]) -> IncomingCase:
    """The case as the census gives it. A stored plan later than any the census has (one the
    census is too old to know) stays on the case and decides whether it is CP."""
    episode, plan = current_episode(child), latest_plan(child)
    incoming_plan = plan
    if case and case.cp_plan_start and (plan is None or case.cp_plan_start > plan.start):
        if plan is not None or case.cp_plan_end is None:  # news only when it outranks the census or runs
            left["qa-tui has a later CP plan than the census shows; it is kept on the case"].append(
                f"child {child.reference}")
        plan, incoming_plan = CensusPlan(case.cp_plan_start, case.cp_plan_end), None
    category = census_category(episode, plan, case.category if case else None)
    return IncomingCase(reference=child.reference, category=category, opened_on=episode.referral,
                        closed_on=episode.closure, cp_plan_start=incoming_plan.start if incoming_plan else None,
                        cp_plan_end=incoming_plan.end if incoming_plan else None, allocation_known=False)


def _stored_cases(session: Session, references: Iterable[str]) -> dict[str, _Stored]:
    found: dict[str, _Stored] = {}
    wanted = sorted(set(references))
    for start in range(0, len(wanted), CHUNK):
        rows = session.execute(select(Case.reference, Case.id, Case.category, Case.opened_on, Case.closed_on,
                                      Case.cp_plan_start, Case.cp_plan_end)
                               .where(Case.reference.in_(wanted[start:start + CHUNK])))
        found.update({row[0]: _Stored(*row[1:]) for row in rows})
    return found


def _history(session: Session, plans: Sequence[tuple[str, tuple[CensusPlan, ...]]],
             case_ids: dict[str, uuid.UUID], *, write: bool) -> PlanHistory:
    """Count (and, with `write`, make) the changes to the stored plan history: a plan not stored
    is added; a stored one takes the census's end date when it has one (a later return's end date
    is never cleared by an older file showing the plan still running)."""
    ids = sorted({case_ids[ref] for ref, _ in plans if ref in case_ids})
    stored: dict[tuple[uuid.UUID, date], CpPlan] = {}
    for start in range(0, len(ids), CHUNK):
        for row in session.scalars(select(CpPlan).where(CpPlan.case_id.in_(ids[start:start + CHUNK]))):
            stored[(row.case_id, row.started_on)] = row
    added = updated = unchanged = 0
    for reference, child_plans in plans:
        case_id = case_ids.get(reference)
        for plan in child_plans:
            row = stored.get((case_id, plan.start)) if case_id else None
            if row is None:
                added += 1
                if write and case_id is not None:
                    session.add(CpPlan(id=uuid.uuid4(), case_id=case_id, started_on=plan.start, ended_on=plan.end))
            elif plan.end is not None and row.ended_on != plan.end:
                updated += 1
                if write:
                    row.ended_on = plan.end
            else:
                unchanged += 1
    return PlanHistory(added, updated, unchanged)


def apply_cin_census(session: Session, preview_or_path: CinCensusPreview | Path | str, today: date,
                     settings: CinCensusImport | None = None) -> CinCensusResult:
    """Write the import in the caller's transaction. Given a preview, the file is not read again,
    but the changes are worked out afresh against the database as it is now."""
    require(session, IMPORT_CASELOAD)
    preview = preview_or_path
    if not isinstance(preview, CinCensusPreview):
        preview = preview_cin_census(session, preview, today, settings)
    result = apply_caseload(session, preview.source, preview.cases, today=today, what="CIN census",
                            previewed=preview.plan)
    stored = _stored_cases(session, [ref for ref, _ in preview.plans])
    history = _history(session, preview.plans, {ref: case.id for ref, case in stored.items()}, write=True)
    trail.record_event(session, "import", "cp_plan", None, detail=(
        f"CIN census import from {Path(preview.source).name}: CP plans {history.added} added, "
        f"{history.updated} updated, {history.unchanged} unchanged"))
    session.flush()
    return CinCensusResult(result, history, result.matches_preview and history == preview.history)

