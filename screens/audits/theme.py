"""A theme's case list: add cases by rule or by hand, give them to auditors, see progress, audit a
case, and write the themed report."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Header, SelectionList, Static

from qa_tui.text import plural
from qa_tui.widgets.literal import literal
from qa_tui.widgets.record_table import RecordTable
from screens.audits.audit_steps import AuditSteps, person_options
from screens.base import QAScreen, ServiceCalls
from screens.dialogs import DIALOG_CSS, ChoiceDialog, ConfirmDialog, TextPrompt

if TYPE_CHECKING:
    from qa_tui.services.audits.theme_report import ThemeProgress
    from qa_tui.services.audits.theme_rules import CaseChoice, CaseRule
    from qa_tui.services.audits.themes import ThemeCaseRow
    from qa_tui.services.people.directory import PersonRef


def write_theme_report(node: ServiceCalls, theme_id: uuid.UUID) -> None:
    """Write the theme's report and say where it went."""
    from qa_tui.services.audits.theme_report import export_theme_report

    ctx = node.ctx
    node.call_service(lambda s: export_theme_report(s, theme_id, today=ctx.today(), cfg=ctx.config),
                      lambda path: node.notify(f"Report written to {path}", timeout=10, markup=False),  # type: ignore[attr-defined]
                      write=True)


