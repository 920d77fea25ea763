"""Working through the agenda in a supervision: a follow-up ticked as discussed with its note, and
one of the worker's actions updated: progress noted, extended with a reason, or done with
evidence. Each is kept in the item's history and the supervision record."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from qa_tui.services.unsaved_forms import FormDraft
from screens.dialogs import ChoiceDialog
from screens.drafts import DraftedPrompt, back_when_refused, forget_draft

if TYPE_CHECKING:
    from qa_tui.services.practice.followups import FollowUpView
    from qa_tui.services.practice.supervision import AgendaAction, SupervisionView
    from screens.base import QAScreen

CHOICES = [("progress", "Record progress (it stays open)"), ("extend", "Extend the due date, with a reason"),
           ("done", "Mark done, with the evidence and what changed for the child")]


def update_action_in_supervision(screen: QAScreen, item: AgendaAction, supervision_id: uuid.UUID,
                                 then: Callable[[], None]) -> None:
    """Ask what to do with the action, then the note, new date and reason, or evidence (each kept
    as a draft as it is typed, screens.action_drafts), and save it in the supervision."""
    from screens.action_drafts import change_actions, change_draft

    def chosen(what: str | None) -> None:
        if what is not None:
            versions = {item.id: item.version} if item.version is not None else {}
            change_actions(screen, change_draft(what, [item.id], versions, item.title, supervision_id=supervision_id,
                                                current_due=item.due_on), then)

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

        screen.call_service(
            lambda s: tick_discussed(s, item_id, supervision_id, note, expected_version=version),
            ticked, write=True, on_error=back_when_refused(lambda why: ask(typed, f"Not ticked: {why}")))

    ask(draft)
