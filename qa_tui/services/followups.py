"""Follow-ups: findings that must be discussed with the worker at their next supervision."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.orm import Session

from qa_tui.db.models import FOLLOW_UP_SOURCES, FollowUp
from qa_tui.errors import ValidationError


def raise_follow_up(session: Session, *, worker_id: uuid.UUID, source_kind: str,
                    source_id: uuid.UUID | None, summary: str, today: date) -> FollowUp:
    """Add an item to the worker's next supervision agenda."""
    if source_kind not in FOLLOW_UP_SOURCES:
        raise ValidationError("source", f"expected one of {', '.join(FOLLOW_UP_SOURCES)}")
    if not summary.strip():
        raise ValidationError("summary", "a follow-up needs a line saying what to discuss")
    item = FollowUp(worker_id=worker_id, source_kind=source_kind, source_id=source_id,
                    summary=summary.strip(), raised_on=today)
    session.add(item)
    return item
