"""Teams, people and cases kept by hand, for councils that do not import: lists paged in SQL,
add and edit with every rule checked here (the checks shared by all three are in form_checks),
and deactivation that never deletes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, func, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from qa_tui.config import CASE_HOLDING_ROLES, ROLE_NAMES, ROLES
from qa_tui.db.models import CASE_CATEGORIES, CASE_CATEGORY_NAMES, Case, Person, Team
from qa_tui.errors import NotAllowed, NotFound, ValidationError
from qa_tui.services.people.form_checks import (
    active_person,
    active_team,
    checked_day,
    checked_text,
    column_length,
    flush_or_conflict,
    is_taken,
    load_for_change,
    set_changed,
)
from qa_tui.services.people.permissions import CHANGE, EDIT_PEOPLE, require
from qa_tui.services.programme.triage import fuzzy_pattern

PAGE_SIZE = 200
KINDS = ("team", "person", "case")

# Form field → the label a user sees; every ValidationError names a field by its label.
TEAM_LABELS = {"code": "Team code", "name": "Team name"}
PERSON_LABELS = {
    "staff_id": "Staff ID", "name": "Name", "role": "Role", "team_id": "Team", "manager_id": "Manager",
    "asye_start": "ASYE start", "active_from": "Active from", "login": "Login",
}
CASE_LABELS = {
    "reference": "Case reference", "category": "Category", "team_id": "Team", "worker_id": "Worker",
    "opened_on": "Opened on", "cp_plan_start": "CP plan start", "cp_plan_end": "CP plan end",
}

Row = TypeVar("Row")


# --- what the screens show ---------------------------------------------------------------


@dataclass(frozen=True)
class TeamRow:
    id: uuid.UUID
    code: str
    name: str
    active: bool
    people: int  # active people in the team
    open_cases: int
    version: int


@dataclass(frozen=True)
class PersonRow:
    id: uuid.UUID
    staff_id: str
    name: str
    role: str
    team_id: uuid.UUID | None
    team_code: str
    manager_id: uuid.UUID | None
    manager_name: str
    asye_start: date | None
    active_from: date | None
    active_to: date | None
    login: str
    open_cases: int
    version: int


@dataclass(frozen=True)
class CaseRow:
    id: uuid.UUID
    reference: str
    category: str
    team_id: uuid.UUID | None
    team_code: str
    worker_id: uuid.UUID | None
    worker_name: str
    opened_on: date | None
    closed_on: date | None
    cp_plan_start: date | None
    cp_plan_end: date | None
    version: int


@dataclass(frozen=True)
class Page(Generic[Row]):
    rows: tuple[Row, ...]
    after: tuple[str, ...] | None  # pass back to get the next page; None: this is the last


@dataclass(frozen=True)
class Choice:
    id: uuid.UUID
    label: str


@dataclass(frozen=True)
class FormChoices:
    """What the forms offer: active teams, possible managers, case-holding workers."""

    teams: tuple[Choice, ...]
    managers: tuple[Choice, ...]
    workers: tuple[Choice, ...]
    roles: tuple[tuple[str, str], ...] = tuple((code, f"{code} · {ROLE_NAMES[code]}") for code in ROLES)
    categories: tuple[tuple[str, str], ...] = tuple(
        (code, f"{code} · {CASE_CATEGORY_NAMES[code]}") for code in CASE_CATEGORIES)


# --- what the forms send (dates as typed: parsed and checked here) ------------------------


@dataclass(frozen=True)
class TeamInput:
    code: str
    name: str


@dataclass(frozen=True)
class PersonInput:
    staff_id: str
    name: str
    role: str
    team_id: uuid.UUID | None = None
    manager_id: uuid.UUID | None = None
    asye_start: str = ""
    active_from: str = ""
    login: str = ""


@dataclass(frozen=True)
class CaseInput:
    reference: str
    category: str
    team_id: uuid.UUID | None = None
    worker_id: uuid.UUID | None = None
    opened_on: str = ""
    cp_plan_start: str = ""
    cp_plan_end: str = ""


# --- lists -------------------------------------------------------------------------------


def _active_person(today: date) -> ColumnElement[bool]:
    return or_(Person.active_to.is_(None), Person.active_to >= today)


def _open_case() -> ColumnElement[bool]:
    return Case.closed_on.is_(None)


def list_teams(session: Session, today: date, *, search: str = "", include_inactive: bool = False) -> list[TeamRow]:
    """Every team (a council has tens, not thousands), by name, with its active people and open cases;
    `search` matches the name or code loosely."""
    people = {team_id: n for team_id, n in session.execute(
        select(Person.team_id, func.count()).where(_active_person(today)).group_by(Person.team_id))}
    cases = {team_id: n for team_id, n in session.execute(
        select(Case.team_id, func.count()).where(_open_case()).group_by(Case.team_id))}
    stmt = select(Team).order_by(Team.name, Team.code)
    if not include_inactive:
        stmt = stmt.where(Team.active.is_(True))
    if search.strip():
        pattern = fuzzy_pattern(search)
        stmt = stmt.where(or_(Team.name.ilike(pattern, escape="\\"), Team.code.ilike(pattern, escape="\\")))
    return [_team_row(t, people.get(t.id, 0), cases.get(t.id, 0)) for t in session.scalars(stmt)]


def _team_row(team: Team, people: int, open_cases: int) -> TeamRow:
    return TeamRow(team.id, team.code, team.name, team.active, people, open_cases, team.version)


def list_people(session: Session, today: date, *, search: str = "", include_inactive: bool = False,
                after: tuple[str, ...] | None = None, limit: int = PAGE_SIZE) -> Page[PersonRow]:
    """People by name, a page at a time; `search` matches name, staff ID or login loosely."""
    manager = aliased(Person)
    open_cases = (select(func.count()).select_from(Case)
                  .where(Case.worker_id == Person.id, _open_case()).scalar_subquery())
    stmt = (select(Person, Team.code, manager.name, open_cases)
            .outerjoin(Team, Team.id == Person.team_id)
            .outerjoin(manager, manager.id == Person.manager_id)
            .order_by(Person.name, Person.staff_id))
    if not include_inactive:
        stmt = stmt.where(_active_person(today))
    if search.strip():
        pattern = fuzzy_pattern(search)
        stmt = stmt.where(or_(*(column.ilike(pattern, escape="\\")
                                for column in (Person.name, Person.staff_id, Person.login))))
    if after is not None:
        stmt = stmt.where(tuple_(Person.name, Person.staff_id) > tuple_(*after))
    found = session.execute(stmt.limit(limit + 1)).all()
    rows = tuple(_person_row(p, team_code, manager_name, count)
                 for p, team_code, manager_name, count in found[:limit])
    return Page(rows, (rows[-1].name, rows[-1].staff_id) if len(found) > limit else None)


def _person_row(p: Person, team_code: str | None, manager_name: str | None, open_cases: int) -> PersonRow:
    return PersonRow(p.id, p.staff_id, p.name, p.role, p.team_id, team_code or "", p.manager_id,
                     manager_name or "", p.asye_start, p.active_from, p.active_to, p.login or "",
                     open_cases, p.version)


def list_cases(session: Session, *, search: str = "", include_closed: bool = False,
               after: tuple[str, ...] | None = None, limit: int = PAGE_SIZE) -> Page[CaseRow]:
    """Cases by reference, a page at a time; `search` matches the reference, the team code or the
    worker's name or staff ID loosely."""
    stmt = (select(Case, Team.code, Person.name)
            .outerjoin(Team, Team.id == Case.team_id)
            .outerjoin(Person, Person.id == Case.worker_id)
            .order_by(Case.reference))
    if not include_closed:
        stmt = stmt.where(_open_case())
    if search.strip():
        pattern = fuzzy_pattern(search)
        stmt = stmt.where(or_(*(column.ilike(pattern, escape="\\")
                                for column in (Case.reference, Team.code, Person.name, Person.staff_id))))
    if after is not None:
        stmt = stmt.where(Case.reference > after[0])
    found = session.execute(stmt.limit(limit + 1)).all()
    rows = tuple(_case_row(c, team_code, worker_name) for c, team_code, worker_name in found[:limit])
    return Page(rows, (rows[-1].reference,) if len(found) > limit else None)


