"""What a pull brings onto a laptop: every record its screens compute from for the chosen teams
and the people they manage (the dashboard, triage, "what I owe", coverage, supervision), as sets
of IDs per table. The pull then adds whatever those records refer to."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date, timedelta

from sqlalchemy import Select, func, or_, select, true
from sqlalchemy.orm import Session

from qa_tui.dates import financial_year_start
from qa_tui.db.models import (
    Action,
    Audit,
    AuditTemplate,
    Case,
    CaseDraw,
    Feedback,
    FollowUp,
    GoodPractice,
    Observation,
    Person,
    Service,
    Supervision,
    SupportPlan,
    Team,
)
from qa_tui.errors import NotFound
from qa_tui.services.sync.tables import chunks, table_specs

Wanted = dict[str, set[uuid.UUID]]
# Records that only make sense with their parent: when the parent comes, they come too.
CHILDREN: dict[str, tuple[tuple[str, str], ...]] = {
    "audit": (("audit_participant", "audit_id"), ("audit_grade", "audit_id"), ("moderation", "audit_id"),
              ("agency_finding", "audit_id"), ("escalation", "audit_id")),
    "action": (("action_change", "action_id"),),
    "case_draw": (("draw_pool", "draw_id"), ("draw_pick", "draw_id")),
    "case_file": (("cp_plan", "case_id"),),
    "support_plan": (("support_step", "plan_id"),),
}


def history_start(today: date) -> date:
    """The first day of history a pull brings: the start of last financial year."""
    return financial_year_start(financial_year_start(today) - timedelta(days=1))


def team_ids_for(session: Session, team_codes: Sequence[str]) -> set[uuid.UUID]:
    team = Team.__table__
    found = {code: tid for code, tid in session.execute(
        select(team.c.code, team.c.id).where(team.c.code.in_(team_codes)))}
    for code in team_codes:
        if code not in found:
            raise NotFound(f"--team {code}: no team with that code in the shared database")
    return set(found.values())


def managed_people(session: Session, team_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """The teams' people and everyone below them in the management line, whatever their team."""
    person = Person.__table__
    people = set(session.scalars(select(person.c.id).where(person.c.team_id.in_(team_ids))))
    frontier = set(people)
    while frontier:
        below: set[uuid.UUID] = set()
        for chunk in chunks(sorted(frontier)):
            below |= set(session.scalars(select(person.c.id).where(person.c.manager_id.in_(chunk))))
        frontier = below - people
        people |= frontier
    return people


