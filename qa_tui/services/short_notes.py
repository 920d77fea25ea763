"""A line or two typed in a prompt and kept as its draft (see qa_tui.services.unsaved_forms) until
it is stored: why something is good practice, what a multi-agency audit found about an agency and
the learning fed back to it, the learning fed back from a theme, the findings shared with the
worker after a dip sample, and why a worker's drawn case is re-drawn. Each is stored once, however
often its draft is restored."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.orm import Session

from qa_tui.errors import NotAllowed
from qa_tui.services.unsaved_forms import FormDraft

NOTES = ("good-practice", "agency-finding", "theme-learning", "close-loop", "redraw")


def store_note(session: Session, draft: FormDraft, *, by_id: uuid.UUID | None, login: str, today: date) -> object:
    """Store a note's draft through the service its form belongs to."""
    context, values, record = draft.context, draft.values, uuid.UUID(draft.record_id)
    if draft.kind == "good-practice":
        from qa_tui.services.practice.celebration import mark_good_practice

        return mark_good_practice(session, source_kind=context["source"], source_id=record,
                                  why=str(values.get("why", "")), marked_by_id=by_id, today=today)
    if draft.kind == "agency-finding":
        from qa_tui.services.audits.themes import set_agency_finding

        return set_agency_finding(session, record, context["agency"], finding=str(values.get("finding", "")),
                                  learning=str(values.get("learning", "")))
    if draft.kind == "theme-learning":
        from qa_tui.services.audits.themes import set_theme_learning

        return set_theme_learning(session, record, str(values.get("text", "")),
                                  expected_version=context.get("version"))
    if draft.kind == "close-loop":
        from qa_tui.services.practice.dip_sample import close_loop_with_worker

        return close_loop_with_worker(session, record, str(values.get("text", "")), today)
    if draft.kind == "redraw":
        from qa_tui.services.audits.draw import picks_by_worker, redraw_for_worker

        worker = uuid.UUID(context["worker"])
        rounds = picks_by_worker(session, record).get(worker, [])
        if rounds and context.get("round") is not None and rounds[-1].round != int(context["round"]):
            raise NotAllowed(f"{context.get('worker_name', 'This worker')}'s case was already re-drawn: "
                             f"it is now {rounds[-1].case_reference}.")
        return redraw_for_worker(session, record, worker, str(values.get("reason", "")), login, today)
    raise ValueError(f"no such note: {draft.kind}")
