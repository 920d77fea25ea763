"""CP plan reviews: "all cases of CP plans that end within 3 months and those that continue 18
months +" — plans that ended having lasted under three months (ended too soon?) and plans running
eighteen months or more (drifting?), read from the CIN census plan history and the case's own
plan dates, with when each case was last audited."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from qa_tui.config import Config
from qa_tui.dates import add_months
from qa_tui.db.models import Audit, Case, CpPlan, Person, Team
from qa_tui.services.programme.periods import period_containing

CP_SHORT_MONTHS = 3  # a plan that ended having lasted less than this is reviewed
CP_RECENT_END_MONTHS = 3  # ... when it ended within this many months of the day judged
CP_LONG_MONTHS = 18  # a running plan this old or older is reviewed

Plan = tuple[date, date | None]  # (started on, ended on or None while running)


@dataclass(frozen=True)
class CpReviewRow:
    case_id: uuid.UUID
    case_reference: str
    team_id: uuid.UUID | None
    team_code: str
    worker_name: str
    plan_start: date | None
    plan_end: date | None
    reason: str
    last_reviewed: date | None
    reviewed_this_period: bool
    period_label: str


def plan_review_reason(start: date, end: date | None, day: date) -> str:
    """Why one CP plan is due a review on `day`, or "": it ended in the CP_RECENT_END_MONTHS
    before `day` having lasted under CP_SHORT_MONTHS, or it is running and began CP_LONG_MONTHS
    or more before `day`."""
    if start > day:
        return ""
    if end is not None and end <= day:
        if end > add_months(day, -CP_RECENT_END_MONTHS) and end < add_months(start, CP_SHORT_MONTHS):
            return (f"plan lasted under {CP_SHORT_MONTHS} months "
                    f"({start.isoformat()} to {end.isoformat()})")
        return ""
    if start <= add_months(day, -CP_LONG_MONTHS):
        return f"on a plan since {start.isoformat()} ({CP_LONG_MONTHS} months or more)"
    return ""


def case_plans(plans: Iterable[Plan], flag_start: date | None, flag_end: date | None,
               closed_on: date | None) -> list[Plan]:
    """A case's plans: the census plan history and the case's own latest plan dates, one per
    start date (an ended record wins over a running one); a running plan ends when the case closes."""
    by_start: dict[date, date | None] = {}
    for start, end in [*plans, *([(flag_start, flag_end)] if flag_start is not None else [])]:
        if start not in by_start or by_start[start] is None:
            by_start[start] = end
    return sorted((start, end if end is not None else closed_on) for start, end in by_start.items())


def cp_review_reason(plans: Iterable[Plan], day: date) -> tuple[str, Plan | None]:
    """Why the case is due a CP review on `day` ("" when it is not) and the plan that makes it so:
    a running plan of CP_LONG_MONTHS or more first, then a recently ended short plan."""
    reasons = [(plan_review_reason(start, end, day), (start, end)) for start, end in plans]
    reasons = [r for r in reasons if r[0]]
    reasons.sort(key=lambda r: (r[1][1] is not None, r[1][0]))
    return reasons[0] if reasons else ("", None)


def load_cp_plans(session: Session, case_ids: Iterable[uuid.UUID] | None = None) -> dict[uuid.UUID, list[Plan]]:
    """The CIN census plan history per case (every case when `case_ids` is None)."""
    plans: dict[uuid.UUID, list[Plan]] = defaultdict(list)
    stmt = select(CpPlan.case_id, CpPlan.started_on, CpPlan.ended_on)
    if case_ids is None:
        chunks: Iterable[list[uuid.UUID] | None] = [None]
    else:
        ids = sorted(set(case_ids))
        chunks = [ids[i:i + 500] for i in range(0, len(ids), 500)]
    for chunk in chunks:
        for case_id, start, end in session.execute(stmt if chunk is None else stmt.where(CpPlan.case_id.in_(chunk))):
            plans[case_id].append((start, end))
    return plans


def has_cp_plan():  # noqa: ANN201 - an SQL condition
    """Cases with any CP plan: flagged on the case or in the census plan history."""
    return or_(Case.cp_plan_start.is_not(None), Case.id.in_(select(CpPlan.case_id)))


def review_frequency(cfg: Config) -> str:
    return next((t.frequency for t in cfg.programme if t.task == "review_cp_long_or_ending"), "quarterly")


def cp_review_list(session: Session, today: date, cfg: Config, *,
                   team_id: uuid.UUID | None = None) -> list[CpReviewRow]:
    """Children whose CP plan ended in the last three months having lasted under three, or has
    run eighteen months or more, with when the case was last audited and whether that was in
    this review period (the frequency of the programme's review_cp_long_or_ending task;
    quarterly when it has none)."""
    period = period_containing(review_frequency(cfg), today)
    stmt = (select(Case.id, Case.reference, Case.team_id, Team.code, Person.name, Case.cp_plan_start,
                   Case.cp_plan_end, Case.closed_on)
            .outerjoin(Team, Team.id == Case.team_id).outerjoin(Person, Person.id == Case.worker_id)
            .where(has_cp_plan()))
    if team_id is not None:
        stmt = stmt.where(Case.team_id == team_id)
    cases = session.execute(stmt).all()
    history = load_cp_plans(session, [c[0] for c in cases])
    candidates = []
    for case_id, reference, team, code, worker, flag_start, flag_end, closed in cases:
        reason, plan = cp_review_reason(case_plans(history.get(case_id, ()), flag_start, flag_end, closed), today)
        if plan is not None:
            candidates.append((case_id, reference, team, code or "", worker or "", plan[0], plan[1], reason))
    last: dict[uuid.UUID, date] = {}
    ids = [c[0] for c in candidates]
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        for case_id, day in session.execute(select(Audit.case_id, Audit.audit_date).where(
                Audit.case_id.in_(chunk), Audit.status != "draft", Audit.audit_date <= today)):
            last[case_id] = max(day, last.get(case_id, day))
    rows = [CpReviewRow(case_id, reference, team, code, worker, start, end, reason, last.get(case_id),
                        last.get(case_id) in period, period.label)
            for case_id, reference, team, code, worker, start, end, reason in candidates]
    rows.sort(key=lambda r: (r.reviewed_this_period, r.team_code, r.case_reference))
    return rows
