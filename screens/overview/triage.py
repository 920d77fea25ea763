"""Triage: everything late in one list, filtered and sorted with single keys, paged from the
database as the cursor moves down; act on one row or several at once."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Input, Static

from qa_tui.widgets.literal import literal, literal_markup
from qa_tui.widgets.record_table import RecordTable
from screens.base import QAScreen
from screens.dialogs import ChoiceDialog, TextPrompt

if TYPE_CHECKING:
    from qa_tui.services.programme.triage import TriageCursor, TriageFilters, TriagePage, TriageRow

PAGE = 100
# The Kind column in a word (What says the rest), so it never needs cutting at 100 columns.
KIND_SHORT = {"action": "Action", "moderation": "Moderation", "finalisation": "Finalising",
              "supervision": "Supervision", "observation": "Observation", "dip_sample": "Dip sample",
              "escalation": "Escalation"}


class DaysLatePrompt(TextPrompt):
    """How many days late work must be to show, typed; a number the filter refuses is named
    under the field and what was typed stays there."""

    def __init__(self, filters: TriageFilters) -> None:
        super().__init__("Show work late by at least", "Days late (0 also shows what is owed, not yet late)",
                         initial=str(filters.min_days_overdue))
        self.filters = filters

    def on_input_submitted(self, event: Input.Submitted) -> None:
        from qa_tui.errors import ValidationError
        from qa_tui.services.programme.triage import check_filters

        event.prevent_default()  # the plain prompt's own handler would accept any text
        typed = event.value.strip()
        try:
            check_filters(replace(self.filters, min_days_overdue=int(typed)))
        except ValueError:
            self.query_one("#prompt-error", Static).update(literal(f"Days late: {typed!r} is not a whole number."))
            return
        except ValidationError as exc:
            self.query_one("#prompt-error", Static).update(literal(str(exc)))
            return
        self.dismiss(typed)


class TriageScreen(QAScreen):
    CSS_PATH = "triage.tcss"
    AUTO_FOCUS = "#triage-table"  # keys act on the list; / goes to the search box
    # Area letters stay area keys here: a key that shares one is its capital (K, O, A). The search
    # box names its key, the status line names space; those, Service and Sort are in help (F1).
    BINDINGS = [
        Binding("slash", "search", "Search", show=False, id="triage-search",
                tooltip="Search titles, owners and case references (letters in order)"),
        Binding("K", "cycle_kind", "Kind", id="triage-kind", tooltip="Every kind of late work, or one kind"),
        Binding("w", "choose_team", "Team", id="triage-team", tooltip="One team's late work, or every team's"),
        Binding("v", "choose_service", "Service", show=False, id="triage-service",
                tooltip="Every team of one service (a head of service's view), or every service"),
        Binding("O", "choose_owner", "Owner", id="triage-owner", tooltip="One person's late work, or anyone's"),
        Binding("g", "days_late", "Days late", id="triage-days",
                tooltip="Type how many days late work must be to show (0 shows what is owed too)"),
        Binding("r", "cycle_sort", "Sort", show=False, id="triage-sort", tooltip="Sort another way"),
        Binding("space", "toggle_select", "Select", show=False, id="triage-select",
                tooltip="Select the highlighted action, to act on several together"),
        Binding("c", "complete", "Done", id="triage-done",
                tooltip="Mark the selected (or highlighted) actions done, with evidence"),
        Binding("e", "extend", "Extend", id="triage-extend",
                tooltip="Give the selected (or highlighted) actions a new due date, with a reason"),
        Binding("A", "reassign", "Reassign", id="triage-reassign",
                tooltip="Give the selected (or highlighted) actions a new owner, with a reason"),
        Binding("enter", "open_row", "Open", id="triage-open", tooltip="Open the highlighted row"),
        Binding("x", "clear_filters", "Clear filters", id="triage-clear",
                tooltip="Back to your own team's late work of every kind"),
        Binding("h", "history", "History", show=False, id="triage-history",
                tooltip="Who changed the highlighted record, when, old → new (an action's extensions too)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filters: TriageFilters | None = None
        self.next_cursor: TriageCursor | None = None
        self.selected: set[uuid.UUID] = set()
        self.loading_more = False
        self.team_names: dict[uuid.UUID, str] = {}
        self.service_names: dict[uuid.UUID, str] = {}
        # The late supervisions, observations, audits and dip samples for the current team and
        # owner: computed once, reused while only the kind, days, text or sort filters change.
        self.others: tuple[tuple[Any, Any], list[TriageRow]] | None = None
        self.owner_name = ""
        self.total: int | None = None  # every row the filters match, counted after the first page

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="triage-filters")
        yield Input(placeholder="/ to search: title, owner, case reference (letters in order)", id="triage-search-box")
        yield RecordTable((" ", "Kind", "What", "Case / worker", "Owner", "Team", "Due", "Late"), self._cells,
                          lambda row: f"{row.kind}:{row.record_id}", id="triage-table", wide=("What",))
        yield Static("", id="triage-status")
        yield Footer()

    @property
    def table(self) -> RecordTable[TriageRow]:
        return self.query_one("#triage-table", RecordTable)

    @property
    def rows(self) -> list[TriageRow]:
        """The rows listed so far (pages are added as the cursor moves down)."""
        return self.table.records

    def on_screen_resume(self) -> None:
        if self.filters is None:
            from qa_tui.services.people.directory import list_services, list_teams
            from qa_tui.services.programme.triage import load_triage_filter

            login, team_id, person_id = self.ctx.login, self.ctx.team_id, self.ctx.person_id
            self.call_service(lambda s: (load_triage_filter(s, login, team_id, person_id), list_teams(s),
                                         list_services(s)), self._filters_loaded)
        else:
            self.reload(changed=True)  # work may have moved on while elsewhere

    def _filters_loaded(self, loaded: tuple[TriageFilters, list[Any], list[Any]]) -> None:
        filters, teams, services = loaded
        self.team_names = {t.id: t.name for t in teams}  # the header names the team or service in scope
        self.service_names = {x.id: x.name for x in services}
        self.filters = filters
        self.query_one("#triage-search-box", Input).value = filters.text
        self.reload()

    # --- loading ---------------------------------------------------------------------------

    def reload(self, *, remember: bool = False, changed: bool = False) -> None:
        """Show the first page again; `changed` after acting on rows (the late work itself moved)."""
        from qa_tui.services.programme.triage import other_rows, save_triage_filter, triage_page

        if self.filters is None:
            return
        ctx, filters = self.ctx, self.filters
        scope = (filters.team_id, filters.owner_id, filters.service_id)
        cached = None if changed or self.others is None or self.others[0] != scope else self.others[1]
        self.next_cursor, self.selected = None, set()

        def first_page(s: Any) -> tuple[list[TriageRow], TriagePage]:
            if remember:
                save_triage_filter(s, ctx.login, filters)
            others = cached if cached is not None else other_rows(
                s, ctx.today(), ctx.config, team_id=filters.team_id, owner_id=filters.owner_id, kinds=(),
                service_id=filters.service_id)
            return others, triage_page(s, ctx.today(), ctx.config, filters, limit=PAGE, others=others)

        def show(result: tuple[list[TriageRow], TriagePage]) -> None:
            self.others = (scope, result[0])
            self._show(result[1], fresh=True)
            self._count(filters, result[0])

        self.call_service(first_page, show, write=remember, group="triage", exclusive=True)
        self._describe_filters()

    def _count(self, filters: TriageFilters, others: list[TriageRow]) -> None:
        """The total the filters match, every page together, for the status line."""
        from qa_tui.services.programme.triage import triage_counts

        ctx = self.ctx

        def counted(counts: dict[str, int]) -> None:
            if filters == self.filters:
                self.total = sum(n for kind, n in counts.items() if not filters.kinds or kind in filters.kinds)
                self._show_status()

        self.total = None
        self.call_service(lambda s: triage_counts(s, ctx.today(), ctx.config, filters, others=others), counted,
                          group="triage-count", exclusive=True)

    def _load_more(self) -> None:
        from qa_tui.services.programme.triage import triage_page

        if self.next_cursor is None or self.loading_more or self.filters is None:
            return
        self.loading_more = True
        ctx, filters, after = self.ctx, self.filters, self.next_cursor
        others = self.others[1] if self.others else None
        self.call_service(lambda s: triage_page(s, ctx.today(), ctx.config, filters, after=after, limit=PAGE,
                                                others=others),
                          lambda page: self._show(page, fresh=False), group="triage-more")

    def _show(self, page: TriagePage, *, fresh: bool) -> None:
        table = self.table
        self.loading_more = False
        rows = [] if fresh else list(table.records)  # the next page goes below what is shown
        listed = {table.key_of(row) for row in rows}
        for row in page.rows:
            if table.key_of(row) not in listed:  # never the same row twice, even where pages meet
                listed.add(table.key_of(row))
                rows.append(row)
        table.hidden = {"Team"} if self.filters is not None and self.filters.team_id else set()  # one team: said above
        table.show(rows, keep_cursor=not fresh)  # a new list starts at the top
        self.next_cursor = page.next_cursor
        self._show_status()
        if fresh:
            table.focus()

    def _show_status(self) -> None:
        more = " · more below" if self.next_cursor else ""
        total = "…" if self.total is None else str(self.total)
        self.query_one("#triage-status", Static).update(literal(
            f"{total} in all · {len(self.rows)} shown{more} · {len(self.selected)} selected · "
            "space selects, c done, e extend, A reassign"))

    def _cells(self, row: TriageRow) -> tuple[str, ...]:
        """The row as shown; its mark says whether it is selected."""
        mark = "✓" if row.record_id in self.selected else " "
        due = f"{row.due_on:%d/%m/%y}" if row.due_on else "—"
        late = f"{row.days_overdue}d" if row.late else "owed"
        return (mark, KIND_SHORT.get(row.kind, row.kind), row.title, row.subject, row.owner_name, row.team_name, due,
                late)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= len(self.rows) - 10:
            self._load_more()

    # --- filters -----------------------------------------------------------------------------

    def _set(self, **changes: Any) -> None:
        if self.filters is not None:
            self.filters = replace(self.filters, **changes)
            self.reload(remember=True)

    def _describe_filters(self) -> None:
        from qa_tui.services.programme.triage import TRIAGE_KINDS

        f = self.filters
        if f is None:
            return
        kinds = ", ".join(TRIAGE_KINDS[k] for k in f.kinds) if f.kinds else "all kinds"
        team = self.team_names.get(f.team_id, "a team") if f.team_id else "all teams"
        if f.service_id:
            team = f"service {self.service_names.get(f.service_id, '')}".strip()
        owner = self.owner_name or "someone" if f.owner_id else "anyone"
        search = f" · search “{f.text}”" if f.text else ""
        self.query_one("#triage-filters", Static).update(literal_markup(
            "[b]Late work[/b] · $filters", filters=f"{kinds} · {team} · owner {owner} · ≥{f.min_days_overdue} "
                                                   f"days late · sorted by {f.sort}{search}"))

    def action_search(self) -> None:
        self.query_one("#triage-search-box", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._set(text=event.value.strip())
        self.table.focus()

    def action_cycle_kind(self) -> None:
        from qa_tui.services.programme.triage import TRIAGE_KINDS

        if self.filters is None:
            return
        order = [()] + [(k,) for k in TRIAGE_KINDS]
        current = order.index(tuple(self.filters.kinds)) if tuple(self.filters.kinds) in order else 0
        self._set(kinds=order[(current + 1) % len(order)])

    def action_days_late(self) -> None:
        if self.filters is not None:
            self.app.push_screen(DaysLatePrompt(self.filters), lambda days: days is not None and self._set(
                min_days_overdue=int(days)))

    def action_cycle_sort(self) -> None:
        from qa_tui.services.programme.triage import TRIAGE_SORTS

        if self.filters is not None:
            self._set(sort=TRIAGE_SORTS[(TRIAGE_SORTS.index(self.filters.sort) + 1) % len(TRIAGE_SORTS)])

    def action_clear_filters(self) -> None:
        """Back to the user's own scope, as at first: their team, or a head of service's service."""
        from qa_tui.services.programme.triage import default_triage_filters

        team_id, person_id = self.ctx.team_id, self.ctx.person_id
        self.query_one("#triage-search-box", Input).value = ""
        self.call_service(lambda s: default_triage_filters(s, team_id, person_id), self._cleared)

    def _cleared(self, filters: TriageFilters) -> None:
        self.filters = filters
        self.reload(remember=True)

    def action_choose_team(self) -> None:
        from qa_tui.services.people.directory import list_teams

        def ask(teams: list[Any]) -> None:
            self.team_names = {t.id: t.name for t in teams}
            options: list[tuple[Any, str]] = [("all", "All teams")] + [(t.id, t.name) for t in teams]
            self.app.push_screen(ChoiceDialog("Which team?", options),
                                 lambda choice: choice is not None and self._set(team_id=None if choice == "all" else choice))

        self.call_service(list_teams, ask)

    def action_choose_service(self) -> None:
        from qa_tui.services.people.directory import list_services

        def ask(services: list[Any]) -> None:
            self.service_names = {x.id: x.name for x in services}
            options: list[tuple[Any, str]] = [("all", "Every service")] + [(x.id, x.name) for x in services]
            self.app.push_screen(ChoiceDialog("Which service?", options), lambda choice: choice is not None and self._set(
                service_id=None if choice == "all" else choice, team_id=None))

        self.call_service(list_services, ask)

    def action_choose_owner(self) -> None:
        from qa_tui.services.people.directory import people_for_picking

        def ask(people: list[Any]) -> None:
            names = {p.id: p.name for p in people}
            options: list[tuple[Any, str]] = [("any", "Anyone")] + [(p.id, f"{p.name} ({p.role})") for p in people]

            def chosen(choice: Any) -> None:
                if choice is not None:
                    self.owner_name = names.get(choice, "")
                    self._set(owner_id=None if choice == "any" else choice)

            self.app.push_screen(ChoiceDialog("Whose late work?", options), chosen)

        ctx, team_id = self.ctx, self.filters.team_id if self.filters else None
        self.call_service(lambda s: people_for_picking(s, ctx.today(), team_id=team_id), ask)

    # --- acting on rows ----------------------------------------------------------------------

    def action_toggle_select(self) -> None:
        table = self.table
        row = table.current
        if row is None:
            return
        if row.kind != "action":
            self.notify("Only actions can be selected to complete, extend or reassign together.", severity="warning")
            return
        self.selected ^= {row.record_id}
        table.replace(row)  # its mark
        table.move_cursor(row=table.cursor_row + 1)
        self._show_status()

    def _targets(self) -> list[uuid.UUID]:
        if self.selected:
            return list(self.selected)
        row = self.table.current
        if row is not None and row.kind == "action":
            return [row.record_id]
        self.notify("Highlight or select (space) one or more actions first.", severity="warning")
        return []

    def _seen_versions(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        """The versions shown in the list: acting on a row someone changed since is refused."""
        return {r.record_id: r.version for r in self.rows if r.record_id in ids and r.version is not None}

    def _change(self, change: str) -> None:
        """Mark done, extend or reassign the selected actions (or the highlighted one), what is
        typed kept as a draft until stored (screens.action_drafts)."""
        ids = self._targets()
        if not ids:
            return
        from screens.action_drafts import change_actions, change_draft

        row = self.table.current
        title = row.title if len(ids) == 1 and row is not None and row.record_id == ids[0] else f"{len(ids)} actions"
        draft = change_draft(change, ids, self._seen_versions(ids), title,
                             team_id=self.filters.team_id if self.filters else None)
        change_actions(self, draft, lambda: self.reload(changed=True))

    def action_complete(self) -> None:
        self._change("done")

    def action_extend(self) -> None:
        self._change("extend")

    def action_reassign(self) -> None:
        self._change("reassign")

    def show_only(self, filters: TriageFilters, owner_name: str = "") -> None:
        """Show these filters (not remembered as the user's own): the dashboard's escalations key."""
        self.filters, self.owner_name = filters, owner_name
        if self.is_mounted:
            self.query_one("#triage-search-box", Input).value = filters.text
        self.others = None

    def action_open_row(self) -> None:
        row = self.table.current
        if row is None:
            return
        if row.kind == "escalation":
            from screens.audits.escalation_answer import EscalationAnswerDialog

            self.app.push_screen(EscalationAnswerDialog(row.record_id, row.title),
                                 lambda answered: answered and self.reload(changed=True))
        elif row.kind in ("moderation", "finalisation"):
            from screens.audits.moderation import ModerateAuditScreen

            self.app.push_screen(ModerateAuditScreen(row.record_id, read_only=True))
        else:
            self.notify(f"{row.title} — {row.detail}", timeout=10, markup=False)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_row()

    def action_history(self) -> None:
        from screens.history import HistoryScreen

        row = self.table.current
        if row is None:
            return
        kind = {"action": "action", "moderation": "audit", "finalisation": "audit",
                "escalation": "escalation"}.get(row.kind, "person")
        self.app.push_screen(HistoryScreen(kind, row.record_id))

    def palette_commands(self):  # noqa: ANN201
        from textual.app import SystemCommand

        yield SystemCommand("Triage: clear filters", "Show every kind of late work", self.action_clear_filters)
        yield SystemCommand("Triage: one service", "Every team of one service (a head of service's view)",
                            self.action_choose_service)
        yield SystemCommand("Triage: history of the highlighted record", "Who changed what, when, old → new",
                            self.action_history)
        yield SystemCommand("Triage: mark selected actions done", "With evidence", self.action_complete)
        yield SystemCommand("Triage: open the highlighted row", "An escalation opens its answer; a late audit, the audit",
                            self.action_open_row)
