"""Forms that make or change a record keep what is typed as a draft in the journal of unsaved
edits (offered back after a restart by screens.overview.unsaved, and reopened with the text in it),
until it is stored or thrown away with a yes: the mixin every such form uses, and a one-line prompt
built on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from screens.base import journal_of
from screens.dialogs import ConfirmDialog, TextPrompt

if TYPE_CHECKING:
    from qa_tui.app import QAApp
    from qa_tui.services.unsaved_forms import FormDraft


class DraftedForm:
    """Mixin for a form that makes or changes a record: what is typed goes to the journal of
    unsaved edits as it is typed (offered back after a restart by screens.overview.unsaved), and
    leaves it once saved (`draft_stored`) or thrown away with a yes (`leave_draft`). The form
    names its fields (`DRAFT_FIELDS`: draft field → widget selector), sets `form_draft` (a new
    one, or one restored) and calls `start_draft()` once its widgets hold their starting values."""

    DRAFT_FIELDS: dict[str, str] = {}
    CHOICES_ARE_TYPED = False  # a changed choice counts as typed (not where options load after opening)
    form_draft: FormDraft | None = None
    _draft_base: dict[str, Any] | None = None
    _draft_unfilled: dict[str, Any] = {}  # restored choices waiting for their options to load

    def draft_values(self) -> dict[str, Any]:
        from textual.widgets import Input, Select, TextArea

        values: dict[str, Any] = {}
        for name, selector in self.DRAFT_FIELDS.items():
            widget = self.query_one(selector)  # type: ignore[attr-defined]
            if isinstance(widget, TextArea):
                values[name] = widget.text
            elif isinstance(widget, Input):
                values[name] = widget.value
            elif isinstance(widget, Select):
                value = widget.value
                values[name] = None if value == Select.NULL else value if isinstance(value, (int, str)) else str(value)
        return values | self._draft_unfilled

    def start_draft(self) -> None:
        self._draft_base = self.draft_values()
        if self.form_draft is not None and self.form_draft.values:
            self.fill_draft(self.form_draft.values)

    def fill_draft(self, values: dict[str, Any] | None = None) -> None:
        """Put a restored draft's values in its fields. A choice whose options are still loading
        is held, and put in when this is called again once they are."""
        from textual.widgets import Input, Select, TextArea

        pending, self._draft_unfilled = (dict(values) if values is not None else self._draft_unfilled), {}
        for name, value in pending.items():
            if name not in self.DRAFT_FIELDS:
                continue
            widget = self.query_one(self.DRAFT_FIELDS[name])  # type: ignore[attr-defined]
            if isinstance(widget, TextArea):  # the cursor after the text: typing goes on from there
                widget.load_text(str(value or ""))
                widget.move_cursor(widget.document.end)
            elif isinstance(widget, Input):
                widget.value = str(value or "")
                widget.cursor_position = len(widget.value)
            elif isinstance(widget, Select) and value is not None:
                legal = [v for v in widget._legal_values if v != Select.NULL and str(v) == str(value)]
                if legal:
                    widget.value = legal[0]
                else:
                    self._draft_unfilled[name] = value
        self.note_draft()

    def draft_typed(self) -> list[str]:
        """The fields typed in (text that differs from what the form opened with)."""
        from textual.widgets import Select

        if self._draft_base is None:
            return []
        values = self.draft_values()
        query = self.query_one  # type: ignore[attr-defined]
        return [name for name, selector in self.DRAFT_FIELDS.items()
                if (self.CHOICES_ARE_TYPED or not isinstance(query(selector), Select))
                and str(values.get(name) or "").strip() != str(self._draft_base.get(name) or "").strip()]

    def note_draft(self) -> None:
        journal = journal_of(self.app)  # type: ignore[attr-defined]
        draft = self.form_draft
        if draft is None or journal is None or self._draft_base is None:
            return
        typed = self.draft_typed()
        if typed:
            journal.put(draft.typed(self.draft_values()).entry(typed))
        else:
            journal.drop(draft.key, any_value=True)

    def on_input_changed(self) -> None:
        self.note_draft()

    def on_text_area_changed(self) -> None:
        self.note_draft()

    def on_select_changed(self) -> None:
        self.note_draft()

    def draft_stored(self) -> None:
        """The record holds what was typed: the draft leaves the journal."""
        forget_draft(self.app, self.form_draft)  # type: ignore[attr-defined]
        self._draft_base = None  # nothing typed is left to lose

    def leave_draft(self, leave: Callable[[], None], *, always: bool = False) -> None:
        """Esc: leave at once when nothing was typed; otherwise (or `always`, for answers given in
        the dialogs before this one) ask "Discard what you typed?", and stay with it all in place
        unless the answer is yes."""
        typed = self.draft_typed()
        if not typed and not always:
            leave()
            return

        def answer(discard: bool | None) -> None:
            if discard:
                self.draft_stored()
                leave()

        what = f"{self.form_draft.describe(typed)}: not saved." if self.form_draft is not None else "Not saved."
        self.app.push_screen(ConfirmDialog("Discard what you typed?", what), answer)  # type: ignore[attr-defined]


def forget_draft(app: QAApp, draft: FormDraft | None) -> None:
    """Take a form's draft out of the journal (stored, or thrown away with a yes)."""
    journal = journal_of(app)
    if journal is not None and draft is not None:
        journal.drop(draft.key, any_value=True)


