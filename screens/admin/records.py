"""People & cases: teams, people and cases kept by hand (for councils that do not import), with
forms that name the field at fault and keep what was typed; deactivating never deletes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.content import Content
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Static, TabbedContent, TabPane

from qa_tui.services.unsaved_forms import FormDraft
from qa_tui.widgets.literal import literal, literal_markup
from qa_tui.widgets.record_table import RecordTable
from screens.admin.record_form import FormField, RecordForm
from screens.base import QAScreen
from screens.dialogs import ConfirmDialog

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qa_tui.services.people.admin import CaseRow, Choice, FormChoices, Page, PersonRow, TeamRow

TABS = ("teams", "people", "cases")
KIND_OF_TAB = {"teams": "team", "people": "person", "cases": "case"}
COLUMNS = {"teams": ("Code", "Team", "Active people", "Open cases", "Status"),
           "people": ("Name", "Staff ID", "Role", "Team", "Manager", "Open cases", "Status"),
           "cases": ("Reference", "Category", "Team", "Worker", "Opened", "CP plan", "Status")}
SEARCH_AFTER_SECONDS = 0.3


def short_date(day: date | None) -> str:
    return f"{day:%d/%m/%Y}" if day else ""


def with_current(choices: tuple[Choice, ...], current: uuid.UUID | None, label: str) -> tuple[tuple[str, Any], ...]:
    """The options, plus the record's present value if no longer offered: opening never changes it."""
    options = tuple((c.label, c.id) for c in choices)
    if current is not None and all(c.id != current for c in choices):
        options += ((f"{label} (no longer active)", current),)
    return options


def team_fields(row: TeamRow | None) -> list[FormField]:
    from qa_tui.services.people.admin import TEAM_LABELS as L

    return [FormField("code", L["code"], row.code if row else "", placeholder="e.g. CIN-EAST"),
            FormField("name", L["name"], row.name if row else "", placeholder="e.g. Children in Need East")]


def person_fields(row: PersonRow | None, choices: FormChoices) -> list[FormField]:
    from qa_tui.services.people.admin import PERSON_LABELS as L

    return [
        FormField("staff_id", L["staff_id"], row.staff_id if row else ""),
        FormField("name", L["name"], row.name if row else ""),
        FormField("role", L["role"], row.role if row else "SW", tuple((label, code) for code, label in choices.roles)),
        FormField("team_id", L["team_id"], row.team_id if row else None,
                  with_current(choices.teams, row.team_id if row else None, row.team_code if row else ""),
                  blank="no team"),
        FormField("manager_id", L["manager_id"], row.manager_id if row else None,
                  with_current(choices.managers, row.manager_id if row else None, row.manager_name if row else ""),
                  blank="no manager"),
        FormField("asye_start", L["asye_start"], short_date(row.asye_start) if row else "",
                  placeholder="DD/MM/YYYY, newly qualified workers"),
        FormField("active_from", L["active_from"], short_date(row.active_from) if row else "",
                  placeholder="DD/MM/YYYY, their first day"),
        FormField("login", L["login"], row.login if row else "",
                  placeholder="their database or computer login, if known"),
    ]


def case_fields(row: CaseRow | None, choices: FormChoices) -> list[FormField]:
    from qa_tui.services.people.admin import CASE_LABELS as L

    return [
        FormField("reference", L["reference"], row.reference if row else "",
                  placeholder="the case system's ID, never a name"),
        FormField("category", L["category"], row.category if row else "CIN",
                  tuple((label, code) for code, label in choices.categories)),
        FormField("team_id", L["team_id"], row.team_id if row else None,
                  with_current(choices.teams, row.team_id if row else None, row.team_code if row else ""),
                  blank="the worker's team"),
        FormField("worker_id", L["worker_id"], row.worker_id if row else None,
                  with_current(choices.workers, row.worker_id if row else None, row.worker_name if row else ""),
                  blank="unallocated"),
        FormField("opened_on", L["opened_on"], short_date(row.opened_on) if row else "", placeholder="DD/MM/YYYY"),
        FormField("cp_plan_start", L["cp_plan_start"], short_date(row.cp_plan_start) if row else "",
                  placeholder="DD/MM/YYYY, child protection plans"),
        FormField("cp_plan_end", L["cp_plan_end"], short_date(row.cp_plan_end) if row else "",
                  placeholder="DD/MM/YYYY"),
    ]


# --- the area --------------------------------------------------------------------------------


