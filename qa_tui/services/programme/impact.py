"""Re-audit for impact: a case whose audit was moderated Requires improvement or Inadequate is
due a re-audit `impact_reaudit_months` later (3 by default); the re-audits held show, per team
and quarter, the grade before and after. Derived from audits and moderations: nothing stored."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_tui.config import CHECKLIST_KINDS, Config
from qa_tui.dates import add_months
from qa_tui.db.models import Action, Audit, Case, Moderation, Team
from qa_tui.services.programme.periods import Period


@dataclass(frozen=True)
class Reaudit:
    case_id: uuid.UUID
    case_reference: str
    team_code: str
    source_audit_id: uuid.UUID
    grade_before: int
    due_on: date
    done_audit_id: uuid.UUID | None  # the first audit of the case held on or after the moderation
    done_on: date | None
    grade_after: int | None  # its moderated grade (or the auditors' when not yet moderated)


@dataclass(frozen=True)
class ImpactRow:
    team_code: str
    reaudited: int
    improved: int
    same: int
    worse: int
    pairs: tuple[tuple[str, int, int], ...]  # (case reference, grade before, grade after)
    changes: tuple[tuple[str, str], ...] = ()  # (case reference, what changed for the child), from done actions


def needs_reaudit(grade: int | None, scale_size: int) -> bool:
    """Requires improvement or Inadequate: the two worst grades of the scale."""
    return grade is not None and grade >= scale_size - 2


def reaudits(session: Session, today: date, cfg: Config) -> list[Reaudit]:
    """Every re-audit a moderation has scheduled (graded kinds; the latest moderation of each
    audit), with the audit that made it, if one has been held. Case order, then due date."""
    months = cfg.deadlines.impact_reaudit_months
    latest: dict[uuid.UUID, tuple[date, int | None]] = {}
    for audit_id, day, grade in session.execute(
            select(Moderation.audit_id, Moderation.moderated_on, Moderation.overall_grade)
            .where(Moderation.outcome.in_(("agreed", "regraded")), Moderation.moderated_on <= today)
            .order_by(Moderation.moderated_on, Moderation.created_at)):
        latest[audit_id] = (day, grade)
    audits = {a.id: a for a in session.execute(
        select(Audit.id, Audit.case_id, Audit.kind, Audit.audit_date, Audit.overall_grade, Audit.status)
        .where(Audit.case_id.is_not(None), Audit.status != "draft", Audit.audit_date <= today))}
    by_case: dict[uuid.UUID, list] = defaultdict(list)
    for a in audits.values():
        by_case[a.case_id].append(a)
    cases = {c_id: (ref, code or "") for c_id, ref, code in session.execute(
        select(Case.id, Case.reference, Team.code).outerjoin(Team, Team.id == Case.team_id)
        .where(Case.id.in_({a.case_id for a in audits.values()})))} if audits else {}
    size = len(cfg.grading_scale)
    found = []
    for audit_id, (moderated_on, grade) in latest.items():
        source = audits.get(audit_id)
        if source is None or source.kind in CHECKLIST_KINDS or not needs_reaudit(grade, size):
            continue
        later = sorted((a for a in by_case[source.case_id] if a.id != source.id and a.kind not in CHECKLIST_KINDS
                        and a.audit_date >= moderated_on), key=lambda a: (a.audit_date, a.id))
        done = later[0] if later else None
        after = None
        if done is not None:
            after = latest[done.id][1] if done.id in latest else done.overall_grade
        ref, code = cases.get(source.case_id, ("", ""))
        found.append(Reaudit(source.case_id, ref, code, source.id, grade, add_months(moderated_on, months),
                             done.id if done else None, done.audit_date if done else None, after))
    found.sort(key=lambda r: (r.case_reference, r.due_on))
    return found


def reaudits_due(session: Session, today: date, cfg: Config) -> list[Reaudit]:
    """Re-audits due by `today` and not yet held: what the draw offers first."""
    return [r for r in reaudits(session, today, cfg) if r.done_audit_id is None and r.due_on <= today]


def impact_report(session: Session, period: Period, today: date, cfg: Config) -> list[ImpactRow]:
    """Per team, the re-audits held in `period` (grade 0 = best): how many improved, stayed the
    same or got worse, each case's grade before and after, and what changed for the child as
    said when the first audit's actions were done (by the end of the period)."""
    as_at = min(period.end, today)
    held = [r for r in reaudits(session, as_at, cfg)
            if r.done_on is not None and r.done_on in period and r.grade_after is not None]
    changed: dict[uuid.UUID, list[str]] = defaultdict(list)
    if held:
        for audit_id, outcome in session.execute(
                select(Action.audit_id, Action.child_outcome)
                .where(Action.audit_id.in_({r.source_audit_id for r in held}), Action.status == "done",
                       Action.completed_on <= as_at, Action.child_outcome != "")
                .order_by(Action.completed_on, Action.id)):
            changed[audit_id].append(outcome)
    by_team: dict[str, list[Reaudit]] = defaultdict(list)
    for r in held:
        by_team[r.team_code].append(r)
    rows = []
    for team in sorted(by_team):
        moves = Counter("improved" if r.grade_after < r.grade_before else "worse" if r.grade_after > r.grade_before
                        else "same" for r in by_team[team] if r.grade_after is not None)
        rows.append(ImpactRow(team, len(by_team[team]), moves["improved"], moves["same"], moves["worse"],
                              tuple((r.case_reference, r.grade_before, r.grade_after or 0) for r in by_team[team]),
                              tuple((r.case_reference, outcome) for r in by_team[team]
                                    for outcome in changed[r.source_audit_id])))
    return rows
