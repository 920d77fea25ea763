"""Work in progress kept between keystrokes (which draw, which case, which field, the half-typed
text), so a session killed mid-meeting can be offered for resuming."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from qa_tui.db.base import utcnow
from qa_tui.db.models import Draft
from qa_tui.db.trail import plain
from qa_tui.errors import ValidationError

MAX_KEY = 200


@dataclass(frozen=True)
class DraftDTO:
    key: str
    payload: dict[str, Any]
    owner: str
    updated_at: datetime


def save_draft(session: Session, key: str, payload: dict[str, Any], owner: str) -> DraftDTO:
    """Keep `payload` under `key`, replacing what was there. Values are stored as JSON: UUIDs
    and dates come back as strings."""
    if not key or len(key) > MAX_KEY:
        raise ValidationError("draft key", f"expected 1 to {MAX_KEY} characters")
    stored = plain(payload)
    draft = session.get(Draft, key)
    if draft is None:
        try:
            with session.begin_nested():
                draft = Draft(key=key, payload=stored, owner=owner, updated_at=utcnow())
                session.add(draft)
                session.flush()
            return _dto(draft)
        except IntegrityError:
            # Saved at the same moment by another session: overwrite theirs, as a later save would.
            draft = session.get(Draft, key, populate_existing=True)
    draft.payload, draft.owner, draft.updated_at = stored, owner, utcnow()
    session.flush()
    return _dto(draft)


def load_draft(session: Session, key: str) -> DraftDTO | None:
    draft = session.get(Draft, key)
    return _dto(draft) if draft else None


def clear_draft(session: Session, key: str) -> bool:
    """Forget a draft once its work is saved for real; False if there was none."""
    return session.execute(delete(Draft).where(Draft.key == key)).rowcount > 0


def list_drafts(session: Session, owner: str) -> list[DraftDTO]:
    """The owner's drafts, most recently saved first."""
    rows = session.scalars(select(Draft).where(Draft.owner == owner).order_by(Draft.updated_at.desc(), Draft.key))
    return [_dto(d) for d in rows]


def _dto(draft: Draft) -> DraftDTO:
    return DraftDTO(draft.key, dict(draft.payload), draft.owner, draft.updated_at)