def _case_row(c: Case, team_code: str | None, worker_name: str | None) -> CaseRow:
    return CaseRow(c.id, c.reference, c.category, c.team_id, team_code or "", c.worker_id, worker_name or "",
                   c.opened_on, c.closed_on, c.cp_plan_start, c.cp_plan_end, c.version)


def form_choices(session: Session, today: date) -> FormChoices:
    teams = session.execute(select(Team.id, Team.code, Team.name).where(Team.active.is_(True))
                            .order_by(Team.name, Team.code)).all()
    people = session.execute(
        select(Person.id, Person.staff_id, Person.name, Person.role, Team.code)
        .outerjoin(Team, Team.id == Person.team_id)
        .where(_active_person(today)).order_by(Person.name, Person.staff_id)).all()

    def label(name: str, staff_id: str, role: str, team_code: str | None) -> str:
        return f"{name} ({staff_id}, {role}{', ' + team_code if team_code else ''})"

    return FormChoices(
        teams=tuple(Choice(i, f"{name} ({code})") for i, code, name in teams),
        managers=tuple(Choice(i, label(n, s, r, t)) for i, s, n, r, t in people if r not in CASE_HOLDING_ROLES),
        workers=tuple(Choice(i, label(n, s, r, t)) for i, s, n, r, t in people if r in CASE_HOLDING_ROLES),
    )


