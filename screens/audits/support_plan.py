"""One support plan: its aim and dated steps, each reviewed at supervision until done. Opening a
plan only reads it; putting its open steps back on the supervision agenda is its own key."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.widgets import Footer, Header, Static

from qa_tui.dates import day_problem, parse_day
from qa_tui.services.unsaved_forms import FormDraft
from qa_tui.widgets.literal import literal
from qa_tui.widgets.record_table import RecordTable
from screens.base import QAScreen
from screens.drafts import DraftedPrompt, forget_draft

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qa_tui.services.practice.support import StepReviews, SupportPlanView, SupportStepView

CHANGES = ("add_step", "step_done", "review_steps", "close_plan")  # need an open plan


def ask_due_date(node: DOMNode, today: date, title: str, label: str, then: Callable[[date], None], *,
                 draft: FormDraft, typed: date | None = None, problem: str = "") -> None:
    """Ask for a step's due date (offering the usual one, or the one `typed` and refused for
    `problem`) and pass it on once it reads as a day. It is kept as the draft's "due", with the
    answers before it; Esc asks before throwing them away."""
    from qa_tui.services.practice.support import default_step_due

    def chosen(text: str | None) -> None:
        if text is not None:
            then(parse_day(text))

    # A date that cannot be read is named beside the field and the dialog stays open, so the aim
    # and the step typed before it are not lost.
    shown = typed or default_step_due(today)
    node.app.push_screen(DraftedPrompt(title, label, draft.at("due"), field="due", initial=f"{shown:%d/%m/%Y}",
                                       check=day_problem, problem=problem, earlier=True), chosen)


def refused_date(node: DOMNode, today: date, title: str, label: str, then: Callable[[date], None],
                 draft: FormDraft, due: date) -> Callable[[BaseException], bool]:
    """When the service refuses the due date (before the plan started), ask for it again with
    why beside it: what was typed before it is kept."""
    from qa_tui.errors import ValidationError

    def refused(error: BaseException) -> bool:
        if not isinstance(error, ValidationError):
            return False
        ask_due_date(node, today, title, label, then, draft=draft, typed=due, problem=f"Not saved: {error.problem}")
        return True

    return refused


def reopen_plan_change(screen: QAScreen, draft: FormDraft) -> None:
    """Open the plan again and ask for the step, or how it ended, with what was typed in it."""
    screen.app.push_screen(SupportPlanScreen(uuid.UUID(draft.record_id), draft=draft))


class SupportPlanScreen(QAScreen):
    """One support plan: its aim and dated steps, each reviewed at supervision until done."""

    CSS_PATH = "support_plan.tcss"
    BINDINGS = [
        Binding("n", "add_step", "New step", id="sp-add", tooltip="Add a dated step; it goes on the supervision agenda"),
        Binding("x", "step_done", "Step done", id="sp-done", tooltip="Mark the highlighted step done today"),
        Binding("r", "review_steps", "Review steps", id="sp-review",
                tooltip="Put the open steps back on the worker's supervision agenda to be reviewed"),
        Binding("c", "close_plan", "Close plan", id="sp-close", tooltip="Close the plan, saying how it ended"),
        Binding("escape", "back", "Back", id="sp-back", tooltip="Back to the list of plans"),
    ]

    def __init__(self, plan_id: uuid.UUID, *, draft: FormDraft | None = None) -> None:
        super().__init__()
        self.plan_id = plan_id
        self.plan: SupportPlanView | None = None
        self.restored = draft  # a step or a closing typed in an earlier session, asked for again once loaded

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="sp-title")
        yield Static("", id="sp-aim")
        yield RecordTable(("Step", "Due", "Done", "Last reviewed", "On agenda"), self.cells, lambda step: step.id,
                          id="sp-table")
        yield Static("Each open step is on the worker's supervision agenda (by its due date only) until it is done; "
                     "r puts the open steps back on it once their last review has been discussed.", id="sp-hint")
        yield Footer()

    @property
    def table(self) -> RecordTable[SupportStepView]:
        return self.query_one("#sp-table", RecordTable)

    def on_mount(self) -> None:
        from qa_tui.services.practice.support import get_support_plan

        plan_id, me, today = self.plan_id, self.ctx.person_id, self.ctx.today()

        def refused(error: BaseException) -> bool:
            self.app.pop_screen()
            return False  # the app still says why

        self.call_service(lambda s: get_support_plan(s, plan_id, me, today=today), self.show, on_error=refused)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in CHANGES and (self.plan is None or self.plan.status != "open"):
            return None  # shown, but greyed out: a closed plan does not change
        return True

    @staticmethod
    def cells(step: SupportStepView) -> Sequence[object]:
        due = literal(f"{step.due_on:%-d %b %Y}")
        if step.overdue:
            due.append(" overdue", style="bold")
        return (step.step[:50], due, f"{step.done_on:%-d %b %Y}" if step.done_on else "—",
                f"{step.last_reviewed_on:%-d %b %Y}" if step.last_reviewed_on else "not yet",
                "yes" if step.on_agenda else "")

    def show(self, plan: SupportPlanView) -> None:
        self.plan = plan
        closed = f" · closed {plan.closed_on:%-d %b %Y}: {plan.outcome}" if plan.closed_on else ""
        self.query_one("#sp-title", Static).update(Text.assemble(
            literal(f"Support plan for {plan.worker.name}", "bold"),
            literal(f" ({plan.worker.staff_id}) · kept by {plan.manager.name} · started {plan.started_on:%-d %b %Y} · "),
            literal(f" {plan.status.upper()} ", "reverse"), literal(closed)))
        self.query_one("#sp-aim", Static).update(Text.assemble(("Aim:", "bold"), " ", literal(plan.aim)))
        self.table.show(plan.steps)
        self.table.focus()
        self.refresh_bindings()
        draft, self.restored = self.restored, None
        if draft is not None and plan.status == "open":
            (self._ask_step if draft.kind == "support-step" else self._ask_close)(draft)

    def _write(self, job: Callable[[Session], SupportPlanView], done: str, *, draft: FormDraft | None = None,
               on_error: Callable[[BaseException], bool] | None = None) -> None:
        def written(plan: SupportPlanView) -> None:
            forget_draft(self.qa_app, draft)
            self.show(plan)
            self.notify(done)

        self.call_service(job, written, write=True, on_error=on_error)

    def action_add_step(self) -> None:
        self._ask_step(self._draft("support-step"))

    def _draft(self, kind: str) -> FormDraft:
        worker = self.plan.worker.name if self.plan is not None else "the worker"
        return FormDraft(kind, str(self.plan_id), f"for {worker}")

    def _ask_step(self, draft: FormDraft) -> None:
        """The step, then its due date, kept as a draft as they are typed until the step is added."""
        from qa_tui.services.practice.support import add_step

        ctx, plan_id, title, label = self.ctx, self.plan_id, "New step", "Due (DD/MM/YYYY)"

        def got_due(due: date, draft: FormDraft) -> None:
            self._write(lambda s: add_step(s, plan_id, step=draft.values["step"], due_on=due, by_id=ctx.person_id,
                                           today=ctx.today(), record_id=uuid.UUID(draft.draft_id)),
                        "Step added and put on the supervision agenda.", draft=draft,
                        on_error=refused_date(self, ctx.today(), title, label, lambda again: got_due(again, draft),
                                              draft, due))

        def got_step(text: str | None) -> None:
            if text:
                done = draft.at("due", step=text)
                ask_due_date(self, ctx.today(), title, label, lambda due: got_due(due, done), draft=done)

        if draft.context.get("stage") == "due":
            ask_due_date(self, ctx.today(), title, label, lambda due: got_due(due, draft), draft=draft)
        else:
            self.app.push_screen(DraftedPrompt(title, "What the worker will do", draft, field="step"), got_step)

    def action_step_done(self) -> None:
        step = self.table.current
        if step is None:
            return
        from qa_tui.services.practice.support import complete_step

        ctx = self.ctx
        self._write(lambda s: complete_step(s, step.id, by_id=ctx.person_id, today=ctx.today(),
                                            expected_version=step.version), "Step marked done.")

    def action_review_steps(self) -> None:
        from qa_tui.services.practice.support import review_open_steps

        ctx, plan_id = self.ctx, self.plan_id

        def reviewed(result: StepReviews) -> None:
            self.show(result.plan)
            self.notify(f"{result.raised} open step{'s' if result.raised != 1 else ''} put on the supervision "
                        "agenda for review." if result.raised else
                        "Every open step is already waiting on the supervision agenda.")

        self.call_service(lambda s: review_open_steps(s, plan_id, by_id=ctx.person_id, today=ctx.today()),
                          reviewed, write=True)

    def action_close_plan(self) -> None:
        if self.plan is not None:
            self._ask_close(self._draft("support-close"))

    def _ask_close(self, draft: FormDraft) -> None:
        """How the plan ended, kept as a draft as it is typed until the plan is closed."""
        from qa_tui.services.practice.support import close_plan

        ctx, plan = self.ctx, self.plan
        assert plan is not None

        def typed(outcome: str | None) -> None:
            if outcome:
                self._write(lambda s: close_plan(s, plan.id, outcome=outcome, by_id=ctx.person_id, today=ctx.today(),
                                                 expected_version=plan.version), "Plan closed.", draft=draft)

        self.app.push_screen(DraftedPrompt("Close the support plan", "How it ended", draft, field="outcome"), typed)

    def action_back(self) -> None:
        self.dismiss()

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Support plan: new step", "A dated step, put on the worker's supervision agenda",
                            self.action_add_step)
        yield SystemCommand("Support plan: step done", "Mark the highlighted step done", self.action_step_done)
        yield SystemCommand("Support plan: review the open steps",
                            "Put them back on the worker's supervision agenda once the last review was discussed",
                            self.action_review_steps)
        yield SystemCommand("Support plan: close", "Close the plan with how it ended", self.action_close_plan)
