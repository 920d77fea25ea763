"""What the programme's counting reads, loaded in a handful of queries for the people being
judged: people and their management lines, audits past draft, observations, supervisions and
cases, and the cases each person's per-case tasks cover."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from qa_tui.config import CASE_HOLDING_ROLES, CHECKLIST_KINDS, Config, ProgrammeTask
from qa_tui.dates import add_months, start_of_day
from qa_tui.db.models import Audit, Case, Observation, Person, Supervision, Team
from qa_tui.services.people.directory import PersonRef
from qa_tui.services.practice.observations import Observed, load_observed
from qa_tui.services.programme.as_at import cases_as_at, people_as_at
from qa_tui.services.programme.cp_reviews import Plan, case_plans, has_cp_plan, load_cp_plans
from qa_tui.services.programme.periods import period_containing, previous_period


@dataclass(frozen=True)
class PersonRow:
    id: uuid.UUID
    staff_id: str
    name: str
    role: str
    team_id: uuid.UUID | None
    manager_id: uuid.UUID | None
    active_from: date | None
    active_to: date | None
    asye_start: date | None = None
    last_supervised_on: date | None = None  # the last supervision a caseload extract records

    def active_on(self, day: date) -> bool:
        return (self.active_from is None or self.active_from <= day) and (
            self.active_to is None or self.active_to >= day)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.staff_id})"

    def ref(self) -> PersonRef:
        return PersonRef(self.id, self.staff_id, self.name, self.role, self.team_id)


@dataclass(frozen=True)
class AuditRow:
    id: uuid.UUID
    kind: str
    audit_date: date
    auditor_id: uuid.UUID | None
    worker_id: uuid.UUID | None
    team_id: uuid.UUID | None
    case_id: uuid.UUID | None


@dataclass(frozen=True)
class CaseRow:
    id: uuid.UUID
    reference: str
    worker_id: uuid.UUID | None
    team_id: uuid.UUID | None
    closed_on: date | None
    cp_plan_start: date | None
    cp_plan_end: date | None


@dataclass(frozen=True)
class Transfer:
    """A case moved from one team to another (read from the audit trail), owed an audit on transfer."""

    case_id: uuid.UUID
    reference: str
    worker_id: uuid.UUID | None
    from_team_id: uuid.UUID
    on: date


@dataclass(frozen=True)
class HeldAudit:
    """An audit the person held, drafts included, with when it was sent and finalised."""

    id: uuid.UUID
    kind: str
    audit_date: date
    submitted_at: datetime | None
    finalised_at: datetime | None


@dataclass(frozen=True)
class ObservationMade:
    """An observation the person carried out."""

    day: date
    kind: str
    worker_id: uuid.UUID


# Tasks about everyone in a person's area: their facts are read for the whole council.
AREA_TASKS = ("ensure_case_holders_audited", "ensure_practitioners_observed", "hold_live_audit", "observe_practice")


@dataclass
class Facts:
    """What the counting reads, loaded in a handful of queries for the people being judged:
    audits past draft, observations and supervisions from `since` to `today`, and cases."""

    today: date
    since: date
    people: dict[uuid.UUID, PersonRow]
    team_service: dict[uuid.UUID, uuid.UUID | None]
    audits: list[AuditRow] = field(default_factory=list)
    observed: dict[uuid.UUID, list[Observed]] = field(default_factory=lambda: defaultdict(list))
    supervised: dict[uuid.UUID, list[date]] = field(default_factory=lambda: defaultdict(list))
    by_auditor: dict[uuid.UUID, list[AuditRow]] = field(default_factory=lambda: defaultdict(list))
    about_worker: dict[uuid.UUID, list[AuditRow]] = field(default_factory=lambda: defaultdict(list))
    of_case: dict[uuid.UUID, list[AuditRow]] = field(default_factory=lambda: defaultdict(list))
    reports: dict[uuid.UUID, list[PersonRow]] = field(default_factory=lambda: defaultdict(list))
    areas: dict[uuid.UUID, frozenset[uuid.UUID]] = field(default_factory=dict)
    cases_of_team: dict[uuid.UUID | None, list[CaseRow]] = field(default_factory=lambda: defaultdict(list))
    cases_of_worker: dict[uuid.UUID | None, list[CaseRow]] = field(default_factory=lambda: defaultdict(list))
    cp_plans: dict[uuid.UUID, list[Plan]] = field(default_factory=dict)  # census plan history per case
    held: dict[uuid.UUID, list[HeldAudit]] = field(default_factory=lambda: defaultdict(list))  # by auditor
    observations_made: dict[uuid.UUID, list[ObservationMade]] = field(default_factory=lambda: defaultdict(list))
    by_team: dict[uuid.UUID | None, list[AuditRow]] = field(default_factory=lambda: defaultdict(list))
    transfers: list[Transfer] = field(default_factory=list)  # moves of team since `since`, oldest first

    def service_of(self, team_id: uuid.UUID | None) -> uuid.UUID | None:
        return self.team_service.get(team_id) if team_id is not None else None

    def area_teams(self, person: PersonRow) -> frozenset[uuid.UUID]:
        """The person's own team and the teams of everyone below them in the management line:
        a team manager's team, a service leader's service, a director's whole council."""
        if person.id not in self.areas:
            teams = {person.team_id} if person.team_id is not None else set()
            seen, waiting = {person.id}, list(self.reports.get(person.id, ()))
            while waiting:
                report = waiting.pop()
                if report.id in seen:
                    continue
                seen.add(report.id)
                if report.team_id is not None:
                    teams.add(report.team_id)
                waiting += self.reports.get(report.id, ())
            self.areas[person.id] = frozenset(teams)
        return self.areas[person.id]


