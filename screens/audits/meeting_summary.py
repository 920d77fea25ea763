"""The end of a live audit meeting: grades per case, actions raised, and what goes to
moderation; complete drafts can be sent in one go."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from screens.base import QAScreen
from screens.dialogs import ConfirmDialog

if TYPE_CHECKING:
    from qa_tui.services.audits.summaries import SummaryRow
    from qa_tui.services.audits.meeting import MeetingPlan


class MeetingSummaryScreen(QAScreen):
    DEFAULT_CSS = """
    MeetingSummaryScreen #summary-title { height: auto; padding: 0 1; background: $boost; }
    MeetingSummaryScreen DataTable { height: 1fr; }
    MeetingSummaryScreen #summary-note { height: auto; padding: 0 1; }
    """
    BINDINGS = [
        Binding("u", "submit_all", "Submit complete", id="submit-all"),
        Binding("x", "finish", "Finish meeting", id="finish"),
        Binding("escape", "app.pop_screen", "Back to the cases", id="back"),
    ]

    def __init__(self, plan: MeetingPlan, audit_ids: list[uuid.UUID]) -> None:
        super().__init__()
        self.plan, self.audit_ids = plan, audit_ids
        self.rows: list[SummaryRow] = []

    def compose(self) -> ComposeResult:
        yield Static(f"[b]Meeting summary[/b] · {self.plan.team.name} · {self.plan.month}", id="summary-title")
        yield DataTable(id="summary-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="summary-note")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Case", "Worker", "Overall", "Grades", "Actions", "Status")
        self.load()

    def load(self) -> None:
        from qa_tui.services.audits.summaries import session_summary

        ctx, ids = self.ctx, self.audit_ids
        self.call_service(lambda s: session_summary(s, ids, today=ctx.today(), cfg=ctx.config), self.show)

    def show(self, rows: list[SummaryRow]) -> None:
        self.rows = rows
        table = self.query_one(DataTable)
        table.clear()
        for row in rows:
            grades = ", ".join(g.split(" ")[0] for _, g in row.grades)
            table.add_row(row.case_reference, row.worker_name, row.overall, grades, str(len(row.actions)), row.status)
        drafts = sum(1 for r in rows if r.status == "draft")
        sent = sum(1 for r in rows if r.status != "draft")
        actions = sum(len(r.actions) for r in rows)
        self.query_one("#summary-note", Static).update(
            f"{len(rows)} cases audited · {actions} actions raised · {sent} sent to moderation · {drafts} still draft. "
            "Press u to send every complete draft to moderation, x to finish the meeting.")
        table.focus()

    def action_submit_all(self) -> None:
        from qa_tui.services.audits.meeting import submit_complete_drafts

        ctx, ids = self.ctx, [r.audit_id for r in self.rows if r.status == "draft"]
        if not ids:
            self.notify("Nothing left in draft.")
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.call_service(lambda s: submit_complete_drafts(s, ids, ctx.today()), self._submitted, write=True)

        self.app.push_screen(ConfirmDialog(f"Send {len(ids)} draft audits to moderation?",
                                           "Drafts missing a grade stay in draft and are listed."), confirmed)

    def _submitted(self, outcome: tuple[list[uuid.UUID], list[str]]) -> None:
        sent, problems = outcome
        message = f"Sent {len(sent)} for moderation."
        if problems:
            message += " Not sent: " + "; ".join(problems)
        self.notify(message, severity="warning" if problems else "information", timeout=12)
        self.load()

    def action_finish(self) -> None:
        from qa_tui.services.audits.meeting import end_meeting

        login = self.ctx.login
        self.call_service(lambda s: end_meeting(s, login), lambda _: self._back_to_plan(), write=True)

    def _back_to_plan(self) -> None:
        from screens.audits.meeting import MeetingScreen

        while isinstance(self.app.screen, (MeetingSummaryScreen, MeetingScreen)):
            self.app.pop_screen()
