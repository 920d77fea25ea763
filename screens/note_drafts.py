"""A line or two typed in a prompt that makes or changes a record, kept as a draft until it is
stored (screens.drafts): why something is good practice, a multi-agency audit's finding about an
agency and the learning fed back, a theme's learning fed back, the findings shared with the worker
after a dip sample, and why a drawn case is re-drawn. Each is offered back after a restart and
reopened with what was typed; one the rules refuse comes back with why beside it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from qa_tui.services.short_notes import NOTES, store_note
from qa_tui.services.unsaved_forms import FormDraft
from screens.drafts import DraftedPrompt, back_when_refused, forget_draft

__all__ = ["NOTES", "ask_note", "note_draft"]


def note_draft(kind: str, record_id: object, subject: str, **context: Any) -> FormDraft:
    """A note's draft: `record_id` is the record it is stored on (the audit, the theme, the dip
    sample, the draw), `subject` names it for a person; `context` holds what the prompt and the
    store need (the current text as `current`, the agency, the worker…)."""
    return FormDraft(kind, str(record_id), subject, context={k: v for k, v in context.items() if v is not None})


def ask_note(node: Any, draft: FormDraft, then: Callable[[Any], None] | None = None) -> None:
    """Ask for the note (two prompts for an agency finding, the finding then the learning), keep
    it as `draft` as it is typed, and store it; `then(result)` once stored. `node` is the screen
    asking, or the screen a restored draft is offered on (then None: a message says it is saved)."""
    ctx, context = node.ctx, draft.context

    def store(typed: FormDraft, back: Callable[[FormDraft, str], None]) -> None:
        def stored(result: object) -> None:
            forget_draft(node.app, typed)
            node.notify(_saved_message(typed, result), markup=False)
            if then is not None:
                then(result)

        def refused(error: BaseException) -> bool:
            from qa_tui.errors import ChangedElsewhere

            if typed.kind == "theme-learning" and isinstance(error, ChangedElsewhere):
                theirs(typed)
                return True
            return back_when_refused(lambda why: back(typed, f"Not saved: {why}"))(error)

        node.call_service(lambda s: store_note(s, typed, by_id=ctx.person_id, login=ctx.login, today=ctx.today()),
                          stored, write=True, on_error=refused)

    def theirs(typed: FormDraft) -> None:
        """The theme's learning changed since the prompt opened: show theirs, and let Enter put
        this text over it (or edit it to merge the two)."""
        from qa_tui.services.audits.themes import get_theme

        def read(theme: Any) -> None:
            later = replace(typed, context=typed.context | {"version": theme.version})
            ask(later, f"Not saved: someone else changed it since you opened it. Theirs: “{theme.learning}”. "
                       "Enter saves yours over it.")

        node.call_service(lambda s: get_theme(s, uuid.UUID(typed.record_id)), read)

    def ask(draft: FormDraft, problem: str = "") -> None:
        field, title, label, options = _prompt(draft)
        current = context.get("current", {}) if isinstance(context.get("current"), dict) else {}

        def answered(text: str | None) -> None:
            if text is None or (not text and options.get("required", True)):
                return
            if draft.kind == "agency-finding" and field == "finding":
                ask(draft.at("learning", finding=text))
                return
            back: Callable[[FormDraft, str], None] = ask
            if draft.kind == "agency-finding":
                back = lambda typed, why: ask(typed.at("finding"), why)  # noqa: E731
            store(draft.typed(draft.values | {field: text}), back)

        node.app.push_screen(DraftedPrompt(title, label, draft, field=field, initial=current.get(field, ""),
                                           problem=problem, **options), answered)

    ask(draft)


def _prompt(draft: FormDraft) -> tuple[str, str, str, dict[str, Any]]:
    """The field a note's prompt asks for now, its heading and label, and the prompt's options."""
    context, subject = draft.context, draft.subject
    if draft.kind == "good-practice":
        return "why", f"Good practice: {subject}", "Why, in a line", {
            "placeholder": "e.g. The child's own words drove the plan"}
    if draft.kind == "agency-finding":
        agency = context.get("agency", "")
        if context.get("stage") == "learning" and draft.values.get("finding"):
            return "learning", f"Learning fed back to {agency}", "Learning (optional)", {
                "required": False, "earlier": True}
        return "finding", f"What the audit found about {agency}'s part", "Finding", {}
    if draft.kind == "theme-learning":
        return "text", f"Learning fed back: {subject}", "What was learnt, and who it went to", {"required": False}
    if draft.kind == "close-loop":
        return "text", f"Close the loop with {context.get('worker_name') or 'the worker'}", \
            "What you found, and what the worker should take from it", {
                "placeholder": "e.g. Chronology up to date; record visits within 24 hours"}
    return "reason", f"Re-draw for {context.get('worker_name', 'the worker')}", \
        "Why (recorded beside the original pick)", {"placeholder": "e.g. the case is in court this week"}


def _saved_message(draft: FormDraft, result: Any) -> str:
    if draft.kind == "good-practice":
        return f"Marked as good practice to celebrate: {draft.subject}"
    if draft.kind == "agency-finding":
        return f"Finding about {draft.context.get('agency', '')} saved."
    if draft.kind == "theme-learning":
        return f"Learning saved: {draft.subject}"
    if draft.kind == "close-loop":
        return f"On {draft.context.get('worker_name') or 'the worker'}'s next supervision agenda."
    warning = f" {result.warning}" if getattr(result, "warning", "") else ""
    return f"Re-drawn for {draft.context.get('worker_name', 'the worker')}: now {result.pick.case_reference}.{warning}"

