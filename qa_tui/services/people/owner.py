"""Whose database this is. On PostgreSQL the person is the staff record linked to the login. A
SQLite file is bound to one person: on a laptop, the person whose login pulled it (recorded at
the pull, changed only by pulling again); on a standalone install, the owner named at set-up
(changing it is an audited event). No setting, config file or preference changes either."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.orm import Session

from qa_tui.db import trail
from qa_tui.db.models import Person, SyncState
from qa_tui.errors import NotAllowed, NotFound
from qa_tui.text import printable
from qa_tui.db.acting import Acting
from qa_tui.services.people.directory import PersonRef

OWNER_KEY = "owner_person_id"  # "" when bound to a login linked to nobody
BOUND_BY_KEY = "owner_bound_by"  # "pull" (a laptop) or "set-up" (a standalone install)
PULLED_BY_KEY = "owner_login"  # the login whose pull bound a laptop
BOUND_BY_PULL, BOUND_AT_SET_UP = "pull", "set-up"


def _state(session: Session, key: str) -> str | None:
    return session.scalar(select(SyncState.value).where(SyncState.key == key))


def _set(session: Session, key: str, value: str) -> None:
    row = session.get(SyncState, key)
    if row is None:
        session.add(SyncState(key=key, value=value))
    else:
        row.value = value
    session.flush()


def _ref(person: Person) -> PersonRef:
    return PersonRef(person.id, person.staff_id, person.name, person.role, person.team_id)


def _ref_where(session: Session, *where: ColumnElement[bool]) -> PersonRef | None:
    """The one person matching `where`, reading only the columns a PersonRef needs (so the demo
    can name its owner on the first released schema, which lacks later person columns)."""
    row = session.execute(select(Person.id, Person.staff_id, Person.name, Person.role, Person.team_id)
                          .where(*where)).first()
    return PersonRef(*row) if row is not None else None


def laptop_owner(session: Session) -> PersonRef | None:
    """The person this SQLite file is bound to (by a pull or at set-up); None when it is bound to
    nobody yet, or to a login linked to no staff record."""
    value = _state(session, OWNER_KEY)
    if not value:
        return None
    return _ref_where(session, Person.id == uuid.UUID(value))


def owner_bound_by(session: Session) -> str | None:
    """How this SQLite file got its owner: BOUND_BY_PULL, BOUND_AT_SET_UP, or None (not yet)."""
    return _state(session, BOUND_BY_KEY) or None


def pulled_by(session: Session) -> str:
    return _state(session, PULLED_BY_KEY) or ""


def bind_to_puller(session: Session, login: str) -> PersonRef | None:
    """At a pull: bind this laptop to the person whose login pulled it (the pulled staff records
    are already here). A login linked to nobody binds the laptop to nobody: it may look only."""
    person = session.scalar(select(Person).where(Person.login == login)) if login else None
    before = _state(session, OWNER_KEY)
    value = str(person.id) if person is not None else ""
    _set(session, OWNER_KEY, value)
    _set(session, BOUND_BY_KEY, BOUND_BY_PULL)
    _set(session, PULLED_BY_KEY, login)
    if before != value:
        trail.record_event(session, "owner", "sync_state", OWNER_KEY, old={"person_id": before or None},
                           new={"person_id": value or None, "login": printable(login)},
                           detail=printable(f"bound to {person.name} ({person.staff_id}) by {login}'s pull") if person
                           else printable(f"bound to nobody: the login {login} that pulled is linked to no staff record"))
    return _ref(person) if person is not None else None


def set_standalone_owner(session: Session, staff_id: str) -> PersonRef:
    """Name the one owner of a standalone SQLite install (first run, or a change, which is
    recorded in the audit trail). A laptop's owner changes only by pulling again."""
    if session.get_bind().dialect.name != "sqlite":
        raise NotAllowed("On the shared database you are your database login; there is no owner to name.")
    if owner_bound_by(session) == BOUND_BY_PULL:
        raise NotAllowed(f"This laptop's database is bound to whoever pulled it ({pulled_by(session) or 'unknown'}); "
                         "only pulling again as someone else changes that.")
    wanted = staff_id.strip()
    person = _ref_where(session, func.lower(Person.staff_id) == wanted.lower()) if wanted else None
    if person is None:
        raise NotFound(f"No person has staff ID {wanted!r}." if wanted else "Name the owner by their staff ID.")
    before = laptop_owner(session)
    if before is not None and before.id == person.id:
        return before
    _set(session, OWNER_KEY, str(person.id))
    _set(session, BOUND_BY_KEY, BOUND_AT_SET_UP)
    trail.record_event(session, "owner", "sync_state", OWNER_KEY,
                       old={"person_id": str(before.id) if before else None,
                            "staff_id": printable(before.staff_id) if before else None},
                       new={"person_id": str(person.id), "staff_id": printable(person.staff_id)},
                       detail=printable((f"owner changed from {before.name} ({before.staff_id}) to " if before
                                         else "owner named at set-up: ") + f"{person.name} ({person.staff_id})"))
    return person


def acting_person(session: Session, login: str) -> Acting | None:
    """Who acts for this login: on PostgreSQL the staff record linked to it; on SQLite the file's
    owner. Nobody (person_id None: may look, not change) when there is none. None (the app's own
    set-up, unchecked) for a standalone SQLite file whose owner is not named yet, and for a
    PostgreSQL superuser linked to no one (the database's owner setting it up; a superuser could
    drop any rule anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        person = session.scalar(select(Person).where(Person.login == login))
        ref = _ref(person) if person is not None else None
        if ref is None and session.scalar(select(func.bool_or(text("rolsuper"))).select_from(text("pg_roles"))
                                          .where(text("rolname = current_user"))):
            return None
    else:
        if owner_bound_by(session) is None:
            return None
        ref = laptop_owner(session)
    if ref is None:
        return Acting(login=login)
    return Acting(login=login, person_id=ref.id, staff_id=ref.staff_id, name=ref.name, role=ref.role,
                  team_id=ref.team_id)


@dataclass(frozen=True)
class Ownership:
    """Who acts once a standalone install's owner is named, and what they may do by role."""

    person: PersonRef
    acting: Acting
    permissions: frozenset[str]


def claim_ownership(session: Session, staff_id: str, login: str) -> Ownership:
    """The app's first-run question answered: name the owner and say who acts from now on."""
    from qa_tui.services.people.permissions import permissions_of

    person = set_standalone_owner(session, staff_id)
    acting = acting_person(session, login)
    assert acting is not None
    return Ownership(person, acting, permissions_of(session, acting))


def has_people(session: Session) -> bool:
    return session.scalar(select(Person.id).limit(1)) is not None
