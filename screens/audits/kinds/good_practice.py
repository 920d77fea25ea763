"""Good practice: what was marked in a quarter, marking an observation or a piece of feedback, and
the quarterly learning and celebration pack."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand

from screens.audits.audit_steps import person_options
from screens.audits.kinds.pane import KindPane
from screens.dialogs import ChoiceDialog, ConfirmDialog, TextPrompt

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qa_tui.services.practice.celebration import GoodPracticeItem
    from qa_tui.services.programme.periods import Period


class GoodPracticePane(KindPane["GoodPracticeItem"]):
    KEY = "good_practice"
    TITLE = "Good practice"
    TAB = "Good practice"
    COLUMNS = ("Marked", "What", "Worker", "Why")
    HINT = "Enter opens a marked audit · n marks an observation or feedback · x unmarks · e pack"
    ACTIONS = frozenset({"open", "new", "remove", "export", "quarter"})

    def __init__(self) -> None:
        super().__init__()
        self._quarter: Period | None = None

    @property
    def quarter(self) -> Period:
        """The quarter shown: today's until [ or ] moves it."""
        if self._quarter is None:
            from qa_tui.services.practice.celebration import quarter_of

            self._quarter = quarter_of(self.ctx.today())
        return self._quarter

    def loader(self) -> Callable[[Session], Sequence[GoodPracticeItem]]:
        from qa_tui.services.practice.celebration import good_practice_between

        quarter = self.quarter
        return lambda s: good_practice_between(s, quarter.start, quarter.end)

    def cells(self, row: GoodPracticeItem) -> Sequence[object]:
        return (f"{row.marked_on:%-d %b %Y}", row.what[:36], row.worker_name, row.why[:40])

    def row_key(self, row: GoodPracticeItem) -> object:
        return row.id

    def scope(self) -> str:
        return f" · {self.quarter.label}"

    def step_quarter(self, step: int) -> None:
        from qa_tui.services.practice.celebration import quarter_after

        self._quarter = quarter_after(self.quarter, step)
        self.reload()

    def open(self, row: GoodPracticeItem) -> None:
        if row.source_kind == "audit":
            self.open_audit(row.source_id)
        else:
            self.notify(f"{row.what}: {row.why}", title="Good practice", timeout=10, markup=False)

    # --- marking ---------------------------------------------------------------------------

    def new(self) -> None:
        def chosen(what: str | None) -> None:
            if what == "observation":
                self.mark_observation()
            elif what == "feedback":
                self.mark_feedback()

        self.app.push_screen(ChoiceDialog("Mark what as good practice?", [
            ("observation", "A practice observation"), ("feedback", "Feedback from a child or family")]), chosen)

    def _mark(self, source_kind: str, source_id: uuid.UUID, what: str) -> None:
        from screens.note_drafts import ask_note, note_draft

        ask_note(self, note_draft("good-practice", source_id, what, source=source_kind), lambda _: self.reload())

    def mark_observation(self) -> None:
        from qa_tui.services.people.directory import people_for_picking
        from qa_tui.services.practice.pickers import observations_of_worker

        ctx = self.ctx

        def observation_chosen(obs: Any) -> None:
            if obs is not None:
                self._mark("observation", obs.id, f"{obs.kind_label}, {obs.observed_on:%-d %b %Y}")

        def offer(observations: list[Any]) -> None:
            if not observations:
                self.notify("No observations of this worker yet.", severity="warning")
                return
            self.app.push_screen(ChoiceDialog("Which observation?", [
                (o, f"{o.observed_on:%-d %b %Y} · {o.kind_label} · {o.setting or '—'}") for o in observations]),
                observation_chosen)

        def worker_chosen(worker_id: uuid.UUID | None) -> None:
            if worker_id is not None:
                self.call_service(lambda s: observations_of_worker(s, worker_id), offer)

        self.call_service(lambda s: people_for_picking(s, ctx.today()), lambda people: self.app.push_screen(
            ChoiceDialog("Observation of whom?", person_options(people)), worker_chosen))

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

    def remove_current(self) -> None:
        from qa_tui.services.practice.celebration import unmark_good_practice

        row = self.table.current
        if row is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.call_service(lambda s: unmark_good_practice(s, row.source_kind, row.source_id),
                                  lambda _: (self.notify("Taken off the good practice list."), self.reload()),
                                  write=True)

        self.app.push_screen(ConfirmDialog(f"Take {row.what} off the good practice list?"), confirmed)

    # --- the pack --------------------------------------------------------------------------

    def export(self) -> None:
        self.export_pack(self.quarter)

    def export_pack(self, quarter: Period) -> None:
        from qa_tui.services.practice.celebration import export_celebration_pack

        today = self.ctx.today()
        self.call_service(lambda s: export_celebration_pack(s, quarter, today=today),
                          lambda paths: self.notify(f"Pack for {quarter.label} written to {paths[0]} and "
                                                    f"{paths[1].name}", timeout=12, markup=False), write=True)

    def export_other_quarter(self) -> None:
        from qa_tui.errors import ValidationError
        from qa_tui.services.programme.periods import parse_financial_quarter

        def typed(text: str | None) -> None:
            if not text:
                return
            try:
                self.export_pack(parse_financial_quarter(text))
            except ValidationError as exc:
                self.notify(str(exc), severity="error", markup=False)

        self.app.push_screen(TextPrompt("Learning and celebration pack", "Financial quarter (Q1 = April to June)",
                                        initial=self.quarter.label,
                                        placeholder="e.g. 2026-Q3"), typed)

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Good practice: mark an observation", "Celebrate a practice observation",
                            self.mark_observation)
        yield SystemCommand("Good practice: mark feedback", "Celebrate feedback from a child or family",
                            self.mark_feedback)
        yield SystemCommand("Good practice: unmark the highlighted row", "Take it off the good practice list",
                            self.remove_current)
        quarter = self.quarter
        yield SystemCommand("Export the learning and celebration pack", f"Markdown and HTML for {quarter.label}",
                            lambda: self.export_pack(quarter))
        yield SystemCommand("Learning and celebration pack for another quarter", "Type the quarter, e.g. 2026-Q2",
                            self.export_other_quarter)