def record_form(node: Any, tab: str, row: Any, choices: FormChoices, draft: FormDraft | None = None) -> RecordForm:
    """The form adding a record to `tab`, or editing `row`, keeping what is typed as a draft
    (a new one, or `draft` restored into it)."""
    from qa_tui.services.people import admin

    today = node.ctx.today()
    record_id, version = (row.id, row.version) if row is not None else (None, None)
    if tab == "teams":
        fields = team_fields(row)
        title = f"Edit team {row.code}" if row else "New team"
        save: Callable[[Session, dict[str, Any]], Any] = lambda s, v: admin.save_team(
            s, admin.TeamInput(**v), today, team_id=record_id, expected_version=version)
    elif tab == "people":
        fields = person_fields(row, choices)
        title = f"Edit {row.name} ({row.staff_id})" if row else "New person"
        save = lambda s, v: admin.save_person(  # noqa: E731
            s, admin.PersonInput(**v), today, person_id=record_id, expected_version=version)
    else:
        fields = case_fields(row, choices)
        title = f"Edit case {row.reference}" if row else "New case"
        save = lambda s, v: admin.save_case(  # noqa: E731
            s, admin.CaseInput(**v), today, case_id=record_id, expected_version=version)
    draft = draft or FormDraft("record", f"{tab}:{record_id or 'new'}", title,
                               context={"labels": {f.key: f.label for f in fields}})
    return RecordForm(title, fields, save, draft)


def reopen_record(screen: QAScreen, draft: FormDraft) -> None:
    """Open a team, person or case's draft again in its form, over the record as it is now."""
    from qa_tui.services.people.admin import form_choices, record_row

    tab, _, record = draft.record_id.partition(":")
    record_id = None if record == "new" else uuid.UUID(record)
    today = screen.ctx.today()

    def loaded(found: tuple[Any, FormChoices]) -> None:
        screen.app.push_screen(record_form(screen, tab, found[0], found[1], draft),
                               lambda saved: saved and screen.notify("Saved.", markup=False))

    screen.call_service(lambda s: (record_row(s, tab, record_id, today) if record_id else None,
                                   form_choices(s, today)), loaded)