class PeopleSelection(ModalScreen[list[uuid.UUID] | None]):
    """Tick several people: Space ticks, Ctrl+S accepts, Esc cancels."""

    DEFAULT_CSS = DIALOG_CSS.format(cls="PeopleSelection") + "PeopleSelection SelectionList { max-height: 16; }"
    BINDINGS = [Binding("ctrl+s", "accept", "Share out", id="people-accept", tooltip="Share out among those ticked"),
                Binding("escape", "cancel", "Cancel", id="people-cancel", tooltip="Close without sharing out")]

    def __init__(self, title: str, people: list[PersonRef]) -> None:
        super().__init__()
        self.title_text, self.people = title, people

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(literal(self.title_text), classes="title")
            yield SelectionList[uuid.UUID](*((literal(label), p_id) for p_id, label in person_options(self.people)),
                                           id="people")
            yield Static("[b]Space[/b] tick   [b]Ctrl+S[/b] share out   [b]Esc[/b] cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def action_accept(self) -> None:
        self.dismiss(list(self.query_one(SelectionList).selected))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ThemeScreen(AuditSteps, QAScreen):
    """A theme's case list: add cases by rule or by hand, give them to auditors, see progress,
    audit a case, and write the themed report."""

    CSS_PATH = "theme.tcss"
    BINDINGS = [
        Binding("enter", "audit", "Audit case", id="th-audit", tooltip="Start or open the audit of the highlighted case"),
        Binding("r", "add_by_rule", "Add by rule", id="th-rule", tooltip="Add the open cases meeting a rule"),
        Binding("f", "add_by_reference", "Add case", id="th-reference", tooltip="Add one case by its reference"),
        Binding("n", "give", "Give to", id="th-give", tooltip="Give the highlighted case to an auditor"),
        Binding("e", "share_out", "Share out", id="th-share",
                tooltip="Share the cases not yet given out among auditors, evenly"),
        Binding("x", "remove", "Remove", id="th-remove", tooltip="Take the highlighted case out of the theme"),
        Binding("w", "report", "Report", id="th-report", tooltip="Write the themed report as Markdown"),
        Binding("c", "learning", "Learning", id="th-learning", tooltip="Record the learning fed back from the theme"),
        Binding("escape", "back", "Back", id="th-back", tooltip="Back to the list of themes"),
    ]

    def __init__(self, theme_id: uuid.UUID) -> None:
        super().__init__()
        self.theme_id = theme_id
        self.progress: ThemeProgress | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="th-title")
        yield Static("", id="th-progress")
        yield RecordTable(("Case", "Cat.", "Team", "Worker", "Auditor", "Audit"), self.cells, lambda row: row.id,
                          id="th-table")
        yield Static("", id="th-hint")
        yield Footer()

    @property
    def table(self) -> RecordTable[ThemeCaseRow]:
        return self.query_one("#th-table", RecordTable)

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        from qa_tui.services.audits.theme_report import theme_progress
        from qa_tui.services.audits.themes import theme_cases

        theme_id = self.theme_id
        self.call_service(lambda s: (theme_progress(s, theme_id), theme_cases(s, theme_id)), self.show,
                          group="theme", exclusive=True)

    @staticmethod
    def cells(row: ThemeCaseRow) -> Sequence[object]:
        return (row.reference, row.category, row.team_code, row.worker_name, row.auditor_name or "—", row.status_label)

    def show(self, loaded: tuple[ThemeProgress, list[ThemeCaseRow]]) -> None:
        self.progress, cases = loaded
        theme = self.progress.theme
        by = f" · requested by {theme.requested_by}" if theme.requested_by else ""
        agencies = f" · {', '.join(theme.agencies)}" if theme.agencies else ""
        self.query_one("#th-title", Static).update(Text.assemble(
            literal(theme.name, "bold"), literal(f" · {theme.kind_name.lower()}{by}{agencies} · "),
            literal(f" {theme.status.upper()} ", "reverse")))
        parts = [f"{p.name}: {p.submitted + p.done}/{p.assigned} done, {p.draft} in draft" for p in self.progress.by_auditor]
        self.query_one("#th-progress", Static).update(literal(
            f"{plural(self.progress.cases, 'case')}, {self.progress.completed} audited · " + (" · ".join(parts) or "no cases yet")))
        self.table.show(cases)
        self.query_one("#th-hint", Static).update(
            "Enter audits the highlighted case · n gives it to an auditor · e shares out the rest · w writes the report"
            if cases else "No cases yet: r adds the open cases meeting a rule, f adds one by its reference.")
        self.table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_audit()

    def action_audit(self) -> None:
        row = self.table.current
        if row is None:
            return
        from qa_tui.services.audits.themes import start_theme_audit

        ctx = self.ctx
        self.open_or_start_audit(
            row.audit_id, f"Start the audit of {row.reference} ({row.worker_name or 'unallocated'})?",
            "You will be its auditor; it is dated today.",
            lambda s, me: start_theme_audit(s, row.id, me, today=ctx.today(), cfg=ctx.config))

    # --- the case list ---------------------------------------------------------------------

    def action_add_by_rule(self) -> None:
        from qa_tui.services.audits.theme_rules import MONTH_RULES, RULE_KINDS, rule_prompt

        def kind_chosen(kind: str | None) -> None:
            if kind is not None:
                self.app.push_screen(TextPrompt(RULE_KINDS[kind], rule_prompt(kind),
                                                initial="3" if kind in MONTH_RULES else ""),
                                     lambda text: self._preview_rule(kind, text))

        self.app.push_screen(ChoiceDialog("Add the open cases where…", list(RULE_KINDS.items())), kind_chosen)

    def _preview_rule(self, kind: str, text: str | None) -> None:
        from qa_tui.errors import ValidationError
        from qa_tui.services.audits.theme_rules import MAX_CASES_BY_RULE, cases_matching, rule_from_text

        if not text:
            return
        try:
            rule = rule_from_text(kind, text)
        except ValidationError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        today = self.ctx.today()
        self.call_service(lambda s: cases_matching(s, [rule], today, limit=MAX_CASES_BY_RULE + 1),
                          lambda matching: self._confirm_rule(rule, matching))

    def _confirm_rule(self, rule: CaseRule, matching: list[CaseChoice]) -> None:
        from qa_tui.services.audits.theme_rules import MAX_CASES_BY_RULE
        from qa_tui.services.audits.themes import add_cases_by_rule

        if not matching:
            self.notify(f"No open case where {rule.describe()}.", severity="warning", markup=False)
            return
        today, theme_id = self.ctx.today(), self.theme_id
        shown = ", ".join(c.reference for c in matching[:12]) + (" …" if len(matching) > 12 else "")
        more = f"more than {MAX_CASES_BY_RULE}" if len(matching) > MAX_CASES_BY_RULE else str(len(matching))

        def yes(answer: bool | None) -> None:
            if answer:
                self.call_service(lambda s: add_cases_by_rule(s, theme_id, [rule], today),
                                  lambda added: self._changed(f"Added {added.added} cases ({added.already} were "
                                                              "already in the list)."), write=True)

        self.app.push_screen(ConfirmDialog(f"Add the {more} open cases where {rule.describe()}?", shown), yes)

    def _changed(self, message: str = "") -> None:
        if message:
            self.notify(message, markup=False)
        self.reload()

    def action_add_by_reference(self) -> None:
        from qa_tui.services.audits.themes import add_case_by_reference

        theme_id = self.theme_id

        def typed(reference: str | None) -> None:
            if reference:
                self.call_service(lambda s: add_case_by_reference(s, theme_id, reference),
                                  lambda row: self._changed(f"{row.reference} added."), write=True)

        self.app.push_screen(TextPrompt("Add a case by hand", "Case reference", placeholder="e.g. CASE-0042"), typed)

    def action_remove(self) -> None:
        row = self.table.current
        if row is None:
            return
        from qa_tui.services.audits.themes import remove_case

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.call_service(lambda s: remove_case(s, row.id), lambda _: self._changed(), write=True)

        self.app.push_screen(ConfirmDialog(f"Take {row.reference} out of this theme?"), confirmed)

    # --- giving cases out ------------------------------------------------------------------

    def _auditors(self, then: Callable[[list[PersonRef]], None]) -> None:
        from qa_tui.services.audits.kinds import auditors_for_picking

        today = self.ctx.today()
        self.call_service(lambda s: auditors_for_picking(s, today), then)

    def action_give(self) -> None:
        row = self.table.current
        if row is None:
            return
        from qa_tui.services.audits.themes import assign_case

        def chosen(person_id: uuid.UUID | None) -> None:
            if person_id is not None:
                self.call_service(lambda s: assign_case(s, row.id, person_id, expected_version=row.version),
                                  lambda given: self._changed(f"{given.reference} given to {given.auditor_name}."),
                                  write=True)

        self._auditors(lambda people: self.app.push_screen(
            ChoiceDialog(f"Give {row.reference} to…", person_options(people), row.auditor_id), chosen))

    def action_share_out(self) -> None:
        from qa_tui.services.audits.themes import assign_evenly

        theme_id = self.theme_id

        def chosen(people: list[uuid.UUID] | None) -> None:
            if people:
                self.call_service(lambda s: assign_evenly(s, theme_id, people),
                                  lambda n: self._changed(f"{plural(n, 'case')} shared out."), write=True)

        self._auditors(lambda people: self.app.push_screen(
            PeopleSelection("Share the cases not yet given out among…", people), chosen))

    # --- the report and the learning -------------------------------------------------------

    def action_report(self) -> None:
        write_theme_report(self, self.theme_id)

    def action_learning(self) -> None:
        if self.progress is None:
            return
        from screens.note_drafts import ask_note, note_draft

        theme = self.progress.theme
        ask_note(self, note_draft("theme-learning", theme.id, theme.name, version=theme.version,
                                  current={"text": theme.learning}), lambda _: self._changed())

    def action_back(self) -> None:
        self.dismiss()

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Theme: add cases by rule", "CP plans ending soon, running long, category, team, opened",
                            self.action_add_by_rule)
        yield SystemCommand("Theme: add a case by reference", "Pick one case by hand", self.action_add_by_reference)
        yield SystemCommand("Theme: share out the cases", "Give the cases not yet given out to auditors evenly",
                            self.action_share_out)
        yield SystemCommand("Theme: write the report", "The themed report as Markdown", self.action_report)
        yield SystemCommand("Theme: learning fed back", "Record the learning from this theme", self.action_learning)
