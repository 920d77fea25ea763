"""CP plan reviews: children on child protection plans ending within three months or running
beyond eighteen, due a review each period, with when the case was last audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from qa_tui.config import Config
from qa_tui.dates import add_months
from qa_tui.db.models import Audit, Case, Person, Team
from qa_tui.services.programme.periods import period_containing

CP_ENDING_WITHIN_MONTHS = 3
CP_LONG_MONTHS = 18


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


def cp_review_reason(plan_start: date | None, plan_end: date | None, closed_on: date | None,
                     day: date) -> str:
    """Why a child's CP plan is due a quarterly review on `day`, or "" if it is not: the plan is
    running and either ends within CP_ENDING_WITHIN_MONTHS or began CP_LONG_MONTHS or more ago."""
    if plan_start is None or plan_start > day or (closed_on is not None and closed_on <= day):
        return ""
    if plan_end is not None and plan_end < day:
        return ""
    if plan_end is not None and plan_end <= add_months(day, CP_ENDING_WITHIN_MONTHS):
        return f"plan ends {plan_end.isoformat()}"
    if plan_start <= add_months(day, -CP_LONG_MONTHS):
        return f"on a plan since {plan_start.isoformat()} (over {CP_LONG_MONTHS} months)"
    return ""


def cp_review_list(session: Session, today: date, cfg: Config, *,
                   team_id: uuid.UUID | None = None) -> list[CpReviewRow]:
    """Children on CP plans ending within three months or running beyond eighteen, with when
    the case was last audited and whether that was in this review period (the frequency of the
    programme's review_cp_long_or_ending task; quarterly when it has none)."""
    frequency = next((t.frequency for t in cfg.programme if t.task == "review_cp_long_or_ending"), "quarterly")
    period = period_containing(frequency, today)
    stmt = (select(Case.id, Case.reference, Case.team_id, Team.code, Person.name, Case.cp_plan_start,
                   Case.cp_plan_end, Case.closed_on)
            .outerjoin(Team, Team.id == Case.team_id).outerjoin(Person, Person.id == Case.worker_id)
            .where(Case.cp_plan_start.is_not(None), Case.cp_plan_start <= today,
                   or_(Case.closed_on.is_(None), Case.closed_on > today),
                   or_(Case.cp_plan_end.is_(None), Case.cp_plan_end >= today)))
    if team_id is not None:
        stmt = stmt.where(Case.team_id == team_id)
    candidates = []
    for case_id, reference, team, code, worker, start, end, closed in session.execute(stmt):
        reason = cp_review_reason(start, end, closed, today)
        if reason:
            candidates.append((case_id, reference, team, code or "", worker or "", start, end, reason))
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
