"""One sync conflict: the shared version beside the incoming one, field by field, with the fields
that differ marked; keep either version, or merge by hand field by field, then confirm."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable, Footer, Input, Static

from qa_tui.text import printable
from qa_tui.widgets.literal import literal, literal_markup
from qa_tui.widgets.record_table import RecordTable
from screens.base import QAScreen
from screens.dialogs import ConfirmDialog

if TYPE_CHECKING:
    from qa_tui.services.sync.conflicts import ConflictView
    from qa_tui.services.sync.views import ConflictDetail

SHARED, INCOMING, EDITED = "shared", "incoming", "edited"
CELL_WIDTH = 30


class ConflictScreen(QAScreen):
    CSS_PATH = "conflicts.tcss"
    BINDINGS = [
        Binding("h", "keep('shared')", "Keep shared", id="conflict-keep-shared",
                tooltip="Keep this database's version of the whole record"),
        Binding("i", "keep('incoming')", "Keep incoming", id="conflict-keep-incoming",
                tooltip="Keep the laptop's version of the whole record"),
        Binding("1", "take('shared')", "Take shared", id="conflict-field-shared",
                tooltip="For a hand merge: this field as this database has it"),
        Binding("2", "take('incoming')", "Take incoming", id="conflict-field-incoming",
                tooltip="For a hand merge: this field as the laptop has it"),
        Binding("e", "edit_field", "Edit", id="conflict-edit", tooltip="For a hand merge: type this field's value"),
        Binding("c", "save_merge", "Save merge", id="conflict-save-merge",
                tooltip="Save the record with the fields chosen one by one"),
        Binding("r", "reload", "Reload", id="conflict-reload", show=False, tooltip="Read the conflict again"),
        Binding("escape", "back", "Back", id="conflict-back", show=False,
                tooltip="Stop editing the field, or go back to the conflicts"),
    ]

    def __init__(self, conflict_id: uuid.UUID) -> None:
        super().__init__()
        self.conflict_id = conflict_id
        self.detail: ConflictDetail | None = None
        self.fields: list[str] = []
        self.choices: dict[str, str] = {}  # field -> shared / incoming / edited, for a hand merge
        self.edited: dict[str, Any] = {}  # field -> the value typed, in JSON form
        self.editing: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("Reading…", id="conflict-bar")
        yield RecordTable((" ", "Field", "Shared (this database)", "Incoming (laptop)", "Keep"), self._cells,
                          lambda key: key, id="conflict-fields")
        field = Static("", id="conflict-field")
        field.border_subtitle = "h / i keep a whole version · 1 / 2 / e this field, then c · r reload · Esc back"
        yield field
        yield Input(id="conflict-edit")
        yield Static("", id="conflict-edit-error")
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    @property
    def table(self) -> RecordTable[str]:
        """A row per field of the record, keyed by the field's name."""
        return self.query_one("#conflict-fields", RecordTable)

    # --- reading --------------------------------------------------------------------------

    def action_reload(self) -> None:
        from qa_tui.services.sync.views import conflict_detail

        conflict_id = self.conflict_id
        self.call_service(lambda s: conflict_detail(s, conflict_id), self.show, group="conflict", exclusive=True)

    def show(self, detail: ConflictDetail) -> None:
        """Show the conflict; on a reload, choices already made for a field are kept."""
        self.detail = detail
        view = detail.view
        self.fields = (list(view.live or {}) if view.deletion
                       else list(view.differing) + [k for k in view.incoming if k not in view.differing])
        start = SHARED if view.live is not None else INCOMING
        self.choices = {k: self.choices.get(k, start) for k in self.fields}
        if view.live is None:
            self.choices = {k: INCOMING if c == SHARED else c for k, c in self.choices.items()}
        shared = "not in this database" if view.live_version is None else f"now v{view.live_version}"
        base = f"v{view.base_version}" if view.base_version is not None else "no base (made offline)"
        state = (Content.from_markup("[reverse] OPEN [/]") if view.status == "open" else
                 literal_markup("[reverse] RESOLVED [/] kept the $resolution version ($by, $at)",
                                resolution=view.resolution, by=view.resolved_by or "",
                                at=f"{view.resolved_at:%d/%m/%Y %H:%M}"))
        self.query_one("#conflict-bar", Static).update(literal(
            literal_markup("[b]$record[/b] · $reason: $explanation · ",
                           record=f"{view.table.replace('_', ' ')} {str(view.record_id)[:8]}", reason=view.reason,
                           explanation=view.explanation)
            + state + literal_markup(
                "\nFrom $who (device $device), bundle $bundle, imported $at · laptop based on $base, shared $shared · "
                "$count", who=view.exported_by, device=view.device[:8], bundle=str(view.bundle_id)[:8],
                at=f"{view.imported_at:%d/%m/%Y %H:%M}", base=base, shared=shared,
                count="the record was deleted there" if view.deletion else f"{len(view.differing)} fields differ")
            + (Content.from_markup("\n[b]Deleted on the laptop[/b]: keep the shared record (h) or delete it here (i)")
               if view.deletion else Content(""))
            + (literal_markup("\n$held history rows (such as an extension) are held with it: taken with the laptop's "
                              "version, dropped with the shared one", held=view.held) if view.held else Content(""))))
        self._render_rows()
        self.table.focus()

    def _render_rows(self) -> None:
        self.table.show(self.fields)  # the cursor stays on its field
        self._show_field()

    def _cells(self, key: str) -> tuple[Text, ...]:
        differs = key in self.view.differing
        style = "bold" if differs else "dim"
        keep = self.choices[key] if differs or key in self.edited else "same"
        return (Text("≠" if differs else "", style="bold red"), literal(key, style),
                literal(self._cell(self._shared_value(key)), style),
                literal(self._cell(self.view.incoming.get(key)), style),
                literal(keep, "bold" if differs else "dim"))

    @property
    def view(self) -> ConflictView:
        assert self.detail is not None
        return self.detail.view

    def _shared_value(self, key: str) -> Any:
        return None if self.view.live is None else self.view.live.get(key)

    def _chosen_value(self, key: str) -> Any:
        choice = self.choices[key]
        if choice == EDITED:
            return self.edited[key]
        return self._shared_value(key) if choice == SHARED else self.view.incoming.get(key)

    def _text(self, value: Any) -> str:
        from qa_tui.services.sync.views import field_text

        text = field_text(value)
        label = self.detail.labels.get(text) if self.detail else None
        return f"{label} · {text[:8]}" if label else text

    def _cell(self, value: Any) -> str:
        text = " ".join(self._text(value).split())
        return "—" if not text else text if len(text) <= CELL_WIDTH else text[:CELL_WIDTH - 1] + "…"

    def _current(self) -> str | None:
        return self.table.current

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_field()

    def _show_field(self) -> None:
        key = self._current()
        if key is None or self.detail is None:
            return
        shared = "(not in this database)" if self.view.live is None else self._text(self._shared_value(key)) or "—"
        same = "differs" if key in self.view.differing else "the same on both sides"
        field = literal_markup("[b]$key[/b] — $same; keeping [b]$choice[/b]\n[b]shared[/b]    $shared\n"
                               "[b]incoming[/b]  $incoming", key=key, same=same, choice=self.choices[key],
                               shared=shared, incoming=self._text(self.view.incoming.get(key)) or "—")
        if key in self.edited:
            field += literal_markup("\n[b]edited[/b]    $edited", edited=self._text(self.edited[key]) or "—")
        self.query_one("#conflict-field", Static).update(literal(field))

    # --- deciding -------------------------------------------------------------------------

    def _can_decide(self) -> bool:
        if self.detail is None:
            return False
        if self.view.status != "open":
            self.notify("This conflict is already resolved.", severity="warning")
            return False
        return True

    def _can_merge(self) -> bool:
        if not self._can_decide():
            return False
        if self.view.deletion:
            self.notify("The laptop deleted this record: keep the shared version (h) or take the deletion (i).",
                        severity="warning")
            return False
        return True

    def action_keep(self, choice: str) -> None:
        if not self._can_decide():
            return
        short = f"{self.view.table.replace('_', ' ')} {str(self.view.record_id)[:8]}"
        if choice == SHARED:
            detail = ("The laptop's edit is set aside; the record here stays as it is."
                      if self.view.live is not None else "The record stays out of this database.")
        elif self.view.deletion:
            detail = "The record is deleted here, as it was on the laptop."
        else:
            detail = f"The record here takes the laptop's values for: {', '.join(self.view.differing)}."
        self.app.push_screen(ConfirmDialog(f"Keep the {choice} version of {short}?", detail),
                             lambda yes: self._resolve(choice) if yes else None)

    def action_take(self, side: str) -> None:
        key = self._current()
        if not self._can_merge() or key is None:
            return
        if side == SHARED and self.view.live is None:
            self.notify("There is no shared version: the record is not in this database.", severity="warning")
            return
        self.choices[key] = side
        self.edited.pop(key, None)
        self._render_rows()

    def action_edit_field(self) -> None:
        key = self._current()
        if not self._can_merge() or key is None:
            return
        from qa_tui.services.sync.views import field_text

        self.editing = key
        box = self.query_one("#conflict-edit", Input)
        box.border_title = literal(f"New value for {key} · Enter keeps it · Esc cancels")
        box.value = printable(field_text(self._chosen_value(key)))
        box.display = True
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        from qa_tui.errors import QAError
        from qa_tui.services.sync.views import field_value_from_text

        key = self.editing
        if key is None:
            return
        try:
            value = field_value_from_text(self.view.table, key, event.value)
        except QAError as exc:
            self.query_one("#conflict-edit-error", Static).update(literal(exc))
            return
        self.edited[key] = value
        self.choices[key] = EDITED
        self._stop_editing()
        self._render_rows()

    def _stop_editing(self) -> None:
        self.editing = None
        self.query_one("#conflict-edit", Input).display = False
        self.query_one("#conflict-edit-error", Static).update("")
        self.table.focus()

    def action_back(self) -> None:
        if self.editing is not None:
            self._stop_editing()
        else:
            self.app.pop_screen()

    def action_save_merge(self) -> None:
        if not self._can_merge():
            return
        base = self.view.live if self.view.live is not None else self.view.incoming
        same_as = SHARED if self.view.live is not None else INCOMING
        merged = {k: self._chosen_value(k) for k in self.fields if self._chosen_value(k) != base.get(k)}
        if not merged:
            self.notify(f"Nothing chosen differs from the {same_as} version: take fields with 2 (incoming) or "
                        f"e (edit), or keep a whole version with h or i.", severity="warning")
            return
        lines = "\n".join(f"{k}: {self.choices[k]} — {self._cell(v)}" for k, v in merged.items())
        self.app.push_screen(ConfirmDialog(f"Save this merge? These fields differ from the {same_as} version:",
                                           lines),
                             lambda yes: self._resolve("merged", merged) if yes else None)

    def _resolve(self, choice: str, merged: dict[str, Any] | None = None) -> None:
        from qa_tui.services.sync.conflicts import resolve_conflict

        view, login = self.view, self.ctx.login
        self.call_service(lambda s: resolve_conflict(s, view.id, choice, merged, by=login,
                                                     expected_live_version=view.live_version),
                          self._resolved, write=True, on_error=self._changed_elsewhere)

    def _resolved(self, view: ConflictView) -> None:
        self.notify(f"Kept the {view.resolution} version of {view.table.replace('_', ' ')} {str(view.record_id)[:8]}; "
                    f"the decision is in the audit trail.")
        self.app.pop_screen()

    def _changed_elsewhere(self, error: BaseException) -> bool:
        from qa_tui.errors import ChangedElsewhere

        if not isinstance(error, ChangedElsewhere):
            return False
        self.app.push_screen(
            ConfirmDialog("This record was changed by someone else — reload?",
                          "The shared copy changed after you opened this conflict, so nothing was saved. Reload to "
                          "see it; the choices you made for each field are kept."),
            lambda yes: self.action_reload() if yes else None)
        return True

    def palette_commands(self):  # noqa: ANN201 - a generator of SystemCommand
        from textual.app import SystemCommand

        yield SystemCommand("Conflict: keep the shared version", "Set the laptop's edit aside",
                            lambda: self.action_keep(SHARED))
        yield SystemCommand("Conflict: keep the incoming version", "Take the laptop's edit",
                            lambda: self.action_keep(INCOMING))
        yield SystemCommand("Conflict: save the hand merge", "Save the fields chosen one by one", self.action_save_merge)