# --- teams -------------------------------------------------------------------------------


def save_team(session: Session, form: TeamInput, today: date, *, team_id: uuid.UUID | None = None,
              expected_version: int | None = None) -> TeamRow:
    """Add a team (no `team_id`) or change one. Codes and names are unique, ignoring case,
    because imports match teams by either. Administrators only."""
    require(session, EDIT_PEOPLE)
    code = checked_text(TEAM_LABELS, "code", form.code, column_length(Team.code))
    if any(c.isspace() for c in code):
        raise ValidationError(TEAM_LABELS["code"], f"{code!r} has spaces; use letters, digits and hyphens")
    if is_taken(session, Team, Team.code, code, team_id):
        raise ValidationError(TEAM_LABELS["code"], f"another team already has the code {code!r}")
    name = checked_text(TEAM_LABELS, "name", form.name, column_length(Team.name))
    if is_taken(session, Team, Team.name, name, team_id):
        raise ValidationError(TEAM_LABELS["name"], f"another team is already called {name!r}")
    if team_id is None:
        team = Team(id=uuid.uuid4(), code=code, name=name, active=True)
        session.add(team)
    else:
        team = load_for_change(session, Team, team_id, f"Team {code}", expected_version)
        team.code, team.name = code, name
    flush_or_conflict(session, f"Team {code}")
    return _team_summary(session, team, today)


def record_row(session: Session, tab: str, record_id: uuid.UUID, today: date) -> TeamRow | PersonRow | CaseRow:
    """One team, person or case as its list shows it (`tab`: "teams", "people" or "cases")."""
    model, name = {"teams": (Team, "team"), "people": (Person, "person"), "cases": (Case, "case")}[tab]
    row = session.get(model, record_id)
    if row is None:
        raise NotFound(f"No {name} with id {record_id}: it may have been removed since.")
    if isinstance(row, Team):
        return _team_summary(session, row, today)
    if isinstance(row, Person):
        return _person_summary(session, row)
    team, worker = session.get(Team, row.team_id), session.get(Person, row.worker_id) if row.worker_id else None
    return _case_row(row, team.code if team else None, worker.name if worker else None)


def _team_summary(session: Session, team: Team, today: date) -> TeamRow:
    people = session.scalar(select(func.count()).select_from(Person)
                            .where(Person.team_id == team.id, _active_person(today))) or 0
    cases = session.scalar(select(func.count()).select_from(Case).where(Case.team_id == team.id, _open_case())) or 0
    return _team_row(team, people, cases)


# --- people ------------------------------------------------------------------------------