def tasks_for(role: str, cfg: Config) -> list[ProgrammeTask]:
    return [task.for_role(role) for task in cfg.programme if role in task.roles]


def event_window_start(today: date) -> date:
    """Closures looked at for on_event tasks: the last twelve months."""
    return add_months(today, -12) + timedelta(days=1)


def _earliest_needed(tasks: Iterable[ProgrammeTask], today: date) -> date:
    starts = [today]
    for task in tasks:
        if task.frequency == "on_event":
            starts.append(event_window_start(today) - timedelta(days=task.within_days))
        else:
            starts.append(previous_period(period_containing(task.frequency, today)).start)
    return min(starts)


def load_people(session: Session, as_at: date | None = None) -> dict[uuid.UUID, PersonRow]:
    """Everyone; with `as_at` (a closed period's end), each as they stood then: their team, role,
    manager and dates in post before any change the trail records since."""
    rows = session.execute(select(
        Person.id, Person.staff_id, Person.name, Person.role, Person.team_id, Person.manager_id,
        Person.active_from, Person.active_to, Person.asye_start, Person.last_supervised_on))
    people = {r[0]: PersonRow(*r) for r in rows}
    return people if as_at is None else people_as_at(session, people, as_at)


def load_facts(session: Session, today: date, cfg: Config, judged: list[PersonRow],
               people: dict[uuid.UUID, PersonRow], *, everyone: bool, closed: bool = False) -> Facts:
    """Load the facts for `judged`. With `everyone` the queries are not narrowed to them; with
    `closed` (`today` is a closed period's end) each case counts for the team and worker it had then."""
    tasks = {t: t for p in judged for t in tasks_for(p.role, cfg)}.values()
    facts = Facts(today=today, since=_earliest_needed(tasks, today), people=people,
                  team_service=dict(session.execute(select(Team.id, Team.service_id)).all()))
    for p in people.values():
        if p.manager_id is not None:
            facts.reports[p.manager_id].append(p)
    kinds = {t.task for t in tasks}
    ids = [p.id for p in judged]
    everyone = everyone or bool(kinds & set(AREA_TASKS))
    subjects = set(ids) | {r.id for p in judged for r in facts.reports.get(p.id, ())}

    if kinds & {"audit_on_closure", "review_cp_long_or_ending"}:
        stmt = select(Case.id, Case.reference, Case.worker_id, Case.team_id, Case.closed_on,
                      Case.cp_plan_start, Case.cp_plan_end).where(or_(
                          Case.closed_on >= facts.since, has_cp_plan()))
        if not everyone and not any(t.scope == "council" for t in tasks):
            teams = set().union(*(facts.area_teams(p) for p in judged))
            stmt = stmt.where(or_(Case.team_id.in_(teams), Case.worker_id.in_(ids)))
        found = [CaseRow(*r) for r in session.execute(stmt)]
        for case in cases_as_at(session, found, today) if closed else found:
            facts.cases_of_team[case.team_id].append(case)
            facts.cases_of_worker[case.worker_id].append(case)
        if "audit_on_closure" in kinds:
            facts.transfers = load_transfers(session, facts.since, today)
        if "review_cp_long_or_ending" in kinds:
            facts.cp_plans = load_cp_plans(session, None if everyone else [
                c.id for cases in facts.cases_of_team.values() for c in cases])
    # Past draft as it stood on `today` (a report for a closed period passes its last day): sent by then.
    sent_by_then = or_(Audit.submitted_at.is_(None), Audit.submitted_at < start_of_day(today + timedelta(days=1)))
    audit_stmt = select(Audit.id, Audit.kind, Audit.audit_date, Audit.auditor_id, Audit.worker_id,
                        Audit.team_id, Audit.case_id).where(
        Audit.status != "draft", sent_by_then, Audit.audit_date >= facts.since, Audit.audit_date <= today)
    if everyone:
        audits = {r[0]: AuditRow(*r) for r in session.execute(audit_stmt)}
    else:
        audits = {r[0]: AuditRow(*r) for r in session.execute(audit_stmt.where(
            or_(Audit.auditor_id.in_(ids), Audit.worker_id.in_(ids))))}
        case_ids = sorted({c.id for p in judged for t in tasks_for(p.role, cfg)
                           for c in cases_in_scope(p, facts, t.scope)} | {t.case_id for t in facts.transfers})
        for chunk in (case_ids[i:i + 500] for i in range(0, len(case_ids), 500)):
            audits.update((r[0], AuditRow(*r)) for r in session.execute(
                audit_stmt.where(Audit.case_id.in_(chunk))))
    facts.audits = list(audits.values())
    for a in facts.audits:
        if a.auditor_id is not None:
            facts.by_auditor[a.auditor_id].append(a)
        if a.worker_id is not None:
            facts.about_worker[a.worker_id].append(a)
        if a.case_id is not None:
            facts.of_case[a.case_id].append(a)
        facts.by_team[a.team_id].append(a)
    if "send_for_moderation_on_time" in kinds:
        for auditor_id, *row in session.execute(select(
                Audit.auditor_id, Audit.id, Audit.kind, Audit.audit_date, Audit.submitted_at, Audit.finalised_at)
                .where(Audit.auditor_id.in_(ids), Audit.kind.not_in(CHECKLIST_KINDS),
                       Audit.audit_date >= facts.since, Audit.audit_date <= today)):
            facts.held[auditor_id].append(HeldAudit(*row))
    if "observe_practice" in kinds:
        for observer_id, day, kind, worker_id in session.execute(select(
                Observation.observer_id, Observation.observed_on, Observation.kind, Observation.worker_id)
                .where(Observation.observer_id.in_(ids), Observation.observed_on >= facts.since,
                       Observation.observed_on <= today)):
            facts.observations_made[observer_id].append(ObservationMade(day, kind, worker_id))

    if kinds & {"be_observed", "ensure_practitioners_observed"}:
        # Back far enough for an ASYE year as well as the previous period.
        facts.observed = load_observed(session, None if everyone else ids, today,
                                       since=min(facts.since, add_months(today, -13)))
    if "supervise_each_practitioner" in kinds:
        # The last supervision before the period matters too: back one quarter (the longest cadence).
        stmt = select(Supervision.worker_id, Supervision.held_on).where(
            Supervision.held_on >= add_months(facts.since, -3), Supervision.held_on <= today)
        if not everyone:
            stmt = stmt.where(Supervision.worker_id.in_(subjects))
        for worker_id, day in session.execute(stmt):
            facts.supervised[worker_id].append(day)
    return facts


