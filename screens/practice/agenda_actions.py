"""Working through the agenda in a supervision: a follow-up ticked as discussed with its note, and
one of the worker's actions updated: progress noted, extended with a reason, or done with
evidence. Each is kept in the item's history and the supervision record."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from qa_tui.dates import parse_day
from qa_tui.services.unsaved_forms import FormDraft
from screens.dialogs import ChoiceDialog, DoneDialog, DoneInput, TextPrompt
from screens.drafts import DraftedPrompt, forget_draft

if TYPE_CHECKING:
    from qa_tui.services.practice.followups import FollowUpView
    from qa_tui.services.practice.supervision import AgendaAction, SupervisionView
    from screens.base import QAScreen

CHOICES = [("progress", "Record progress (it stays open)"), ("extend", "Extend the due date, with a reason"),
           ("done", "Mark done, with the evidence and what changed for the child")]


def update_action_in_supervision(screen: QAScreen, item: AgendaAction, supervision_id: uuid.UUID,
                                 then: Callable[[], None]) -> None:
    """Ask what to do with the action, then the note, new date or evidence, and save it."""
    from qa_tui.services.practice.supervision_actions import (
        complete_action_in_supervision,
        extend_action_in_supervision,
        note_action_progress,
    )

    ctx = screen.ctx
    today, by_id = ctx.today(), ctx.person_id

    def saved(message: str) -> Callable[[object], None]:
        return lambda _: (screen.notify(message), then())

    def progress(note: str | None) -> None:
        if note:
            screen.call_service(lambda s: note_action_progress(
                s, action_id=item.id, supervision_id=supervision_id, note=note, by_id=by_id, today=today,
                expected_version=item.version), saved(f"Progress noted: {item.title}"), write=True)

    def done(form: DoneInput | None) -> None:
        if form is not None:
            screen.call_service(lambda s: complete_action_in_supervision(
                s, action_id=item.id, supervision_id=supervision_id, evidence=form.evidence, by_id=by_id, today=today,
                expected_version=item.version, child_outcome=form.child_outcome), saved(f"Done: {item.title}"),
                write=True)

    def ask_date(initial: str, problem: str = "", reason: str = "") -> None:
        """The new due date, then the reason (kept when the date is refused and asked again)."""
        title = f"Extend: {item.title}" + (f" — {problem}" if problem else "")

        def extend_to(typed: str | None) -> None:
            if not typed:
                return
            try:
                new_due = parse_day(typed)
            except ValueError as exc:
                ask_date(typed, f"New due date: {exc}", reason)
                return

            def refused(error: BaseException, given: str) -> bool:
                from qa_tui.errors import ValidationError

                if isinstance(error, ValidationError):
                    ask_date(typed, f"New due date: {error.problem}", given)
                    return True
                return False

            def with_reason(given: str | None) -> None:
                if given:
                    screen.call_service(lambda s: extend_action_in_supervision(
                        s, action_id=item.id, supervision_id=supervision_id, new_due=new_due, reason=given,
                        by_id=by_id, today=today, expected_version=item.version),
                        saved(f"Extended to {new_due:%-d %b %Y}: {item.title}"), write=True,
                        on_error=lambda exc: refused(exc, given))

            screen.app.push_screen(TextPrompt(f"Extend to {new_due:%-d %b %Y}", "Reason for the extension",
                                              initial=reason, placeholder="e.g. waiting for the health assessment"),
                                   with_reason)

        screen.app.push_screen(TextPrompt(title, "New due date (DD/MM/YYYY)", initial=initial), extend_to)

    def chosen(what: str | None) -> None:
        if what == "progress":
            screen.app.push_screen(TextPrompt(f"Progress: {item.title}", "What has been done so far",
                                              placeholder="e.g. chronology half written"), progress)
        elif what == "extend":
            ask_date(f"{item.due_on:%d/%m/%Y}")
        elif what == "done":
            screen.app.push_screen(DoneDialog(f"Done: {item.title}"), done)

    screen.app.push_screen(ChoiceDialog(f"Action: {item.title}", CHOICES), chosen)


def tick_follow_up(screen: QAScreen, item: FollowUpView, holding: SupervisionView, worker_name: str,
                   then: Callable[[], None]) -> None:
    """Tick a follow-up as discussed in the supervision being held, with an optional note."""
    subject = (f"of {worker_name} on {holding.held_on:%-d %b %Y} · note on {item.source_label}: "
               f"{item.summary}")
    ask_tick(screen, FormDraft("tick-note", str(item.id), subject, context={
        "supervision": str(holding.id), "version": item.version, "source": item.source_label,
        "summary": item.summary}), then)


def ask_tick(screen: QAScreen, draft: FormDraft, then: Callable[[], None] = lambda: None) -> None:
    """The note for ticking a follow-up, kept as a draft as it is typed (offered back after a
    restart, naming the supervision and the item) until the tick is stored; one the rules refuse
    comes back with why beside it; Esc asks before dropping it."""
    from qa_tui.services.practice.followups import tick_discussed

    item_id, supervision_id = uuid.UUID(draft.record_id), uuid.UUID(draft.context["supervision"])
    version, summary = draft.context.get("version"), draft.context.get("summary", "")

    def ask(draft: FormDraft, problem: str = "") -> None:
        prompt = DraftedPrompt(f"Discussed: {draft.context.get('source', '')}", "Note (optional)", draft, field="note",
                               required=False, placeholder="e.g. agreed to share the chronology with the IRO",
                               problem=problem, earlier=bool(draft.values.get("note")))
        screen.app.push_screen(prompt, lambda note: None if note is None else with_note(draft.typed({"note": note})))

    def ticked(_: object) -> None:
        forget_draft(screen.qa_app, draft)
        screen.notify(f"Ticked: {summary}", markup=False)
        then()

    def with_note(typed: FormDraft) -> None:
        note = typed.values["note"]

        def refused(error: BaseException) -> bool:
            from qa_tui.errors import ChangedElsewhere
            from qa_tui.widgets.save_queue import REFUSED

            if not isinstance(error, (*REFUSED, ChangedElsewhere)):
                return False  # the database out of reach: the app's Retry sends the same note
            ask(typed, f"Not ticked: {error}")  # the note comes back with the reason beside it
            return True

        screen.call_service(
            lambda s: tick_discussed(s, item_id, supervision_id, note, expected_version=version),
            ticked, write=True, on_error=refused)

    ask(draft)
