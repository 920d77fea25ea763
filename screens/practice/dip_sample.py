"""Dip sampling: pick a case of your team (or type its reference), rate each key area met, partly
met or not met with a comment, close the loop with the worker, and finalise."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Footer, Static, TextArea

from qa_tui.journal import Unsaved
from qa_tui.text import printable
from qa_tui.widgets.grades import GradeList, GradeRow
from qa_tui.widgets.literal import literal, literal_markup
from qa_tui.widgets.save_queue import SaveQueue
from screens.base import QAScreen, leave_form
from screens.dialogs import ChoiceDialog, ConfirmDialog, TextPrompt
from screens.lists import ListScreen

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qa_tui.services.people.directory import TeamRef
    from qa_tui.services.practice.dip_sample import DipSampleView
    from qa_tui.services.practice.pickers import DipCase, DipCaseList


def dip_state(case: DipCase) -> str:
    if case.draft_id is not None:
        return f"in progress since {case.draft_on:%-d %b %Y}"
    if case.last_finalised_on is not None:
        return f"finalised {case.last_finalised_on:%-d %b %Y}"
    return ""


class DipSampleScreen(ListScreen["DipCase", "DipCaseList"]):
    """The open, allocated cases of one team, with any dip sample in progress or done."""

    CSS_PATH = "dip_sample.tcss"
    BINDINGS = [
        Binding("enter", "open_record", "Dip sample", id="open-dip-sample", priority=True,
                tooltip="Dip sample the highlighted case, or open the one in progress"),
        Binding("f", "find_case", "Find by reference", id="find-case",
                tooltip="Dip sample any case, of any team, by its reference"),
        Binding("c", "choose_team", "Choose team", id="choose-team", tooltip="List the cases of another team"),
        Binding("r", "refresh", "Refresh", id="refresh-dip", tooltip="Read the team's cases again"),
    ]
    PREFIX, GROUP, DETAIL = "dip", "dip-cases", "hint"
    COLUMNS = ("Case", "Category", "Worker", "Dip sample")

    def __init__(self) -> None:
        super().__init__()
        self.team_id: uuid.UUID | None = None  # the team whose cases are listed: the user's to start with
        self.choosing_team = False

    def on_mount(self) -> None:
        self.team_id = self.ctx.team_id

    def reload_on_resume(self) -> None:
        if self.choosing_team:  # already asking (the area may be resumed twice as it opens), or just asked
            return
        if self.team_id is None:
            self.action_choose_team()
        else:
            self.action_refresh()

    def load(self) -> Callable[[Session], DipCaseList] | None:
        from qa_tui.services.practice.pickers import dip_case_list

        team_id, today, person_id = self.team_id, self.ctx.today(), self.ctx.person_id
        if team_id is None:
            return None
        return lambda s: dip_case_list(s, team_id, today, person_id)

    def records(self, loaded: DipCaseList) -> tuple[DipCase, ...]:
        return loaded.cases

    def key(self, record: DipCase) -> uuid.UUID:
        return record.case_id

    def cells(self, case: DipCase) -> tuple[object, ...]:
        return (case.reference, case.category, case.worker_name or "", dip_state(case))

    def title_line(self, loaded: DipCaseList) -> Content:
        mine = loaded.mine
        title = literal_markup("[b]Dip sampling[/b] · $team", team=loaded.team_name)
        if mine is None:
            return title
        if mine.done:
            return title + literal_markup(" · your dip sample for $month: [b green]done[/]", month=mine.month)
        return title + literal_markup(" · your dip sample for $month: [b red]not done yet[/]", month=mine.month)

    def detail(self, record: DipCase | None) -> str:
        """Not about the highlighted case: what the keys do here."""
        from qa_tui.services.practice.pickers import DIP_CASES_SHOWN

        loaded = self.loaded
        if loaded is None or not loaded.cases:
            return "No open, allocated cases in this team. Press c to choose another team."
        more = f"Showing the first {DIP_CASES_SHOWN} cases. " if loaded.more else ""
        return (f"{more}Enter dip samples the highlighted case (or opens the one in progress); "
                "f finds a case by reference.")

    def open_record(self, case: DipCase) -> None:
        self.open_dip_sample(case)

    def action_choose_team(self) -> None:
        from qa_tui.services.people.directory import list_teams

        def ask(teams: list[TeamRef]) -> None:
            def chosen(team_id: uuid.UUID | None) -> None:
                self.choosing_team = False
                if team_id is not None:
                    self.team_id = team_id
                    self.action_refresh()

            self.app.push_screen(ChoiceDialog("Dip sample a case of which team?",
                                              [(t.id, f"{t.name} ({t.code})") for t in teams], self.team_id), chosen)

        def failed(error: BaseException) -> bool:
            self.choosing_team = False
            return False  # reported by the app

        self.choosing_team = True
        self.call_service(list_teams, ask, on_error=failed)

    def action_find_case(self) -> None:
        from qa_tui.services.practice.pickers import dip_sample_case

        def found(reference: str | None) -> None:
            if reference:
                self.call_service(lambda s: dip_sample_case(s, reference), self.open_dip_sample)

        self.app.push_screen(TextPrompt("Dip sample a case", "Case reference", placeholder="e.g. CASE-0042"), found)

    def open_dip_sample(self, case: DipCase) -> None:
        if case.draft_id is not None:
            self.app.push_screen(DipSampleFormScreen(case.draft_id, case))
            return
        manager_id = self.ctx.person_id
        if manager_id is None:
            self.notify("You are not linked to a person record in the database, so a dip sample cannot be "
                        "recorded in your name. Set your staff ID in the config file.", severity="error", timeout=10)
            return
        from qa_tui.services.practice.dip_sample import start_dip_sample

        ctx = self.ctx

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.call_service(
                    lambda s: start_dip_sample(s, case_id=case.case_id, manager_id=manager_id, today=ctx.today(),
                                               cfg=ctx.config),
                    lambda view: self.app.push_screen(DipSampleFormScreen(view.id, case)), write=True)

        last = f" It was last dip sampled on {case.last_finalised_on:%-d %b %Y}." if case.last_finalised_on else ""
        self.app.push_screen(ConfirmDialog(
            f"Start a dip sample of {case.reference} ({case.worker_name or 'unallocated'})?",
            f"It is dated today and shared with the worker when you close the loop.{last}"), confirmed)

    def palette_commands(self):  # noqa: ANN201 - a generator of SystemCommand
        from textual.app import SystemCommand

        yield SystemCommand("Dip sampling: find a case by reference", "Dip sample any case by its reference",
                            self.action_find_case)
        yield SystemCommand("Dip sampling: choose team", "List the cases of another team", self.action_choose_team)


class DipSampleFormScreen(QAScreen):
    """One dip sample: areas with single-key ratings, a comment per area saved as it is typed,
    the loop closed with the worker, then finalised."""

    CSS_PATH = "dip_sample.tcss"
    BINDINGS = [
        Binding("1", "rate(0)", "Rate 1-3", id="rate", tooltip="Rate the highlighted area: 1 met"),
        Binding("2", "rate(1)", show=False, id="rate-2", tooltip="Rate the highlighted area: 2 partly met"),
        Binding("3", "rate(2)", show=False, id="rate-3", tooltip="Rate the highlighted area: 3 not met"),
        Binding("enter", "comment", "Comment", id="comment", tooltip="Write a comment on the highlighted area"),
        Binding("c", "close_loop", "Close loop", id="close-loop",
                tooltip="Share what you found with the worker, on their next supervision agenda"),
        Binding("f", "finalise", "Finalise", id="finalise",
                tooltip="Finalise once every area is rated and the findings are shared"),
        Binding("n", "add_action", "New action", id="dip-add-action",
                tooltip="Raise an action from this dip sample, as for an audit"),
        Binding("escape", "back", "Back", id="dip-back", tooltip="Back to the cases (a comment: back to the areas)"),
        Binding("R", "reload", "Reload", show=False, id="dip-reload",
                tooltip="Read the dip sample again, as it is stored"),
    ]

    def __init__(self, audit_id: uuid.UUID, case: DipCase) -> None:
        super().__init__()
        self.audit_id = audit_id
        self.case = case
        self.view: DipSampleView | None = None
        self.comments: dict[str, str] = {}
        self.pending_ratings: dict[str, int] = {}
        self.comment_key: str | None = None
        self.problem = ""  # why the last save was not done, beside the status until the next one is
        self.saves = SaveQueue(self, self._save_failed, on_change=self._show_saves)

    def compose(self) -> ComposeResult:
        yield Static("Loading…", id="dip-bar")
        areas = GradeList(id="dip-areas")
        areas.border_title = "Key areas"
        yield areas
        with Horizontal(id="dip-lower"):
            comment = TextArea(id="dip-comment", soft_wrap=True, show_line_numbers=False)
            comment.border_title = "Comment"
            yield comment
            shared = Static("", id="dip-shared")
            shared.border_title = "Loop with the worker"
            yield shared
        yield Static("", id="dip-status")
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        from qa_tui.services.practice.dip_sample import dip_sample

        audit_id = self.audit_id
        self.call_service(lambda s: dip_sample(s, audit_id), self.show_loaded)

    def show_loaded(self, view: DipSampleView) -> None:
        self.problem = ""
        # Shown (and saved) as typed; a comment typed since it was last stored stays, to be saved.
        typed = {k: text for k, text in self.comments.items() if self.view is None or text != self._stored_comment(k)}
        self.comments = {a.key: printable(a.comment) for a in view.areas} | typed
        self.pending_ratings.clear()
        self.show(view)
        self.load_comment()
        self.query_one("#dip-areas", GradeList).focus()

    def show(self, view: DipSampleView) -> None:
        self.view = view
        for key, rating in list(self.pending_ratings.items()):
            if any(a.key == key and a.rating == rating for a in view.areas):
                del self.pending_ratings[key]
        areas = self.query_one("#dip-areas", GradeList)
        areas.set_rows([GradeRow(a.key, a.label, self.pending_ratings.get(a.key, a.rating),
                                 "✎" if self.comments.get(a.key, a.comment).strip() else "")
                        for a in view.areas], view.scale)
        draft = view.status == "draft"
        self.query_one("#dip-bar", Static).update(literal_markup(
            "[b]Dip sample of $case[/b] · worker $worker · dated $day · [reverse] $status [/]",
            case=view.case_reference, worker=self.case.worker_name or "—", day=f"{view.audit_date:%-d %b %Y}",
            status=view.status.upper()))
        self.query_one("#dip-comment", TextArea).read_only = not draft
        shared = self.query_one("#dip-shared", Static)
        if view.shared_with_worker_on:
            shared.update(literal(f"Shared {view.shared_with_worker_on:%-d %b %Y}:\n{view.shared_summary}"))
        else:
            shared.update("[dim]Not shared yet. Press c to put what you found on the worker's "
                          "supervision agenda.[/dim]")
        self._show_saves()

    def _show_saves(self) -> None:
        """"saved" only once nothing waits: the queue says how many changes are still on their way."""
        view = self.view
        if view is None or not self.is_mounted:
            return
        if view.status != "draft":
            self._status("Finalised: this dip sample can no longer be changed.")
            return
        rated = sum(self.pending_ratings.get(a.key, a.rating) is not None for a in view.areas)
        line = self.saves.status("" if self.problem else f"{rated} of {len(view.areas)} areas rated · saved")
        self._status(" · ".join(part for part in (line, self.problem) if part))

    def _saved(self, view: DipSampleView) -> None:
        self.problem = ""
        self.show(view)

    # --- ratings and comments --------------------------------------------------------------

    def on_grade_list_moved(self, event: GradeList.Moved) -> None:
        self.saves.flush()
        self.load_comment()

    def load_comment(self) -> None:
        row = self.query_one("#dip-areas", GradeList).current
        if row is None:
            return
        self.comment_key = row.key
        area = self.query_one("#dip-comment", TextArea)
        area.border_title = literal(f"Comment: {row.label}")
        text = self.comments.get(row.key, "")
        if area.text != text:
            area.load_text(text)

    def action_comment(self) -> None:
        if self.view is not None and self.view.status == "draft":
            self.query_one("#dip-comment", TextArea).focus()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        key, view = self.comment_key, self.view
        if key is None or view is None or event.text_area.read_only:
            return
        text = event.text_area.text
        if self.comments.get(key) == text:
            return
        self.comments[key] = text
        if text != self._stored_comment(key):
            self.saves.typed(self._unsaved(key))  # on disk before any pause, rated or not
        else:
            self.saves.untyped(f"comment-{key}", f"dip:{self.audit_id}:{key}")
        if self._rating_of(key) is None:
            self._status("Comment kept: rate this area (1-3) to save it with the rating.")
        else:
            self.saves.later(f"comment-{key}", lambda: self._save_area(key))

    def action_rate(self, rating: int) -> None:
        view = self.view
        row = self.query_one("#dip-areas", GradeList).current
        if view is None or row is None:
            return
        if view.status != "draft":
            self.notify("This dip sample is finalised and can no longer be changed.", severity="warning")
            return
        self.pending_ratings[row.key] = rating
        self.show(view)
        self._save_area(row.key)

    def _stored_comment(self, key: str) -> str:
        return next((printable(a.comment) for a in self.view.areas if a.key == key), "") if self.view else ""

    def _unsaved(self, key: str) -> Unsaved:
        """The journal's note of an area's comment, with the rating it goes with (if any yet)."""
        rating = self._rating_of(key)
        label = next((a.label for a in self.view.areas if a.key == key), key) if self.view else key
        return Unsaved(f"dip:{self.audit_id}:{key}", "dip-comment", str(self.audit_id),
                       f"{key}:{'' if rating is None else rating}",
                       f"Dip sample of {self.case.reference} · comment on {label}", self.comments.get(key, ""))

    def _rating_of(self, key: str) -> int | None:
        if key in self.pending_ratings:
            return self.pending_ratings[key]
        return next((a.rating for a in self.view.areas if a.key == key), None) if self.view else None

    def _save_area(self, key: str) -> None:
        from qa_tui.services.practice.dip_sample import rating_save

        rating = self._rating_of(key)
        if rating is None:  # a failed save dropped the rating this comment waited for
            self._status("Comment kept: rate this area (1-3) to save it with the rating.")
            return
        self.saves.add(rating_save(self.audit_id, key, rating, self.comments.get(key, ""),
                                   version=lambda: self._area_version(key)), self._saved, unsaved=self._unsaved(key))

    def _area_version(self, key: str) -> int | None:
        """The area's version as the last save returned it (read by the next save, when it runs)."""
        return next((a.version for a in self.view.areas if a.key == key), None) if self.view else None

    def action_back(self) -> None:
        if isinstance(self.focused, TextArea):
            self.query_one("#dip-areas", GradeList).focus()
            return
        unsaved = [a.label for a in self.view.areas
                   if self.comments.get(a.key, "").strip() and self._rating_of(a.key) is None] if self.view else []
        if not unsaved:
            leave_form(self, self.saves, self.app.pop_screen)
            return

        def answer(leave: bool | None) -> None:
            if leave:
                leave_form(self, self.saves, self.app.pop_screen)

        self.app.push_screen(ConfirmDialog("Leave with comments that are not saved?",
                                           f"A comment is saved with its rating; not rated yet: {', '.join(unsaved)}."),
                             answer)

    # --- closing the loop and finalising -----------------------------------------------------

    def action_close_loop(self) -> None:
        view = self.view
        if view is None or view.status != "draft":
            return
        if view.shared_with_worker_on:
            self.notify(f"Already shared with the worker on {view.shared_with_worker_on:%-d %b %Y}.")
            return
        from screens.note_drafts import ask_note, note_draft

        self.saves.flush()
        ask_note(self, note_draft("close-loop", self.audit_id, f"with {self.case.worker_name or 'the worker'} after the dip sample of {view.case_reference}",
                                  worker_name=self.case.worker_name), self.show)

    def action_finalise(self) -> None:
        view = self.view
        if view is None or view.status != "draft":
            return
        from qa_tui.services.practice.dip_sample import finalise_dip_sample

        audit_id, today = self.audit_id, self.ctx.today()

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.saves.add(lambda s: finalise_dip_sample(s, audit_id, today),
                               lambda v: (self.show(v), self.notify(f"Dip sample of {v.case_reference} finalised.",
                                                                    markup=False)))

        self.saves.flush()
        self.app.push_screen(ConfirmDialog(f"Finalise the dip sample of {view.case_reference}?",
                                           "After this it can no longer be changed."), confirmed)

    def action_add_action(self) -> None:
        if self.view is not None:
            from screens.practice.dip_actions import raise_dip_sample_action

            raise_dip_sample_action(self, self.view)

    def _save_failed(self, error: BaseException) -> bool:
        from qa_tui.errors import ChangedElsewhere, ValidationError

        # A rating the rules refused is gone from the queue: the area shows what is stored again.
        # Any other failure keeps every rating waiting in the queue, so they stay on screen.
        if isinstance(error, ValidationError):
            key = error.field.removeprefix("areas.").split(".")[0]
            if self.pending_ratings.pop(key, None) is not None and self.view is not None:
                self.show(self.view)
            areas = self.query_one("#dip-areas", GradeList)
            index = next((i for i, r in enumerate(areas.rows) if r.key == key), None)
            if index is not None:
                areas.cursor = index
                self.load_comment()
                areas.focus()
            self.problem = f"Not done: {error.problem}."
            self._show_saves()
            return True
        if isinstance(error, ChangedElsewhere):
            self.problem = f"{error} Press R to reload: the comments you typed are kept."
            self._show_saves()
            return True
        return False

    def _status(self, text: str) -> None:
        self.query_one("#dip-status", Static).update(literal(text))

    def palette_commands(self):  # noqa: ANN201
        from textual.app import SystemCommand

        yield SystemCommand("Dip sample: close the loop", "Share the findings with the worker", self.action_close_loop)
        yield SystemCommand("Dip sample: new action", "Raise an action from this dip sample", self.action_add_action)
        yield SystemCommand("Dip sample: finalise", "Finalise once every area is rated and shared",
                            self.action_finalise)
