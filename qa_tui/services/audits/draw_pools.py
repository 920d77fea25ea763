"""Eligibility for the monthly draw: the draw rules as recorded, who takes part (active
case-holders), and each worker's pool of eligible cases, or why it is empty."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, exists, false, or_, select
from sqlalchemy.orm import Session

from qa_tui.config import DrawRules
from qa_tui.dates import Month, add_months
from qa_tui.db.models import Audit, Case, CaseDraw, DrawPick, Person
from qa_tui.errors import ValidationError


@dataclass(frozen=True)
class CaseHolder:
    id: uuid.UUID
    staff_id: str
    name: str
    role: str


@dataclass(frozen=True)
class EligiblePool:
    worker: CaseHolder
    eligible: tuple[str, ...]
    empty_reason: str
    categories: dict[str, str]  # reference → category for the eligible cases


def rules_as_dict(rules: DrawRules) -> dict[str, Any]:
    data = asdict(rules)
    data["roles"] = list(rules.roles)
    return data


def rules_from_dict(data: dict[str, Any]) -> DrawRules:
    values = dict(data)
    values["roles"] = tuple(values.get("roles", ()))
    return DrawRules(**values)


def audited_since(month: Month, rules: DrawRules) -> date | None:
    """The first audit date that makes a case ineligible, or None when the rule is off."""
    if rules.exclude_audited_within_months <= 0:
        return None
    return add_months(month.first, -rules.exclude_audited_within_months)


def check_rules(rules: DrawRules) -> None:
    if not rules.require_allocated:
        raise ValidationError("draw.require_allocated",
                              "a draw picks from each worker's allocated cases, so this rule cannot be off")
    if not rules.roles:
        raise ValidationError("draw.roles", "name at least one case-holding role")


def case_holders(session: Session, in_teams: ColumnElement[bool], today: date,
                 rules: DrawRules) -> dict[uuid.UUID, list[CaseHolder]]:
    """The active case-holders of the teams matched by `in_teams`, per team, by staff ID."""
    holders: dict[uuid.UUID, list[CaseHolder]] = {}
    rows = session.execute(
        select(Person.team_id, Person.id, Person.staff_id, Person.name, Person.role)
        .where(in_teams, Person.role.in_(rules.roles),
               or_(Person.active_from.is_(None), Person.active_from <= today),
               or_(Person.active_to.is_(None), Person.active_to >= today))
        .order_by(Person.staff_id)
    )
    for team_id, *worker in rows:
        holders.setdefault(team_id, []).append(CaseHolder(*worker))
    return holders


def eligibility_query(month: Month, today: date, rules: DrawRules, *,
                      ignoring_draw: uuid.UUID | None = None) -> Select[Any]:
    """One set-based query for a team's pools: the (open) cases allocated to the workers bound
    as `workers`, each flagged when audited recently or drawn already this month. Built once per
    draw and run per team. `ignoring_draw` leaves out that draw's own picks and the audits raised
    from them (used when re-checking a draw against today's data)."""
    audited: Any = false()
    since = audited_since(month, rules)
    if since is not None:
        audit_conditions = [Audit.case_id == Case.id, Audit.audit_date >= since]
        if ignoring_draw is not None:
            own_picks = select(DrawPick.id).where(DrawPick.draw_id == ignoring_draw)
            audit_conditions.append(or_(Audit.draw_pick_id.is_(None), Audit.draw_pick_id.not_in(own_picks)))
        audited = exists().where(*audit_conditions)
    drawn: Any = false()
    if rules.exclude_drawn_this_month:
        drawn_conditions = [DrawPick.case_id == Case.id, CaseDraw.id == DrawPick.draw_id,
                            CaseDraw.month == str(month)]
        if ignoring_draw is not None:
            drawn_conditions.append(CaseDraw.id != ignoring_draw)
        drawn = exists().where(*drawn_conditions)
    # Rows carry the staff ID rather than the worker's UUID: converting ~100k UUIDs in a
    # council-wide draw costs more than the join.
    stmt = (select(Case.reference, Case.category, Person.staff_id, audited, drawn)
            .join(Person, Person.id == Case.worker_id)
            .where(Case.worker_id.in_(bindparam("workers", expanding=True))))
    if rules.require_open:
        stmt = stmt.where(or_(Case.closed_on.is_(None), Case.closed_on > today))
    return stmt


def eligible_pools(session: Session, query: Select[Any], workers: list[CaseHolder],
                   rules: DrawRules) -> list[EligiblePool]:
    """Each worker's pool (and, when empty, why) from one run of `eligibility_query`."""
    if not workers:
        return []
    rows = session.execute(query, {"workers": [w.id for w in workers]})
    tallies = {w.staff_id: [0, 0, 0] for w in workers}  # cases held, audited recently, drawn already
    eligible: dict[str, dict[str, str]] = {w.staff_id: {} for w in workers}
    for reference, category, staff_id, was_audited, was_drawn in rows:
        tally = tallies[staff_id]
        tally[0] += 1
        if was_audited:
            tally[1] += 1
        elif was_drawn:
            tally[2] += 1
        else:
            eligible[staff_id][reference] = category
    pools = []
    for worker in workers:
        categories = eligible[worker.staff_id]
        reason = "" if categories else _empty_reason(*tallies[worker.staff_id], rules)
        pools.append(EligiblePool(worker, tuple(sorted(categories)), reason, categories))
    return pools


def _empty_reason(held: int, audited: int, drawn: int, rules: DrawRules) -> str:
    """Why a worker has nothing to draw, in words a team manager would use."""
    open_cases = "open cases" if rules.require_open else "cases"
    if held == 0:
        return f"no {open_cases} allocated"
    months = rules.exclude_audited_within_months
    audited_text = "audited in the last month" if months == 1 else f"audited in the last {months} months"
    drawn_text = "already drawn this month"
    whole = f"all {held} {open_cases}" if held > 1 else f"the only {open_cases[:-1]}"
    if audited == held:
        return f"{whole} {audited_text}"
    if drawn == held:
        return f"{whole} {drawn_text}"
    return f"{whole} excluded: {audited} {audited_text}, {drawn} {drawn_text}"
