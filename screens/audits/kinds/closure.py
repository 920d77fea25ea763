"""The closure and transfer queue: cases that closed or moved team in the service's window, each
due a closure audit; Enter starts it or opens it, v shows every service's."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING


from qa_tui.widgets.literal import literal
from screens.audits.kinds.pane import OwnListPane

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qa_tui.services.audits.closure import QueueItem


class ClosurePane(OwnListPane["QueueItem"]):
    KEY = "closure"
    TITLE = "Closure and transfer"
    TAB = "Closure"
    COLUMNS = ("Case", "Cat.", "Why", "On", "Worker", "Due by", "Audit")
    HINT = "Enter audits the case · v yours or everyone's"
    ACTIONS = frozenset({"open", "toggle_mine"})

    def hint(self) -> str:
        from qa_tui.services.audits.closure import WINDOW_MONTHS

        return f"Closed or moved team in the last {WINDOW_MONTHS} months · {self.HINT}"

    def loader(self) -> Callable[[Session], Sequence[QueueItem]]:
        from qa_tui.services.audits.closure import closure_queue

        ctx, leader_id = self.ctx, self.mine_id
        return lambda s: closure_queue(s, ctx.today(), cfg=ctx.config, leader_id=leader_id)

    def cells(self, row: QueueItem) -> Sequence[object]:
        audit = literal(row.audit_label, "bold" if row.overdue else "")
        return (row.reference, row.category, row.event_label, f"{row.event_on:%-d %b %Y}", row.worker_name,
                f"{row.due_by:%-d %b %Y}", audit)

    def row_key(self, row: QueueItem) -> object:
        return (row.case_id, row.event)

    def open(self, row: QueueItem) -> None:
        from qa_tui.services.audits.closure import start_closure_audit

        ctx = self.ctx
        self.open_or_start_audit(
            row.audit_id,
            f"Start the closure audit of {row.reference} ({row.event_label.lower()} {row.event_on:%-d %b %Y})?",
            "Objectives met, chronology checked for gaps, key data recorded, overall quality, step-down plan: "
            f"each met, partly met or not met. Due by {row.due_by:%-d %B %Y}.",
            lambda s, me: start_closure_audit(s, row.case_id, me, today=ctx.today(), cfg=ctx.config,
                                              team_id=row.team_id))
