"""Live audit, step one: pick the team and month, draw one case per worker (or see the draw
already made), re-draw one worker with a reason, and open the meeting."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from qa_tui.dates import Month
from qa_tui.services.audits.meeting import MeetingCase
from qa_tui.text import plural
from qa_tui.widgets.literal import literal
from qa_tui.widgets.record_table import RecordTable
from screens.base import QAScreen
from screens.dialogs import ChoiceDialog, ConfirmDialog

if TYPE_CHECKING:
    from qa_tui.services.audits.draw import CurrentPick
    from qa_tui.services.audits.draw_verification import DrawVerification
    from qa_tui.services.audits.meeting import MeetingPlan, ResumePoint
    from qa_tui.services.people.directory import TeamRef

def plan_cells(row: MeetingCase | CurrentPick) -> tuple[str, ...]:
    if not isinstance(row, MeetingCase):
        return row.worker_name, row.role, "—", "", "", f"no case: {row.empty_reason}"
    pick = row.pick
    note = f"re-drawn: {pick.redraw_reason}" if pick.round else f"1 of {pick.pool_size} eligible"
    return (pick.worker_name, pick.role, pick.case_reference or "", pick.category or "",
            row.audit_status or "not started", note)


def plan_key(row: MeetingCase | CurrentPick) -> str:
    return str(row.pick.pick_id) if isinstance(row, MeetingCase) else f"none-{row.worker_id}"


class LiveAuditScreen(QAScreen):
    CSS_PATH = "live_audit.tcss"
    BINDINGS = [
        Binding("enter", "open_meeting", "Audit this case", id="open-meeting",
                tooltip="Open the meeting at the highlighted case"),
        Binding("n", "draw", "Draw cases", id="draw", tooltip="Draw one case at random for each worker this month"),
        Binding("r", "redraw", "Re-draw worker", id="redraw",
                tooltip="Draw again for the highlighted worker, with a reason"),
        Binding("c", "choose_team", "Choose team", id="choose-team", tooltip="Pick the team that is meeting"),
        Binding("left_square_bracket", "month(-1)", "Month", key_display="[/]", id="prev-month",
                tooltip="The month before ([) or after (])"),
        Binding("right_square_bracket", "month(1)", "Next month", show=False, id="next-month", tooltip="The month after"),
        Binding("v", "verify", "Verify draw", id="verify", tooltip="Check every pick follows from the recorded seed"),
        Binding("i", "explain", "Why these cases", id="explain-draw",
                tooltip="The rules, each worker's pool of eligible cases, and every re-draw with its reason"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.team_id: uuid.UUID | None = None
        self.month: Month | None = None
        self.plan: MeetingPlan | None = None
        self.offered_resume = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="plan-title")
        yield RecordTable(("Worker", "Role", "Case", "Category", "Audit", "Note"), plan_cells, plan_key,
                          id="plan-table")
        yield Static("", id="plan-empty")
        yield Footer()

    @property
    def table(self) -> RecordTable[MeetingCase | CurrentPick]:
        return self.query_one("#plan-table", RecordTable)

    def on_mount(self) -> None:
        self.month = Month.of(self.ctx.today())
        self.team_id = self.ctx.team_id

    def on_screen_resume(self) -> None:
        if self.team_id is None:
            self.action_choose_team()
        else:
            self.load_plan()
        if not self.offered_resume:
            self.offered_resume = True
            from qa_tui.services.audits.meeting import resume_point

            login = self.ctx.login
            self.call_service(lambda s: resume_point(s, login), self.offer_resume)

    # --- loading ---------------------------------------------------------------------------

    def load_plan(self) -> None:
        from qa_tui.services.audits.meeting import meeting_plan

        team_id, month = self.team_id, self.month
        if team_id is None or month is None:
            return
        self.call_service(lambda s: meeting_plan(s, team_id, month), self.show_plan, group="plan", exclusive=True)

    def show_plan(self, plan: MeetingPlan) -> None:
        self.plan = plan
        title = Text.assemble(literal(plan.team.name, "bold"), literal(f" · live audit {plan.month}"))
        if plan.draw:
            title.append_text(literal(f" · drawn {plan.draw.drawn_on:%-d %b} by {plan.draw.drawn_by_name or 'unknown'}"
                                      f" · seed {plan.draw.seed[:12]}…"))
        self.query_one("#plan-title", Static).update(literal(title))
        self.table.show([*plan.cases, *plan.without_case])
        empty = self.query_one("#plan-empty", Static)
        if plan.draw is None:
            empty.update("No draw for this team this month yet. Press [b]n[/b] to draw one case for each worker.")
        else:
            empty.update(literal(f"{plural(len(plan.cases), 'case')} to audit · "
                                 f"{plural(len(plan.without_case), 'worker')} without an eligible case. "
                                 "Enter opens the meeting at the highlighted case."))
        self.table.focus()

    # --- actions ---------------------------------------------------------------------------

    def action_choose_team(self) -> None:
        from qa_tui.services.audits.meeting import meeting_teams

        self.call_service(meeting_teams, self._ask_team)

    def _ask_team(self, teams: list[TeamRef]) -> None:
        def chosen(team_id: uuid.UUID | None) -> None:
            if team_id is not None:
                self.team_id = team_id
                self.load_plan()

        self.app.push_screen(ChoiceDialog("Which team is meeting?", [(t.id, f"{t.name} ({t.code})") for t in teams],
                                          self.team_id), chosen)

    def action_month(self, step: int) -> None:
        if self.month is not None:
            self.month = self.month.shift(step)
            self.load_plan()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        from qa_tui.services.people.permissions import DRAW

        if action in ("draw", "redraw") and not self.ctx.may(DRAW):
            return None
        return True

    def action_draw(self) -> None:
        if self.plan is None or self.team_id is None or self.month is None:
            return
        if self.plan.draw is not None:
            self.notify("This team already has a draw this month. Use r to re-draw one worker, with a reason.",
                        severity="warning")
            return
        from qa_tui.services.audits.meeting import draw_for_meeting

        ctx, team_id, month = self.ctx, self.team_id, self.month

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.call_service(lambda s: draw_for_meeting(s, team_id, month, today=ctx.today(), cfg=ctx.config,
                                                             drawn_by=ctx.login),
                                  self._drawn, write=True)

        self.app.push_screen(ConfirmDialog(
            f"Draw one case at random for each worker in {self.plan.team.name} for {month}?",
            "The seed and every worker's eligible cases are recorded so anyone can check the draw later."),
            confirmed)

    def _drawn(self, plan: MeetingPlan) -> None:
        self.notify(f"Drew {plural(len(plan.cases), 'case')}; {plural(len(plan.without_case), 'worker')} had no "
                    "eligible case.")
        self.show_plan(plan)

    def _selected_case_index(self) -> int | None:
        """Where the highlighted row is among the drawn cases (None: a worker without a case)."""
        row = self.table.current
        if self.plan is None or not isinstance(row, MeetingCase):
            return None
        return self.plan.cases.index(row)

    def action_redraw(self) -> None:
        index = self._selected_case_index()
        if index is None or self.plan is None or self.plan.draw is None:
            self.notify("Highlight a worker with a drawn case first.", severity="warning")
            return
        case = self.plan.cases[index]
        if case.audit_id is not None:
            self.notify("This case is already being audited; it cannot be re-drawn.", severity="warning")
            return
        from screens.note_drafts import ask_note, note_draft

        pick = case.pick
        ask_note(self, note_draft("redraw", self.plan.draw.id, f"{pick.worker_name} ({pick.case_reference})",
                                  worker=str(pick.worker_id), worker_name=pick.worker_name, round=pick.round),
                 lambda _: self.load_plan())

    def action_verify(self) -> None:
        if self.plan is None or self.plan.draw is None:
            return
        from qa_tui.services.audits.draw_verification import verify_draw

        ctx, draw_id = self.ctx, self.plan.draw.id
        self.call_service(lambda s: verify_draw(s, draw_id, ctx.today()), self._show_verification)

    def _show_verification(self, result: DrawVerification) -> None:
        if result.picks_match:
            pools = ("The recorded pools still match today's caseloads." if result.pools_current
                     else "Caseloads have changed since the draw (that is expected as cases move).")
            self.notify(f"Verified: every pick follows from the seed and the recorded pools. {pools}", timeout=10)
        else:
            problems = "; ".join(result.problems) or "a recorded pick does not follow from the seed"
            self.notify(f"The draw does NOT verify: {problems}", severity="error", timeout=12)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_meeting()

    def action_explain(self) -> None:
        if self.plan is None or self.plan.draw is None:
            self.notify("No draw for this team this month yet: press n to draw.", severity="warning")
            return
        from screens.audits.draw_explained import DrawExplanationScreen

        row = self.table.current
        worker_id = row.pick.worker_id if isinstance(row, MeetingCase) else getattr(row, "worker_id", None)
        self.app.push_screen(DrawExplanationScreen(self.plan.draw.id, worker_id))

    def action_open_meeting(self) -> None:
        index = self._selected_case_index()
        if index is None or self.plan is None:
            return
        from screens.audits.meeting import MeetingScreen

        self.app.push_screen(MeetingScreen(self.plan, index))

    def offer_resume(self, point: ResumePoint | None) -> None:
        if point is None:
            return
        from screens.audits.meeting import MeetingScreen
        from qa_tui.services.audits.meeting import plan_for_draw

        def answer(yes: bool | None) -> None:
            if yes:
                self.call_service(lambda s: plan_for_draw(s, point.draw_id),
                                  lambda plan: self.app.push_screen(MeetingScreen(plan, point.index, resume=point)))

        self.app.push_screen(ConfirmDialog(
            f"Resume the live audit for {point.team_name}?",
            f"It stopped at case {point.index + 1} ({point.case_reference})"
            + (f", in the middle of typing {point.field.replace('_', ' ')}." if point.text else ".")), answer)

    def palette_commands(self):  # noqa: ANN201 - a generator of SystemCommand
        from textual.app import SystemCommand

        yield SystemCommand("Live audit: draw cases", "Draw one case per worker for this month", self.action_draw)
        yield SystemCommand("Live audit: choose team", "Pick the team that is meeting", self.action_choose_team)
        yield SystemCommand("Live audit: verify draw", "Re-check the draw from its seed", self.action_verify)
        yield SystemCommand("Live audit: why these cases", "The rules, each worker's pool and every re-draw's reason",
                            self.action_explain)
