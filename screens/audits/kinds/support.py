"""Support plans: the plans you keep, your own, and those kept below you; Enter opens one, n records
a plan for someone who reports to you."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand

from qa_tui.services.unsaved_forms import FormDraft
from screens.audits.audit_steps import person_options
from screens.audits.kinds.pane import KindPane
from screens.audits.support_plan import SupportPlanScreen, ask_due_date, refused_date
from screens.dialogs import ChoiceDialog
from screens.drafts import DraftedPrompt, forget_draft

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qa_tui.services.people.directory import PersonRef
    from qa_tui.services.practice.support import SupportPlanView
    from screens.base import QAScreen

TITLE, DUE_LABEL = "Support plan", "First step due (DD/MM/YYYY)"
# The wizard's prompts before the due date: the field each fills, its label, an example, the next.
PLAN_PROMPTS = {"aim": ("What they need support to improve", "", "step"),
                "step": ("First step", "e.g. Agree a weekly writing slot", "due")}


def ask_plan(node: Any, manager_id: uuid.UUID, draft: FormDraft) -> None:
    """The support plan wizard from the draft's stage on (the aim, the first step, its due date),
    every answer kept in the draft as it is typed; then the plan is recorded (once, however often
    the draft is restored) and opened. `node` is the screen or pane asking."""
    from qa_tui.services.practice.support import record_support_plan

    ctx = node.ctx
    stage = draft.context.get("stage", "aim")

    def record(due: date) -> None:
        values, worker_id = draft.values, uuid.UUID(draft.record_id)

        def recorded(plan: SupportPlanView) -> None:
            forget_draft(node.app, draft)
            node.app.push_screen(SupportPlanScreen(plan.id))

        node.call_service(
            lambda s: record_support_plan(s, worker_id=worker_id, manager_id=manager_id, aim=values["aim"],
                                          steps=[(values["step"], due)], today=ctx.today(),
                                          record_id=uuid.UUID(draft.draft_id)),
            recorded, write=True, on_error=refused_date(node, ctx.today(), TITLE, DUE_LABEL, record, draft, due))

    if stage == "due":
        ask_due_date(node, ctx.today(), TITLE, DUE_LABEL, record, draft=draft)
        return
    label, example, following = PLAN_PROMPTS[stage]

    def answered(text: str | None) -> None:
        if text:
            ask_plan(node, manager_id, draft.at(following, **{stage: text}))

    node.app.push_screen(DraftedPrompt(TITLE, label, draft, field=stage, placeholder=example,
                                       earlier=stage != "aim"), answered)


def reopen_support_plan(screen: QAScreen, draft: FormDraft) -> None:
    """Go on with a support plan's wizard where it was left, with what was typed in it."""
    if screen.ctx.person_id is None:
        screen.notify("You are not linked to a person record, so the support plan cannot be recorded; "
                      "the draft is kept.", severity="warning")
        return
    ask_plan(screen, screen.ctx.person_id, draft)


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
        from qa_tui.services.practice.support import workers_to_support

        names: dict[uuid.UUID, str] = {}

        def worker_chosen(worker_id: uuid.UUID | None) -> None:
            if worker_id is not None:
                ask_plan(self, me, FormDraft("support-plan", str(worker_id), f"for {names.get(worker_id, '')}"))

        def offer(people: list[PersonRef]) -> None:
            if not people:
                self.notify("Nobody reports to you, so there is nobody to record a support plan for.",
                            severity="warning")
                return
            for person in people:
                names[person.id] = person.name
            self.app.push_screen(ChoiceDialog("Support plan for whom?", person_options(people)), worker_chosen)

        self.call_service(lambda s: workers_to_support(s, me), offer)

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("New support plan", "An action plan with dated steps for a worker you manage", self.new)
