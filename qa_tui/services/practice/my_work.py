"""The worker's own view: their audits, observations, dip samples and feedback (only what was
shared with them, never a colleague's), their supervision agenda, and opening an observation,
which records when they first saw it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_tui.db.models import Audit, Feedback, Observation, Person
from qa_tui.errors import NotAllowed, NotFound
from qa_tui.services.people.permissions import OWN_WORK, require
from qa_tui.services.practice.agenda_items import Finding, record_findings
from qa_tui.services.practice.followups import FollowUpView
from qa_tui.services.practice.supervision import AgendaAction, supervision_agenda
from qa_tui.services.practice.worker_rules import DIP_KIND, mark_seen, may_respond, may_see

KIND_LABELS = {"audit": "Case audit", "dip_sample": "Dip sample", "observation": "Observation",
               "feedback": "Feedback"}


@dataclass(frozen=True)
class MyRecord:
    kind: str  # "audit", "dip_sample", "observation" or "feedback"
    id: uuid.UUID
    on: date
    finding: Finding
    may_respond: bool

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def record_kind(self) -> str:
        """The kind the sharing and response rules know it by (a dip sample is an audit)."""
        return "audit" if self.kind == DIP_KIND else self.kind


@dataclass(frozen=True)
class MyWork:
    person_id: uuid.UUID
    name: str
    role: str
    records: tuple[MyRecord, ...]  # newest first
    agenda: tuple[FollowUpView, ...]
    actions: tuple[AgendaAction, ...]  # their open actions, also on the agenda
    agenda_findings: dict[uuid.UUID, Finding] = field(default_factory=dict)


def my_work(session: Session, person_id: uuid.UUID | None, today: date) -> MyWork:
    """Everything about this person's own work that was shared with them, newest first, and what
    waits for their next supervision (follow-ups and open actions)."""
    person = session.get(Person, person_id) if person_id else None
    if person is None:
        raise NotAllowed("Your login is not linked to a person yet, so there is no work of yours to show. "
                         "Ask an administrator to link it (People & cases).")
    require(session, OWN_WORK, worker_id=person.id)
    refs: list[tuple[str, uuid.UUID]] = []
    for audit_id, kind in session.execute(select(Audit.id, Audit.kind).where(Audit.worker_id == person.id)):
        refs.append((DIP_KIND if kind == DIP_KIND else "audit", audit_id))
    refs += [("observation", i) for i in session.scalars(select(Observation.id).where(Observation.worker_id == person.id))]
    refs += [("feedback", i) for i in session.scalars(select(Feedback.id).where(Feedback.worker_id == person.id))]
    visible = [(kind, i) for kind, i in refs if may_see(session, person.id, _rule_kind(kind), i)]
    found = record_findings(session, visible)
    records = [MyRecord(kind, i, found[(kind, i)].event_on, found[(kind, i)],
                        may_respond(session, person.id, _rule_kind(kind), i))
               for kind, i in visible if (kind, i) in found]
    records.sort(key=lambda r: (r.on, r.kind, str(r.id)), reverse=True)
    agenda = supervision_agenda(session, person.id, today)
    shown = {(r.kind, r.id): r.finding for r in records}
    return MyWork(person_id=person.id, name=person.name, role=person.role, records=tuple(records),
                  agenda=agenda.follow_ups, actions=agenda.actions,
                  agenda_findings={f.id: shown[(f.source_kind, f.source_id)] for f in agenda.follow_ups
                                   if (f.source_kind, f.source_id) in shown})


def open_my_record(session: Session, person_id: uuid.UUID | None, kind: str, record_id: uuid.UUID,
                   today: date) -> MyRecord:
    """One of the worker's records, opened by them: the first open records the day they saw it
    (the manager sees it on the agenda), beside the record so its version does not change."""
    rule_kind = _rule_kind(kind)
    if not may_see(session, person_id, rule_kind, record_id):
        raise NotFound("There is no record of yours like that, or it has not been shared with you.")
    assert person_id is not None  # may_see is False for nobody
    mark_seen(session, person_id, rule_kind, record_id, today)
    finding = record_findings(session, [(kind, record_id)])[(kind, record_id)]
    return MyRecord(kind, record_id, finding.event_on, finding, may_respond(session, person_id, rule_kind, record_id))


def _rule_kind(kind: str) -> str:
    return "audit" if kind == DIP_KIND else kind
