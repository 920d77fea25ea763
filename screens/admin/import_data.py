"""Import from the app: choose a file (Annex A workbook, the people or cases CSV, involvements,
SSDA903 social worker episodes, the CIN census), read the preview, and only then write it with
one key. The preview is the import service's own object, rendered here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Header, Input, Label, Select, Static

from qa_tui.widgets.form_select import FormSelect
from qa_tui.widgets.literal import literal, literal_markup
from screens.base import QAScreen
from screens.dialogs import DIALOG_CSS, ConfirmDialog

if TYPE_CHECKING:
    from qa_tui.services.imports.preview import ImportPreview, ImportWritten

SHOWN_KEYS = 20  # longer lists of records to add are cut short with a count of the rest


@dataclass(frozen=True)
class ChosenFile:
    kind: str  # the key of an import kind
    path: Path


class ImportFileDialog(ModalScreen[ChosenFile | None]):
    """What kind of file, and where it is. The path is checked here so a typo is caught at once."""

    DEFAULT_CSS = DIALOG_CSS.format(cls="ImportFileDialog") + """
    ImportFileDialog > Vertical { width: 96; }
    ImportFileDialog #file-grid { grid-size: 2; grid-columns: 10 1fr; grid-rows: 1; grid-gutter: 1 0; height: auto; }
    ImportFileDialog #file-grid > Input, ImportFileDialog #file-grid > Select { margin-bottom: 0; }
    ImportFileDialog #file-grid Label { color: $text-muted; }
    ImportFileDialog #file-error { margin-top: 1; }
    """
    BINDINGS = [Binding("ctrl+s", "choose", "Preview", id="file-preview", tooltip="Read the file and show what it holds"),
                Binding("escape", "cancel", "Cancel", id="file-cancel", tooltip="Close without choosing a file")]

    def __init__(self, initial: ChosenFile | None = None) -> None:
        super().__init__()
        self.initial = initial
        self.kind_chosen = initial is not None

    def compose(self) -> ComposeResult:
        from qa_tui.services.imports.kinds import IMPORT_KINDS

        with Vertical():
            yield Static("Import a file", classes="title")
            with Grid(id="file-grid"):
                yield Label("File")
                yield Input(str(self.initial.path) if self.initial else "", id="file-path", compact=True,
                            placeholder="the full path, e.g. /home/me/Downloads/annex-a.xlsx")
                yield Label("Kind")
                yield FormSelect([(literal(k.label), k.key) for k in IMPORT_KINDS.values()], allow_blank=False, compact=True,
                                 id="file-kind", value=self.initial.kind if self.initial else "annex-a")
            yield Static("", classes="error", id="file-error")
            yield Static("Nothing is written yet: the next screen shows what would change.\n"
                         "[b]Enter[/b] or [b]Ctrl+S[/b] preview   [b]Esc[/b] cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#file-path", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        from qa_tui.services.imports.kinds import guess_kind

        if not self.kind_chosen and event.value.strip():
            self.query_one("#file-kind", Select).value = guess_kind(event.value.strip())

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.has_focus:
            self.kind_chosen = True

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_choose()

    def action_choose(self) -> None:
        text = self.query_one("#file-path", Input).value.strip().strip("'\"")
        error = self.query_one("#file-error", Static)
        if not text:
            error.update("File: type the path of the file to import.")
            return
        path = Path(text).expanduser()
        if not path.is_file():
            error.update(literal(f"File: {path} " + ("is a folder, not a file." if path.is_dir()
                                                      else "does not exist.")))
            self.query_one("#file-path", Input).focus()
            return
        self.dismiss(ChosenFile(str(self.query_one("#file-kind", Select).value), path))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ImportScreen(QAScreen):
    CSS_PATH = "import_data.tcss"
    BINDINGS = [
        Binding("o", "choose_file", "Choose file", id="import-open", tooltip="Choose the file to import and its kind"),
        Binding("w", "write", "Write import", id="import-write", tooltip="Write the previewed import to the database"),
        Binding("escape", "back", "Back", id="import-back", tooltip="Back to people and cases"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.chosen: ChosenFile | None = None
        self.preview: ImportPreview | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("[b]Import a file[/b] · press [b]o[/b] to choose one", id="import-title")
        with VerticalScroll(id="import-body"):
            yield Static("", id="import-preview")
        yield Static("", id="import-status")
        yield Footer()

    def on_mount(self) -> None:
        self.action_choose_file()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "write":
            from qa_tui.services.imports.kinds import permission_for

            allowed = self.chosen is None or self.ctx.may(permission_for(self.chosen.kind))
            return True if self.preview is not None and self.preview.writes_anything and not self.busy and allowed \
                else None
        return True

    # --- choosing and previewing ---------------------------------------------------------------

    def action_choose_file(self) -> None:
        self.app.push_screen(ImportFileDialog(self.chosen), self._chosen)

    def _chosen(self, chosen: ChosenFile | None) -> None:
        from qa_tui.services.imports.kinds import IMPORT_KINDS, preview_import

        if chosen is None:
            return
        self.chosen, self.preview, self.busy = chosen, None, True
        self.refresh_bindings()
        self.query_one("#import-title", Static).update(
            literal_markup("[b]$what[/b] · $path", what=IMPORT_KINDS[chosen.kind].what, path=chosen.path))
        self.query_one("#import-preview", Static).update("Reading the file…")
        self.query_one("#import-status", Static).update("")
        today = self.ctx.today()
        config = self.ctx.config
        self.call_service(lambda s: preview_import(s, chosen.kind, chosen.path, today, config), self._previewed,
                          group="import", exclusive=True, on_error=self._failed)

    def _previewed(self, preview: ImportPreview) -> None:
        self.preview, self.busy = preview, False
        self.refresh_bindings()
        self.query_one("#import-preview", Static).update(literal(preview_content(preview)))
        self.query_one("#import-status", Static).update(
            "[b $error]Nothing was written.[/] The file has problems: fix it and press [b]o[/b] to try again."
            if preview.rejected else
            "Nothing has been written. Press [b]w[/b] to write these changes, [b]o[/b] for another file, "
            "[b]Esc[/b] to leave." if preview.writes_anything else
            "Nothing to change: the database already matches the file.")
        self.query_one("#import-body", VerticalScroll).focus()

    def _failed(self, error: BaseException) -> bool:
        from qa_tui.errors import QAError

        self.busy = False
        self.refresh_bindings()
        if not isinstance(error, QAError):
            self.query_one("#import-preview", Static).update("")
            return False
        self.query_one("#import-preview", Static).update(literal(error))
        self.query_one("#import-status", Static).update(
            "[b $error]Nothing was written.[/] Fix the file and press [b]o[/b] to try again.")
        return True

    # --- writing ---------------------------------------------------------------------------

    def action_write(self) -> None:
        from qa_tui.services.imports.kinds import IMPORT_KINDS, write_import

        preview, chosen = self.preview, self.chosen
        if preview is None or chosen is None or not preview.writes_anything or self.busy:
            return
        today = self.ctx.today()

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            self.busy = True
            self.refresh_bindings()
            self.query_one("#import-status", Static).update("Writing…")
            self.call_service(lambda s: write_import(s, preview, today), self._written, write=True,
                              group="import", exclusive=True, on_error=self._failed)

        self.app.push_screen(ConfirmDialog(f"Write this {IMPORT_KINDS[preview.kind].what} import?",
                                           f"{chosen.path.name}: the changes shown will be saved, "
                                           "and recorded in the audit trail."), confirmed)

    def _written(self, result: ImportWritten) -> None:
        self.busy, self.preview = False, None
        self.refresh_bindings()
        summary = written_summary(result)
        self.query_one("#import-status", Static).update(literal_markup("[b]Written.[/b] $summary", summary=summary))
        self.notify(summary, title="Imported", timeout=10)

    def action_back(self) -> None:
        self.app.pop_screen()


# --- rendering the service's preview --------------------------------------------------------


def preview_content(preview: ImportPreview) -> Content:
    """The preview as the screen shows it: a bold heading per part, the file's own text literal."""
    from qa_tui.services.imports.caseload import NEW_WORKER_ROLE

    lines: list[Content] = []

    def plain(*items: str) -> None:
        lines.extend(literal_markup("$item", item=item) for item in items)

    def section(title: str, items: tuple[str, ...] | list[str], *, level: str = "", after: str = "") -> None:
        if not items:
            return
        heading = f"{title} ({len(items)}){after}:"
        lines.append(literal_markup("[b $error]$heading[/]", heading=heading) if level == "error"
                     else literal_markup("[b $warning]$heading[/]", heading=heading) if level == "warning"
                     else literal_markup("[b]$heading[/b]", heading=heading))
        plain(*(f"  {item}" for item in items))

    if preview.contents_title:
        lines.append(literal_markup("[b]$title[/b]", title=preview.contents_title))
        plain(*(f"  {line}" for line in preview.contents))
    else:
        plain(*preview.contents)
    if preview.counts:
        lines.append(literal_markup("[b]Changes:[/b] $counts",
                                    counts=", ".join(f"{n} {kind}" for kind, n in preview.counts)))
    if preview.added:
        rest = len(preview.added) - SHOWN_KEYS
        lines.append(literal_markup("[b]To add ($count):[/b] $keys", count=len(preview.added), keys=", ".join(
            preview.added[:SHOWN_KEYS]) + (f" and {rest} more" if rest > 0 else "")))
    section("To change", [change.text for change in preview.changes])
    section("Teams to create", [f"{team.name} [{team.code}]" for team in preview.new_teams])
    section("Workers to create", [f"{w.name} [{w.staff_id}]" + (f", {w.team}" if w.team else "")
                                  for w in preview.new_workers], after=f", role {NEW_WORKER_ROLE}")
    section("Teams and services", preview.organisation)
    if preview.loads:
        lines.append(Content.assemble(("Open cases in the file per team and worker:", "bold")))
        for load in preview.loads:
            plain(f"  {load.team}: {load.cases}")
            plain(*(f"    {worker}: {count}" for worker, count in load.workers))
    if preview.ignored_columns:
        lines.append(literal_markup("[b]Columns not imported:[/b] $columns", columns=", ".join(preview.ignored_columns)))
    section("Problems that stop the import" if preview.rejected else preview.problems_title,
            [str(problem) for problem in preview.problems], level="error")
    section("Notes", [str(note) for note in preview.notes], level="warning")
    return Content("\n").join(lines)


def written_summary(result: ImportWritten) -> str:
    """One line saying what was written."""
    from qa_tui.services.imports.preview import UNCHANGED

    written = result.written
    parts = [f"{n} {kind}" for kind, n in written.counts if n and kind != UNCHANGED]
    if written.new_teams or written.new_workers:
        teams, workers = _count(len(written.new_teams), "team"), _count(len(written.new_workers), "worker")
        parts.append(f"created {teams} and {workers}")
    parts += written.organisation
    summary = "; ".join(parts) or "nothing needed changing"
    if not result.matches_preview:
        summary += ". The database had changed since the preview: these are the changes written"
    return summary + "."


def _count(n: int, one: str) -> str:
    return f"{n} {one}{'' if n == 1 else 's'}"
