"""Putting back an edit the journal kept (the app was killed, or the database was out of reach
when it closed): each kind of change goes through the same service a form would call."""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

from qa_tui.errors import ValidationError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

OVERALL = "__overall__"  # the audit editor's key for the overall grade (qa_tui.widgets.grades)
KINDS = ("audit-text", "audit-grade", "observation", "dip-comment", "tick-note")


def restore_change(session: Session, kind: str, record_id: str, field: str, value: Any, *, today: date) -> None:
    """Store `value` in `field` of the record, as the form would have. The person chose to put it
    back over what is stored, so no version is expected; every rule still applies."""
    try:
        record = uuid.UUID(record_id)
    except ValueError:
        raise ValidationError("record", f"not a record id: {record_id!r}") from None
    if kind == "audit-text":
        from qa_tui.services.audits.record import set_text

        set_text(session, record, field, value)
    elif kind == "audit-grade":
        from qa_tui.services.audits.record import set_grade, set_overall_grade

        domain = field.removeprefix("grade:")
        if domain == OVERALL:
            set_overall_grade(session, record, value)
        else:
            set_grade(session, record, domain, value)
    elif kind == "observation":
        from qa_tui.services.practice.observations import update_observation_field

        if field == "observed_on" and isinstance(value, str):
            value = date.fromisoformat(value)
        update_observation_field(session, record, field, value, today=today)
    elif kind == "dip-comment":  # field: "<area>:<rating typed under>" (no rating: the stored one)
        from qa_tui.services.practice.dip_sample import restore_comment

        area, _, rating = field.partition(":")
        restore_comment(session, record, area, value, int(rating) if rating.isdigit() else None)
    elif kind == "tick-note":  # journals written before tick notes were kept as a form's draft
        # record: the follow-up; field: the supervision it was discussed in
        from qa_tui.services.practice.followups import tick_discussed

        try:
            supervision = uuid.UUID(field)
        except ValueError:
            raise ValidationError("field", f"not a supervision id: {field!r}") from None
        tick_discussed(session, record, supervision, value)
    else:
        raise ValidationError("kind", f"expected one of {', '.join(KINDS)}, got {kind!r}")
