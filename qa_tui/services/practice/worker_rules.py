"""Which records about a worker their own view shows and takes responses to: a worker sees their
own shared records, and responds to audits and observations of their work; nobody sees a
colleague's through the worker's view. Whose work it is, and that it is the person acting, is the
permission `own_work` (qa_tui.services.people.permissions); what has been shared is decided here."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_tui.db.models import Audit, Feedback, FollowUp, Observation, RecordSeen
from qa_tui.services.people.permissions import OWN_WORK, decide

# The records a worker's view shows; "audit" covers dip samples (an audit of kind dip_sample).
WORKER_RECORD_KINDS = ("audit", "observation", "feedback")
DIP_KIND = "dip_sample"


def may_see(session: Session, person_id: uuid.UUID | None, kind: str, record_id: uuid.UUID) -> bool:
    """Whether `person_id` may see this record in the worker's view: it is about them and has been
    shared with them (an audit once submitted, a dip sample once its findings were shared or it
    was finalised, an observation once marked shared, feedback always), and `person_id` is the
    person acting (permission `own_work`)."""
    if person_id is None or not decide(session, OWN_WORK, worker_id=person_id).allowed:
        return False
    if kind == "observation":
        row = session.get(Observation, record_id)
        return row is not None and row.worker_id == person_id and row.feedback_shared
    if kind == "feedback":
        fb = session.get(Feedback, record_id)
        return fb is not None and fb.worker_id == person_id
    if kind == "audit":
        audit = session.get(Audit, record_id)
        if audit is None or audit.worker_id != person_id:
            return False
        if audit.kind == DIP_KIND:
            shared = session.scalar(select(FollowUp.id).where(
                FollowUp.source_kind == DIP_KIND, FollowUp.source_id == audit.id).limit(1))
            return shared is not None or audit.status == "finalised"
        return audit.status != "draft"
    return False


def may_respond(session: Session, person_id: uuid.UUID | None, kind: str, record_id: uuid.UUID) -> bool:
    """Whether `person_id` may add their response to this record: an audit (dip samples included)
    or an observation of their own work that they may see."""
    return kind in ("audit", "observation") and may_see(session, person_id, kind, record_id)


def mark_seen(session: Session, person_id: uuid.UUID, kind: str, record_id: uuid.UUID, today: date) -> None:
    """Record the day the worker first saw this record (opened it, or responded to it): the
    manager sees it on the agenda. Kept beside the record, so the record's version does not change."""
    seen = session.scalar(select(RecordSeen.id).where(
        RecordSeen.source_kind == kind, RecordSeen.source_id == record_id, RecordSeen.person_id == person_id))
    if seen is None:
        session.add(RecordSeen(source_kind=kind, source_id=record_id, person_id=person_id, seen_on=today))
        session.flush()
