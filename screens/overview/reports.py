"""Reports: what the user owes under the QA programme, compliance per team or role, the monthly
report with small bar charts, and the CP plan review list; the month's report exported as
Markdown, HTML, a CSV folder or XLSX."""

from __future__ import annotations

import uuid
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane

from qa_tui.widgets.grades import grade_names, shortest_fit
from qa_tui.widgets.literal import literal, literal_markup
from qa_tui.widgets.record_table import RecordTable
from screens.base import QAScreen
from screens.dialogs import ChoiceDialog

if TYPE_CHECKING:
    from qa_tui.dates import Month
    from qa_tui.services.programme.compliance import Compliance, ComplianceRow
    from qa_tui.services.programme.cp_reviews import CpReviewRow
    from qa_tui.services.programme.obligations import Obligations
    from qa_tui.services.reports.figures import PeriodReport

EXPORT_FORMATS = (("md", "Markdown (for reading)"), ("html", "HTML page (for reading, e-mail, intranet)"),
                  ("csv", "CSV folder (Power BI)"), ("xlsx", "XLSX workbook (Power BI, Excel)"))
FREQUENCY_ORDER = ("weekly", "fortnightly", "monthly", "bimonthly", "quarterly", "six_monthly",
                   "financial_year", "on_event")
STATUS_ORDER = {"late": 0, "due": 1, "met": 2}
ITEMS_SHOWN = 5
BAR_WIDTH = 30
BAR_WIDTH_COMPLIANCE = 5
# Done ("10 of 12") and what it counts ("audits") are short, so always whole; at 100 columns the
# labels, who owes and the period give way first.
OWE_COLUMNS = ("Status", "Task", "Period", "Done", "Due by")
COMPLIANCE_COLUMNS = ("Group / task", "Owed by", "Done", "", "Rate", "", "Late", "Met", "Period")
BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(value: float, largest: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of eighth blocks, `width` cells for `largest`."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = round(value / largest * width * 8)
    return "█" * (eighths // 8) + (BLOCKS[eighths % 8] if eighths % 8 else "")


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


class ReportsScreen(QAScreen):
    CSS_PATH = "reports.tcss"
    BINDINGS = [
        Binding("left_square_bracket", "shift_month(-1)", "Month −", id="reports-month-back",
                tooltip="The monthly report for the month before"),
        Binding("right_square_bracket", "shift_month(1)", "Month +", id="reports-month-on",
                tooltip="The monthly report for the month after"),
        Binding("g", "toggle_group", "Team/role", id="reports-group", tooltip="Compliance by team, or by role"),
        Binding("v", "toggle_service", "Service/council", show=False, id="reports-service",
                tooltip="A head of service: compliance in your service, or the whole council"),
        Binding("e", "export", "Export", id="reports-export",
                tooltip="Export the monthly report as Markdown, HTML, a CSV folder or XLSX"),
        Binding("r", "refresh", "Refresh", id="reports-refresh", tooltip="Read every report again"),
        Binding("w", "behind_rate", "Who is behind", id="reports-behind",
                tooltip="The people and cases behind the highlighted compliance rate (Enter does the same)"),
        Binding("1", "tab('tab-owe')", "Tabs 1-5", id="reports-tab-owe", tooltip="What I owe (1); 2 to 5 the other tabs"),
        *(Binding(str(i), f"tab('{tab}')", show=False, id=f"reports-{tab}", tooltip=f"Show {label}")
          for i, tab, label in ((2, "tab-compliance", "compliance by team or role"),
                                (3, "tab-monthly", "the monthly report"), (4, "tab-trends", "twelve months' trends"),
                                (5, "tab-cp", "the CP plans to review"))),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.month: Month | None = None
        self.report: PeriodReport | None = None
        self.compliance_by: dict[str, Compliance] = {}
        self.compliance_rows: dict[str, ComplianceRow] = {}  # table row key → the row it shows
        self.group_by = "team"
        self.owed: Obligations | None = None
        self.cp_rows: list[CpReviewRow] = []
        self.last_export: Path | None = None
        # A head of service's compliance opens on their service (None: the whole council); `v` switches.
        self.led_service: tuple[uuid.UUID, str] | None = None
        self.scope_read = False
        self.whole_council = False

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="reports-tabs"):
            with TabPane("1 What I owe", id="tab-owe"):
                yield Static("", id="owe-summary", classes="summary")
                # the task gives way at 100 columns; done and due by are always whole
                yield RecordTable(OWE_COLUMNS, lambda line: line[1], lambda line: line[0], id="owe-table",
                                  wide=("Task",))
            with TabPane("2 Compliance", id="tab-compliance"):
                yield Static("", id="compliance-summary", classes="summary")
                # its task, owed-by and period columns give way at 100 columns (RecordTable fits its width)
                yield RecordTable(COMPLIANCE_COLUMNS, lambda line: line[1], lambda line: line[0], id="compliance-table",
                                  wide=("Group / task",))
            with TabPane("3 Monthly report", id="tab-monthly"):
                yield Static("", id="monthly-summary", classes="summary")
                with VerticalScroll(id="monthly-body"):
                    yield Static("", id="monthly-grades")
                    yield Static("", id="monthly-moderation")
                    yield Static("", id="monthly-actions")
            with TabPane("4 Trends", id="tab-trends"):
                with VerticalScroll(id="trends-body"):
                    yield Static("Loading the trends…", id="trends-charts")
            with TabPane("5 CP reviews", id="tab-cp"):
                yield Static("", id="cp-summary", classes="summary")
                yield DataTable(id="cp-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#cp-table", DataTable).add_columns("Case", "Team", "Review", "Last audited", "Why")

    def on_screen_resume(self) -> None:
        if self.month is None:
            from qa_tui.services.reports.figures import last_complete_month

            self.month = last_complete_month(self.ctx.today())
        self.action_refresh()

    # --- loading ---------------------------------------------------------------------------

    def action_refresh(self) -> None:
        from qa_tui.services.programme.cp_reviews import cp_review_list
        from qa_tui.services.programme.obligations import obligations

        ctx = self.ctx
        today, cfg, person_id = ctx.today(), ctx.config, ctx.person_id
        if person_id is not None:
            self.call_service(lambda s: obligations(s, person_id, today, cfg), self._show_owed, group="reports-owe")
        else:
            self.query_one("#owe-summary", Static).update(literal(
                f"No staff record is linked to login {ctx.login!r}: an administrator links it (People & cases, "
                f"or qa-tui db owner on a standalone file) before what you owe can be shown."))
        self._load_compliance()
        self.call_service(lambda s: cp_review_list(s, today, cfg), self._show_cp, group="reports-cp")
        self._load_report()

    def _load_compliance(self) -> None:
        from qa_tui.services.programme.compliance import compliance_tables
        from qa_tui.services.people.directory import led_service

        ctx = self.ctx
        today, cfg, person_id = ctx.today(), ctx.config, ctx.person_id
        if not self.scope_read:
            def read(led: tuple[uuid.UUID, str] | None) -> None:
                self.led_service, self.scope_read = led, True
                self._load_compliance()

            self.call_service(lambda s: led_service(s, person_id), read, group="reports-compliance")
            return
        service_id = None if self.whole_council or self.led_service is None else self.led_service[0]
        self.call_service(lambda s: compliance_tables(s, today, cfg, ("team", "role"), service_id=service_id),
                          self._show_compliance, group="reports-compliance", exclusive=True)

    def action_toggle_service(self) -> None:
        if self.led_service is None:
            self.notify("Compliance is shown for the whole council: you lead no single service.", timeout=6)
            return
        self.whole_council = not self.whole_council
        self.query_one(TabbedContent).active = "tab-compliance"
        self._load_compliance()

    def _load_report(self) -> None:
        from qa_tui.services.programme.periods import month_period
        from qa_tui.services.reports.figures import period_report

        if self.month is None:
            return
        today, cfg, period = self.ctx.today(), self.ctx.config, month_period(self.month)
        self.query_one("#monthly-summary", Static).update(literal(f"Loading the report for {self.month} …"))
        self.call_service(lambda s: period_report(s, period, today, cfg), self._show_report,
                          group="reports-monthly", exclusive=True)
        self._load_trends()

    def _load_trends(self) -> None:
        """Twelve months of charts, ending with the report's month."""
        from qa_tui.services.reports.trends import trends
        from screens.overview.trends import trends_text

        month, today, scale = self.month, self.ctx.today(), self.ctx.config.grading_scale
        if month is None:
            return
        self.call_service(lambda s: trends(s, month, today, scale),
                          lambda t: self.query_one("#trends-charts", Static).update(literal(trends_text(t))),
                          group="reports-trends", exclusive=True)

    def action_shift_month(self, months: int) -> None:
        if self.month is None:
            return
        self.month = self.month.shift(months)
        self.query_one(TabbedContent).active = "tab-monthly"
        self._load_report()

    def action_toggle_group(self) -> None:
        self.group_by = "role" if self.group_by == "team" else "team"
        self.query_one(TabbedContent).active = "tab-compliance"
        self._render_compliance()

    # --- what I owe ------------------------------------------------------------------------

    def _show_owed(self, owed: Obligations) -> None:
        self.owed = owed
        table: RecordTable[tuple[str, tuple[object, ...]]] = self.query_one("#owe-table", RecordTable)
        rows: list[tuple[str, tuple[object, ...]]] = []
        counts = {s: len(owed.with_status(s)) for s in STATUS_ORDER}
        self.query_one("#owe-summary", Static).update(literal_markup(
            "[b]$name[/b] ($staff_id) on $day: [b]$late[/b] late · [b]$due[/b] due · [b]$met[/b] done",
            name=owed.person.name, staff_id=owed.person.staff_id, day=owed.today.isoformat(), **counts)
            if owed.lines else literal(f"{owed.person.name}: the QA programme has no tasks for this role."))
        lines = sorted(owed.lines, key=lambda line: (
            FREQUENCY_ORDER.index(line.frequency) if line.frequency in FREQUENCY_ORDER else len(FREQUENCY_ORDER),
            STATUS_ORDER.get(line.status, 3), line.task_label))
        style = {"late": "bold red", "due": "yellow", "met": "green"}
        for n, line in enumerate(lines):
            rows.append((f"line-{n}", (
                literal(line.status, style.get(line.status, "")), line.task_label, line.period.label,
                f"{line.done} of {line.required}", "" if line.status == "met" else line.due_by.isoformat())))
            waiting = [item for item in line.items if item.done < item.required]
            for i, item in enumerate(waiting[:ITEMS_SHOWN]):
                rows.append((f"line-{n}-{i}", (
                    "", literal(f"  · {item.subject}" + (f" ({item.note})" if item.note else ""), "dim"),
                    "", f"{item.done} of {item.required}", item.due_by.isoformat())))
            if len(waiting) > ITEMS_SHOWN:
                rows.append((f"line-{n}-more", ("", literal(f"  … and {len(waiting) - ITEMS_SHOWN} more", "dim"),
                                                "", "", "")))
        table.show(rows)

    # --- compliance ------------------------------------------------------------------------

    def _show_compliance(self, tables: tuple[Compliance, Compliance]) -> None:
        self.compliance_by = {c.group_by: c for c in tables}
        self._render_compliance()

    def _render_compliance(self) -> None:
        comp = self.compliance_by.get(self.group_by)
        if comp is None:
            return
        table: RecordTable[tuple[int, tuple[object, ...]]] = self.query_one("#compliance-table", RecordTable)
        met = sum(t.people_met for t in comp.totals)
        people = sum(t.people for t in comp.totals)
        where, switch = "the whole council", ""
        if self.led_service is not None:
            where = "the whole council" if self.whole_council else self.led_service[1]
            switch = "your service" if self.whole_council else "the whole council"
        self.query_one("#compliance-summary", Static).update(literal_markup(
            "Compliance in [b]$where[/b] by [b]$group[/b] on $day: $met of $people people met everything · "
            "[b]g[/b] by $other", where=where, group=comp.group_by, day=comp.today.isoformat(), met=met,
            people=people, other="role" if comp.group_by == "team" else "team")
            + (literal_markup(" · [b]v[/b] $switch", switch=switch) if switch else "")
            if comp.totals else "No one owes anything under the QA programme.")
        lines: list[tuple[int, tuple[object, ...]]] = []
        self.compliance_rows = {}
        for total in comp.totals:
            rows = [r for r in comp.rows if r.group == total.group]
            for row in (total, *rows):
                is_total = row is total
                self.compliance_rows[str(len(lines))] = row
                lines.append((len(lines), (
                    literal(f"{row.group_label}: all tasks", "bold") if is_total else f"  {row.task_label}",
                    row.owed_by, row.counted, row.counted_unit, percent(row.rate),
                    literal(bar(row.rate or 0, 1, BAR_WIDTH_COMPLIANCE), "green" if (row.rate or 0) >= 1 else "yellow"),
                    literal(row.people_late, "bold red" if row.people_late else ""), row.people_met,
                    row.period_label)))
        table.show(lines)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a compliance rate: the people (and cases) behind it."""
        if event.data_table.id == "compliance-table":
            self._open_behind(self.compliance_rows.get(event.row_key.value or ""))

    def action_behind_rate(self) -> None:
        table = self.query_one("#compliance-table", DataTable)
        self.query_one(TabbedContent).active = "tab-compliance"
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            self._open_behind(self.compliance_rows.get(key or ""))

    def _open_behind(self, row: ComplianceRow | None) -> None:
        if row is None:
            return
        from screens.overview.compliance_detail import ComplianceDetailScreen

        self.app.push_screen(ComplianceDetailScreen(
            f"{row.group_label}: {row.task_label}", group_by=self.group_by, group=row.group, task=row.task,
            frequency=row.frequency))

    # --- the monthly report ----------------------------------------------------------------

    def _show_report(self, report: PeriodReport) -> None:
        self.report = report
        p = report.period
        self.query_one("#monthly-summary", Static).update(literal_markup(
            "[b]Monthly report $label[/b] ($start to $end), states on $as_at · [b]\\[ ][/b] month · [b]e[/b] export",
            label=p.label, start=p.start.isoformat(), end=p.end.isoformat(), as_at=report.as_at.isoformat()))
        self.query_one("#monthly-grades", Static).update(grades_panel(report))
        self.query_one("#monthly-moderation", Static).update(moderation_panel(report))
        self.query_one("#monthly-actions", Static).update(actions_panel(report))

    # --- CP reviews ------------------------------------------------------------------------

    def _show_cp(self, rows: list[CpReviewRow]) -> None:
        self.cp_rows = list(rows)
        table = self.query_one("#cp-table", DataTable)
        table.clear()
        to_review = sum(not r.reviewed_this_period for r in rows)
        self.query_one("#cp-summary", Static).update(literal_markup(
            "CP plans that lasted under 3 months or have run 18 months or more ($period): "
            "[b]$to_review[/b] to review of $count", period=rows[0].period_label, to_review=to_review, count=len(rows))
            if rows else "No CP plan lasted under 3 months or has run 18 months or more.")
        for r in sorted(rows, key=lambda r: (r.reviewed_this_period, r.team_code, r.case_reference)):
            table.add_row(*map(literal, (
                r.case_reference, r.team_code,
                literal("reviewed", "green") if r.reviewed_this_period else literal("to review", "bold"),
                r.last_reviewed.isoformat() if r.last_reviewed else "never", r.reason)), key=str(r.case_id))

    # --- export ----------------------------------------------------------------------------

    def action_export(self) -> None:
        self.app.push_screen(ChoiceDialog("Export the monthly report as", list(EXPORT_FORMATS)), self.export_as)

    def export_as(self, fmt: str | None) -> None:
        """Write the month's report in `fmt` under the exports folder (files 0600)."""
        from qa_tui.files import exports_dir

        if fmt is None or self.month is None:
            return
        from qa_tui.services.programme.periods import month_period
        from qa_tui.services.reports.files import export_report_html, export_report_xlsx
        from qa_tui.services.reports.figures import period_report
        from qa_tui.services.reports.markdown import export_report_markdown
        from qa_tui.services.reports.tables import export_report_csv

        ctx, period, folder = self.ctx, month_period(self.month), exports_dir()
        shown = self.report if self.report is not None and self.report.period == period else None

        def export(s: Any) -> Path:
            report = shown or period_report(s, period, ctx.today(), ctx.config)
            if fmt == "md":
                return export_report_markdown(s, report, folder)
            if fmt == "html":
                return export_report_html(s, report, folder)
            if fmt == "csv":
                out = folder / f"qa-report-{report.period_id}-csv"
                export_report_csv(s, report, out)
                return out
            return export_report_xlsx(s, report, folder / f"qa-report-{report.period_id}.xlsx")

        def done(path: Path) -> None:
            self.last_export = path
            self.notify(f"Wrote {path}", title="Exported", markup=False)

        self.call_service(export, done, write=True, group="reports-export")

    def palette_commands(self):
        from textual.app import SystemCommand

        yield SystemCommand("Reports: trends", "Twelve months of grades, agreement and overdue actions, as charts",
                            lambda: setattr(self.query_one(TabbedContent), "active", "tab-trends"))
        for fmt, label in EXPORT_FORMATS:
            yield SystemCommand(f"Reports: export the monthly report as {fmt.upper()}", label,
                                lambda fmt=fmt: self.export_as(fmt))
        yield SystemCommand("Reports: compliance by team or role", "Toggle the grouping", self.action_toggle_group)
        yield SystemCommand("Reports: previous month", "The monthly report for the month before",
                            lambda: self.action_shift_month(-1))
        yield SystemCommand("Reports: next month", "The monthly report for the month after",
                            lambda: self.action_shift_month(1))


# --- the monthly panels: Rich tables, with bars where they say it faster ----------------------


def _team(code: str) -> Text:
    return literal(code or "(no team)")


def grades_panel(report: PeriodReport) -> Table:
    from qa_tui.services.reports.figures import GRADES

    scale = report.grading_scale
    table = Table(title="Audits completed: moderated grade (auditors')", title_justify="left",
                  show_edge=False)
    table.add_column("Team")
    for label in scale:
        table.add_column(literal(shortest_fit(list(grade_names(label)), 20)), justify="right")
    by_team: dict[str, dict[int, tuple[int, int]]] = defaultdict(dict)
    graded = [g for g in report.grades if g.scale == GRADES]  # closure audits keep their own scale
    for g in graded:
        by_team[g.team_code][g.grade] = (g.moderated, g.agreed)
    for team, grades in sorted(by_team.items()):
        table.add_row(_team(team), *(f"{grades[i][0]} ({grades[i][1]})" if i in grades else "·"
                                     for i in range(len(scale))))
    if not by_team:
        table.add_row("No completed audits held this month.")
        return table
    totals = [sum(g.moderated for g in graded if g.grade == i) for i in range(len(scale))]
    chart = Table.grid(padding=(0, 1))
    for label, n in zip(scale, totals, strict=True):
        chart.add_row(literal(shortest_fit(list(grade_names(label)), 28)), literal(bar(n, max(totals)), "cyan"), str(n))
    outer = Table.grid()
    outer.add_row(table)
    outer.add_row(Text("Council, moderated grade:", style="bold"))
    outer.add_row(chart)
    return outer


def moderation_panel(report: PeriodReport) -> Table:
    table = Table(title="Moderation outcomes: domain grades compared (auditor → moderator)", title_justify="left",
                  show_edge=False)
    for name in ("Who", "Audits", "Compared", "Agreed", "Up", "Down", "Agreement", "Kappa"):
        table.add_column(name, justify="left" if name == "Who" else "right")
    rows = [c for c in report.calibration if c.scope in ("council", "team")]
    for c in rows:
        table.add_row("Council" if c.scope == "council" else _team(c.scope_id), str(c.audits), str(c.domain_grades),
                      str(c.agreed), str(c.regraded_up), str(c.regraded_down), percent(c.agreement),
                      "—" if c.kappa is None else f"{c.kappa:.2f}", style="bold" if c.scope == "council" else "")
    if not rows:
        table.add_row("No moderations this month.")
        return table
    council = rows[0]
    outcomes = (("Agreed", council.agreed, "green"), ("Regraded up", council.regraded_up, "cyan"),
                ("Regraded down", council.regraded_down, "red"))
    largest = max(n for _, n, _ in outcomes)
    chart = Table.grid(padding=(0, 1))
    for label, n, colour in outcomes:
        chart.add_row(label, literal(bar(n, largest), colour), str(n))
    outer = Table.grid()
    outer.add_row(table)
    outer.add_row(chart)
    return outer


def actions_panel(report: PeriodReport) -> Table:
    table = Table(title="Actions raised and completed", title_justify="left", show_edge=False)
    for name in ("Team", "Raised", "Completed", "On time", "Overdue at end", ""):
        table.add_column(name, justify="left" if name in ("Team", "") else "right")
    by_team: dict[str, dict[str, int]] = defaultdict(dict)
    for r in report.actions:
        by_team[r.team_code][r.measure] = r.value
    largest = max((v.get("raised", 0) for v in by_team.values()), default=0)
    for team, v in sorted(by_team.items()):
        chart = literal(bar(v.get("raised", 0), largest, 12), "cyan")
        table.add_row(_team(team), str(v.get("raised", 0)), str(v.get("completed", 0)),
                      str(v.get("completed_on_time", 0)), str(v.get("overdue_at_end", 0)), chart)
    if not by_team:
        table.add_row("No actions this month.")
    return table
