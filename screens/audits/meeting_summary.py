"""The end of a live audit meeting: grades per case, actions raised, and what goes to
moderation; complete drafts can be sent in one go. Dismissed with True once the meeting is
finished, so the meeting closes too; False goes back to the cases."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from qa_tui.text import plural
from qa_tui.widgets.literal import literal
from qa_tui.widgets.record_table import RecordTable
from screens.base import ServiceCalls
from screens.dialogs import ConfirmDialog

if TYPE_CHECKING:
    from qa_tui.services.audits.meeting import MeetingPlan
    from qa_tui.services.audits.summaries import SummaryRow


def summary_cells(row: SummaryRow) -> tuple[str, ...]:
    grades = ", ".join(g.split(" ")[0] for _, g in row.grades)
    return row.case_reference, row.worker_name, row.overall, grades, str(len(row.actions)), row.status


class MeetingSummaryScreen(ServiceCalls, Screen[bool]):
    DEFAULT_CSS = """
    MeetingSummaryScreen #summary-title { height: auto; padding: 0 1; background: $boost; }
    MeetingSummaryScreen RecordTable { height: 1fr; }
    MeetingSummaryScreen #summary-note { height: auto; padding: 0 1; }
    """
    BINDINGS = [
        Binding("u", "submit_all", "Submit complete", id="submit-all",
                tooltip="Send every draft with all its grades to moderation"),
        Binding("x", "finish", "Finish meeting", id="finish", tooltip="End the meeting and go back to the draw"),
        Binding("escape", "back", "Back to the cases", id="back", tooltip="Back to the meeting's cases"),
    ]

    def __init__(self, plan: MeetingPlan, audit_ids: list[uuid.UUID]) -> None:
        super().__init__()
        self.plan, self.audit_ids = plan, audit_ids

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("Meeting summary", "bold"), literal(f" · {self.plan.team.name} · {self.plan.month}")),
                     id="summary-title")
        yield RecordTable(("Case", "Worker", "Overall", "Grades", "Actions", "Status"), summary_cells,
                          key=lambda r: r.audit_id, id="summary-table")
        yield Static("", id="summary-note")
        yield Footer()

    @property
    def table(self) -> RecordTable[SummaryRow]:
        return self.query_one("#summary-table", RecordTable)

    def on_mount(self) -> None:
        self.load()

    def load(self) -> None:
        from qa_tui.services.audits.summaries import session_summary

        ctx, ids = self.ctx, self.audit_ids
        self.call_service(lambda s: session_summary(s, ids, today=ctx.today(), cfg=ctx.config), self.show)

    def show(self, rows: list[SummaryRow]) -> None:
        self.table.show(rows)
        drafts = sum(1 for r in rows if r.status == "draft")
        sent = len(rows) - drafts
        actions = sum(len(r.actions) for r in rows)
        self.query_one("#summary-note", Static).update(literal(
            f"{plural(len(rows), 'case')} audited · {plural(actions, 'action')} raised · {sent} sent to moderation · "
            f"{drafts} still draft. "
            "Press u to send every complete draft to moderation, x to finish the meeting."))
        self.table.focus()

    def action_submit_all(self) -> None:
        from qa_tui.services.audits.meeting import submit_complete_drafts

        ctx, ids = self.ctx, [r.audit_id for r in self.table.records if r.status == "draft"]
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
        self.notify(message, severity="warning" if problems else "information", timeout=12, markup=False)
        self.load()

    def action_finish(self) -> None:
        from qa_tui.services.audits.meeting import end_meeting

        login = self.ctx.login
        self.call_service(lambda s: end_meeting(s, login), lambda _: self.dismiss(True), write=True)

    def action_back(self) -> None:
        self.dismiss(False)
