"""Import from the app: choose a file (Annex A workbook, the people or cases CSV, involvements,
SSDA903 social worker episodes), read the preview, and only then write it with one key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Header, Input, Label, Select, Static

from screens.base import QAScreen
from screens.dialogs import DIALOG_CSS, ConfirmDialog

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class ImportKind:
    key: str
    label: str
    what: str  # how the preview names the file


KINDS = (
    ImportKind("annex-a", "Ofsted Annex A workbook (.xlsx, .xls, .ods)", "Annex A"),
    ImportKind("people", "People CSV (docs/templates/people.csv)", "People"),
    ImportKind("cases", "Cases CSV (docs/templates/cases.csv)", "Cases"),
    ImportKind("involvements", "Worker involvements CSV (docs/templates/involvements.csv)", "Involvements"),
    ImportKind("ssda903-sw", "SSDA903 social worker episodes CSV", "SSDA903 social worker episodes"),
)
KIND_BY_KEY = {k.key: k for k in KINDS}
WORKBOOK_SUFFIXES = (".xlsx", ".xls", ".ods")


def kind_for(path: str) -> str:
    return "annex-a" if path.lower().endswith(WORKBOOK_SUFFIXES) else "people"


@dataclass(frozen=True)
class ChosenFile:
    kind: str
    path: Path


@dataclass(frozen=True)
class Preview:
    """What the user reads before writing, and what writing needs."""

    chosen: ChosenFile
    lines: tuple[str, ...]
    writes_anything: bool
    payload: Any  # the service's preview, or the CSV text


class ImportFileDialog(ModalScreen[ChosenFile | None]):
    """What kind of file, and where it is. The path is checked here so a typo is caught at once."""

    DEFAULT_CSS = DIALOG_CSS.format(cls="ImportFileDialog") + """
    ImportFileDialog > Vertical { width: 96; }
    ImportFileDialog #file-grid { grid-size: 2; grid-columns: 10 1fr; grid-rows: 1; grid-gutter: 1 0; height: auto; }
    ImportFileDialog #file-grid > Input, ImportFileDialog #file-grid > Select { margin-bottom: 0; }
    ImportFileDialog #file-grid Label { color: $text-muted; }
    ImportFileDialog #file-error { margin-top: 1; }
    """
    BINDINGS = [Binding("ctrl+s", "choose", "Preview", id="file-preview"), Binding("escape", "cancel", "Cancel")]

    def __init__(self, initial: ChosenFile | None = None) -> None:
        super().__init__()
        self.initial = initial
        self.kind_chosen = initial is not None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Import a file", classes="title")
            with Grid(id="file-grid"):
                yield Label("File")
                yield Input(str(self.initial.path) if self.initial else "", id="file-path", compact=True,
                            placeholder="the full path, e.g. /home/me/Downloads/annex-a.xlsx")
                yield Label("Kind")
                yield Select([(k.label, k.key) for k in KINDS], allow_blank=False, compact=True, id="file-kind",
                             value=self.initial.kind if self.initial else "annex-a")
            yield Static("", classes="error", id="file-error")
            yield Static("Nothing is written yet: the next screen shows what would change.\n"
                         "[b]Enter[/b] or [b]Ctrl+S[/b] preview   [b]Esc[/b] cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#file-path", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if not self.kind_chosen and event.value.strip():
            self.query_one("#file-kind", Select).value = kind_for(event.value.strip())

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
            error.update(Content(f"File: {path} " + ("is a folder, not a file." if path.is_dir()
                                                      else "does not exist.")))
            self.query_one("#file-path", Input).focus()
            return
        self.dismiss(ChosenFile(str(self.query_one("#file-kind", Select).value), path))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ImportScreen(QAScreen):
    CSS_PATH = "import_data.tcss"
    BINDINGS = [
        Binding("o", "choose_file", "Choose file", id="import-open"),
        Binding("w", "write", "Write import", id="import-write"),
        Binding("escape", "back", "Back", id="import-back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.chosen: ChosenFile | None = None
        self.preview: Preview | None = None
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
            return True if self.preview is not None and self.preview.writes_anything and not self.busy else None
        return True

    # --- choosing and previewing ---------------------------------------------------------------

    def action_choose_file(self) -> None:
        self.app.push_screen(ImportFileDialog(self.chosen), self._chosen)

    def _chosen(self, chosen: ChosenFile | None) -> None:
        if chosen is None:
            return
        self.chosen, self.preview, self.busy = chosen, None, True
        self.refresh_bindings()
        kind = KIND_BY_KEY[chosen.kind]
        self.query_one("#import-title", Static).update(
            Content.from_markup("[b]$what[/b] · $path", what=kind.what, path=str(chosen.path)))
        self.query_one("#import-preview", Static).update("Reading the file…")
        self.query_one("#import-status", Static).update("")
        today = self.ctx.today()
        self.call_service(lambda s: preview_file(s, chosen, today), self._previewed, group="import",
                          exclusive=True, on_error=self._failed)

    def _previewed(self, preview: Preview) -> None:
        self.preview, self.busy = preview, False
        self.refresh_bindings()
        self.query_one("#import-preview", Static).update(Content("\n".join(preview.lines)))
        self.query_one("#import-status", Static).update(
            "Nothing has been written. Press [b]w[/b] to write these changes, [b]o[/b] for another file, "
            "[b]Esc[/b] to leave." if preview.writes_anything
            else "Nothing to change: the database already matches the file.")
        self.query_one("#import-body", VerticalScroll).focus()

    def _failed(self, error: BaseException) -> bool:
        from qa_tui.errors import QAError

        self.busy = False
        self.refresh_bindings()
        if not isinstance(error, QAError):
            self.query_one("#import-preview", Static).update("")
            return False
        self.query_one("#import-preview", Static).update(Content(str(error)))
        self.query_one("#import-status", Static).update(
            "[b $error]Nothing was written.[/] Fix the file and press [b]o[/b] to try again.")
        return True

    # --- writing ---------------------------------------------------------------------------

    def action_write(self) -> None:
        preview = self.preview
        if preview is None or not preview.writes_anything or self.busy:
            return
        what = KIND_BY_KEY[preview.chosen.kind].what
        today = self.ctx.today()

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            self.busy = True
            self.refresh_bindings()
            self.query_one("#import-status", Static).update("Writing…")
            self.call_service(lambda s: write_file(s, preview, today), self._written, write=True,
                              group="import", exclusive=True, on_error=self._failed)

        self.app.push_screen(ConfirmDialog(f"Write this {what} import?",
                                           f"{preview.chosen.path.name}: the changes shown will be saved, "
                                           "and recorded in the audit trail."), confirmed)

    def _written(self, lines: tuple[str, ...]) -> None:
        self.busy, self.preview = False, None
        self.refresh_bindings()
        self.query_one("#import-status", Static).update(
            Content.from_markup("[b]Written.[/b] $lines", lines=" ".join(lines)))
        self.notify(" ".join(lines), title="Imported", timeout=10, markup=False)

    def action_back(self) -> None:
        self.app.pop_screen()


# --- the services behind each kind (run in the worker) ---------------------------------------


def preview_file(session: Session, chosen: ChosenFile, today: date) -> Preview:
    """Read the file and compare it with the database; writes nothing."""
    from qa_tui.commands.import_annex_a import describe_plan

    if chosen.kind in ("people", "cases"):
        from qa_tui.commands.import_csv import describe_report
        from qa_tui.services.imports.csv_rows import read_import_file
        from qa_tui.services.imports.people_cases import import_cases, import_people

        text = read_import_file(chosen.path)
        importer = import_people if chosen.kind == "people" else import_cases
        report = importer(session, text, source=chosen.path.name, dry_run=True)
        lines = tuple(line.replace(" (dry run: nothing was written)", "") for line in describe_report(report))
        return Preview(chosen, lines, bool(report.added or report.changed), text)
    preview_fn, _, summary = _caseload_kinds()[chosen.kind]
    preview = preview_fn(session, chosen.path, today)
    lines = (*summary(preview), *describe_plan(preview))
    return Preview(chosen, lines, preview.plan.writes_anything, preview)


def write_file(session: Session, preview: Preview, today: date) -> tuple[str, ...]:
    """Write what was previewed, in the caller's transaction."""
    if preview.chosen.kind in ("people", "cases"):
        from qa_tui.services.imports.people_cases import import_cases, import_people

        importer = import_people if preview.chosen.kind == "people" else import_cases
        return (importer(session, preview.payload, source=preview.chosen.path.name).summary + ".",)
    from qa_tui.commands.import_annex_a import describe_result

    _, apply_fn, _ = _caseload_kinds()[preview.chosen.kind]
    return tuple(describe_result(apply_fn(session, preview.payload, today)))


def _caseload_kinds() -> dict[str, tuple[Callable[..., Any], Callable[..., Any], Callable[[Any], list[str]]]]:
    from qa_tui.commands.import_annex_a import _list_lines
    from qa_tui.services.imports.annex_a import apply_annex_a, preview_annex_a
    from qa_tui.services.imports.caseload_csv import (
        apply_involvements,
        apply_sw_episodes,
        preview_involvements,
        preview_sw_episodes,
    )

    return {
        "annex-a": (preview_annex_a, apply_annex_a, _list_lines),
        "involvements": (preview_involvements, apply_involvements,
                         lambda p: [f"Rows: {p.rows}, cases: {len(p.cases)}"]),
        "ssda903-sw": (preview_sw_episodes, apply_sw_episodes,
                       lambda p: [f"Episodes: {p.episodes}, children: {p.children}, "
                                  f"current allocations: {len(p.allocations)}"]),
    }

