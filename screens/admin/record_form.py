"""The form every team, person and case is added or edited with: it names the field at fault,
keeps what was typed, and keeps it as a draft as it is typed (offered back after a restart)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.widgets import Footer, Input, Label, Select, Static

from qa_tui.text import printable
from qa_tui.widgets.form_select import FormSelect
from qa_tui.widgets.literal import literal
from screens.base import QAModal
from screens.dialogs import DIALOG_CSS
from screens.drafts import DraftedForm

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qa_tui.services.unsaved_forms import FormDraft


@dataclass(frozen=True)
class FormField:
    key: str
    label: str
    value: Any = ""  # text for an input; the chosen option's value for a choice
    options: tuple[tuple[str, Any], ...] | None = None  # None: typed text
    blank: str = ""  # for a choice that may be left empty: what empty means
    placeholder: str = ""


class RecordForm(DraftedForm, QAModal[Any]):
    """Add or edit one record. Ctrl+S saves through `save(session, values)`; a refusal names the
    field, moves the cursor there and keeps everything typed. Dismisses with what `save` returned."""

    CHOICES_ARE_TYPED = True

    DEFAULT_CSS = DIALOG_CSS.format(cls="RecordForm") + """
    RecordForm > Vertical { width: 90; max-height: 30; }
    RecordForm #form-grid { grid-size: 2; grid-columns: 16 1fr; grid-rows: 1; grid-gutter: 1 0; height: auto; }
    RecordForm #form-grid Label { color: $text-muted; }
    RecordForm #form-grid > Input, RecordForm #form-grid > Select { margin-bottom: 0; }
    RecordForm #form-grid > *:focus-within, RecordForm #form-grid > Input:focus { background: $boost; }
    RecordForm #form-error { margin-top: 1; }
    """
    BINDINGS = [Binding("ctrl+s", "save", "Save", id="form-save", tooltip="Save the record"),
                Binding("escape", "cancel", "Cancel", id="form-cancel", tooltip="Close without saving (asks if typed in)")]

    def __init__(self, title: str, fields: list[FormField], save: Callable[[Session, dict[str, Any]], Any],
                 draft: FormDraft | None = None) -> None:
        super().__init__()
        self.title_text, self.fields, self.save = title, fields, save
        self.saving = False
        self.form_draft = draft
        self.DRAFT_FIELDS = {field.key: f"#form-{field.key}" for field in fields}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(literal(self.title_text), classes="title")
            with Grid(id="form-grid"):
                for field in self.fields:
                    yield Label(literal(field.label))
                    if field.options is None:
                        yield Input(printable(field.value), placeholder=field.placeholder, id=f"form-{field.key}",
                                    compact=True)
                    else:
                        yield FormSelect([(literal(label), value) for label, value in field.options],
                                         prompt=field.blank or "choose…", allow_blank=bool(field.blank),
                                         value=Select.NULL if field.value in (None, "") else field.value,
                                         id=f"form-{field.key}", compact=True)
            yield Static("", classes="error", id="form-error")
            yield Static("[b]Ctrl+S[/b] save   [b]Tab[/b] next field   [b]Esc[/b] cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(f"#form-{self.fields[0].key}").focus()
        self.start_draft()  # Esc asks once anything typed differs from what the form opened with

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == f"form-{self.fields[-1].key}":
            self.action_save()
        else:
            self.focus_next()

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for field in self.fields:
            widget = self.query_one(f"#form-{field.key}")
            values[field.key] = widget.value if isinstance(widget, Input) else widget.selection  # type: ignore[attr-defined]
        return values

    def action_save(self) -> None:
        if self.saving:
            return
        self.saving = True
        self.query_one("#form-error", Static).update("Saving…")
        values, save = self.values(), self.save
        self.call_service(lambda s: save(s, values), self._saved, write=True, on_error=self._refused)

    def _saved(self, result: Any) -> None:
        self.saving = False
        self.draft_stored()
        self.dismiss(result)

    def _refused(self, error: BaseException) -> bool:
        from qa_tui.errors import QAError, ValidationError

        self.saving = False
        if not isinstance(error, QAError):
            self.query_one("#form-error", Static).update("")
            return False
        self.query_one("#form-error", Static).update(literal(error))
        if isinstance(error, ValidationError):
            field = next((f for f in self.fields if f.label == error.field), None)
            if field is not None:
                widget = self.query_one(f"#form-{field.key}")
                widget.focus()
                if isinstance(widget, Input):
                    widget.select_all()  # typing replaces it; an arrow key keeps it to edit
        return True

    def action_cancel(self) -> None:
        self.leave_draft(lambda: self.dismiss(None))
