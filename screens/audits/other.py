"""Audits beyond the monthly cycle: themed and multi-agency audits with their case lists, the
closure and transfer queue, supervision-file and cross-service audits, good practice and the
quarterly celebration pack, and individual support plans. One list per kind; every audit opens
in the one audit form."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Header, SelectionList, Static

from qa_tui.dates import add_months, parse_day
from screens.audits.audit_form import AuditFormScreen
from screens.base import QAScreen
from screens.dialogs import DIALOG_CSS, ChoiceDialog, ConfirmDialog, TextPrompt

if TYPE_CHECKING:
    from qa_tui.services.audits.kinds import AuditListRow, OtherServiceCase
    from qa_tui.services.practice.celebration import GoodPracticeItem
    from qa_tui.services.audits.closure import QueueItem
    from qa_tui.services.people.directory import PersonRef
    from qa_tui.services.programme.engine import Period
    from qa_tui.services.practice.support import SupportPlanView
    from qa_tui.services.audits.theme_report import ThemeProgress
    from qa_tui.services.audits.themes import ThemeCaseRow, ThemeSummary

VIEWS = (  # (kind, title, tab label)
    ("themed", "Themed audits", "Themed"),
    ("multi_agency", "Multi-agency audits", "Multi-agency"),
    ("closure", "Closure and transfer", "Closure"),
    ("supervision_file", "Supervision files", "Supervision"),
    ("cross_service", "Cross-service audits", "Cross-service"),
    ("good_practice", "Good practice", "Good practice"),
    ("support", "Support plans", "Support"),
)
COLUMNS = {
    "themed": ("Theme", "Requested by", "Set up", "Cases", "Given out", "Started", "Done", "Status"),
    "multi_agency": ("Theme", "Requested by", "Set up", "Cases", "Given out", "Started", "Done", "Status"),
    "closure": ("Case", "Cat.", "Why", "On", "Worker", "Due by", "Audit"),
    "supervision_file": ("Worker", "Team", "Auditor", "Date", "Status"),
    "cross_service": ("Case", "Team", "Worker", "Auditor", "Date", "Status"),
    "good_practice": ("Marked", "What", "Worker", "Why"),
    "support": ("Worker", "Aim", "Kept by", "Started", "Steps done", "Next due", "Status"),
}
HINTS = {
    "themed": "Enter opens a theme's cases · n sets up a theme · e writes its report",
    "multi_agency": "Enter opens its cases · n sets up the partnership's quarterly audit · e writes its report",
    "closure": "Closed or moved team in the last 12 months · Enter audits the case · v yours or everyone's",
    "supervision_file": "Enter opens the audit · n audits a worker's supervision file · v yours or everyone's",
    "cross_service": "Enter opens the audit · n picks a case from another service · v yours or everyone's",
    "good_practice": "Enter opens a marked audit · n marks an observation or feedback · e pack · [ ] qtr",
    "support": "Plans you keep, your own, and those kept below you · Enter opens · n records a plan",
}
AUDITOR_ROLES_EXCLUDED = ("SW", "NQSW")


def _person_needed(screen: QAScreen) -> uuid.UUID | None:
    person_id = screen.ctx.person_id
    if person_id is None:
        screen.notify("You are not linked to a person record in the database, so nothing can be recorded in "
                      "your name. Set your staff ID in the config file.", severity="error", timeout=10)
    return person_id


class AuditsOtherScreen(QAScreen):
    """One list per kind of audit, and good practice and support plans beside them."""

    CSS_PATH = "other.tcss"
    BINDINGS = [
        Binding("1", "view(0)", "Views 1-7", id="ao-views"),
        *(Binding(str(i + 1), f"view({i})", show=False) for i in range(1, len(VIEWS))),
        Binding("enter", "open", "Open", id="ao-open"),
        Binding("n", "new", "New", id="ao-new"),
        Binding("e", "export", "Export", id="ao-export"),
        Binding("v", "toggle_mine", "Mine/all", id="ao-mine"),
        Binding("left_square_bracket", "quarter(-1)", "Prev qtr", id="ao-prev-quarter"),
        Binding("right_square_bracket", "quarter(1)", "Next qtr", id="ao-next-quarter"),
        Binding("r", "refresh", "Refresh", id="ao-refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view = 0
        self.mine = True
        self.rows: list[Any] = []
        self.quarter: Period | None = None

    @property
    def kind(self) -> str:
        return VIEWS[self.view][0]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="ao-tabs")
        yield Static("", id="ao-title")
        yield DataTable(id="ao-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="ao-hint")
        yield Footer()

    def on_mount(self) -> None:
        from qa_tui.services.practice.celebration import quarter_of

        self.quarter = quarter_of(self.ctx.today())

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        kind = self.kind
        if action == "export":
            return kind in ("themed", "multi_agency", "good_practice")
        if action == "toggle_mine":
            return kind in ("closure", "supervision_file", "cross_service")
        if action == "quarter":
            return kind == "good_practice"
        if action == "new":
            return kind != "closure"
        return True

    # --- loading ---------------------------------------------------------------------------

    def action_view(self, index: int) -> None:
        self.view = index
        self.refresh_bindings()
        self.action_refresh()

    def action_toggle_mine(self) -> None:
        self.mine = not self.mine
        self.action_refresh()

    def action_quarter(self, step: int) -> None:
        from qa_tui.services.practice.celebration import quarter_of

        if self.quarter is not None:
            day = self.quarter.start - timedelta(days=1) if step < 0 else self.quarter.end + timedelta(days=1)
            self.quarter = quarter_of(day)
            self.action_refresh()

    def action_refresh(self) -> None:
        self.query_one("#ao-tabs", Static).update("  ".join(
            f"[reverse] {i + 1} {tab} [/]" if i == self.view else f"[b]{i + 1}[/b] {tab}"
            for i, (_, _, tab) in enumerate(VIEWS)))
        kind, ctx, me, today = self.kind, self.ctx, self.ctx.person_id, self.ctx.today()
        mine = me if self.mine else None
        quarter = self.quarter

        def load(s: Any) -> list[Any]:
            if kind in ("themed", "multi_agency"):
                from qa_tui.services.audits.themes import list_themes

                return list_themes(s, kind=kind)
            if kind == "closure":
                from qa_tui.services.audits.closure import closure_transfer_queue

                since = add_months(today, -12) + timedelta(days=1)
                return closure_transfer_queue(s, today, since, cfg=ctx.config, leader_id=mine)
            if kind in ("supervision_file", "cross_service"):
                from qa_tui.services.audits.kinds import audits_of_kind

                return audits_of_kind(s, kind, auditor_id=mine)
            if kind == "good_practice":
                from qa_tui.services.practice.celebration import good_practice_between

                assert quarter is not None
                return good_practice_between(s, quarter.start, quarter.end)
            from qa_tui.services.practice.support import support_plans_visible_to

            return support_plans_visible_to(s, me, today=today)

        self.call_service(load, lambda rows: self.show(kind, rows), group="ao-list", exclusive=True)

    def show(self, kind: str, rows: list[Any]) -> None:
        if kind != self.kind:
            return
        self.rows = rows
        table = self.query_one("#ao-table", DataTable)
        table.clear(columns=True)
        table.add_columns(*COLUMNS[kind])
        for index, row in enumerate(rows):
            table.add_row(*self._cells(kind, row), key=str(index))
        scope = "" if kind not in ("closure", "supervision_file", "cross_service") else (
            " · yours" if self.mine else " · everyone's")
        quarter = f" · {self.quarter.label}" if kind == "good_practice" and self.quarter else ""
        self.query_one("#ao-title", Static).update(f"[b]{VIEWS[self.view][1]}[/b]{scope}{quarter} · {len(rows)} shown")
        self.query_one("#ao-hint", Static).update(HINTS[kind] if rows else f"Nothing here yet. {HINTS[kind]}")
        table.focus()

    def _cells(self, kind: str, row: Any) -> tuple[str, ...]:
        if kind in ("themed", "multi_agency"):
            t: ThemeSummary = row
            return (t.theme.name[:34], t.theme.requested_by[:26], f"{t.theme.created_on:%-d %b %Y}", str(t.cases),
                    str(t.assigned), str(t.started), str(t.completed), t.theme.status)
        if kind == "closure":
            q: QueueItem = row
            audit = q.audit_status or ("due" if q.due_by >= self.ctx.today() else "[b]overdue[/b]")
            return (q.reference, q.category, q.event_label, f"{q.event_on:%-d %b %Y}", q.worker_name,
                    f"{q.due_by:%-d %b %Y}", audit)
        if kind == "supervision_file":
            a: AuditListRow = row
            return (a.subject, a.team_code, a.auditor_name, f"{a.audit_date:%-d %b %Y}", a.status)
        if kind == "cross_service":
            a = row
            return (a.subject, a.team_code, a.worker_name, a.auditor_name, f"{a.audit_date:%-d %b %Y}", a.status)
        if kind == "good_practice":
            g: GoodPracticeItem = row
            return (f"{g.marked_on:%-d %b %Y}", g.what[:36], g.worker_name, g.why[:40])
        p: SupportPlanView = row
        done = sum(s.done_on is not None for s in p.steps)
        upcoming = min((s.due_on for s in p.steps if s.done_on is None), default=None)
        return (p.worker.name, p.aim[:30], p.manager.name, f"{p.started_on:%-d %b %Y}", f"{done} of {len(p.steps)}",
                f"{upcoming:%-d %b %Y}" if upcoming else "—", p.status)

    def _current(self) -> Any:
        table = self.query_one("#ao-table", DataTable)
        if not table.row_count or not self.rows:
            return None
        index = int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or 0)
        return self.rows[index] if index < len(self.rows) else None

    # --- opening ---------------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        row, kind = self._current(), self.kind
        if row is None:
            return
        if kind in ("themed", "multi_agency"):
            self.app.push_screen(ThemeScreen(row.theme.id))
        elif kind == "closure":
            self._open_closure(row)
        elif kind in ("supervision_file", "cross_service"):
            self.app.push_screen(AuditFormScreen(row.audit_id))
        elif kind == "good_practice":
            if row.source_kind == "audit":
                self.app.push_screen(AuditFormScreen(row.source_id))
            else:
                self.notify(f"{row.what}: {row.why}", title="Good practice", timeout=10)
        else:
            self.app.push_screen(SupportPlanScreen(row.id))

    def _open_closure(self, item: QueueItem) -> None:
        if item.audit_id is not None:
            self.app.push_screen(AuditFormScreen(item.audit_id))
            return
        me = _person_needed(self)
        if me is None:
            return
        from qa_tui.services.audits.closure import start_closure_audit

        ctx = self.ctx

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.call_service(
                    lambda s: start_closure_audit(s, item.case_id, me, today=ctx.today(), cfg=ctx.config,
                                                  team_id=item.team_id),
                    lambda audit: self.app.push_screen(AuditFormScreen(audit.id)), write=True)

        self.app.push_screen(ConfirmDialog(
            f"Start the closure audit of {item.reference} ({item.event_label.lower()} {item.event_on:%-d %b %Y})?",
            "Objectives met, chronology checked for gaps, key data recorded, overall quality, step-down plan: "
            f"each met, partly met or not met. Due by {item.due_by:%-d %B %Y}."), confirmed)

    # --- new -------------------------------------------------------------------------------

    def action_new(self) -> None:
        kind = self.kind
        if kind in ("themed", "multi_agency"):
            self.new_theme(kind)
        elif kind == "supervision_file":
            self.new_supervision_file_audit()
        elif kind == "cross_service":
            self.new_cross_service_audit()
        elif kind == "good_practice":
            self.app.push_screen(ChoiceDialog("Mark what as good practice?", [
                ("observation", "A practice observation"), ("feedback", "Feedback from a child or family")]),
                lambda what: self.mark_observation() if what == "observation" else
                self.mark_feedback() if what == "feedback" else None)
        elif kind == "support":
            self.new_support_plan()

    def new_theme(self, kind: str) -> None:
        from qa_tui.services.audits.themes import create_theme

        ctx = self.ctx
        multi = kind == "multi_agency"
        templates = [t for t in ctx.config.templates if t.kind == kind]
        answers: dict[str, str] = {}

        def create() -> None:
            self.call_service(
                lambda s: create_theme(s, kind=kind, name=answers["name"], description=answers.get("description", ""),
                                       template_key=answers.get("template"), requested_by=answers.get("by", ""),
                                       agencies=answers.get("agencies", ""), today=ctx.today(), cfg=ctx.config),
                lambda theme: self.app.push_screen(ThemeScreen(theme.id)), write=True)

        steps: list[Callable[[], None]] = []

        def ask(key: str, title: str, label: str, **kw: Any) -> Callable[[], None]:
            def run() -> None:
                def got(value: str | None) -> None:
                    if value is None:
                        return
                    answers[key] = value
                    next_step()
                self.app.push_screen(TextPrompt(title, label, **kw), got)
            return run

        def choose_template() -> None:
            def got(key: str | None) -> None:
                if key is not None:
                    answers["template"] = key
                    next_step()
            self.app.push_screen(ChoiceDialog("Which template?", [(t.key, f"{t.name} (v{t.version})") for t in templates]),
                                 got)

        def next_step() -> None:
            if steps:
                steps.pop(0)()
            else:
                create()

        what = "multi-agency audit" if multi else "themed audit"
        steps.append(ask("name", f"New {what}", "Theme",
                         placeholder="e.g. Neglect in under-fives" if multi else "e.g. CP plans ending within 3 months"))
        if multi:
            steps.append(ask("agencies", f"New {what}", "Agencies taking part (comma separated)",
                             placeholder="e.g. Health, Police, Education"))
        steps.append(ask("description", f"New {what}", "What it looks at (optional)", required=False))
        if len(templates) > 1:
            steps.append(choose_template)
        steps.append(ask("by", f"New {what}", "Requested by",
                         initial="Safeguarding partnership" if multi else ctx.person_name, required=False))
        next_step()

    def new_supervision_file_audit(self) -> None:
        me = _person_needed(self)
        if me is None:
            return
        from qa_tui.services.audits.kinds import start_supervision_file_audit
        from qa_tui.services.people.directory import people_for_picking

        ctx = self.ctx

        def chosen(worker_id: uuid.UUID | None) -> None:
            if worker_id is not None:
                self.call_service(
                    lambda s: start_supervision_file_audit(s, worker_id, me, today=ctx.today(), cfg=ctx.config),
                    lambda audit: self.app.push_screen(AuditFormScreen(audit.id)), write=True)

        def ask(people: list[PersonRef]) -> None:
            self.app.push_screen(ChoiceDialog("Whose supervision file?",
                                              [(p.id, f"{p.name} ({p.role})") for p in people if p.id != me]), chosen)

        self.call_service(lambda s: people_for_picking(s, ctx.today()), ask)

    def new_cross_service_audit(self) -> None:
        me = _person_needed(self)
        if me is None:
            return
        from qa_tui.services.audits.kinds import (
            cross_service_cases,
            start_cross_service_audit,
        )

        ctx = self.ctx

        def chosen(case_id: uuid.UUID | None) -> None:
            if case_id is not None:
                self.call_service(
                    lambda s: start_cross_service_audit(s, case_id, me, today=ctx.today(), cfg=ctx.config),
                    lambda audit: self.app.push_screen(AuditFormScreen(audit.id)), write=True)

        def offer(cases: list[OtherServiceCase]) -> None:
            if not cases:
                self.notify("No open case from another service matches.", severity="warning")
                return
            self.app.push_screen(ChoiceDialog("Audit which case from another service?", [
                (c.case_id, f"{c.reference} {c.category} · {c.team_code} ({c.service_name}) · {c.worker_name or '—'}")
                for c in cases]), chosen)

        def searched(text: str | None) -> None:
            if text is not None:
                self.call_service(lambda s: cross_service_cases(s, me, ctx.today(), search=text), offer)

        self.app.push_screen(TextPrompt("Cross-service audit", "Case reference or team code (blank: all)",
                                        required=False), searched)

    # --- good practice ---------------------------------------------------------------------

    def _mark(self, source_kind: str, source_id: uuid.UUID, what: str) -> None:
        from qa_tui.services.practice.celebration import mark_good_practice

        ctx = self.ctx

        def saved(why: str | None) -> None:
            if why:
                self.call_service(
                    lambda s: mark_good_practice(s, source_kind=source_kind, source_id=source_id, why=why,
                                                 marked_by_id=ctx.person_id, today=ctx.today()),
                    lambda _: (self.notify("Marked as good practice to celebrate."), self.action_refresh()),
                    write=True)

        self.app.push_screen(TextPrompt(f"Good practice: {what}", "Why, in a line"), saved)

    def mark_observation(self) -> None:
        from qa_tui.services.people.directory import people_for_picking
        from qa_tui.services.practice.pickers import observations_of_worker

        ctx = self.ctx

        def observation_chosen(obs: Any) -> None:
            if obs is not None:
                self._mark("observation", obs.id, f"{obs.kind_label}, {obs.observed_on:%-d %b %Y}")

        def worker_chosen(worker_id: uuid.UUID | None) -> None:
            if worker_id is None:
                return

            def offer(observations: list[Any]) -> None:
                if not observations:
                    self.notify("No observations of this worker yet.", severity="warning")
                    return
                self.app.push_screen(ChoiceDialog("Which observation?", [
                    (o, f"{o.observed_on:%-d %b %Y} · {o.kind_label} · {o.setting or '—'}") for o in observations]),
                    observation_chosen)

            self.call_service(lambda s: observations_of_worker(s, worker_id), offer)

        self.call_service(lambda s: people_for_picking(s, ctx.today()), lambda people: self.app.push_screen(
            ChoiceDialog("Observation of whom?", [(p.id, f"{p.name} ({p.role})") for p in people]), worker_chosen))

    def mark_feedback(self) -> None:
        from qa_tui.services.practice.pickers import recent_feedback

        def chosen(line: Any) -> None:
            if line is not None:
                self._mark("feedback", line.id, f"feedback of {line.received_on:%-d %b %Y}")

        def offer(lines: list[Any]) -> None:
            if not lines:
                self.notify("No feedback recorded yet.", severity="warning")
                return
            self.app.push_screen(ChoiceDialog("Which feedback?", [
                (f, f"{f.received_on:%-d %b %Y} · {f.giver} · {f.rating or '—'}/5 · {f.case_reference or ''} {f.said[:30]}")
                for f in lines]), chosen)

        self.call_service(recent_feedback, offer)

    # --- exports ---------------------------------------------------------------------------

    def action_export(self) -> None:
        kind, ctx = self.kind, self.ctx
        if kind == "good_practice" and self.quarter is not None:
            self.export_pack(self.quarter)
        elif kind in ("themed", "multi_agency"):
            row = self._current()
            if row is None:
                return
            from qa_tui.services.audits.theme_report import export_theme_report

            theme_id = row.theme.id
            self.call_service(lambda s: export_theme_report(s, theme_id, today=ctx.today(), cfg=ctx.config),
                              lambda path: self.notify(f"Report written to {path}", timeout=10), write=True)

    def export_pack(self, quarter: Period) -> None:
        from qa_tui.services.practice.celebration import export_celebration_pack

        today = self.ctx.today()
        self.call_service(lambda s: export_celebration_pack(s, quarter, today=today),
                          lambda paths: self.notify(f"Pack for {quarter.label} written to {paths[0]} and "
                                                    f"{paths[1].name}", timeout=12), write=True)

    def export_other_quarter(self) -> None:
        from qa_tui.errors import ValidationError
        from qa_tui.services.programme.engine import parse_financial_quarter

        def typed(text: str | None) -> None:
            if not text:
                return
            try:
                self.export_pack(parse_financial_quarter(text))
            except ValidationError as exc:
                self.notify(str(exc), severity="error")

        self.app.push_screen(TextPrompt("Learning and celebration pack", "Financial quarter (Q1 = April to June)",
                                        initial=self.quarter.label if self.quarter else "",
                                        placeholder="e.g. 2026-Q3"), typed)

    # --- support plans ---------------------------------------------------------------------

    def new_support_plan(self) -> None:
        me = _person_needed(self)
        if me is None:
            return
        from qa_tui.services.practice.support import record_support_plan, workers_to_support

        ctx = self.ctx
        answers: dict[str, Any] = {}

        def record(due_text: str | None) -> None:
            if due_text is None:
                return
            try:
                due = parse_day(due_text)
            except ValueError as exc:
                self.notify(f"Due: {exc}", severity="error")
                return
            self.call_service(
                lambda s: record_support_plan(s, worker_id=answers["worker"], manager_id=me, aim=answers["aim"],
                                              steps=[(answers["step"], due)], today=ctx.today()),
                lambda plan: self.app.push_screen(SupportPlanScreen(plan.id)), write=True)

        def got_step(step: str | None) -> None:
            if step:
                answers["step"] = step
                self.app.push_screen(TextPrompt("Support plan", "First step due (DD/MM/YYYY)",
                                                initial=f"{ctx.today() + timedelta(weeks=4):%d/%m/%Y}"), record)

        def got_aim(aim: str | None) -> None:
            if aim:
                answers["aim"] = aim
                self.app.push_screen(TextPrompt("Support plan", "First step", placeholder="e.g. Agree a weekly writing slot"),
                                     got_step)

        def worker_chosen(worker_id: uuid.UUID | None) -> None:
            if worker_id is not None:
                answers["worker"] = worker_id
                self.app.push_screen(TextPrompt("Support plan", "What they need support to improve"), got_aim)

        def offer(people: list[PersonRef]) -> None:
            if not people:
                self.notify("Nobody reports to you, so there is nobody to record a support plan for.",
                            severity="warning")
                return
            self.app.push_screen(ChoiceDialog("Support plan for whom?", [(p.id, f"{p.name} ({p.role})") for p in people]),
                                 worker_chosen)

        self.call_service(lambda s: workers_to_support(s, me), offer)

    def palette_commands(self):
        from textual.app import SystemCommand

        for index, (_, label, _) in enumerate(VIEWS):
            yield SystemCommand(f"Other audits: {label.lower()}", f"Show the {label.lower()} list",
                                lambda i=index: self.action_view(i))
        yield SystemCommand("New themed audit", "Name a theme, choose its cases by rule or by hand",
                            lambda: self.new_theme("themed"))
        yield SystemCommand("New multi-agency audit", "The partnership's quarterly theme and the agencies taking part",
                            lambda: self.new_theme("multi_agency"))
        yield SystemCommand("Audit a supervision file", "Regularity and quality of a worker's supervision",
                            self.new_supervision_file_audit)
        yield SystemCommand("Cross-service audit", "Audit a case from another part of the service",
                            self.new_cross_service_audit)
        yield SystemCommand("Good practice: mark an observation", "Celebrate a practice observation",
                            self.mark_observation)
        yield SystemCommand("Good practice: mark feedback", "Celebrate feedback from a child or family",
                            self.mark_feedback)
        if self.quarter is not None:
            quarter = self.quarter
            yield SystemCommand("Export the learning and celebration pack",
                                f"Markdown and HTML for {quarter.label}", lambda: self.export_pack(quarter))
        yield SystemCommand("Learning and celebration pack for another quarter", "Type the quarter, e.g. 2026-Q2",
                            self.export_other_quarter)
        yield SystemCommand("New support plan", "An action plan with dated steps for a worker you manage",
                            self.new_support_plan)


class PeopleSelection(ModalScreen[list[uuid.UUID] | None]):
    """Tick several people: Space ticks, Ctrl+S accepts, Esc cancels."""

    DEFAULT_CSS = DIALOG_CSS.format(cls="PeopleSelection") + "PeopleSelection SelectionList { max-height: 16; }"
    BINDINGS = [Binding("ctrl+s", "accept", "Share out"), Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, people: list[PersonRef]) -> None:
        super().__init__()
        self.title_text, self.people = title, people

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="title")
            yield SelectionList[uuid.UUID](*((f"{p.name} ({p.role})", p.id) for p in self.people), id="people")
            yield Static("[b]Space[/b] tick   [b]Ctrl+S[/b] share out   [b]Esc[/b] cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def action_accept(self) -> None:
        self.dismiss(list(self.query_one(SelectionList).selected))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ThemeScreen(QAScreen):
    """A theme's case list: add cases by rule or by hand, give them to auditors, see progress,
    audit a case, and write the themed report."""

    CSS_PATH = "other.tcss"
    BINDINGS = [
        Binding("enter", "audit", "Audit case", id="th-audit"),
        Binding("r", "add_by_rule", "Add by rule", id="th-rule"),
        Binding("f", "add_by_reference", "Add case", id="th-reference"),
        Binding("n", "give", "Give to", id="th-give"),
        Binding("e", "share_out", "Share out", id="th-share"),
        Binding("x", "remove", "Remove", id="th-remove"),
        Binding("w", "report", "Report", id="th-report"),
        Binding("c", "learning", "Learning", id="th-learning"),
        Binding("escape", "back", "Back", id="th-back"),
    ]

    def __init__(self, theme_id: uuid.UUID) -> None:
        super().__init__()
        self.theme_id = theme_id
        self.progress: ThemeProgress | None = None
        self.cases: list[ThemeCaseRow] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="th-title")
        yield Static("", id="th-progress")
        yield DataTable(id="th-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="th-hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#th-table", DataTable).add_columns("Case", "Cat.", "Team", "Worker", "Auditor", "Audit")

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        from qa_tui.services.audits.theme_report import theme_progress
        from qa_tui.services.audits.themes import theme_cases

        theme_id = self.theme_id
        self.call_service(lambda s: (theme_progress(s, theme_id), theme_cases(s, theme_id)), self.show,
                          group="theme", exclusive=True)

    def show(self, loaded: tuple[ThemeProgress, list[ThemeCaseRow]]) -> None:
        self.progress, self.cases = loaded
        theme = self.progress.theme
        by = f" · requested by {theme.requested_by}" if theme.requested_by else ""
        agencies = f" · {', '.join(theme.agencies)}" if theme.agencies else ""
        self.query_one("#th-title", Static).update(
            f"[b]{theme.name}[/b] · {theme.kind_name.lower()}{by}{agencies} · [reverse] {theme.status.upper()} [/]")
        parts = [f"{p.name}: {p.submitted + p.done}/{p.assigned} done, {p.draft} in draft" for p in self.progress.by_auditor]
        self.query_one("#th-progress", Static).update(
            f"{self.progress.cases} cases, {self.progress.completed} audited · " + (" · ".join(parts) or "no cases yet"))
        table = self.query_one("#th-table", DataTable)
        cursor = table.cursor_row
        table.clear()
        for row in self.cases:
            table.add_row(row.reference, row.category, row.team_code, row.worker_name, row.auditor_name or "—",
                          row.status_label, key=str(row.id))
        if self.cases:
            table.move_cursor(row=min(cursor, len(self.cases) - 1))
        self.query_one("#th-hint", Static).update(
            "Enter audits the highlighted case · n gives it to an auditor · e shares out the rest · w writes the report"
            if self.cases else "No cases yet: r adds the open cases meeting a rule, f adds one by its reference.")
        table.focus()

    def _current(self) -> ThemeCaseRow | None:
        table = self.query_one("#th-table", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((c for c in self.cases if str(c.id) == key), None)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_audit()

    def action_audit(self) -> None:
        row = self._current()
        if row is None:
            return
        if row.audit_id is not None:
            self.app.push_screen(AuditFormScreen(row.audit_id))
            return
        me = _person_needed(self)
        if me is None:
            return
        from qa_tui.services.audits.themes import start_theme_audit

        ctx = self.ctx

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.call_service(lambda s: start_theme_audit(s, row.id, me, today=ctx.today(), cfg=ctx.config),
                                  lambda audit: self.app.push_screen(AuditFormScreen(audit.id)), write=True)

        self.app.push_screen(ConfirmDialog(f"Start the audit of {row.reference} ({row.worker_name or 'unallocated'})?",
                                           "You will be its auditor; it is dated today."), confirmed)

    def action_add_by_rule(self) -> None:
        from qa_tui.services.audits.theme_rules import MONTH_RULES, RULE_KINDS

        def kind_chosen(kind: str | None) -> None:
            if kind is None:
                return
            if kind in MONTH_RULES:
                self.app.push_screen(TextPrompt(RULE_KINDS[kind], "Months", initial="3"),
                                     lambda text: self._preview_rule(kind, text))
            else:
                label = "Categories (EH, CIN, CP, CLA, CL)" if kind == "category_in" else "Team codes"
                self.app.push_screen(TextPrompt(RULE_KINDS[kind], f"{label}, separated by commas"),
                                     lambda text: self._preview_rule(kind, text))

        self.app.push_screen(ChoiceDialog("Add the open cases where…", list(RULE_KINDS.items())), kind_chosen)

    def _preview_rule(self, kind: str, text: str | None) -> None:
        from qa_tui.services.audits.theme_rules import MAX_CASES_BY_RULE, MONTH_RULES, CaseRule, cases_matching
        from qa_tui.services.audits.themes import add_cases_by_rule

        if not text:
            return
        if kind in MONTH_RULES:
            if not text.strip().isdigit():
                self.notify(f"Months: expected a whole number, got {text!r}", severity="error")
                return
            rule = CaseRule(kind, int(text))
        else:
            rule = CaseRule(kind, values=tuple(v.strip().upper() if kind == "category_in" else v.strip()
                                                 for v in text.split(",") if v.strip()))
        today, theme_id = self.ctx.today(), self.theme_id

        def confirm(matching: list[Any]) -> None:
            if not matching:
                self.notify(f"No open case where {rule.describe()}.", severity="warning")
                return
            shown = ", ".join(c.reference for c in matching[:12]) + (" …" if len(matching) > 12 else "")

            def yes(answer: bool | None) -> None:
                if answer:
                    self.call_service(lambda s: add_cases_by_rule(s, theme_id, [rule], today),
                                      lambda added: (self.notify(f"Added {added.added} cases"
                                                                 f" ({added.already} were already in the list)."),
                                                     self.reload()), write=True)

            more = f"more than {MAX_CASES_BY_RULE}" if len(matching) > MAX_CASES_BY_RULE else str(len(matching))
            self.app.push_screen(ConfirmDialog(f"Add the {more} open cases where {rule.describe()}?", shown), yes)

        self.call_service(lambda s: cases_matching(s, [rule], today, limit=MAX_CASES_BY_RULE + 1), confirm)

    def action_add_by_reference(self) -> None:
        from qa_tui.services.audits.themes import add_case_by_reference

        theme_id = self.theme_id

        def typed(reference: str | None) -> None:
            if reference:
                self.call_service(lambda s: add_case_by_reference(s, theme_id, reference),
                                  lambda row: (self.notify(f"{row.reference} added."), self.reload()), write=True)

        self.app.push_screen(TextPrompt("Add a case by hand", "Case reference", placeholder="e.g. CASE-0042"), typed)

    def _auditors(self, then: Callable[[list[PersonRef]], None]) -> None:
        from qa_tui.services.people.directory import people_for_picking

        today = self.ctx.today()
        self.call_service(lambda s: [p for p in people_for_picking(s, today) if p.role not in AUDITOR_ROLES_EXCLUDED],
                          then)

    def action_give(self) -> None:
        row = self._current()
        if row is None:
            return
        from qa_tui.services.audits.themes import assign_case

        def chosen(person_id: uuid.UUID | None) -> None:
            if person_id is not None:
                self.call_service(lambda s: assign_case(s, row.id, person_id, expected_version=row.version),
                                  lambda r: (self.notify(f"{r.reference} given to {r.auditor_name}."), self.reload()),
                                  write=True)

        self._auditors(lambda people: self.app.push_screen(
            ChoiceDialog(f"Give {row.reference} to…", [(p.id, f"{p.name} ({p.role})") for p in people], row.auditor_id),
            chosen))

    def action_share_out(self) -> None:
        from qa_tui.services.audits.themes import assign_evenly

        theme_id = self.theme_id

        def chosen(people: list[uuid.UUID] | None) -> None:
            if people:
                self.call_service(lambda s: assign_evenly(s, theme_id, people),
                                  lambda n: (self.notify(f"{n} cases shared out."), self.reload()), write=True)

        self._auditors(lambda people: self.app.push_screen(
            PeopleSelection("Share the cases not yet given out among…", people), chosen))

    def action_remove(self) -> None:
        row = self._current()
        if row is None:
            return
        from qa_tui.services.audits.themes import remove_case

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.call_service(lambda s: remove_case(s, row.id), lambda _: self.reload(), write=True)

        self.app.push_screen(ConfirmDialog(f"Take {row.reference} out of this theme?"), confirmed)

    def action_report(self) -> None:
        from qa_tui.services.audits.theme_report import export_theme_report

        ctx, theme_id = self.ctx, self.theme_id
        self.call_service(lambda s: export_theme_report(s, theme_id, today=ctx.today(), cfg=ctx.config),
                          lambda path: self.notify(f"Report written to {path}", timeout=10), write=True)

    def action_learning(self) -> None:
        if self.progress is None:
            return
        from qa_tui.services.audits.themes import set_theme_learning

        theme = self.progress.theme

        def typed(text: str | None) -> None:
            if text is not None:
                self.call_service(lambda s: set_theme_learning(s, theme.id, text, expected_version=theme.version),
                                  lambda _: (self.notify("Learning saved."), self.reload()), write=True)

        self.app.push_screen(TextPrompt("Learning fed back", "What was learnt, and who it went to",
                                        initial=theme.learning, required=False), typed)

    def action_back(self) -> None:
        self.dismiss()

    def palette_commands(self):
        from textual.app import SystemCommand

        yield SystemCommand("Theme: add cases by rule", "CP plans ending soon, running long, category, team, opened",
                            self.action_add_by_rule)
        yield SystemCommand("Theme: add a case by reference", "Pick one case by hand", self.action_add_by_reference)
        yield SystemCommand("Theme: share out the cases", "Give the cases not yet given out to auditors evenly",
                            self.action_share_out)
        yield SystemCommand("Theme: write the report", "The themed report as Markdown", self.action_report)
        yield SystemCommand("Theme: learning fed back", "Record the learning from this theme", self.action_learning)


class SupportPlanScreen(QAScreen):
    """One support plan: its aim and dated steps, each reviewed at supervision until done."""

    CSS_PATH = "other.tcss"
    BINDINGS = [
        Binding("n", "add_step", "New step", id="sp-add"),
        Binding("x", "step_done", "Step done", id="sp-done"),
        Binding("c", "close_plan", "Close plan", id="sp-close"),
        Binding("escape", "back", "Back", id="sp-back"),
    ]

    def __init__(self, plan_id: uuid.UUID) -> None:
        super().__init__()
        self.plan_id = plan_id
        self.plan: SupportPlanView | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="sp-title")
        yield Static("", id="sp-aim")
        yield DataTable(id="sp-table", cursor_type="row", zebra_stripes=True)
        yield Static("Each open step is on the worker's supervision agenda (by its due date only) until it is done.",
                     id="sp-hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#sp-table", DataTable).add_columns("Step", "Due", "Done", "Last reviewed", "On agenda")
        from qa_tui.services.practice.support import get_support_plan, raise_step_reviews

        plan_id, me, today = self.plan_id, self.ctx.person_id, self.ctx.today()

        def load(s: Any) -> SupportPlanView:
            plan = get_support_plan(s, plan_id, me, today=today)
            if plan.status == "open" and raise_step_reviews(s, plan.worker.id, today):
                plan = get_support_plan(s, plan_id, me, today=today)
            return plan

        def refused(error: BaseException) -> bool:
            self.app.pop_screen()
            return False  # the app still says why

        self.call_service(load, self.show, write=True, on_error=refused)

    def show(self, plan: SupportPlanView) -> None:
        self.plan = plan
        closed = f" · closed {plan.closed_on:%-d %b %Y}: {plan.outcome}" if plan.closed_on else ""
        self.query_one("#sp-title", Static).update(
            f"[b]Support plan for {plan.worker.name}[/b] ({plan.worker.staff_id}) · kept by {plan.manager.name} · "
            f"started {plan.started_on:%-d %b %Y} · [reverse] {plan.status.upper()} [/]{closed}")
        self.query_one("#sp-aim", Static).update(f"[b]Aim:[/b] {plan.aim}")
        table = self.query_one("#sp-table", DataTable)
        table.clear()
        for step in plan.steps:
            due = f"{step.due_on:%-d %b %Y}" + (" [b]overdue[/b]" if step.overdue else "")
            table.add_row(step.step[:50], due, f"{step.done_on:%-d %b %Y}" if step.done_on else "—",
                          f"{step.last_reviewed_on:%-d %b %Y}" if step.last_reviewed_on else "not yet",
                          "yes" if step.on_agenda else "", key=str(step.id))
        table.focus()

    def _write(self, job: Callable[[Any], SupportPlanView], done: str) -> None:
        self.call_service(job, lambda plan: (self.show(plan), self.notify(done)), write=True)

    def action_add_step(self) -> None:
        from qa_tui.services.practice.support import add_step

        ctx, plan_id = self.ctx, self.plan_id
        answers: dict[str, str] = {}

        def got_due(text: str | None) -> None:
            if text is None:
                return
            try:
                due = parse_day(text)
            except ValueError as exc:
                self.notify(f"Due: {exc}", severity="error")
                return
            self._write(lambda s: add_step(s, plan_id, step=answers["step"], due_on=due, by_id=ctx.person_id,
                                           today=ctx.today()), "Step added and put on the supervision agenda.")

        def got_step(text: str | None) -> None:
            if text:
                answers["step"] = text
                self.app.push_screen(TextPrompt("New step", "Due (DD/MM/YYYY)",
                                                initial=f"{ctx.today() + timedelta(weeks=4):%d/%m/%Y}"), got_due)

        self.app.push_screen(TextPrompt("New step", "What the worker will do"), got_step)

    def action_step_done(self) -> None:
        table = self.query_one("#sp-table", DataTable)
        if self.plan is None or not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        step = next((s for s in self.plan.steps if str(s.id) == key), None)
        if step is None:
            return
        from qa_tui.services.practice.support import complete_step

        ctx = self.ctx
        self._write(lambda s: complete_step(s, step.id, by_id=ctx.person_id, today=ctx.today(),
                                            expected_version=step.version), "Step marked done.")

    def action_close_plan(self) -> None:
        if self.plan is None:
            return
        from qa_tui.services.practice.support import close_plan

        ctx, plan = self.ctx, self.plan

        def typed(outcome: str | None) -> None:
            if outcome:
                self._write(lambda s: close_plan(s, plan.id, outcome=outcome, by_id=ctx.person_id, today=ctx.today(),
                                                 expected_version=plan.version), "Plan closed.")

        self.app.push_screen(TextPrompt("Close the support plan", "How it ended"), typed)

    def action_back(self) -> None:
        self.dismiss()

    def palette_commands(self):
        from textual.app import SystemCommand

        yield SystemCommand("Support plan: new step", "A dated step, put on the worker's supervision agenda",
                            self.action_add_step)
        yield SystemCommand("Support plan: step done", "Mark the highlighted step done", self.action_step_done)
        yield SystemCommand("Support plan: close", "Close the plan with how it ended", self.action_close_plan)