def back_when_refused(back: Callable[[str], None]) -> Callable[[BaseException], bool]:
    """A form's `on_error` when storing its draft: the rules' answer (or someone else's change
    since it was opened) brings the form back with why (`back(why)`), nothing typed gone; a
    database out of reach is left to the app's Retry, which sends the same draft."""
    def handle(error: BaseException) -> bool:
        from qa_tui.errors import ChangedElsewhere
        from qa_tui.widgets.save_queue import REFUSED

        if not isinstance(error, (*REFUSED, ChangedElsewhere)):
            return False
        back(str(error))
        return True
    return handle


class RefusedForm(DraftedForm):
    """A drafted dialog that may come back refused: why (`problem`) shown in its error line
    (`ERROR`) from the start; Esc asks before throwing typing away."""

    ERROR = ""
    problem = ""

    def on_mount(self) -> None:
        super().on_mount()  # type: ignore[misc]
        self.start_draft()
        if self.problem:
            from textual.widgets import Static

            from qa_tui.widgets.literal import literal

            self.query_one(self.ERROR, Static).update(literal(self.problem))  # type: ignore[attr-defined]

    def action_cancel(self) -> None:
        self.leave_draft(lambda: self.dismiss(None))  # type: ignore[attr-defined]


class DraftedPrompt(DraftedForm, TextPrompt):
    """One line of text (see TextPrompt) kept as `field` of `draft` as it is typed, with the
    answers a wizard's earlier prompts put in the draft; a restored draft fills it. The caller
    takes the draft out once it is stored (`forget_draft`)."""

    def __init__(self, title: str, label: str, draft: FormDraft, *, field: str = "text", **options: Any) -> None:
        super().__init__(title, label, **options)
        self.form_draft, self.field = draft, field
        self.DRAFT_FIELDS = {field: "#prompt-input"}

    def on_mount(self) -> None:
        self.start_draft()

    def draft_values(self) -> dict[str, Any]:
        earlier = self.form_draft.values if self.form_draft is not None else {}
        return {**earlier, **super().draft_values()}

    def draft_typed(self) -> list[str]:
        """The earlier prompts' answers count as typed: Esc asks before they are thrown away."""
        if self._draft_base is None or self.form_draft is None:
            return []
        earlier = [name for name, value in self.form_draft.values.items() if name != self.field and value]
        return earlier + [name for name in super().draft_typed() if name not in earlier]

    def action_cancel(self) -> None:
        self.leave_draft(lambda: self.dismiss(None), always=self.earlier)