def save_person(session: Session, form: PersonInput, today: date, *, person_id: uuid.UUID | None = None,
                expected_version: int | None = None) -> PersonRow:
    """Add a person or change one (a role change is kept in the audit trail like any change).
    Administrators only: a person's role, team and login decide what they may do."""
    require(session, EDIT_PEOPLE)
    labels = PERSON_LABELS
    staff_id = checked_text(labels, "staff_id", form.staff_id, column_length(Person.staff_id))
    if is_taken(session, Person, Person.staff_id, staff_id, person_id):
        raise ValidationError(labels["staff_id"], f"{staff_id!r} is already someone else's staff ID")
    name = checked_text(labels, "name", form.name, column_length(Person.name))
    if form.role not in ROLES:
        raise ValidationError(labels["role"], f"choose one of {', '.join(ROLES)}")
    existing = session.get(Person, person_id) if person_id is not None else None
    team = active_team(session, form.team_id, labels["team_id"], unchanged=existing.team_id if existing else None)
    if team is None and form.role in CASE_HOLDING_ROLES:
        raise ValidationError(labels["team_id"], f"choose a team: a {ROLE_NAMES[form.role].lower()} holds cases")
    manager = active_person(session, form.manager_id, labels["manager_id"], today,
                            unchanged=existing.manager_id if existing else None)
    if manager is not None and person_id is not None:
        _check_no_manager_loop(session, person_id, manager)
    asye_start = checked_day(labels, "asye_start", form.asye_start)
    active_from = checked_day(labels, "active_from", form.active_from)
    if existing is not None and active_from and existing.active_to and active_from > existing.active_to:
        raise ValidationError(labels["active_from"], f"is after their last day, {existing.active_to:%d/%m/%Y}")
    login = checked_text(labels, "login", form.login, column_length(Person.login), required=False) or None
    if login and is_taken(session, Person, Person.login, login, person_id):
        raise ValidationError(labels["login"], f"{login!r} is already someone else's login")
    values = dict(staff_id=staff_id, name=name, role=form.role, team_id=team.id if team else None,
                  manager_id=manager.id if manager else None, asye_start=asye_start,
                  active_from=active_from, login=login)
    if person_id is None:
        person = Person(id=uuid.uuid4(), **values)
        session.add(person)
    else:
        person = load_for_change(session, Person, person_id, f"{name} ({staff_id})", expected_version)
        set_changed(person, values)
    flush_or_conflict(session, f"{name} ({staff_id})")
    return _person_summary(session, person)


def _check_no_manager_loop(session: Session, person_id: uuid.UUID, manager: Person) -> None:
    """Following managers upwards from the new manager must never reach the person."""
    chain = [manager]
    current: Person | None = manager
    seen = {manager.id}
    while current is not None:
        if current.id == person_id:
            names = " → ".join(p.name for p in chain)
            raise ValidationError(PERSON_LABELS["manager_id"], f"managers would form a loop: {names}")
        current = session.get(Person, current.manager_id) if current.manager_id else None
        if current is None or current.id in seen:
            break
        seen.add(current.id)
        chain.append(current)


def _person_summary(session: Session, person: Person) -> PersonRow:
    team_code = session.scalar(select(Team.code).where(Team.id == person.team_id)) if person.team_id else None
    manager = session.scalar(select(Person.name).where(Person.id == person.manager_id)) if person.manager_id else None
    cases = session.scalar(select(func.count()).select_from(Case)
                           .where(Case.worker_id == person.id, _open_case())) or 0
    return _person_row(person, team_code, manager, cases)


# --- cases -------------------------------------------------------------------------------


def save_case(session: Session, form: CaseInput, today: date, *, case_id: uuid.UUID | None = None,
              expected_version: int | None = None) -> CaseRow:
    """Add a case or change one. The reference is the case system's ID: only IDs are stored,
    never a child's name, so a reference must hold a digit."""
    labels = CASE_LABELS
    reference = checked_text(labels, "reference", form.reference, column_length(Case.reference))
    if not any(c.isdigit() for c in reference):
        raise ValidationError(labels["reference"], "use the case system's ID (it has digits); "
                                                   "a child's name is never recorded")
    if is_taken(session, Case, Case.reference, reference, case_id):
        raise ValidationError(labels["reference"], f"case {reference} is already recorded")
    if form.category not in CASE_CATEGORIES:
        raise ValidationError(labels["category"], f"choose one of {', '.join(CASE_CATEGORIES)}")
    existing = session.get(Case, case_id) if case_id is not None else None
    worker = active_person(session, form.worker_id, labels["worker_id"], today,
                           unchanged=existing.worker_id if existing else None)
    team = active_team(session, form.team_id, labels["team_id"], unchanged=existing.team_id if existing else None)
    if team is None and worker is not None:
        team = session.get(Team, worker.team_id) if worker.team_id else None
    if team is None:
        raise ValidationError(labels["team_id"], "choose a team" + (
            f": {worker.name} has none" if worker is not None else " (or a worker in a team)"))
    opened_on = checked_day(labels, "opened_on", form.opened_on)
    if opened_on and opened_on > today:
        raise ValidationError(labels["opened_on"], f"{opened_on:%d/%m/%Y} is after today")
    if existing is not None and opened_on and existing.closed_on and opened_on > existing.closed_on:
        raise ValidationError(labels["opened_on"], f"is after the case closed, {existing.closed_on:%d/%m/%Y}")
    cp_start = checked_day(labels, "cp_plan_start", form.cp_plan_start)
    cp_end = checked_day(labels, "cp_plan_end", form.cp_plan_end)
    if cp_end and not cp_start:
        raise ValidationError(labels["cp_plan_start"], "must not be blank when the CP plan end is given")
    if cp_start and cp_end and cp_end < cp_start:
        raise ValidationError(labels["cp_plan_end"], f"{cp_end:%d/%m/%Y} is before the plan started")
    values = dict(reference=reference, category=form.category, team_id=team.id,
                  worker_id=worker.id if worker else None, opened_on=opened_on,
                  cp_plan_start=cp_start, cp_plan_end=cp_end)
    if case_id is None:
        case = Case(id=uuid.uuid4(), **values)
        session.add(case)
    else:
        case = load_for_change(session, Case, case_id, f"Case {reference}", expected_version)
        set_changed(case, values)
    flush_or_conflict(session, f"Case {reference}")
    return _case_row(case, team.code, worker.name if worker else None)