def pull_scope(session: Session, *, team_codes: Sequence[str], today: date) -> Wanted:
    """The IDs, per table, of what a laptop needs offline for `team_codes` (empty: every team):
    teams, people, cases open or closed since last financial year (and those with a CP plan),
    their CP plans, open actions, follow-ups, this and last financial year's audits, observations,
    supervisions, feedback, good practice, support plans and draws, every audit not yet finalised,
    each person's latest supervision and observation whenever it was, and the audit templates."""
    since = history_start(today)
    wanted: Wanted = defaultdict(set)
    everyone = not team_codes
    if everyone:
        team_ids: set[uuid.UUID] = set(session.scalars(select(Team.id)))
        people: set[uuid.UUID] = set(session.scalars(select(Person.id)))
        wanted["service"] |= set(session.scalars(select(Service.id)))
    else:
        team_ids = team_ids_for(session, team_codes)
        people = managed_people(session, team_ids)
        # a manager's area covers the teams of the people they manage
        for chunk in chunks(sorted(people)):
            team_ids |= {t for t in session.scalars(select(Person.team_id).where(Person.id.in_(chunk))) if t}
    wanted["team"] |= team_ids
    wanted["person"] |= people

    def scoped(stmt: Select, *conditions: object) -> Select:
        return stmt if everyone else stmt.where(or_(*conditions))  # type: ignore[arg-type]

    def take(name: str, stmt: Select) -> None:
        wanted[name] |= set(session.scalars(stmt))

    def among(column, ids: Collection[uuid.UUID]):  # noqa: ANN001, ANN202 - a column condition
        return true() if everyone else column.in_(sorted(ids))  # every team: not built, never used

    take("case_file", scoped(select(Case.id).where(or_(
        Case.closed_on.is_(None), Case.closed_on >= since, Case.cp_plan_start.is_not(None))),
        among(Case.team_id, team_ids), among(Case.worker_id, people)))
    take("action", scoped(select(Action.id).where(Action.status == "open"),
                          among(Action.team_id, team_ids), among(Action.owner_id, people)))
    take("follow_up", scoped(select(FollowUp.id).where(or_(FollowUp.supervision_id.is_(None),
                                                           FollowUp.raised_on >= since)),
                             among(FollowUp.worker_id, people)))
    take("audit", scoped(select(Audit.id).where(or_(Audit.status != "finalised", Audit.audit_date >= since)),
                         among(Audit.team_id, team_ids), among(Audit.worker_id, people),
                         among(Audit.auditor_id, people)))
    if wanted["case_file"] and not everyone:
        for chunk in chunks(sorted(wanted["case_file"])):
            take("audit", select(Audit.id).where(Audit.case_id.in_(chunk), Audit.audit_date >= since))
    take("observation", scoped(select(Observation.id).where(Observation.observed_on >= since),
                               among(Observation.worker_id, people), among(Observation.observer_id, people)))
    take("supervision", scoped(select(Supervision.id).where(Supervision.held_on >= since),
                               among(Supervision.worker_id, people), among(Supervision.supervisor_id, people)))
    take("feedback", scoped(select(Feedback.id).where(Feedback.received_on >= since),
                            among(Feedback.worker_id, people)))
    take("good_practice", scoped(select(GoodPractice.id).where(GoodPractice.marked_on >= since),
                                 among(GoodPractice.worker_id, people)))
    take("support_plan", scoped(select(SupportPlan.id).where(or_(SupportPlan.closed_on.is_(None),
                                                                 SupportPlan.closed_on >= since)),
                                among(SupportPlan.worker_id, people)))
    take("case_draw", scoped(select(CaseDraw.id).where(CaseDraw.month >= since.strftime("%Y-%m")),
                             among(CaseDraw.team_id, team_ids)))
    _latest_before(session, wanted, people if not everyone else None, since)
    take("audit_template", select(AuditTemplate.id))
    return wanted


def _latest_before(session: Session, wanted: Wanted, people: set[uuid.UUID] | None, since: date) -> None:
    """Each person's latest supervision, observation and finalised dip sample from before the
    history window, so "last held" and "last observed" read the same on the laptop."""
    latest = [("supervision", Supervision, Supervision.worker_id, Supervision.held_on, ()),
              ("observation", Observation, Observation.worker_id, Observation.observed_on, ()),
              ("audit", Audit, Audit.auditor_id, Audit.audit_date,
               (Audit.kind == "dip_sample", Audit.status == "finalised"))]
    for name, model, who, day, extra in latest:
        newest = (select(who.label("who"), func.max(day).label("day"))
                  .where(day < since, *extra).group_by(who))
        if people is not None:
            newest = newest.where(who.in_(sorted(people)))
        sub = newest.subquery()
        stmt = select(model.id).join(sub, (who == sub.c.who) & (day == sub.c.day)).where(*extra)
        wanted[name] |= set(session.scalars(stmt))


def children_of(session: Session, parent: str, ids: Collection[uuid.UUID]) -> Wanted:
    """The IDs of the records that come with these parents (an audit's grades, an action's history)."""
    specs = table_specs()
    found: Wanted = defaultdict(set)
    for child, column in CHILDREN.get(parent, ()):
        t = specs[child].table
        for chunk in chunks(sorted(ids)):
            found[child] |= set(session.scalars(select(t.c.id).where(t.c[column].in_(chunk))))
    return found
