"""People and teams: lookups (who a login is: qa_tui.services.people.owner)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from qa_tui.db.models import Person, Service, Team


@dataclass(frozen=True)
class PersonRef:
    id: uuid.UUID
    staff_id: str
    name: str
    role: str
    team_id: uuid.UUID | None


@dataclass(frozen=True)
class TeamRef:
    id: uuid.UUID
    code: str
    name: str


def _ref(p: Person) -> PersonRef:
    return PersonRef(p.id, p.staff_id, p.name, p.role, p.team_id)


def list_teams(session: Session) -> list[TeamRef]:
    rows = session.scalars(select(Team).where(Team.active.is_(True)).order_by(Team.name))
    return [TeamRef(t.id, t.code, t.name) for t in rows]


def list_services(session: Session) -> list[TeamRef]:
    """Every service (code and name), by name: a head of service's scope."""
    return [TeamRef(sid, code, name) for sid, code, name in
            session.execute(select(Service.id, Service.code, Service.name).order_by(Service.name))]


def service_by_code(session: Session, code: str) -> TeamRef | None:
    service = session.scalar(select(Service).where(Service.code == code))
    return TeamRef(service.id, service.code, service.name) if service else None


def team_by_code(session: Session, code: str) -> TeamRef | None:
    team = session.scalar(select(Team).where(Team.code == code))
    return TeamRef(team.id, team.code, team.name) if team else None




# The columns a status list needs: light rows instead of whole ORM objects, for council-wide
# lists of thousands of staff.
PERSON_FIELDS = (Person.id, Person.staff_id, Person.name, Person.role, Person.team_id, Person.manager_id,
                 Person.asye_start, Person.active_from, Person.active_to)


def active_on(today: date) -> ColumnElement[bool]:
    """In SQL, the same rule as `is_active`."""
    return and_(or_(Person.active_from.is_(None), Person.active_from <= today),
                or_(Person.active_to.is_(None), Person.active_to >= today))


def is_active(person: Person, today: date) -> bool:
    return (person.active_from is None or person.active_from <= today) and (
        person.active_to is None or person.active_to >= today)


def people_for_picking(session: Session, today: date, roles: tuple[str, ...] = (),
                       team_id: uuid.UUID | None = None, include: Collection[uuid.UUID] = ()) -> list[PersonRef]:
    """Active people (in `roles` and `team_id` when given), by name; anyone in `include` (such as
    the worker of an observation being reopened) is listed even if they have left or moved."""
    chosen = select(Person.id)
    if roles:
        chosen = chosen.where(Person.role.in_(roles))
    if team_id is not None:
        chosen = chosen.where(Person.team_id == team_id)
    stmt = select(Person).where(or_(Person.id.in_(chosen), Person.id.in_(list(include))))
    people = session.scalars(stmt.order_by(Person.name, Person.staff_id))
    return [_ref(p) for p in people if p.id in include or is_active(p, today)]


def services_led_by(session: Session, person_id: uuid.UUID) -> set[uuid.UUID]:
    """The services of the person's own team and of every team below them in the management
    line (a service leader's service; a director's several)."""
    people = session.execute(select(Person.id, Person.manager_id, Person.team_id)).all()
    reports: dict[uuid.UUID, list[tuple[uuid.UUID, uuid.UUID | None]]] = defaultdict(list)
    own_team = None
    for pid, manager_id, team_id in people:
        if pid == person_id:
            own_team = team_id
        if manager_id is not None:
            reports[manager_id].append((pid, team_id))
    teams = {own_team} - {None}
    seen, waiting = {person_id}, list(reports.get(person_id, ()))
    while waiting:
        pid, team_id = waiting.pop()
        if pid in seen:
            continue
        seen.add(pid)
        if team_id is not None:
            teams.add(team_id)
        waiting += reports.get(pid, ())
    if not teams:
        return set()
    return set(session.scalars(select(Team.service_id).where(Team.id.in_(teams), Team.service_id.is_not(None))))


def led_service(session: Session, person_id: uuid.UUID | None) -> tuple[uuid.UUID, str] | None:
    """The service (id and name) a head of service's reports open on; None for anyone else."""
    service_id = head_of_service_scope(session, person_id)
    name = session.scalar(select(Service.name).where(Service.id == service_id)) if service_id else None
    return (service_id, name) if service_id is not None and name is not None else None


def head_of_service_scope(session: Session, person_id: uuid.UUID | None) -> uuid.UUID | None:
    """The one service a head of service leads (triage and the reports open on it); None for
    anyone else, or a head of service leading none or several."""
    if person_id is None or session.scalar(select(Person.role).where(Person.id == person_id)) != "HOS":
        return None
    led = services_led_by(session, person_id)
    return next(iter(led)) if len(led) == 1 else None
