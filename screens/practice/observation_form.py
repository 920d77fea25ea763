"""The one-page practice observation form, saved field by field as it is typed."""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Checkbox, Footer, Header, Input, Label, Select, Static, TextArea

from qa_tui.dates import parse_day
from qa_tui.journal import Unsaved
from qa_tui.widgets.form_select import FormSelect
from qa_tui.widgets.literal import literal, literal_markup
from qa_tui.widgets.save_queue import REFUSED, SaveQueue
from screens.base import QAScreen, leave_form
from screens.dialogs import ConfirmDialog
from screens.practice.observation_conflict import (
    FIELD_LABELS,
    SAVED_FIELDS,
    TEXT_AREAS,
    ObservationConflicts,
    as_shown,
    short_date,
)

if TYPE_CHECKING:
    from qa_tui.services.people.directory import PersonRef
    from qa_tui.services.practice.observation_signoff import ObservationAccess
    from qa_tui.services.practice.observations import ObservationView

class ObservationFormScreen(ObservationConflicts, QAScreen):
    """One observation on one page. Nothing is written until the worker, date and kind are set;
    from then on every field is saved shortly after it changes."""

    CSS_PATH = "observations.tcss"
    BINDINGS = [
        Binding("escape", "done", "Done", id="observation-done",
                tooltip="Save what is pending and go back to the coverage list"),
        Binding("ctrl+s", "save_now", "Save now", id="observation-save", tooltip="Send every changed field now"),
        Binding("R", "reload", "Reload", show=False, id="observation-reload",
                tooltip="Read the observation again (after a conflict: both versions side by side)"),
        # Not a letter: the form's fields take letters as typing.
        Binding("f2", "history", "History", id="observation-history",
                tooltip="Who changed this observation, when, old → new"),
        Binding("f3", "sign_off", "Sign off", id="observation-sign-off",
                tooltip="Sign the observation off (its observer): your text is final; the worker may still "
                        "add their reflection"),
    ]

    def action_history(self) -> None:
        from screens.history import HistoryScreen

        if self.obs is not None:
            self.app.push_screen(HistoryScreen("observation", self.obs.id))

    def __init__(self, *, worker_id: uuid.UUID | None = None, observation_id: uuid.UUID | None = None) -> None:
        super().__init__()
        self.initial_worker = worker_id
        self.observation_id = observation_id
        self.obs: ObservationView | None = None
        self.access: ObservationAccess | None = None  # what this person may change; None: a new one, all
        self.people: list[PersonRef] = []
        self.creating = False
        self.problem = ""  # a conflict, beside the status until the next save
        self.conflict = False  # someone else saved while changes were waiting: R compares them
        self.refused: dict[str, tuple[object, str]] = {}  # field → the value the rules refused, and why
        self.saves = SaveQueue(self, self._save_failed, on_change=self._show_saves)

    def compose(self) -> ComposeResult:
        from qa_tui.services.practice.observations import KIND_LABELS

        yield Header()
        yield Static("New practice observation", id="form-title")
        with Horizontal(id="form-body"):
            with Grid(id="form-fields"):
                yield Label("Worker")
                yield FormSelect([], prompt="choose…", id="field-worker", compact=True)
                yield Label("Observer")
                yield FormSelect([], prompt="not recorded", id="field-observer", compact=True)
                yield Label("Date observed")
                yield Input(f"{self.ctx.today():%d/%m/%Y}", placeholder="DD/MM/YYYY", id="field-observed_on",
                            compact=True)
                yield Label("Kind")
                yield FormSelect([(literal(label), kind) for kind, label in KIND_LABELS.items()], prompt="choose…",
                                 id="field-kind", compact=True)
                yield Label("Setting")
                yield Input(placeholder="e.g. home visit, core group", id="field-setting", compact=True)
                yield Label("Feedback")
                yield Checkbox("shared with the worker", id="field-feedback_shared", compact=True)
                yield Label("Themes")
                yield Input(placeholder="comma separated", id="field-themes", compact=True)
            with Vertical(id="form-texts"):
                for field in TEXT_AREAS:
                    area = TextArea(id=f"field-{field}", soft_wrap=True, show_line_numbers=False)
                    area.border_title = literal(FIELD_LABELS[field])
                    yield area
        yield Static("", id="form-access")
        yield Static("", id="form-error")
        yield Static("", id="form-status")
        yield Footer()

    def on_mount(self) -> None:
        from qa_tui.services.practice.observation_signoff import observation_access
        from qa_tui.services.practice.observations import PRACTITIONER_ROLES, get_observation
        from qa_tui.services.people.directory import people_for_picking

        today, obs_id = self.ctx.today(), self.observation_id

        def load(s: Any) -> tuple[list[PersonRef], list[PersonRef], ObservationView | None, ObservationAccess | None]:
            obs = get_observation(s, obs_id) if obs_id else None
            named = [i for i in (obs.worker_id, obs.observer_id) if i] if obs else []
            return (people_for_picking(s, today, PRACTITIONER_ROLES, include=named[:1]),
                    people_for_picking(s, today, include=named), obs,
                    observation_access(s, obs_id) if obs_id else None)

        self.call_service(load, self._loaded)
        self._status("Choose the worker, the date and the kind: the observation is saved from then on.")

    def _loaded(self, loaded: tuple[list[PersonRef], list[PersonRef], ObservationView | None,
                                    ObservationAccess | None]) -> None:
        workers, self.people, obs, access = loaded
        worker_select = self.query_one("#field-worker", Select)
        worker_select.set_options([(literal(f"{p.name} ({p.role})"), p.id) for p in workers])
        observer_select = self.query_one("#field-observer", Select)
        observer_select.set_options([(literal(f"{p.name} ({p.role})"), p.id) for p in self.people])
        if obs is not None:
            self.show_observation(obs)
            self._show_access(access, focus=True)
            return
        if any(p.id == self.initial_worker for p in workers):
            worker_select.value = self.initial_worker
        if any(p.id == self.ctx.person_id for p in self.people):
            observer_select.value = self.ctx.person_id
        (self.query_one("#field-kind", Select) if self.initial_worker else worker_select).focus()

    def _show_access(self, access: ObservationAccess | None, *, focus: bool = False) -> None:
        """Fields this person may not change are read-only, with why; with `focus` (on opening),
        the first they may change takes the focus (never later: the user may be typing)."""
        self.access = access
        editable = access.editable if access is not None else set(SAVED_FIELDS)
        for field in SAVED_FIELDS:
            widget = self.query_one(f"#field-{field}")
            if isinstance(widget, TextArea):
                widget.read_only = field not in editable
            else:
                widget.disabled = field not in editable
        self.query_one("#form-access", Static).update(literal(access.note if access is not None else ""))
        first = next((f for f in ("setting", *TEXT_AREAS) if f in editable), None)
        if focus and first is not None:
            self.query_one(f"#field-{first}").focus()
        self.refresh_bindings()

    def _refresh_access(self) -> None:
        from qa_tui.services.practice.observation_signoff import observation_access

        if self.obs is not None:
            obs_id = self.obs.id
            self.call_service(lambda s: observation_access(s, obs_id), self._show_access)

    def show_observation(self, obs: ObservationView, *, keep_typed: bool = True) -> None:
        """Show `obs` as loaded, except in a field the user changed since it was last saved (or
        whose save is on its way): what was typed there stays, to be saved over it. Without
        `keep_typed` (the user took the other person's version) every field shows `obs`."""
        before, touched = self.obs, set(self.saves.pending)
        self.conflict = False
        if not keep_typed:
            touched, before = set(), None
        if before is not None:
            values, problems = self.form_values()
            touched |= {f for f in SAVED_FIELDS if f in problems or values.get(f) != getattr(before, f)}
        self.obs = obs = as_shown(obs)
        self.query_one("#field-worker", Select).value = obs.worker_id
        self.query_one("#field-observer", Select).value = obs.observer_id or Select.NULL
        shown: dict[str, Any] = {"observed_on": f"{obs.observed_on:%d/%m/%Y}", "kind": obs.kind,
                                 "setting": obs.setting, "feedback_shared": obs.feedback_shared,
                                 "themes": ", ".join(obs.themes)}
        for field, value in shown.items():
            if field not in touched:
                self.query_one(f"#field-{field}").value = value  # type: ignore[attr-defined]
        for field in TEXT_AREAS:
            area = self.query_one(f"#field-{field}", TextArea)
            if field not in touched and area.text != getattr(obs, field):
                area.load_text(getattr(obs, field))
        self._after_save(obs)
        if self.saves.failed:
            self.saves.retry()  # from the version just loaded: what was waiting is not lost
        if touched - set(self.saves.pending):
            self.sync()  # what was typed over the reload is saved from the version just loaded

    # --- reading the form ------------------------------------------------------------------

    def form_values(self) -> tuple[dict[str, Any], dict[str, str]]:
        """Every field as the service wants it, and a problem per field that cannot be read."""
        from qa_tui.services.practice.observations import clean_themes

        values: dict[str, Any] = {}
        problems: dict[str, str] = {}
        for name in ("worker", "observer", "kind"):
            values[name] = self.query_one(f"#field-{name}", Select).selection
        typed_day = self.query_one("#field-observed_on", Input).value.strip()
        if not typed_day:
            problems["observed_on"] = "enter the date of the observation (DD/MM/YYYY)"
        else:
            try:
                values["observed_on"] = parse_day(typed_day)
            except ValueError as exc:
                problems["observed_on"] = str(exc)
        values["setting"] = self.query_one("#field-setting", Input).value
        values["feedback_shared"] = self.query_one("#field-feedback_shared", Checkbox).value
        values["themes"] = tuple(clean_themes(self.query_one("#field-themes", Input).value.split(",")))
        for field in TEXT_AREAS:
            values[field] = self.query_one(f"#field-{field}", TextArea).text
        return values, problems

    # --- saving ----------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        self._typed()
        self.saves.later("form", self.sync)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._typed()
        self.saves.later("form", self.sync)

    def _typed(self) -> None:
        """Every field that differs from what is stored goes to the journal at once, before the
        pause that sends it."""
        if self.obs is None:
            return
        values, _ = self.form_values()
        for field in SAVED_FIELDS:
            if field in values and values[field] != getattr(self.obs, field):
                self.saves.typed(self._unsaved(field, values[field]))

    def _unsaved(self, field: str, value: Any) -> Unsaved:
        obs = self.obs
        assert obs is not None
        worker = next((p.name for p in self.people if p.id == obs.worker_id), "a worker")
        stored = value.isoformat() if isinstance(value, date) else list(value) if isinstance(value, tuple) else value
        return Unsaved(f"observation:{obs.id}:{field}", "observation", str(obs.id), field,
                       f"Observation of {worker} on {short_date(obs.observed_on)} · {FIELD_LABELS[field]}", stored)

    def on_select_changed(self, event: Select.Changed) -> None:
        self.sync()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self.sync()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.focus_next()

    def sync(self) -> None:
        """Create the observation once it can be, then send every field that differs from what
        is stored (or already on its way)."""
        values, problems = self.form_values()
        self._show_problem(problems)
        if self.obs is None:
            self._create(values, problems)
            return
        from qa_tui.services.practice.observations import field_save

        if values["kind"] is None:
            problems["kind"] = "choose the kind of observation"
            self._show_problem(problems)
        obs_id, today, pending = self.obs.id, self.ctx.today(), self.saves.pending
        for field in SAVED_FIELDS:
            if field in problems or field not in values:
                continue
            value = values[field]
            if value == getattr(self.obs, field) and field not in pending:
                self.refused.pop(field, None)  # back to what is stored: nothing refused is left
            if value == pending.get(field, getattr(self.obs, field)):  # stored, or on its way
                continue
            if field in self.refused and self.refused[field][0] == value:
                continue  # refused as it stands: sending it again gets the same answer
            send = list(value) if field == "themes" else value
            self.saves.add(field_save(obs_id, field, send, today=today, version=self._version), self._after_save,
                           key=field, value=value, unsaved=self._unsaved(field, value))
        self._show_problem(problems)  # a refused field put back as stored is no longer named
        self._show_saves()

    def _version(self) -> int | None:
        """The version the last save returned (read by the next save, when it runs)."""
        return self.obs.version if self.obs else None

    def _create(self, values: dict[str, Any], problems: dict[str, str]) -> None:
        missing = [FIELD_LABELS[f] for f in ("worker", "observed_on", "kind")
                   if values.get(f) is None and f not in problems]
        if self.creating or missing or "observed_on" in problems:
            if missing:
                self._status(f"Not saved yet: choose {' and '.join(missing).lower()}.")
            return
        from qa_tui.services.practice.observations import record_observation

        self.creating = True
        today = self.ctx.today()
        fields = {k: v for k, v in values.items() if k not in ("worker", "observer")}
        fields["themes"] = list(values["themes"])
        self.saves.add(lambda s: record_observation(s, observer_id=values["observer"], worker_id=values["worker"],
                                                    today=today, **fields),
                       self._created)

    def _created(self, obs: ObservationView) -> None:
        self.creating = False
        self.obs = obs
        self._after_save(obs)
        self.notify("Observation saved; a reflective review is on the worker's next supervision agenda.")
        self._refresh_access()
        self.sync()

    def _after_save(self, obs: ObservationView) -> None:
        self.obs = obs = as_shown(obs)
        self.problem = ""
        self.query_one("#field-worker", Select).disabled = True
        self.query_one("#field-observer", Select).disabled = True
        worker = next((p.name for p in self.people if p.id == obs.worker_id), "the worker")
        self.query_one("#form-title", Static).update(literal_markup(
            "[b]Observation of $worker[/b] · $day", worker=worker, day=short_date(obs.observed_on)))
        self._show_saves()

    def _show_saves(self) -> None:
        """Saved only when the database holds every change; otherwise how many are waiting."""
        if not self.is_mounted:
            return
        if self.obs is None:  # not created yet: nothing to count, only a refusal to show
            if self.problem:
                self._status(self.problem)
            return
        refused = (f"Not saved: {', '.join(FIELD_LABELS.get(f, f) for f in self.refused)} refused "
                   "(why is above; what you typed is kept on screen)") if self.refused else ""
        line = self.saves.status("" if self.problem or refused else f"Saved · version {self.obs.version}")
        self._status(" · ".join(part for part in (line, refused, self.problem) if part))

    def _save_failed(self, error: BaseException) -> bool:
        from qa_tui.errors import ChangedElsewhere, ValidationError

        self.creating = False
        if isinstance(error, ValidationError):  # that field's save was dropped; the field keeps it
            self._show_problem({error.field: error.problem})
            self.problem = "Not saved: correct the field named above; everything typed is kept."
            self._show_saves()
            return True
        if isinstance(error, ChangedElsewhere):
            self.conflict = True
            self.problem = f"{error} Your changes are kept, not saved: R to compare both versions and choose."
            self._show_saves()
            self.compare_versions()
            return True
        refused = self.saves.last_refused
        if isinstance(error, REFUSED) and refused is not None and refused.key in SAVED_FIELDS:
            self.refused.pop(refused.key, None)  # the newest refusal shows last
            self.refused[refused.key] = (refused.value, str(error).rstrip("."))
            self._show_problem({})
            self._show_saves()
            return True
        return False

    def _show_problem(self, problems: dict[str, str]) -> None:
        """Name each field that cannot be read, and each change the rules refused, with why."""
        problems = {**{f: why for f, (_, why) in self.refused.items()}, **problems}
        text = "  ".join(f"{FIELD_LABELS.get(f, f)}: {p}" for f, p in problems.items())
        self.query_one("#form-error", Static).update(literal(text))

    def _status(self, text: str) -> None:
        self.query_one("#form-status", Static).update(literal(text))

    # --- saving now, reloading--------------------------------------------------------------

    def action_save_now(self) -> None:
        self.saves.flush()
        if self.saves.failed:
            self.saves.retry()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "sign_off" and (self.access is None or not self.access.may_sign_off):
            return None  # greyed: not its observer, not saved yet, or signed off already
        return True

    def action_sign_off(self) -> None:
        if self.obs is None or self.access is None or not self.access.may_sign_off:
            return
        from qa_tui.services.practice.observation_signoff import sign_off_observation

        obs_id, today = self.obs.id, self.ctx.today()

        def answer(sign: bool | None) -> None:
            if not sign:
                return
            self.saves.flush()  # what was typed is saved first, then signed off
            self.saves.add(lambda s: sign_off_observation(s, obs_id, today=today, expected_version=self._version()),
                           self._signed_off)

        self.app.push_screen(ConfirmDialog(
            "Sign off this observation?",
            "Your text becomes final: nobody changes it after sign-off. The worker may still add their reflection."),
            answer)

    def _signed_off(self, obs: ObservationView) -> None:
        self._after_save(obs)
        self.notify(f"Signed off on {short_date(obs.signed_off_on)}: the observation is final.")
        self._refresh_access()

    def action_reload(self) -> None:
        if self.obs is None:
            return
        if self.conflict and self.saves.failed:
            self.compare_versions(asked=True)  # both versions side by side again, not a reload over the waiting changes
            return
        from qa_tui.services.practice.observations import get_observation

        obs_id = self.obs.id
        self.call_service(lambda s: get_observation(s, obs_id), self.show_observation)

    # --- leaving ---------------------------------------------------------------------------

    def action_done(self) -> None:
        self.saves.flush()
        values, problems = self.form_values()
        typed = any(values[f].strip() for f in ("setting", *TEXT_AREAS)) or values["themes"]
        if self.obs is None and typed:
            question, detail = ("Leave without saving this observation?",
                                "Nothing is saved until the worker, the date and the kind are chosen.")
        elif problems:
            question, detail = ("Leave with a field that could not be saved?",
                                "  ".join(f"{FIELD_LABELS[f]}: {p}" for f, p in problems.items()))
        elif self.refused:
            question, detail = ("Leave without the changes you may not make?",
                                "  ".join(f"{FIELD_LABELS.get(f, f)}: {why}." for f, (_, why) in self.refused.items()))
        else:
            leave_form(self, self.saves, self.app.pop_screen)
            return

        def answer(leave: bool | None) -> None:
            if leave:
                leave_form(self, self.saves, self.app.pop_screen)

        self.app.push_screen(ConfirmDialog(question, detail), answer)

    def palette_commands(self):  # noqa: ANN201
        from textual.app import SystemCommand

        yield SystemCommand("Observation: save now", "Send every changed field now", self.action_save_now)
        yield SystemCommand("Observation: done", "Save and go back to coverage", self.action_done)
        yield SystemCommand("Observation: history", "Who changed this observation, when, old → new",
                            self.action_history)
        if self.check_action("sign_off", ()):
            yield SystemCommand("Observation: sign off", "Make your text final; the worker may still add their "
                                "reflection", self.action_sign_off)
