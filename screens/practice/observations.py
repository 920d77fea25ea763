"""Practice observations: who is covered, due or overdue this financial year; the observation
form itself is in screens.practice.observation_form."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Static

from qa_tui.widgets.literal import literal, literal_markup
from screens.dialogs import ChoiceDialog
from screens.lists import TOGGLE_TEAMS, ListScreen
from screens.practice.observation_form import ObservationFormScreen, short_date

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qa_tui.services.practice.observations import CoverageList, CoverageRow
    from qa_tui.services.practice.pickers import ObservationChoice

__all__ = ["ObservationFormScreen", "ObservationsScreen"]

STATUS_FILTERS: tuple[str | None, ...] = (None, "overdue", "due", "covered")
STATUS_STYLES = {"overdue": "bold red", "due": "yellow", "covered": "green"}
NEW = "new"


def status_cell(status: str) -> Text:
    return literal(status, STATUS_STYLES.get(status, ""))


class ObservationsScreen(ListScreen["CoverageRow", "CoverageList"]):
    """Observation coverage for the financial year: the user's team, or every team."""

    CSS_PATH = "observations.tcss"
    BINDINGS = [
        Binding("enter", "open_record", "Open", id="open-observation", priority=True,
                tooltip="The highlighted worker's observations, or a new one"),
        Binding("n", "new_observation", "New observation", id="new-observation",
                tooltip="Record a practice observation"),
        Binding("f", "next_filter", "Filter", id="filter-coverage",
                tooltip="Show everyone, or only the overdue, due or covered"),
        TOGGLE_TEAMS,
        Binding("r", "refresh", "Refresh", id="refresh-coverage", tooltip="Read the coverage again"),
    ]
    PREFIX, GROUP = "obs", "coverage"
    COLUMNS = ("Worker", "Role", "Team", "This FY", "Last observed", "Status", "Next due")

    def __init__(self) -> None:
        super().__init__()
        self.status_filter: str | None = None

    def compose_extra(self) -> ComposeResult:
        yield Static("", id="obs-themes")

    def load(self) -> Callable[[Session], CoverageList]:
        from qa_tui.services.practice.observations import coverage_list

        ctx, today, team_id = self.ctx, self.ctx.today(), self.scope_team_id
        return lambda s: coverage_list(s, today, ctx.config, team_id=team_id)

    def records(self, loaded: CoverageList) -> list[CoverageRow]:
        return [r for r in loaded.rows if self.status_filter in (None, r.status)]

    def key(self, record: CoverageRow) -> uuid.UUID:
        return record.worker_id

    def cells(self, r: CoverageRow) -> tuple[object, ...]:
        return (r.worker_name, r.role, r.team_code or "", str(r.observed_this_year), short_date(r.last_observed),
                status_cell(r.status), short_date(r.next_due))

    def title_line(self, loaded: CoverageList) -> Content:
        from qa_tui.dates import financial_year_label

        counts = {status: sum(r.status == status for r in loaded.rows) for status in STATUS_FILTERS[1:]}
        shown_filter = f" · showing {self.status_filter} only" if self.status_filter else ""
        return literal_markup("[b]Observation coverage $year[/b] · $scope · [b red]$overdue[/] overdue · "
                              "[b]$due[/b] due · $covered covered$shown", year=financial_year_label(self.ctx.today()),
                              scope=self.scope_label, shown=shown_filter, **counts)

    def detail(self, record: CoverageRow | None) -> Content:
        if record is None:
            return Content("")
        if record.asye_windows:
            from qa_tui.services.practice.asye import asye_summary

            windows = " · ".join(f"{w.label} {w.status}" + (f" {short_date(w.observed_on)}" if w.observed_on else "")
                                 for w in record.asye_windows)
            return literal_markup("[b]$name[/b]: ASYE $summary ($windows)", name=record.worker_name,
                                  summary=asye_summary(record.asye_windows), windows=windows)
        return literal_markup("[b]$name[/b]: $reason", name=record.worker_name, reason=record.reason)

    def show(self, loaded: CoverageList) -> None:
        super().show(loaded)
        top = ", ".join(f"{t.theme} ({t.count})" for t in loaded.themes[:6]) or "none tagged yet"
        self.query_one("#obs-themes", Static).update(
            literal(f"Themes this year, all teams: {top}") if loaded.rows else
            "No practitioners here. Press a to see every team.")

    def action_next_filter(self) -> None:
        self.status_filter = STATUS_FILTERS[(STATUS_FILTERS.index(self.status_filter) + 1) % len(STATUS_FILTERS)]
        if self.loaded is not None:
            self.show(self.loaded)

    def open_record(self, row: CoverageRow) -> None:
        from qa_tui.services.practice.pickers import observations_of_worker

        self.call_service(lambda s: observations_of_worker(s, row.worker_id),
                          lambda found: self._choose_observation(row, found))

    def _choose_observation(self, row: CoverageRow, found: list[ObservationChoice]) -> None:
        if not found:
            self.app.push_screen(ObservationFormScreen(worker_id=row.worker_id))
            return
        options: list[tuple[Any, str]] = [(NEW, f"New observation of {row.worker_name}")]
        options += [(o.id, f"{short_date(o.observed_on)} · {o.kind_label}"
                           f"{' · ' + o.setting if o.setting else ''} · by {o.observer_name or 'not recorded'}")
                    for o in found]

        def chosen(value: Any) -> None:
            if value == NEW:
                self.app.push_screen(ObservationFormScreen(worker_id=row.worker_id))
            elif value is not None:
                self.app.push_screen(ObservationFormScreen(observation_id=value))

        self.app.push_screen(ChoiceDialog(f"Observations of {row.worker_name}", options), chosen)

    def action_new_observation(self) -> None:
        self.app.push_screen(ObservationFormScreen())

    def palette_commands(self):  # noqa: ANN201 - a generator of SystemCommand
        from textual.app import SystemCommand

        yield SystemCommand("Observations: new observation", "Record a practice observation",
                            self.action_new_observation)
        yield SystemCommand("Observations: show overdue only", "Filter the coverage list",
                            self.action_next_filter)
        yield SystemCommand("Observations: all teams / my team", "Widen or narrow the coverage list",
                            self.action_toggle_teams)
