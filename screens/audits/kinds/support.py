"""Support plans: the plans you keep, your own, and those kept below you; Enter opens one, n records
a plan for someone who reports to you."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand

from screens.audits.audit_steps import person_options
from screens.audits.kinds.pane import KindPane
from screens.audits.support_plan import SupportPlanScreen, ask_due_date, refused_date
from screens.dialogs import ChoiceDialog, TextPrompt

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qa_tui.services.people.directory import PersonRef
    from qa_tui.services.practice.support import SupportPlanView


class SupportPane(KindPane["SupportPlanView"]):
    KEY = "support"
    TITLE = "Support plans"
    TAB = "Support"
    COLUMNS = ("Worker", "Aim", "Kept by", "Started", "Steps done", "Next due", "Status")
    HINT = "Plans you keep and those kept below you (never the worker's own) · Enter opens · n records a plan"

    def loader(self) -> Callable[[Session], Sequence[SupportPlanView]]:
        from qa_tui.services.practice.support import support_plans_visible_to

        me, today = self.ctx.person_id, self.ctx.today()
        return lambda s: support_plans_visible_to(s, me, today=today)

    def cells(self, row: SupportPlanView) -> Sequence[object]:
        return (row.worker.name, row.aim[:30], row.manager.name, f"{row.started_on:%-d %b %Y}",
                f"{row.steps_done} of {len(row.steps)}", f"{row.next_due:%-d %b %Y}" if row.next_due else "—",
                row.status)

    def row_key(self, row: SupportPlanView) -> object:
        return row.id

    def open(self, row: SupportPlanView) -> None:
        self.app.push_screen(SupportPlanScreen(row.id))

    def new(self) -> None:
        me = self.person_needed()
        if me is None:
            return
        from qa_tui.services.practice.support import record_support_plan, workers_to_support

        ctx = self.ctx
        answers: dict[str, Any] = {}

        precious, title, label = "the aim and the step you typed", "Support plan", "First step due (DD/MM/YYYY)"

        def record(due: date) -> None:
            self.call_service(
                lambda s: record_support_plan(s, worker_id=answers["worker"], manager_id=me, aim=answers["aim"],
                                              steps=[(answers["step"], due)], today=ctx.today()),
                lambda plan: self.app.push_screen(SupportPlanScreen(plan.id)), write=True,
                on_error=refused_date(self, ctx.today(), title, label, record, precious, due))

        def got_step(step: str | None) -> None:
            if step:
                answers["step"] = step
                ask_due_date(self, ctx.today(), title, label, record, precious=precious)

        def got_aim(aim: str | None) -> None:
            if aim:
                answers["aim"] = aim
                self.app.push_screen(TextPrompt(title, "First step", placeholder="e.g. Agree a weekly writing slot",
                                                precious=precious, earlier=True), got_step)

        def worker_chosen(worker_id: uuid.UUID | None) -> None:
            if worker_id is not None:
                answers["worker"] = worker_id
                self.app.push_screen(TextPrompt(title, "What they need support to improve",
                                                precious="the aim you typed"), got_aim)

        def offer(people: list[PersonRef]) -> None:
            if not people:
                self.notify("Nobody reports to you, so there is nobody to record a support plan for.",
                            severity="warning")
                return
            self.app.push_screen(ChoiceDialog("Support plan for whom?", person_options(people)), worker_chosen)

        self.call_service(lambda s: workers_to_support(s, me), offer)

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("New support plan", "An action plan with dated steps for a worker you manage", self.new)