class AdminScreen(QAScreen):
    """Three lists (teams, people, cases), each searchable, with inactive records on request."""

    CSS_PATH = "records.tcss"
    AUTO_FOCUS = "#teams-table"
    BINDINGS = [
        Binding("n", "new", "New", id="admin-new", tooltip="Add a team, person or case on this tab"),
        Binding("e", "edit", "Edit", id="admin-edit", tooltip="Edit the highlighted record"),
        Binding("x", "deactivate", "Deactivate", id="admin-deactivate",
                tooltip="Make a team inactive, record that someone left, or close a case; nothing is deleted"),
        Binding("r", "reactivate", "Restore", id="admin-reactivate", tooltip="Undo a deactivation"),
        Binding("slash", "search", "Search", id="admin-search",
                tooltip="Search by name, staff ID, case reference or team code"),
        Binding("h", "toggle_inactive", "Inactive", id="admin-inactive", tooltip="Show inactive records too, or not"),
        Binding("H", "history", "History", id="admin-history",
                tooltip="Who changed the highlighted person, when, old → new"),
        Binding("i", "import_file", "Import", id="admin-import",
                tooltip="Import an Annex A workbook or a people or cases CSV, with a preview"),
        Binding("comma", "settings", "Settings", id="settings", tooltip="Who you are, your default team and theme"),
        Binding("1", "tab('teams')", "Teams", show=False, id="admin-teams", tooltip="The teams"),
        Binding("2", "tab('people')", "People", show=False, id="admin-people", tooltip="The people"),
        Binding("3", "tab('cases')", "Cases", show=False, id="admin-cases", tooltip="The cases"),
        Binding("escape", "leave_search", show=False, id="admin-leave-search", tooltip="Back to the list"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.include_inactive = False
        self.after: dict[str, tuple[str, ...] | None] = {tab: None for tab in TABS}
        self.loading_more = False
        self.searching = False
        self._search_timer: Timer | None = None
        self._select_after_load: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="admin-title")
        yield Input(placeholder="/ search: name, staff ID, case reference, team code", id="admin-search",
                    compact=True)
        with TabbedContent(initial="teams", id="admin-tabs"):
            for tab, label in zip(TABS, ("1 Teams", "2 People", "3 Cases"), strict=True):
                with TabPane(label, id=tab):
                    yield RecordTable(COLUMNS[tab], partial(self.cells, tab), lambda row: row.id, id=f"{tab}-table")
        yield Static("", id="admin-detail")
        yield Footer()

    def on_screen_resume(self) -> None:
        self.load()

    # --- lists -------------------------------------------------------------------------------

    @property
    def tab(self) -> str:
        return self.query_one("#admin-tabs", TabbedContent).active or "teams"

    def table(self, tab: str) -> RecordTable[Any]:
        return self.query_one(f"#{tab}-table", RecordTable)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.refresh_bindings()  # people and teams may be greyed where cases are not
        self.load()

    def load(self, *, more: bool = False) -> None:
        from qa_tui.services.people import admin

        tab, today = self.tab, self.ctx.today()
        search = self.query_one("#admin-search", Input).value
        inactive, after = self.include_inactive, self.after[tab] if more else None
        if tab == "teams":
            job: Callable[[Session], Any] = lambda s: admin.list_teams(s, today, search=search,
                                                                       include_inactive=inactive)
        elif tab == "people":
            job = lambda s: admin.list_people(s, today, search=search, include_inactive=inactive, after=after)
        else:
            job = lambda s: admin.list_cases(s, search=search, include_closed=inactive, after=after)
        self.loading_more = more
        self.call_service(job, lambda loaded: self.show(tab, loaded, more=more), group=f"list-{tab}", exclusive=True)

    def show(self, tab: str, loaded: list[TeamRow] | Page[Any], *, more: bool = False) -> None:
        rows = loaded if isinstance(loaded, list) else list(loaded.rows)
        self.after[tab] = None if isinstance(loaded, list) else loaded.after
        table = self.table(tab)
        table.show([*table.records, *rows] if more else rows)  # the cursor stays on its record
        saved = next((row for row in table.records if str(row.id) == self._select_after_load), None)
        if saved is not None and table.select(saved):
            self._select_after_load = None
        self.loading_more = False
        shown = len(table.records)
        more_text = f" (first {shown}; move down for more)" if self.after[tab] else ""
        scope = "including inactive" if self.include_inactive else "active only"
        self.query_one("#admin-title", Static).update(literal_markup(
            "[b]People & cases[/b] · $shown · [b]n[/b] new  [b]e[/b] edit  [b]x[/b] deactivate  [b]/[/b] search  "
            "[b]i[/b] import a file", shown=f"{shown} {tab if shown != 1 else KIND_OF_TAB[tab]}{more_text} · {scope}"))
        self.show_detail()
        if self.focused is not self.query_one("#admin-search", Input) or not self.searching:
            table.focus()

    def cells(self, tab: str, row: Any) -> tuple[str, ...]:
        if tab == "teams":
            return (row.code, row.name, str(row.people), str(row.open_cases), "active" if row.active else "inactive")
        if tab == "people":
            status = "active" if row.active_to is None else (
                f"{'left' if row.active_to < self.ctx.today() else 'last day'} {short_date(row.active_to)}")
            return (row.name, row.staff_id, row.role, row.team_code, row.manager_name, str(row.open_cases), status)
        cp = f"{short_date(row.cp_plan_start)}–{short_date(row.cp_plan_end)}" if row.cp_plan_start else ""
        status = f"closed {short_date(row.closed_on)}" if row.closed_on else "open"
        return (row.reference, row.category, row.team_code, row.worker_name or "(unallocated)",
                short_date(row.opened_on), cp, status)

    def selected(self, tab: str | None = None) -> Any:
        return self.table(tab or self.tab).current

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()
        table, tab = event.data_table, self.tab
        if (table.id == f"{tab}-table" and self.after[tab] is not None and not self.loading_more
                and event.cursor_row >= table.row_count - 1):
            self.load(more=True)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_edit()

    def show_detail(self) -> None:
        row, tab = self.selected(), self.tab
        detail = Content("")
        if row is not None and tab == "people":
            parts = [row.role, f"team {row.team_code or 'none'}", f"manager {row.manager_name or 'none'}",
                     f"ASYE from {short_date(row.asye_start)}" if row.asye_start else "",
                     f"login {row.login}" if row.login else "", f"{row.open_cases} open cases"]
            detail = literal_markup("[b]$name[/b] ($staff_id) · $rest", name=row.name, staff_id=row.staff_id,
                                    rest=" · ".join(p for p in parts if p))
        elif row is not None and tab == "cases":
            detail = literal_markup("[b]$reference[/b] · $rest", reference=row.reference,
                                    rest=f"{row.category} · team {row.team_code or 'none'} · "
                                         f"worker {row.worker_name or 'unallocated'}")
        elif row is not None:
            detail = literal_markup("[b]$name[/b] ($code) · $rest", name=row.name, code=row.code,
                                    rest=f"{row.people} active people · {row.open_cases} open cases")
        self.query_one("#admin-detail", Static).update(literal(detail))

    # --- search and filters ----------------------------------------------------------------

    def action_search(self) -> None:
        self.searching = True
        self.query_one("#admin-search", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "admin-search":
            return
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_AFTER_SECONDS, self.load)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "admin-search":
            self.action_leave_search()

    def action_leave_search(self) -> None:
        self.searching = False
        self.table(self.tab).focus()

    def action_toggle_inactive(self) -> None:
        self.include_inactive = not self.include_inactive
        self.load()

    def action_tab(self, tab: str) -> None:
        self.query_one("#admin-tabs", TabbedContent).active = tab

    # --- add, edit, deactivate ---------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        from qa_tui.services.people.permissions import EDIT_PEOPLE

        if (action in ("new", "edit", "deactivate", "reactivate") and self.is_mounted and self.tab != "cases"
                and not self.ctx.may(EDIT_PEOPLE)):
            return None  # people and teams are an administrator's to change
        return True

    def action_new(self) -> None:
        self.open_form(None)

    def action_edit(self) -> None:
        row = self.selected()
        if row is None:
            self.notify("Nothing to edit here yet: press n to add one.", severity="warning")
            return
        self.open_form(row)

    def open_form(self, row: Any) -> None:
        from qa_tui.services.people.admin import form_choices

        today, tab = self.ctx.today(), self.tab
        self.call_service(lambda s: form_choices(s, today), lambda choices: self._push_form(tab, row, choices))

    def _push_form(self, tab: str, row: Any, choices: FormChoices) -> None:
        self.app.push_screen(record_form(self, tab, row, choices), lambda saved: self._saved(tab, saved))

    def _saved(self, tab: str, saved: Any) -> None:
        if saved is None:  # cancelled, perhaps because someone else changed the record: show theirs
            self.load()
            return
        label = getattr(saved, "reference", None) or getattr(saved, "name", "")
        self.notify(f"Saved {label}.", markup=False)
        self._select_after_load = str(saved.id)
        self.load()

    def action_deactivate(self) -> None:
        row, tab = self.selected(), self.tab
        if row is None:
            return
        from qa_tui.services.people.admin import deactivate

        kind, today = KIND_OF_TAB[tab], self.ctx.today()
        if kind == "team":
            question = f"Make team {row.name} inactive?"
        elif kind == "person":
            question = f"Record that {row.name} leaves today ({today:%d/%m/%Y})?"
        else:
            question = f"Close case {row.reference} today ({today:%d/%m/%Y})?"

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.call_service(lambda s: deactivate(s, kind, row.id, today, expected_version=row.version),
                                  self._changed, write=True)

        self.app.push_screen(ConfirmDialog(question, "Nothing is deleted: the record and its history stay, "
                                                     "and r undoes this."), confirmed)

    def action_reactivate(self) -> None:
        row, tab = self.selected(), self.tab
        if row is None:
            return
        inactive = {"teams": lambda r: not r.active, "people": lambda r: r.active_to is not None,
                    "cases": lambda r: r.closed_on is not None}[tab]
        if not inactive(row):
            self.notify("This one is already active.", severity="warning")
            return
        from qa_tui.services.people.admin import reactivate

        kind = KIND_OF_TAB[tab]
        self.call_service(lambda s: reactivate(s, kind, row.id, expected_version=row.version), self._changed,
                          write=True)

    def _changed(self, message: str) -> None:
        self.notify(message, timeout=8, markup=False)
        self.load()

    # --- elsewhere ---------------------------------------------------------------------------

    def action_import_file(self) -> None:
        from screens.admin.import_data import ImportScreen

        self.app.push_screen(ImportScreen())

    def action_history(self) -> None:
        from screens.history import HistoryScreen

        row = self.selected()
        if row is not None and self.tab == "people":
            self.app.push_screen(HistoryScreen("person", row.id))

    def action_settings(self) -> None:
        from screens.admin.settings import SettingsScreen

        self.app.push_screen(SettingsScreen())

    def palette_commands(self):  # noqa: ANN201 - a generator of SystemCommand
        yield SystemCommand("People & cases: new record", "Add a team, person or case on this tab", self.action_new)
        yield SystemCommand("People & cases: import a file", "Annex A, CIN census, people or cases CSV, with a preview",
                            self.action_import_file)
        yield SystemCommand("Settings", "Who you are, your default team and theme", self.action_settings)
        yield SystemCommand("People & cases: history of the highlighted person", "Who changed what, when",
                            self.action_history)
        yield SystemCommand("People & cases: show inactive too", "Teams made inactive, people who left, closed cases",
                            self.action_toggle_inactive)
