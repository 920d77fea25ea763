"""Small dialogs used across screens: confirm, a line of text, a choice from a list, and the
short action form. Each keeps what was typed when the input is refused, and says why. Callers pass
plain strings (names, case references, titles): every one is shown as typed, never as markup."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from qa_tui.dates import parse_day
from qa_tui.text import printable
from qa_tui.widgets.literal import literal

T = TypeVar("T")

DIALOG_CSS = """
{cls} {{ align: center middle; }}
{cls} > Vertical {{ width: 84; height: auto; max-height: 26; border: thick $accent; padding: 1 2; background: $surface; }}
{cls} .title {{ text-style: bold; margin-bottom: 1; }}
{cls} .error {{ color: $error; height: auto; }}
{cls} Input, {cls} Select {{ margin-bottom: 1; }}
"""


def leave_typed(node: Any, typed: bool, leave: Callable[[], None], what: str = "what you typed") -> None:
    """Esc on a form: leave at once when nothing was typed; otherwise ask first, and stay with
    everything typed in place unless the answer is yes."""
    if not typed:
        leave()
        return

    def answer(discard: bool | None) -> None:
        if discard:
            leave()

    node.app.push_screen(ConfirmDialog(f"Throw away {what}?", "It has not been saved."), answer)


class KeysBeforeFocus:
    """For a dialog that opens on a key: what is typed before its first field has focus (keys
    already on their way when it opened) goes into that field, not nowhere."""

    FIRST_FIELD = ""

    def on_key(self, event: events.Key) -> None:
        if getattr(self, "focused", None) is None and event.is_printable and event.character:
            field = self.query_one(self.FIRST_FIELD, Input)  # type: ignore[attr-defined]
            field.insert_text_at_cursor(event.character)
            field.focus()
            event.stop()
            event.prevent_default()


class EnterMovesOn:
    """Enter in a field moves to the next one, and in the last (`LAST_FIELD`) saves. A priority
    binding, not the field's Submitted message, so it takes effect before the next key is handled:
    what is typed straight after Enter lands in the next field, not the end of this one."""

    LAST_FIELD = ""
    ENTER = Binding("enter", "next_field", "Next", show=False, priority=True, id="form-next",
                    tooltip="The next field; on the last, save")

    def action_next_field(self) -> None:
        from textual.actions import SkipAction

        focused = getattr(self, "focused", None)
        if not isinstance(focused, Input):
            raise SkipAction()  # a choice opens its list as usual
        if f"#{focused.id}" == self.LAST_FIELD:
            self.action_save()  # type: ignore[attr-defined]
        else:
            self.focus_next()  # type: ignore[attr-defined]


class ConfirmDialog(ModalScreen[bool]):
    DEFAULT_CSS = DIALOG_CSS.format(cls="ConfirmDialog")
    BINDINGS = [Binding("y", "answer(True)", "Yes", id="confirm-yes", tooltip="Yes, go ahead"),
                Binding("n,escape", "answer(False)", "No", id="confirm-no", tooltip="No, leave things as they are")]

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self.question, self.detail = question, detail

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(literal(self.question), classes="title")
            if self.detail:
                yield Static(literal(self.detail))
            yield Static("[b]y[/b] yes   [b]n[/b] no")
        yield Footer()

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class TextPrompt(KeysBeforeFocus, ModalScreen[str | None]):
    """One line of text; Enter accepts, Esc cancels. A required field refuses to close empty."""

    FIRST_FIELD = "#prompt-input"
    DEFAULT_CSS = DIALOG_CSS.format(cls="TextPrompt")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt-cancel", tooltip="Close without using what is typed")]

    def __init__(self, title: str, label: str, *, initial: str = "", required: bool = True,
                 placeholder: str = "", check: Callable[[str], str | None] | None = None,
                 problem: str = "", precious: str = "", earlier: bool = False) -> None:
        """`check(value)` returns a problem to show beside the field (the dialog stays open with
        what was typed), or None to accept it. `problem`: why the value was refused last time,
        shown beside it from the start. `precious` names what Esc would throw away ("the note
        you typed"): Esc then asks first when something is typed, or always with `earlier`
        (answers given in the dialogs before this one). To keep what is typed as a draft until it
        is stored, use screens.drafts.DraftedPrompt."""
        super().__init__()
        self.title_text, self.label, self.initial = title, label, initial
        self.required, self.placeholder, self.check, self.problem = required, placeholder, check, problem
        self.precious, self.earlier = precious, earlier

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(literal(self.title_text), classes="title")
            yield Label(literal(self.label))
            yield Input(printable(self.initial), placeholder=printable(self.placeholder), id="prompt-input")
            yield Static(literal(self.problem), classes="error", id="prompt-error")
            yield Static("[b]Enter[/b] save   [b]Esc[/b] cancel")
        yield Footer()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if self.required and not value:
            self.query_one("#prompt-error", Static).update(literal(f"{self.label} cannot be empty."))
            return
        problem = self.check(value) if self.check is not None else None
        if problem:
            self.query_one("#prompt-error", Static).update(literal(f"{self.label}: {problem}"))
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        value = self.query_one("#prompt-input", Input).value.strip()
        typed = bool(value) and value != printable(self.initial).strip()
        leave_typed(self, bool(self.precious) and (typed or self.earlier), lambda: self.dismiss(None), self.precious)


class ChoiceDialog(ModalScreen[T | None], Generic[T]):
    """Pick one of a list with the arrow keys and Enter; type to jump is the list's own."""

    DEFAULT_CSS = DIALOG_CSS.format(cls="ChoiceDialog") + "ChoiceDialog OptionList { max-height: 18; }"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="choice-cancel", tooltip="Close without choosing")]

    def __init__(self, title: str, options: list[tuple[T, str]], initial: T | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.options = options
        self.initial = initial

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(literal(self.title_text), classes="title")
            yield OptionList(*(Option(literal(label), id=str(i)) for i, (_, label) in enumerate(self.options)))
            yield Static("[b]↑↓[/b] move   [b]Enter[/b] choose   [b]Esc[/b] cancel")
        yield Footer()

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        for index, (value, _) in enumerate(self.options):
            if value == self.initial:
                options.highlighted = index
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.options[int(event.option.id or 0)][0])

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class ActionInput:
    title: str
    owner_id: uuid.UUID
    due_on: date


