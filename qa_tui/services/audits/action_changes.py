"""A change to actions typed in a form and kept as its draft (see qa_tui.services.unsaved_forms):
marked done, extended, reassigned or progress noted, stored through the actions services, in the
worker's supervision when it was made there."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.orm import Session

from qa_tui.dates import parse_day
from qa_tui.services.unsaved_forms import FormDraft


def store_action_change(session: Session, draft: FormDraft, *, by_id: uuid.UUID | None, today: date) -> object:
    """Store a change's draft through the actions services (in the worker's supervision when it
    was made there)."""
    from qa_tui.services.audits import actions
    from qa_tui.services.practice import supervision_actions as in_supervision

    context, values = draft.context, draft.values
    ids = [uuid.UUID(i) for i in context["ids"]]
    versions = {uuid.UUID(k): int(v) for k, v in (context.get("versions") or {}).items()}
    supervision = uuid.UUID(context["supervision"]) if context.get("supervision") else None
    if supervision is not None:
        one = {"action_id": ids[0], "supervision_id": supervision, "by_id": by_id, "today": today,
               "expected_version": versions.get(ids[0])}
        if draft.kind == "done":
            return in_supervision.complete_action_in_supervision(
                session, evidence=values["evidence"], child_outcome=values.get("outcome", ""), **one)
        if draft.kind == "extend":
            return in_supervision.extend_action_in_supervision(
                session, new_due=parse_day(values["due"]), reason=values["reason"], **one)
        if draft.kind == "progress":
            return in_supervision.note_action_progress(session, note=values["note"], **one)
    if draft.kind == "done":
        return actions.complete_actions(session, ids, values["evidence"], by_id, today, expected_versions=versions,
                                        child_outcome=values.get("outcome", ""))
    if draft.kind == "extend":
        return actions.extend_actions(session, ids, parse_day(values["due"]), values["reason"], by_id, today,
                                      expected_versions=versions)
    if draft.kind == "reassign":
        return actions.reassign_actions(session, ids, uuid.UUID(context["owner"]), values["reason"], by_id, today,
                                        expected_versions=versions)
    raise ValueError(f"no such change to actions: {draft.kind}")

