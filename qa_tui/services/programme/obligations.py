"""What a person owes under the programme: for each task for their role this period's count (met
or due), and the previous period's when it was missed (late)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_tui.config import Config
from qa_tui.db.models import Person
from qa_tui.errors import NotFound
from qa_tui.services.people.directory import PersonRef
from qa_tui.services.programme.facts import load_facts, load_people
from qa_tui.services.programme.task_rules import ObligationLine, lines_for


@dataclass(frozen=True)
class Obligations:
    person: PersonRef
    today: date
    lines: tuple[ObligationLine, ...]

    def with_status(self, status: str) -> tuple[ObligationLine, ...]:
        return tuple(line for line in self.lines if line.status == status)


def obligations(session: Session, person_id: uuid.UUID, today: date, cfg: Config) -> Obligations:
    """What the person owes under the programme: for each task for their role this period's
    count (met or due), and the previous period's when it was missed (late)."""
    people = load_people(session)
    person = people.get(person_id)
    if person is None:
        raise NotFound(f"Person {person_id} does not exist.")
    facts = load_facts(session, today, cfg, [person], people, everyone=False)
    return Obligations(person.ref(), today, tuple(lines_for(person, cfg, facts)))


def obligations_by_staff_id(session: Session, staff_id: str, today: date, cfg: Config) -> Obligations:
    person_id = session.scalar(select(Person.id).where(Person.staff_id == staff_id))
    if person_id is None:
        raise NotFound(f"No person with staff ID {staff_id!r}.")
    return obligations(session, person_id, today, cfg)
