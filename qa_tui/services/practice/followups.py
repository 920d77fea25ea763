"""Follow-ups: findings that must be discussed with the worker at their next supervision, and
the tick that closes them by linking them to the supervision where they were discussed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from qa_tui.db.models import FOLLOW_UP_SOURCES, Audit, Case, Feedback, FollowUp, Supervision
from qa_tui.errors import ChangedElsewhere, NotAllowed, NotFound, ValidationError
from qa_tui.services.people.permissions import SUPERVISE, require

SOURCE_LABELS = {
    "audit": "Case audit",
    "observation": "Practice observation",
    "dip_sample": "Dip sample",
    "feedback": "Family feedback",
    "other": "Other",
}


@dataclass(frozen=True)
class FollowUpView:
    id: uuid.UUID
    version: int
    worker_id: uuid.UUID
    source_kind: str
    source_label: str
    source_id: uuid.UUID | None
    case_reference: str | None
    summary: str
    raised_on: date
    event_on: date  # when the finding's event happened; it may be ticked at a supervision from then
    supervision_id: uuid.UUID | None
    discussed_note: str


def raise_follow_up(session: Session, *, worker_id: uuid.UUID, source_kind: str,
                    source_id: uuid.UUID | None, summary: str, today: date,
                    event_on: date | None = None, record_id: uuid.UUID | None = None) -> FollowUp:
    """Add an item to the worker's next supervision agenda, dated by the event it comes from
    (`event_on`: the observation, audit or feedback date; today when there is none), with the id
    `record_id` when one is given."""
    if source_kind not in FOLLOW_UP_SOURCES:
        raise ValidationError("source", f"expected one of {', '.join(FOLLOW_UP_SOURCES)}")
    if not summary.strip():
        raise ValidationError("summary", "a follow-up needs a line saying what to discuss")
    item = FollowUp(id=record_id or uuid.uuid4(), worker_id=worker_id, source_kind=source_kind, source_id=source_id,
                    summary=summary.strip(), raised_on=today, event_on=event_on or today)
    session.add(item)
    return item


def undiscussed_follow_ups(session: Session, worker_id: uuid.UUID) -> list[FollowUpView]:
    """Every follow-up for the worker not yet discussed in a supervision, oldest first."""
    rows = session.scalars(
        select(FollowUp)
        .where(FollowUp.worker_id == worker_id, FollowUp.supervision_id.is_(None))
        .order_by(FollowUp.raised_on, FollowUp.created_at, FollowUp.id)
    ).all()
    return _views(session, rows)


def discussed_at(session: Session, supervision_id: uuid.UUID) -> list[FollowUpView]:
    """The follow-ups ticked as discussed in this supervision, oldest first."""
    rows = session.scalars(
        select(FollowUp)
        .where(FollowUp.supervision_id == supervision_id)
        .order_by(FollowUp.raised_on, FollowUp.created_at, FollowUp.id)
    ).all()
    return _views(session, rows)


def tick_discussed(session: Session, follow_up_id: uuid.UUID, supervision_id: uuid.UUID,
                   note: str = "", expected_version: int | None = None) -> FollowUpView:
    """Mark a follow-up as discussed in a recorded supervision of the same worker; the note
    (optional) is kept with it. A discussed follow-up leaves the agenda for good."""
    item = session.get(FollowUp, follow_up_id)
    if item is None:
        raise NotFound(f"Follow-up {follow_up_id} does not exist.")
    if expected_version is not None and item.version != expected_version:
        raise ChangedElsewhere("This follow-up")
    supervision = session.get(Supervision, supervision_id)
    if supervision is None:
        raise NotFound(f"Supervision {supervision_id} does not exist.")
    if supervision.worker_id != item.worker_id:
        raise NotAllowed("This follow-up belongs to another worker's supervision agenda.")
    require(session, SUPERVISE, worker_id=item.worker_id)
    if item.supervision_id is not None:
        earlier = session.get(Supervision, item.supervision_id)
        when = f" on {earlier.held_on.isoformat()}" if earlier else ""
        raise NotAllowed(f"This follow-up was already discussed at the supervision{when}.")
    event_on = item.event_on or item.raised_on
    if event_on > supervision.held_on:
        raise NotAllowed(
            f"This follow-up comes from {event_on.isoformat()}, after the supervision "
            f"held on {supervision.held_on.isoformat()}; tick it in a later supervision.")
    item.supervision_id = supervision.id
    item.discussed_note = note.strip()
    try:
        session.flush()
    except StaleDataError:
        raise ChangedElsewhere("This follow-up") from None
    return _views(session, [item])[0]


def _views(session: Session, rows: list[FollowUp]) -> list[FollowUpView]:
    references = _case_references(session, rows)
    return [
        FollowUpView(
            id=f.id, version=f.version, worker_id=f.worker_id, source_kind=f.source_kind,
            source_label=SOURCE_LABELS.get(f.source_kind, f.source_kind), source_id=f.source_id,
            case_reference=references.get(f.id), summary=f.summary, raised_on=f.raised_on,
            event_on=f.event_on or f.raised_on, supervision_id=f.supervision_id, discussed_note=f.discussed_note,
        )
        for f in rows
    ]


def _case_references(session: Session, rows: list[FollowUp]) -> dict[uuid.UUID, str]:
    """Follow-up ID → the case reference of the audit, dip sample or feedback that raised it."""
    audit_ids = {f.source_id for f in rows if f.source_kind in ("audit", "dip_sample") and f.source_id}
    feedback_ids = {f.source_id for f in rows if f.source_kind == "feedback" and f.source_id}
    by_source: dict[uuid.UUID, str] = {}
    if audit_ids:
        by_source.update(session.execute(
            select(Audit.id, Case.reference).join(Case, Audit.case_id == Case.id)
            .where(Audit.id.in_(audit_ids))).all())
    if feedback_ids:
        by_source.update(session.execute(
            select(Feedback.id, Case.reference).join(Case, Feedback.case_id == Case.id)
            .where(Feedback.id.in_(feedback_ids))).all())
    return {f.id: by_source[f.source_id] for f in rows if f.source_id in by_source}
