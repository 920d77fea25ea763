"""Edits a previous session never stored (it was killed, or the database was out of reach when it
closed), offered back on the landing screen (the dashboard, or My work): each named by its record
and field, then restored (an edit through the services, a form's draft by reopening the form with
the text in it) or, once confirmed, discarded."""

from __future__ import annotations

import importlib
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Static

from qa_tui.journal import Unsaved, forget, journal_folder, left_behind
from qa_tui.services.short_notes import NOTES
from qa_tui.services.unsaved_forms import FormDraft, draft_of, is_draft, preview_values
from qa_tui.widgets.literal import literal
from screens.base import QAModal, QAScreen
from screens.dialogs import DIALOG_CSS, ConfirmDialog

PREVIEW = 160  # characters of each value shown

# How each form's draft is reopened: "module:function", the function taking the screen the draft is
# offered on and the draft, and opening the form with the draft's text in it.
REOPEN = {
    "supervision": "screens.practice.supervision:reopen_supervision",
    "feedback": "screens.practice.feedback:reopen_feedback",
    "response": "screens.practice.my_work:reopen_response",
    "moderation": "screens.audits.moderation:reopen_moderation",
    "finding": "screens.audits.editor_actions:ask_finding",
    "tick-note": "screens.practice.agenda_actions:ask_tick",
    "record": "screens.admin.records:reopen_record",
    "support-plan": "screens.audits.kinds.support:reopen_support_plan",
    "support-step": "screens.audits.support_plan:reopen_plan_change",
    "support-close": "screens.audits.support_plan:reopen_plan_change",
    "escalation-answer": "screens.audits.escalation_answer:reopen_answer",
    "action": "screens.action_drafts:new_action",
    "escalation": "screens.audits.escalation_dialog:ask_escalation",
    **{change: "screens.action_drafts:change_actions" for change in ("done", "extend", "reassign", "progress")},
    **{note: "screens.note_drafts:ask_note" for note in NOTES},
}


def preview(value: object) -> str:
    if value is None:
        return "(cleared)"
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW else "…" + text[-PREVIEW:]  # the end is what was typed last


class UnsavedDialog(QAModal[str]):
    """The unsaved edits, record and field first. r restores them all, d discards (asked first),
    Esc keeps them for next time. Dismissed with "restore", "discard" or "later"."""

    DEFAULT_CSS = DIALOG_CSS.format(cls="UnsavedDialog") + """
    UnsavedDialog VerticalScroll { height: auto; max-height: 16; }
    UnsavedDialog .entry { margin-bottom: 1; }
    """
    BINDINGS = [
        Binding("r", "choose('restore')", "Restore", id="unsaved-restore", tooltip="Store every edit shown here"),
        Binding("d", "discard", "Discard", id="unsaved-discard", tooltip="Throw these edits away (asked first)"),
        Binding("escape", "choose('later')", "Later", id="unsaved-later", tooltip="Keep them; ask at the next start"),
    ]

    def __init__(self, entries: list[Unsaved]) -> None:
        super().__init__()
        self.entries = entries

    def compose(self) -> ComposeResult:
        count = len(self.entries)
        with Vertical():
            yield Static(literal(f"{count} edit{'s' if count != 1 else ''} from your last session "
                                 "never reached the database"), classes="title")
            with VerticalScroll():
                for entry in self.entries:
                    shown = preview_values(entry) if is_draft(entry) else entry.shown or entry.value
                    yield Static(Text.assemble(literal(entry.label, "bold"), "\n", literal(preview(shown))),
                                 classes="entry")
            yield Static("[b]r[/b] restore them   [b]d[/b] discard   [b]Esc[/b] decide later")
        yield Footer()

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)

    def action_discard(self) -> None:
        def answer(yes: bool | None) -> None:
            if yes:
                self.dismiss("discard")

        self.app.push_screen(ConfirmDialog("Discard these edits?", "What was typed will be gone for good."), answer)


def offer_unsaved(screen: QAScreen) -> None:
    """Offer back what earlier sessions left unsaved, if anything (once a session)."""
    journal = screen.journal
    if journal is None or screen.qa_app.unsaved_offered:
        return
    screen.qa_app.unsaved_offered = True
    found = left_behind(journal_folder(screen.ctx.config.database_url))
    if not found:
        return
    paths: list[Path] = [path for path, _ in found]
    entries: dict[str, Unsaved] = {}
    for _, kept in found:  # oldest first: a later session's value for the same field wins
        for entry in kept:
            entries[entry.key] = entry

    def chosen(choice: str | None) -> None:
        if choice == "discard":
            forget(paths)
            screen.notify("The unsaved edits were discarded.")
        elif choice == "restore":
            for entry in entries.values():  # held by this session's journal until each is stored
                journal.put(entry)
            journal.flush()
            forget(paths)
            edits = [e for e in entries.values() if not is_draft(e)]
            if edits:  # the drafts' own forms say when each is stored
                restore(screen, edits)
            for entry in entries.values():
                if is_draft(entry):
                    reopen(screen, draft_of(entry))

    screen.app.push_screen(UnsavedDialog(list(entries.values())), chosen)


def restore(screen: QAScreen, entries: list[Unsaved]) -> None:
    """Store each edit through its service, one after another; each leaves the journal once
    stored, and one that fails stays there (and is reported) without stopping the others."""
    from qa_tui.services.unsaved import restore_change

    if not entries:
        screen.notify("The unsaved edits are restored.")
        return
    entry, rest = entries[0], entries[1:]
    today = screen.ctx.today()

    def stored(_: object) -> None:
        if screen.journal is not None:
            screen.journal.drop(entry.key, entry.value)
        restore(screen, rest)

    def failed(error: BaseException) -> bool:
        screen.notify(f"Not restored: {entry.label}: {error}. It is kept for the next start.",
                      severity="error", timeout=15)
        restore(screen, rest)
        return True

    screen.call_service(lambda s: restore_change(s, entry.kind, entry.record_id, entry.field, entry.value,
                                                 today=today), stored, write=True, on_error=failed)


def reopen(screen: QAScreen, draft: FormDraft) -> None:
    """Open the draft's form again with what was typed in it; it stays in the journal until the
    form saves it or the person throws it away."""
    import inspect

    module, _, name = REOPEN[draft.kind].partition(":")
    function = getattr(importlib.import_module(module), name)
    refresh = getattr(screen, "action_refresh", None)
    if refresh is not None and "then" in inspect.signature(function).parameters:
        function(screen, draft, then=lambda *_: refresh())  # the figures as they are once it is stored
    else:
        function(screen, draft)