class ActionDialog(EnterMovesOn, KeysBeforeFocus, ModalScreen[ActionInput | None]):
    """The short action form: what, who (the worker by default), by when (4 weeks by default)."""

    FIRST_FIELD, LAST_FIELD = "#action-title", "#action-due"
    DEFAULT_CSS = DIALOG_CSS.format(cls="ActionDialog")
    BINDINGS = [EnterMovesOn.ENTER,Binding("escape", "cancel", "Cancel", id="action-cancel", tooltip="Close without raising the action"),
                Binding("ctrl+s", "save", "Save", id="action-save", tooltip="Raise the action with this owner and due date")]

    def __init__(self, owners: list[tuple[uuid.UUID, str]], owner_id: uuid.UUID | None, due_on: date,
                 context: str = "") -> None:
        super().__init__()
        self.owners, self.owner_id, self.due_on, self.context = owners, owner_id, due_on, context

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(literal(f"New action {self.context}"), classes="title")
            yield Label("What needs doing")
            yield Input(id="action-title", placeholder="e.g. Update the chronology to include the strategy meeting")
            yield Label("Owner")
            yield Select([(literal(label), pid) for pid, label in self.owners], value=self.owner_id or Select.NULL,
                         allow_blank=False, id="action-owner")
            yield Label("Due (DD/MM/YYYY)")
            yield Input(f"{self.due_on:%d/%m/%Y}", id="action-due")
            yield Static("", classes="error", id="action-error")
            yield Static("[b]Enter[/b] on the last field or [b]Ctrl+S[/b] save   [b]Esc[/b] cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#action-title", Input).focus()

    def action_save(self) -> None:
        error = self.query_one("#action-error", Static)
        title = self.query_one("#action-title", Input).value.strip()
        if not title:
            error.update("What needs doing: an action needs a title.")
            self.query_one("#action-title", Input).focus()
            return
        try:
            due = parse_day(self.query_one("#action-due", Input).value)
        except ValueError as exc:
            error.update(literal(f"Due: {exc}"))
            self.query_one("#action-due", Input).focus()
            return
        owner: Any = self.query_one("#action-owner", Select).value
        self.dismiss(ActionInput(title, owner, due))

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class DoneInput:
    evidence: str
    child_outcome: str  # what changed for the child


class DoneDialog(EnterMovesOn, KeysBeforeFocus, ModalScreen[DoneInput | None]):
    """Marking actions done: the evidence that they were, and what changed for the child (kept
    apart, for the impact report). Enter moves to the next field, then saves."""

    FIRST_FIELD, LAST_FIELD = "#done-evidence", "#done-outcome"
    DEFAULT_CSS = DIALOG_CSS.format(cls="DoneDialog")
    BINDINGS = [EnterMovesOn.ENTER,Binding("escape", "cancel", "Cancel", id="done-cancel", tooltip="Close without marking anything done"),
                Binding("ctrl+s", "save", "Save", id="done-save",
                        tooltip="Mark done with this evidence and what changed for the child")]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(literal(self.title_text), classes="title")
            yield Label("Evidence that it was done")
            yield Input(id="done-evidence", placeholder="e.g. plan updated 12/11 and shared with the family")
            yield Label("What changed for the child")
            yield Input(id="done-outcome", placeholder="e.g. now sees their sister weekly; or 'nothing yet' and why")
            yield Static("", classes="error", id="done-error")
            yield Static("[b]Enter[/b] on the last field or [b]Ctrl+S[/b] save   [b]Esc[/b] cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#done-evidence", Input).focus()

    def action_save(self) -> None:
        for field, label in (("#done-evidence", "Evidence that it was done"),
                             ("#done-outcome", "What changed for the child")):
            if not self.query_one(field, Input).value.strip():
                self.query_one("#done-error", Static).update(literal(f"{label} cannot be empty."))
                self.query_one(field, Input).focus()
                return
        self.dismiss(DoneInput(self.query_one("#done-evidence", Input).value.strip(),
                               self.query_one("#done-outcome", Input).value.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)
