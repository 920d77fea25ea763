"""Actions raised and changed through a form whose text is a draft until it is stored
(screens.drafts): a new action (the audit editor, a dip sample), marking done with the evidence and
what changed for the child, extending with a reason, reassigning with a reason, and progress noted
in a supervision (triage and the supervision agenda). Each is offered back after a restart and
reopened with what was typed; a change the rules refuse comes back with why beside it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from qa_tui.dates import day_problem, parse_day
from qa_tui.services.audits.action_changes import store_action_change
from qa_tui.services.unsaved_forms import FormDraft
from screens.dialogs import ActionDialog, ActionInput, ChoiceDialog, DoneDialog, DoneInput
from screens.drafts import DraftedPrompt, RefusedForm, back_when_refused, forget_draft

CHANGES = ("done", "extend", "reassign", "progress")  # the drafts `change_actions` reopens


class DraftedActionDialog(RefusedForm, ActionDialog):
    """The short action form (what, who, by when), kept as `draft` as it is typed."""

    DRAFT_FIELDS = {"title": "#action-title", "owner": "#action-owner", "due": "#action-due"}
    ERROR = "#action-error"

    def __init__(self, draft: FormDraft, problem: str = "") -> None:
        context = draft.context
        owners = [(uuid.UUID(pid), label) for pid, label in context.get("owners", [])]
        worker = context.get("worker")
        super().__init__(owners, uuid.UUID(worker) if worker else None, date.fromisoformat(context["due"]),
                         context.get("where", ""))
        self.form_draft, self.problem = draft, problem


class DraftedDoneDialog(RefusedForm, DoneDialog):
    """Marking done: the evidence and what changed for the child, kept as `draft` as typed."""

    DRAFT_FIELDS = {"evidence": "#done-evidence", "outcome": "#done-outcome"}
    ERROR = "#done-error"

    def __init__(self, title: str, draft: FormDraft, problem: str = "") -> None:
        super().__init__(title)
        self.form_draft, self.problem = draft, problem


# --- a new action ----------------------------------------------------------------------------------

def action_draft(*, record_id: uuid.UUID, where: str, source_kind: str, owners: Sequence[tuple[uuid.UUID, str]],
                 worker_id: uuid.UUID | None, due: date, team_id: uuid.UUID | None = None,
                 case_id: uuid.UUID | None = None) -> FormDraft:
    """A new action's draft: `record_id` is the audit or dip sample it comes from, `where` names
    it ("for CASE-0042"); the owners to choose from travel with it."""
    return FormDraft("action", str(record_id), where, context={
        "where": where, "source": source_kind, "owners": [[str(pid), label] for pid, label in owners],
        "worker": str(worker_id) if worker_id else None, "due": due.isoformat(),
        "team": str(team_id) if team_id else None, "case": str(case_id) if case_id else None})


def new_action(node: Any, draft: FormDraft, then: Callable[[Any], None] | None = None) -> None:
    """Ask for the action (what, who, by when) and raise it once, however often its draft is
    restored (the action takes the draft's id). `node` is the screen or editor asking."""
    from qa_tui.services.audits.actions import add_action

    ctx, context = node.ctx, draft.context

    def added(action: Any) -> None:
        forget_draft(node.app, draft)
        node.notify(f"Action added for {action.owner_name}, due {action.due_on:%-d %b %Y}: {action.title}",
                    markup=False)
        if then is not None:
            then(action)

    def ask(draft: FormDraft, problem: str = "") -> None:
        def saved(form: ActionInput | None) -> None:
            if form is None:
                return
            typed = draft.typed({"title": form.title, "owner": str(form.owner_id), "due": f"{form.due_on:%d/%m/%Y}"})
            node.call_service(lambda s: add_action(
                s, title=form.title, owner_id=form.owner_id, due_on=form.due_on, raised_by_id=ctx.person_id,
                source_kind=context["source"], audit_id=uuid.UUID(draft.record_id), case_id=_id(context.get("case")),
                team_id=_id(context.get("team")), today=ctx.today(), cfg=ctx.config,
                action_id=uuid.UUID(draft.draft_id)), added, write=True, on_error=back_when_refused(lambda why: ask(typed, f"Not saved: {why}")))

        node.app.push_screen(DraftedActionDialog(draft, problem), saved)

    ask(draft)


# --- done, extend, reassign, progress --------------------------------------------------------------

def change_draft(change: str, ids: Sequence[uuid.UUID], versions: dict[uuid.UUID, int], title: str, *,
                 supervision_id: uuid.UUID | None = None, current_due: date | None = None,
                 team_id: uuid.UUID | None = None) -> FormDraft:
    """A draft of a change (`CHANGES`) to the actions `ids` (seen at `versions`), named by `title`
    ("2 actions" or the action's title); `supervision_id` when made in a worker's supervision;
    a new owner is chosen from `team_id` (everyone when None)."""
    return FormDraft(change, str(ids[0]), title, context={
        "team": str(team_id) if team_id else None,
        "ids": [str(i) for i in ids], "versions": {str(k): v for k, v in versions.items() if k in ids},
        "title": title, "supervision": str(supervision_id) if supervision_id else None,
        "current_due": current_due.isoformat() if current_due else None})


def change_actions(node: Any, draft: FormDraft, then: Callable[[], None] = lambda: None) -> None:
    """Ask for what the change needs (evidence, a date and a reason, a new owner and a reason, a
    note), each answer kept in the draft as typed, then store it; refused, the form it went wrong
    in comes back with why beside it and nothing typed gone; Esc asks before throwing typing away."""
    context, ctx = draft.context, node.ctx
    title = context.get("title", "")

    def store(typed: FormDraft, message: str, back: Callable[[FormDraft, str], None]) -> None:
        def done(_: object) -> None:
            forget_draft(node.app, typed)
            node.notify(message, markup=False)
            then()

        node.call_service(lambda s: store_action_change(s, typed, by_id=ctx.person_id, today=ctx.today()), done,
                          write=True, on_error=back_when_refused(lambda why: back(typed, f"Not saved: {why}")))

    def ask_done(draft: FormDraft, problem: str = "") -> None:
        def saved(form: DoneInput | None) -> None:
            if form is not None:
                store(draft.typed({"evidence": form.evidence, "outcome": form.child_outcome}), f"Marked done: {title}",
                      ask_done)

        node.app.push_screen(DraftedDoneDialog(f"Done: {title}", draft, problem), saved)

    def ask_due(draft: FormDraft, problem: str = "") -> None:
        def dated(typed: str | None) -> None:
            if typed:
                ask_reason(draft.at("reason", due=typed))

        current = context.get("current_due")
        initial = "" if draft.values.get("due") or not current else f"{date.fromisoformat(current):%d/%m/%Y}"
        node.app.push_screen(DraftedPrompt(f"Extend: {title}", "New due date (DD/MM/YYYY)", draft, field="due",
                                           initial=initial, problem=problem, check=day_problem), dated)

    def ask_owner(draft: FormDraft) -> None:
        from qa_tui.services.people.directory import people_for_picking

        def pick(people: list[Any]) -> None:
            names = {p.id: p.name for p in people}

            def chosen(owner_id: uuid.UUID | None) -> None:
                if owner_id is not None:
                    later = draft.at("reason", owner_name=names[owner_id])
                    ask_reason(replace(later, context=later.context | {"owner": str(owner_id)}))

            node.app.push_screen(ChoiceDialog(f"New owner: {title}", [(p.id, f"{p.name} ({p.role})") for p in people]),
                                 chosen)

        team = _id(context.get("team"))
        node.call_service(lambda s: people_for_picking(s, ctx.today(), team_id=team), pick)

    def ask_reason(draft: FormDraft, problem: str = "") -> None:
        """The reason for an extension (its date refused: back to the date) or a reassignment."""
        if draft.kind == "extend":
            to = f"to {parse_day(draft.values['due']):%-d %b %Y}"
            heading, label, message = f"Extend {to}", "Reason for the extension", f"Extended {to}: {title}"
            back: Callable[[FormDraft, str], None] = lambda typed, why: ask_due(typed.at("due"), why)  # noqa: E731
        else:
            to = f"to {draft.values.get('owner_name', '')}"
            heading, label, message = f"Reassign {to}", "Reason (kept in the action's history)", f"Reassigned {to}: {title}"
            back = ask_reason

        def given(reason: str | None) -> None:
            if reason:
                store(draft.typed(draft.values | {"reason": reason}), message, back)

        example = "waiting for the health assessment" if draft.kind == "extend" else "the worker is on long leave"
        node.app.push_screen(DraftedPrompt(heading, label, draft, field="reason", problem=problem, earlier=True,
                                           placeholder=f"e.g. {example}"), given)

    def ask_progress(draft: FormDraft, problem: str = "") -> None:
        def noted(note: str | None) -> None:
            if note:
                store(draft.typed({"note": note}), f"Progress noted: {title}", ask_progress)

        node.app.push_screen(DraftedPrompt(f"Progress: {title}", "What has been done so far", draft, field="note",
                                           problem=problem, placeholder="e.g. chronology half written"), noted)

    at_reason = context.get("stage") == "reason"
    if draft.kind == "done":
        ask_done(draft)
    elif draft.kind == "progress":
        ask_progress(draft)
    elif draft.kind == "extend":
        due_ok = at_reason and draft.values.get("due") and not day_problem(draft.values["due"])
        (ask_reason if due_ok else ask_due)(draft)
    elif draft.kind == "reassign":
        (ask_reason if at_reason and context.get("owner") else ask_owner)(draft)


def _id(value: object) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None