# --- deactivating (never deleting) -------------------------------------------------------


def deactivate(session: Session, kind: str, record_id: uuid.UUID, today: date, *,
               expected_version: int | None = None) -> str:
    """A team stops being active; a person's last day is today; a case closes today.
    Returns a line saying what was done and anything left to do."""
    require(session, CHANGE if kind == "case" else EDIT_PEOPLE)
    if kind == "team":
        team = load_for_change(session, Team, record_id, "This team", expected_version)
        staying = or_(Person.active_to.is_(None), Person.active_to > today)
        people = session.scalar(select(func.count()).select_from(Person)
                                .where(Person.team_id == team.id, staying)) or 0
        cases = session.scalar(select(func.count()).select_from(Case)
                               .where(Case.team_id == team.id, _open_case())) or 0
        if people or cases:
            raise NotAllowed(f"{team.name} still has {_count(people, 'active person', 'active people')} and "
                             f"{_count(cases, 'open case')}; move them to another team first.")
        if not team.active:
            return f"{team.name} was already inactive."
        team.active = False
        flush_or_conflict(session, team.name)
        return f"{team.name} is no longer active; its history is kept."
    if kind == "person":
        person = load_for_change(session, Person, record_id, "This person", expected_version)
        if person.active_to is not None and person.active_to <= today:
            return f"{person.name} had already left on {person.active_to:%d/%m/%Y}."
        person.active_to = today
        flush_or_conflict(session, person.name)
        cases = session.scalar(select(func.count()).select_from(Case)
                               .where(Case.worker_id == person.id, _open_case())) or 0
        left = f" {_count(cases, 'open case')} still allocated to them: reallocate in Cases." if cases else ""
        return f"{person.name}'s last day is {today:%d/%m/%Y}.{left}"
    if kind == "case":
        case = load_for_change(session, Case, record_id, "This case", expected_version)
        if case.closed_on is not None:
            return f"Case {case.reference} was already closed on {case.closed_on:%d/%m/%Y}."
        if case.opened_on and case.opened_on > today:
            raise NotAllowed(f"Case {case.reference} opens on {case.opened_on:%d/%m/%Y}; it cannot close before then.")
        case.closed_on = today
        flush_or_conflict(session, f"Case {case.reference}")
        return f"Case {case.reference} closed on {today:%d/%m/%Y}; its audits are kept."
    raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")


def reactivate(session: Session, kind: str, record_id: uuid.UUID, *, expected_version: int | None = None) -> str:
    """Undo a deactivation: the team is active again, the person has no last day, the case reopens."""
    changes: dict[str, tuple[type[Any], str, Callable[[Any], str], Any]] = {
        "team": (Team, "active", lambda t: f"{t.name} is active again.", True),
        "person": (Person, "active_to", lambda p: f"{p.name} is active again.", None),
        "case": (Case, "closed_on", lambda c: f"Case {c.reference} is open again.", None),
    }
    if kind not in changes:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    require(session, CHANGE if kind == "case" else EDIT_PEOPLE)
    model, attribute, message, value = changes[kind]
    record = load_for_change(session, model, record_id, f"This {kind}", expected_version)
    setattr(record, attribute, value)
    flush_or_conflict(session, f"This {kind}")
    return message(record)


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"
