"""The worker's response to an audit or observation of their work: agree or disagree with a
comment, and their reflection. Kept with the record and shown to the manager on the agenda."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from qa_tui.db.models import RESPONSE_STANCES, WorkerResponse
from qa_tui.errors import ChangedElsewhere, NotAllowed, ValidationError
from qa_tui.services.people.permissions import OWN_WORK, require
from qa_tui.services.practice.worker_rules import mark_seen, may_respond

STANCE_LABELS = {"agree": "agrees", "disagree": "disagrees"}
ResponseKey = tuple[str, uuid.UUID]  # (source kind, record id)


@dataclass(frozen=True)
class ResponseView:
    id: uuid.UUID
    version: int
    source_kind: str
    source_id: uuid.UUID
    worker_id: uuid.UUID
    stance: str
    comment: str
    reflection: str
    responded_on: date

    @property
    def line(self) -> str:
        """One line for an agenda: the stance and the comment."""
        comment = " ".join(self.comment.split())
        return f"The worker {STANCE_LABELS[self.stance]}" + (f": {comment}" if comment else "")


def respond(session: Session, *, person_id: uuid.UUID | None, source_kind: str, source_id: uuid.UUID,
            stance: str, comment: str = "", reflection: str = "", today: date,
            expected_version: int | None = None) -> ResponseView:
    """Record (or change) the worker's response to an audit or observation of their own work.
    Disagreeing needs a comment saying with what."""
    if stance not in RESPONSE_STANCES:
        raise ValidationError("stance", "choose agree or disagree")
    if not isinstance(comment, str) or not isinstance(reflection, str):
        raise ValidationError("comment", "expected text")
    if stance == "disagree" and not comment.strip():
        raise ValidationError("comment", "say what you disagree with")
    require(session, OWN_WORK, worker_id=person_id)
    if not may_respond(session, person_id, source_kind, source_id):
        raise NotAllowed("You can respond only to an audit or observation of your own work that was shared with you.")
    assert person_id is not None
    row = session.scalar(select(WorkerResponse).where(
        WorkerResponse.source_kind == source_kind, WorkerResponse.source_id == source_id,
        WorkerResponse.worker_id == person_id))
    if row is None:
        row = WorkerResponse(source_kind=source_kind, source_id=source_id, worker_id=person_id,
                             stance=stance, comment="", reflection="", responded_on=today)
        session.add(row)
    elif expected_version is not None and row.version != expected_version:
        raise ChangedElsewhere("Your response")
    row.stance, row.comment, row.reflection, row.responded_on = stance, comment.strip(), reflection.strip(), today
    mark_seen(session, person_id, source_kind, source_id, today)  # responding to it is seeing it
    try:
        session.flush()
    except StaleDataError:
        raise ChangedElsewhere("Your response") from None
    return _view(row)


def responses_for(session: Session, keys: Iterable[ResponseKey]) -> dict[ResponseKey, ResponseView]:
    """The responses to these records, by (source kind, record id)."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}
    by_kind: dict[str, list[uuid.UUID]] = {}
    for kind, record_id in wanted:
        by_kind.setdefault(kind, []).append(record_id)
    rows = session.scalars(select(WorkerResponse).where(or_(*(
        (WorkerResponse.source_kind == kind) & WorkerResponse.source_id.in_(ids) for kind, ids in by_kind.items()))))
    return {(r.source_kind, r.source_id): _view(r) for r in rows}


def _view(r: WorkerResponse) -> ResponseView:
    return ResponseView(id=r.id, version=r.version, source_kind=r.source_kind, source_id=r.source_id,
                        worker_id=r.worker_id, stance=r.stance, comment=r.comment, reflection=r.reflection,
                        responded_on=r.responded_on)
