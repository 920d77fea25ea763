"""Edits a previous session never stored (it was killed, or the database was out of reach when it
closed), offered back on the dashboard: each named by its record and field, then restored through
the services or, once confirmed, discarded."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Static

from qa_tui.journal import Unsaved, forget, journal_folder, left_behind
from qa_tui.widgets.literal import literal
from screens.base import QAModal, QAScreen
from screens.dialogs import DIALOG_CSS, ConfirmDialog

PREVIEW = 160  # characters of each value shown


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
                    yield Static(Text.assemble(literal(entry.label, "bold"), "\n", literal(preview(entry.value))),
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
    """Offer back what earlier sessions left unsaved, if anything."""
    journal = screen.journal
    if journal is None:
        return
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
            restore(screen, list(entries.values()))

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