def plans_of(case: CaseRow, facts: Facts) -> list[Plan]:
    """The case's CP plans: the census history and the case's own plan dates."""
    return case_plans(facts.cp_plans.get(case.id, ()), case.cp_plan_start, case.cp_plan_end, case.closed_on)


def people_in_scope(person: PersonRow, facts: Facts, scope: str, roles: tuple[str, ...],
                    day: date) -> list[PersonRow]:
    """Everyone else in `roles` active on `day` whom a coverage duty covers: in the person's area
    (their team and the teams below them), or the whole council with scope "council"."""
    teams = facts.area_teams(person)
    return sorted((p for p in facts.people.values() if p.id != person.id and p.role in roles and p.active_on(day)
                   and (scope == "council" or p.team_id in teams)), key=lambda p: (p.name, p.staff_id))


def load_transfers(session: Session, since: date, today: date) -> list[Transfer]:
    """Every move of team from `since` to `today`, the latest per case (as the closure queue reads them)."""
    from qa_tui.services.audits.closure import case_events

    moves = {case_id: e for (case_id, kind), e in case_events(session, since, today).items()
             if kind == "transferred" and e.team_id is not None}
    if not moves:
        return []
    cases = {c_id: (ref, worker) for c_id, ref, worker in session.execute(
        select(Case.id, Case.reference, Case.worker_id).where(Case.id.in_(list(moves))))}
    found = [Transfer(c_id, cases[c_id][0], cases[c_id][1], e.team_id, e.on)  # type: ignore[arg-type]
             for c_id, e in moves.items() if c_id in cases]
    return sorted(found, key=lambda t: (t.on, t.reference))


def transfers_in_scope(person: PersonRow, facts: Facts, scope: str = "area") -> list[Transfer]:
    """The moves an audit-on-transfer task covers: every one council-wide; a case-holder's own
    cases; otherwise those out of a team in the person's area."""
    if scope == "council":
        return list(facts.transfers)
    if person.role in CASE_HOLDING_ROLES:
        return [t for t in facts.transfers if t.worker_id == person.id]
    area = facts.area_teams(person)
    return [t for t in facts.transfers if t.from_team_id in area]


def cases_in_scope(person: PersonRow, facts: Facts, scope: str = "area") -> list[CaseRow]:
    """The cases a per-case task covers: with scope "council", every case; otherwise a
    case-holder's own, and anyone else's, their area's."""
    if scope == "council":
        return [c for cases in facts.cases_of_team.values() for c in cases]
    if person.role in CASE_HOLDING_ROLES:
        return facts.cases_of_worker.get(person.id, [])
    return [c for team in facts.area_teams(person) for c in facts.cases_of_team.get(team, ())]
