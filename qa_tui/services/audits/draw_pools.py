"""Eligibility for the monthly draw: the draw rules as recorded, who takes part (active
case-holders), and each worker's pool of eligible cases, or why it is empty."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from qa_tui.config import CHECKLIST_KINDS, DrawRules
from qa_tui.dates import Month, add_months
from qa_tui.db.models import Audit, Case, CaseDraw, DrawPick, Moderation, Person
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
    """The rules a draw recorded. A draw recorded before the re-audit-for-impact rule had it off."""
    values = {"impact_reaudit_months": 0, **data}
    values["roles"] = tuple(values.get("roles", ()))
    return DrawRules(**values)


def audited_since(month: Month, rules: DrawRules) -> date | None:
    """The first audit date that makes a case ineligible, or None when the rule is off."""
    if rules.exclude_audited_within_months <= 0:
        return None
    return add_months(month.first, -rules.exclude_audited_within_months)


def reaudit_moderated_by(today: date, months: int) -> date:
    """The last moderation date whose re-audit for impact is due by `today`: the latest day `d`
    with add_months(d, months) <= today (add_months clamps to the month's end, so this can be
    a day or three after add_months(today, -months))."""
    last = add_months(today, -months)
    while add_months(last + timedelta(days=1), months) <= today:
        last += timedelta(days=1)
    return last


def check_rules(rules: DrawRules) -> None:
    if not rules.require_allocated:
        raise ValidationError("draw.require_allocated",
                              "a draw picks from each worker's allocated cases, so this rule cannot be off")
    if not rules.roles:
        raise ValidationError("draw.roles", "name at least one case-holding role")


def holder_conditions(today: date, rules: DrawRules) -> list[ColumnElement[bool]]:
    """Who takes part in a draw: active on `today` with a case-holding role."""
    return [Person.role.in_(rules.roles),
            or_(Person.active_from.is_(None), Person.active_from <= today),
            or_(Person.active_to.is_(None), Person.active_to >= today)]


def case_holders(session: Session, in_teams: ColumnElement[bool], today: date,
                 rules: DrawRules) -> dict[uuid.UUID, list[CaseHolder]]:
    """The active case-holders of the teams matched by `in_teams`, per team, by staff ID."""
    holders: dict[uuid.UUID, list[CaseHolder]] = {}
    rows = session.execute(
        select(Person.team_id, Person.id, Person.staff_id, Person.name, Person.role)
        .where(in_teams, *holder_conditions(today, rules))
        .order_by(Person.staff_id)
    )
    for team_id, *worker in rows:
        holders.setdefault(team_id, []).append(CaseHolder(*worker))
    return holders


def reaudits_due_query(today: date, rules: DrawRules) -> Select[Any]:
    """IDs of cases due a re-audit for impact by `today` (as programme.impact.reaudits_due): a
    graded audit whose latest moderation (agreed or regraded) gave Requires improvement or worse
    at least `impact_reaudit_months` ago, with no graded audit of the case held since."""
    counted = (Moderation.outcome.in_(("agreed", "regraded")), Moderation.moderated_on <= today)
    newer = aliased(Moderation)
    superseded = select(newer.id).where(
        newer.audit_id == Moderation.audit_id, newer.outcome.in_(("agreed", "regraded")), newer.moderated_on <= today,
        or_(newer.moderated_on > Moderation.moderated_on,
            and_(newer.moderated_on == Moderation.moderated_on, newer.created_at > Moderation.created_at))).exists()
    later = aliased(Audit)
    held_since = select(later.id).where(
        later.case_id == Audit.case_id, later.id != Audit.id, later.kind.not_in(CHECKLIST_KINDS),
        later.status != "draft", later.audit_date >= Moderation.moderated_on, later.audit_date <= today).exists()
    return (select(Audit.case_id).join(Moderation, Moderation.audit_id == Audit.id)
            .where(*counted, Moderation.overall_grade >= rules.impact_reaudit_grade_from,
                   Moderation.moderated_on <= reaudit_moderated_by(today, rules.impact_reaudit_months),
                   Audit.case_id.is_not(None), Audit.kind.not_in(CHECKLIST_KINDS), Audit.status != "draft",
                   Audit.audit_date <= today, ~superseded, ~held_since))


def eligibility_query(month: Month, today: date, rules: DrawRules, workers: list[ColumnElement[bool]], *,
                      dialect: str, ignoring_draw: uuid.UUID | None = None) -> Select[Any]:
    """One statement for the pools of every case-holder matching `workers` (conditions on
    Person): the eligible cases of each, and per worker (window functions) how many (open)
    cases they hold, how many were audited recently and how many are eligible. A worker with
    nothing eligible gets one row carrying the counts. `ignoring_draw` leaves out that draw's
    own picks and the audits raised from them (used when re-checking a draw against today's
    data)."""
    # Materialised, so each case's flags are worked out once, not again for each window over them.
    held = held_cases(month, today, rules, workers, dialect=dialect, ignoring_draw=ignoring_draw)
    flags = held.cte("held").prefix_with("MATERIALIZED", dialect="postgresql")
    ok = case((and_(flags.c.audited == 0, flags.c.drawn == 0), 1), else_=0)
    per_worker = {"partition_by": flags.c.worker_id}  # a UUID sorts faster than text under a collation
    counted = select(
        flags.c.staff_id, flags.c.reference, flags.c.category, ok.label("ok"),
        func.count().over(**per_worker).label("held"),
        func.sum(flags.c.audited).over(**per_worker).label("audited"),
        func.sum(ok).over(**per_worker).label("eligible"),
        func.row_number().over(**per_worker).label("nth"),
    ).subquery()
    return (select(counted.c.staff_id, counted.c.reference, counted.c.category, counted.c.ok, counted.c.held,
                   counted.c.audited, counted.c.eligible)
            .where(or_(counted.c.ok == 1, and_(counted.c.eligible == 0, counted.c.nth == 1))))


def held_cases(month: Month, today: date, rules: DrawRules, workers: list[ColumnElement[bool]], *,
               dialect: str, ignoring_draw: uuid.UUID | None = None) -> Select[Any]:
    """The (open) cases held by the workers matching `workers`, each flagged 1/0 when audited
    recently (and not due a re-audit for impact) and when drawn already this month."""
    audited: Any = literal(0)
    since = audited_since(month, rules)
    if since is not None:
        # Per case (correlated), so a one-team draw reads only its own cases' audits; the
        # re-audit test runs only for a case audited recently.
        audit_conditions = [Audit.case_id == Case.id, Audit.audit_date >= since]
        if ignoring_draw is not None:
            own_picks = select(DrawPick.id).where(DrawPick.draw_id == ignoring_draw)
            audit_conditions.append(or_(Audit.draw_pick_id.is_(None), Audit.draw_pick_id.not_in(own_picks)))
        recently = select(Audit.id).where(*audit_conditions).exists()
        if rules.impact_reaudit_months > 0:
            due = _due_a_reaudit(today, rules, workers, dialect)
            audited = case((~recently, 0), (due, 0), else_=1)
        else:
            audited = case((recently, 1), else_=0)
    drawn: Any = literal(0)
    if rules.exclude_drawn_this_month:
        drawn_conditions = [DrawPick.case_id.is_not(None), CaseDraw.month == str(month)]
        if ignoring_draw is not None:
            drawn_conditions.append(CaseDraw.id != ignoring_draw)
        drawn = case((Case.id.in_(select(DrawPick.case_id).join(CaseDraw, CaseDraw.id == DrawPick.draw_id)
                                  .where(*drawn_conditions)), 1), else_=0)
    held = (select(Case.worker_id.label("worker_id"), Person.staff_id.label("staff_id"), Case.reference.label("reference"),
                   Case.category.label("category"), audited.label("audited"), drawn.label("drawn"))
            .join(Person, Person.id == Case.worker_id).where(*workers))
    if rules.require_open:
        held = held.where(or_(Case.closed_on.is_(None), Case.closed_on > today))
    return held


def _due_a_reaudit(today: date, rules: DrawRules, workers: list[ColumnElement[bool]], dialect: str) -> Any:
    """Whether the outer query's case is due a re-audit for impact. Measured at 100k cases: per
    case is fastest on SQLite; PostgreSQL runs that per row but hashes one set of the workers'
    cases due (a whole-council draw: ~0.4 s against ~1.2 s)."""
    if dialect == "sqlite":
        return reaudits_due_query(today, rules).where(Audit.case_id == Case.id).exists()
    their_cases = select(Case.id).join(Person, Person.id == Case.worker_id).where(*workers).correlate(None)
    return Case.id.in_(reaudits_due_query(today, rules).where(Audit.case_id.in_(their_cases)).correlate(None))


def eligible_pools(session: Session, query: Select[Any], workers: list[CaseHolder],
                   rules: DrawRules) -> dict[str, EligiblePool]:
    """Each worker's pool (and, when empty, why) by staff ID, from one run of `eligibility_query`
    for (at least) these workers. Pools are in Python string order of the case reference, never
    the database's collation."""
    tallies: dict[str, tuple[int, int, int]] = {}  # cases held, audited recently, eligible
    eligible: dict[str, dict[str, str]] = defaultdict(dict)
    for staff_id, reference, category, ok, held, audited, count in session.execute(query):
        tallies[staff_id] = (held, audited, count)
        if ok:
            eligible[staff_id][reference] = category
    pools = {}
    for worker in workers:
        categories = eligible.get(worker.staff_id, {})
        reason = ""
        if not categories:
            held, audited, count = tallies.get(worker.staff_id, (0, 0, 0))
            reason = _empty_reason(held, audited, held - audited - count, rules)
        pools[worker.staff_id] = EligiblePool(worker, tuple(sorted(categories)), reason, categories)
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
