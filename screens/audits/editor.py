"""The audit editor the live meeting and the audit form of every other kind share: grades by single
keys, the three text fields saved as they are typed, actions, a finding for supervision and
sending for moderation. Every write goes through one save queue, and every failure one way."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static, TextArea

from qa_tui.journal import Unsaved
from qa_tui.text import printable
from qa_tui.widgets.grades import OVERALL, GradeList, GradeRow
from qa_tui.widgets.literal import literal, literal_clipped
from qa_tui.widgets.moderation_view import moderation_lines
from qa_tui.errors import NeedsEscalationOwner
from qa_tui.widgets.save_queue import REFUSED, SaveQueue, Write
from screens.base import ServiceCalls, leave_form
from screens.audits.editor_actions import NEEDS_OWNER, AuditEditorActions

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qa_tui.services.audits.record import AuditDTO, DomainGrades
    from qa_tui.services.people.directory import PersonRef

# Each text field, its label and the key that jumps to it (shown on the field's border).
TEXT_FIELDS = (("strengths", "Strengths", "w"), ("to_improve", "What to improve", "i"),
               ("lived_experience", "The child's lived experience", "c"))
TYPING = "typing · Esc when done"  # on the border of the field being typed in


class AuditEditor(AuditEditorActions, ServiceCalls, Widget):
    """One audit being edited. The screen loads the audit and hands it over with `show`; the
    editor saves every change itself and posts `NeedsReload` when the screen should load it again
    (after sending it for moderation, or when the user asks after a conflict)."""

    DEFAULT_CSS = """
    AuditEditor { height: 1fr; }
    AuditEditor #af-body { height: 1fr; }
    AuditEditor #af-left { width: 48; }
    AuditEditor #af-grades { border: round $accent; border-title-style: bold; height: auto; }
    AuditEditor #af-grades:focus { border: thick $accent; }
    AuditEditor #af-notes { border: round $secondary; height: 1fr; padding: 0 1; overflow-y: auto; }
    AuditEditor #af-right { width: 1fr; }
    AuditEditor TextArea { height: 1fr; border: round $secondary; }
    AuditEditor TextArea:focus { border: thick $accent; }
    AuditEditor #af-status { height: 1; padding: 0 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    """
    # Keys that move focus are priority bindings: they act as the key is read, so the keys typed
    # straight after them already go to the field. A text field being typed in takes printable
    # keys first, so these letters type there.
    BINDINGS = [
        Binding("g", "jump('grades')", "Grades", show=False, priority=True, id="audit-jump-grades",
                tooltip="Move to the grades"),
        Binding("w", "jump('strengths')", "Write", key_display="w/i/c", priority=True, id="audit-jump-strengths",
                tooltip="Type the strengths, after what is already there"),
        Binding("i", "jump('to_improve')", "Improve", show=False, priority=True, id="audit-jump-improve",
                tooltip="Type what to improve, after what is already there"),
        Binding("c", "jump('lived_experience')", "Child's exp.", show=False, priority=True, id="audit-jump-lived",
                tooltip="Type the child's lived experience, after what is already there"),
        Binding("escape", "leave_field", "Done typing", show=False, priority=True, id="audit-leave-field",
                tooltip="Stop typing and go back to the grades"),
        # Keys that open a dialog are priority bindings too, so what is typed next lands in it.
        Binding("a", "add_action", "Action", priority=True, id="audit-action",
                tooltip="Raise an action with an owner and due date"),
        Binding("f", "finding", "Finding", priority=True, id="audit-finding",
                tooltip="Put a finding on the worker's supervision agenda"),
        Binding("exclamation_mark", "escalate", "Escalate", show=False, priority=True, id="audit-escalate",
                tooltip="Escalate an Inadequate finding or a child at risk now to a named owner"),
        Binding("u", "submit", "Submit", priority=True, id="audit-submit",
                tooltip="Send for moderation once every domain and the overall grade are agreed"),
        Binding("h", "history", "History", show=False, id="audit-history",
                tooltip="Who changed this audit, its grades and moderations, when, old → new"),
        Binding("R", "reload", "Reload", show=False, id="audit-reload",
                tooltip="Load the audit again from the database"),
    ]

    class NeedsReload(Message):
        """The audit changed in a way only a fresh load shows: load it and `show` it again."""

    class Editing(Message):
        """The field being typed in and its text ("" and "": back on the grades), so a meeting
        can be resumed exactly there after a crash."""

        def __init__(self, field: str, text: str) -> None:
            super().__init__()
            self.field = field
            self.text = text

    def __init__(self, *, notes_title: str = "Actions", grade_note: Callable[[DomainGrades], str] | None = None,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.notes_title = notes_title
        self.grade_note = grade_note
        self.audit: AuditDTO | None = None
        self.notes: tuple[Text, ...] = ()
        self.saves = SaveQueue(self, self._save_failed, on_change=self._show_status)
        self._versions: dict[uuid.UUID, int] = {}  # per audit: a meeting moves on while saves run
        self._problem = ""
        self._loading = True
        self._owners: tuple[uuid.UUID | None, list[PersonRef]] | None = None  # (team, people) for `a`
        self._awaiting_owner: dict[str, Write] = {}  # Inadequate grades held until an escalation owner is named
        self._held_reason = ""

    def compose(self) -> ComposeResult:
        with Horizontal(id="af-body"):
            with Vertical(id="af-left"):
                grades = GradeList(id="af-grades", grade_keys=True)
                grades.border_title = "Agreed grades (g)"
                yield grades
                notes = Static("", id="af-notes")
                notes.border_title = literal(self.notes_title)
                yield notes
            with Vertical(id="af-right"):
                for field, label, key in TEXT_FIELDS:
                    area = TextArea(id=f"af-{field}", soft_wrap=True, show_line_numbers=False)
                    area.border_title = literal(f"{label} ({key})")
                    yield area
        yield Static("", id="af-status")

    # --- parts ---------------------------------------------------------------------------------

    @property
    def grades(self) -> GradeList:
        return self.query_one("#af-grades", GradeList)

    def area(self, field: str) -> TextArea:
        return self.query_one(f"#af-{field}", TextArea)

    def _field_of(self, widget: object) -> str | None:
        if isinstance(widget, TextArea) and widget.parent is not None and widget.parent.id == "af-right":
            return (widget.id or "").removeprefix("af-")
        return None

    def _key(self, audit_id: uuid.UUID, name: str) -> str:
        return f"{audit_id}:{name}"

    @staticmethod
    def audit_name(audit: AuditDTO) -> str:
        """How a person names the audit: "Audit of Case DEMO-0042", "Supervision-file audit of …"."""
        what = f"Audit of {audit.subject}" if audit.subject else "Supervision-file audit"
        if audit.worker is not None and not audit.case_reference:
            what += f" of {audit.worker.name}"
        return what

    def _unsaved(self, audit: AuditDTO, field: str, value: object) -> Unsaved:
        """The journal's note of a change to `field` ("strengths", "grade:<domain>", …)."""
        what = self.audit_name(audit)
        if field.startswith("grade:"):
            domain = field.removeprefix("grade:")
            name = "Overall" if domain == OVERALL else next(
                (g.label for g in audit.grades if g.domain == domain), domain)
            scale = audit.template.scale
            shown = f"{value + 1} {scale[value]}" if isinstance(value, int) and 0 <= value < len(scale) else "(cleared)"
            return Unsaved(f"audit:{audit.id}:{field}", "audit-grade", str(audit.id), field,
                           f"{what} · grade for {name}", value, shown)
        label = f"{what} · {dict((f, l) for f, l, _ in TEXT_FIELDS)[field]}"
        return Unsaved(f"audit:{audit.id}:{field}", "audit-text", str(audit.id), field, label, value)

    # --- showing an audit ----------------------------------------------------------------------

    def begin_loading(self) -> None:
        """Another audit (or this one again) is on its way: send what was typed, and take no
        text until it is shown (it would be lost if the load failed). Grade keys pressed
        meanwhile are kept and applied, in order, once it is shown."""
        self.save_typing()
        self._loading = True
        self.grades.read_only = True
        if self.grades.hold():
            self.notify("Grade keys pressed for the case before were not applied: it was left before it loaded.",
                        severity="warning", timeout=8)
        for field, _, _ in TEXT_FIELDS:
            self.area(field).read_only = True
        focused = self.screen.focused
        if focused is None or self not in focused.ancestors:
            self.screen.set_focus(self.grades)  # grade keys pressed while it loads are kept there
        self.refresh_bindings()

    def show(self, audit: AuditDTO) -> None:
        """Show `audit` as loaded, with every change still waiting to be saved laid over it."""
        new_record = self.audit is None or self.audit.id != audit.id
        self._versions[audit.id] = max(self._versions.get(audit.id, 0), audit.version)
        pending = {**{key: w.value for key, w in self._awaiting_owner.items()}, **self.saves.pending}
        grades = tuple(replace(g, agreed=pending.get(self._key(audit.id, f"grade:{g.domain}"), g.agreed))
                       for g in audit.grades)
        overall = pending.get(self._key(audit.id, f"grade:{OVERALL}"), audit.overall_grade)
        # Stored text is shown (and, once edited, saved) with any control character made visible.
        texts = {field: printable(pending.get(self._key(audit.id, field), getattr(audit, field)))
                 for field, _, _ in TEXT_FIELDS}
        self.audit = audit = replace(audit, grades=grades, overall_grade=overall, **texts)

        grade_list = self.grades
        if new_record:
            grade_list.cursor = 0
        grade_list.set_rows(self._grade_rows(audit), audit.template.scale)
        grade_list.read_only = audit.status != "draft"
        kept = grade_list.release(apply=audit.status == "draft")
        if kept and audit.status != "draft":
            keys = "the grade key pressed while it loaded was" if kept == 1 else \
                f"the {kept} grade keys pressed while it loaded were"
            self.notify(f"Not graded: this audit is {audit.status}, so {keys} not applied.",
                        severity="warning", timeout=10)
        for field, _, _ in TEXT_FIELDS:
            area = self.area(field)
            area.display = not (field == "lived_experience" and audit.case_id is None)
            if area.text != texts[field] and not self.saves.is_pending(self._key(audit.id, field)):
                area.load_text(texts[field])
            area.read_only = audit.status != "draft"
        self._problem = self.held_problem()
        self._loading = False
        if self._owners is None or self._owners[0] != audit.team_id:
            self._load_owners(audit)
        self._show_notes()
        self._show_status()
        self.refresh_bindings()
        focused = self.screen.focused
        if focused is None or self not in focused.ancestors:
            self.screen.set_focus(grade_list)
        if self.saves.failed:
            self.saves.retry()  # from the version just loaded: what was waiting is not lost

    def _grade_rows(self, audit: AuditDTO) -> list[GradeRow]:
        """The agreed grades as on screen; a grade held for an escalation owner says so beside it."""
        def note(key: str, usual: str) -> str:
            return NEEDS_OWNER if self._key(audit.id, f"grade:{key}") in self._awaiting_owner else usual

        rows = [GradeRow(g.domain, g.label, g.agreed, note(g.domain, self.grade_note(g) if self.grade_note else ""))
                for g in audit.grades]
        return [*rows, GradeRow(OVERALL, "Overall", audit.overall_grade, note(OVERALL, ""))]

    def set_notes(self, lines: Sequence[Text]) -> None:
        """What the screen adds above the actions (about the kind of audit, findings, …)."""
        self.notes = tuple(lines)
        self._show_notes()

    def on_resize(self) -> None:
        self.call_after_refresh(self._show_notes)  # the action lines fit the new width

    def _show_notes(self) -> None:
        # What moderation decided (a return's reason first) leads, wherever the audit is edited.
        lines = [*(moderation_lines(self.audit) if self.audit else ()), *self.notes]
        width = self.query_one("#af-notes", Static).content_size.width or 44
        for action in self.audit.actions if self.audit else ():  # each on its own lines, never wrapped
            lines.append(literal_clipped(f"• {action.title}", width))
            lines.append(literal_clipped(f"  {action.owner_name or '?'} · by {action.due_on:%-d %b}", width, "dim"))
            if action.done_line:
                lines.append(literal_clipped(f"  {action.done_line}", width, "dim"))
        body = Text("\n").join(lines) if lines else Text("No actions yet: press a", style="dim")
        self.query_one("#af-notes", Static).update(literal(body))

    def _show_status(self) -> None:
        audit = self.audit
        if audit is None or not self.is_mounted:
            return
        if self.saves.waiting:
            line = literal(self.saves.status(""), "bold")
        elif self._problem.startswith("Not saved"):
            line = Text("")  # a change refused: nothing may claim it is saved
        elif self._problem:
            line = Text("Saved")  # the problem beside it is the news
        elif audit.status != "draft":
            line = literal(f"{audit.status.capitalize()}: this audit can no longer be edited here.")
        else:
            graded = sum(g.agreed is not None for g in audit.grades)
            line = literal(f"Saved · version {self._versions.get(audit.id, audit.version)} · {graded} of "
                           f"{len(audit.grades)} graded · moderation by {audit.moderation_deadline:%-d %b}")
            if audit.past_moderation_deadline:
                line.append(" · past the moderation deadline", style="bold")
        if self._problem:
            line.append(" · " if line.plain else "")
            line.append(self._problem, style="bold red")
        self.query_one("#af-status", Static).update(literal(line))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        audit = self.audit
        if action == "jump":
            # A supervision file has no child: no lived-experience field to jump to.
            return not (parameters == ("lived_experience",) and audit is not None and audit.case_id is None)
        if action == "leave_field":
            return self._field_of(self.screen.focused) is not None
        if action in ("add_action", "finding"):
            return audit is not None
        if action == "submit":
            return None if audit is None or audit.status != "draft" else True
        return True

    # --- saving, one write at a time -----------------------------------------------------------

    def write(self, job: Callable[[Session, int], Any], then: Callable[[Any], None] | None = None, *,
              field: str | None = None, value: object = None) -> None:
        """Queue `job(session, version)` for the audit on screen, sent once the writes before it
        are stored, with the version the last of them left. `field` names what it saves."""
        audit = self.audit
        if audit is None:
            return
        audit_id = audit.id

        def stored(state: Any) -> None:
            if getattr(state, "id", None) in self._versions:
                self._versions[state.id] = state.version
            if self.audit is not None and self.audit.id == getattr(state, "id", None):
                self.audit = replace(self.audit, version=state.version, status=state.status)
            self._problem = self.held_problem()
            if then is not None:
                then(state)

        if field and self._awaiting_owner.pop(self._key(audit_id, field), None) is not None:
            self._show_held()  # a newer value replaces the held one
        self.saves.add(lambda s: job(s, self._versions[audit_id]), stored,
                       key=self._key(audit_id, field) if field else None, value=value,
                       unsaved=self._unsaved(audit, field, value) if field else None)

    def _save_failed(self, error: BaseException) -> bool:
        from qa_tui.errors import ChangedElsewhere

        if isinstance(error, ChangedElsewhere):  # both versions side by side, to choose
            from screens.audits.conflict import resolve_conflict

            self._problem = "changed by someone else: your changes are kept (R to choose)"
            resolve_conflict(self)
        elif isinstance(error, NeedsEscalationOwner) and self._hold_for_owner(error):
            pass  # held beside its grade until `!` names the owner
        elif isinstance(error, REFUSED):  # the write was dropped; the fields keep what was typed
            refused = self.saves.last_refused
            self._problem = (f"Not saved: {str(error).rstrip('.')}. What you typed is kept on screen."
                             if refused is not None and refused.key is not None else f"Not done: {error}.")
            self.notify(str(error), severity="warning", timeout=8, markup=False)
        else:
            return False  # the database out of reach: the app's dialog, with Retry
        self._show_status()
        return True

    def leave(self, then: Callable[[], None]) -> None:
        """Leave once everything is saved; after a failed save, or with a grade held for an
        escalation owner, only as the user chooses."""
        self.save_typing()
        self.leave_held(lambda: leave_form(self, self.saves, then))

    def action_reload(self) -> None:
        if self.saves.failed and "someone else" in self._problem:
            from screens.audits.conflict import resolve_conflict

            resolve_conflict(self, asked=True)  # the versions side by side again, not a reload over the waiting changes
        else:
            self.post_message(self.NeedsReload())

    # --- grades --------------------------------------------------------------------------------

    @on(GradeList.Graded, "#af-grades")
    def _graded(self, event: GradeList.Graded) -> None:
        event.stop()
        audit = self.audit
        if audit is None or self._loading or audit.status != "draft":
            return
        from qa_tui.services.audits import record

        audit_id, key, grade = audit.id, event.row.key, event.grade
        if key == OVERALL:
            self.audit = replace(audit, overall_grade=grade)
            self.write(lambda s, v: record.set_overall_grade(s, audit_id, grade, expected_version=v),
                       field=f"grade:{key}", value=grade)
        else:
            self.audit = replace(audit, grades=tuple(replace(g, agreed=grade) if g.domain == key else g
                                                     for g in audit.grades))
            self.write(lambda s, v: record.set_grade(s, audit_id, key, grade, expected_version=v),
                       field=f"grade:{key}", value=grade)

    # --- text fields ---------------------------------------------------------------------------

    def action_jump(self, target: str) -> None:
        if target == "grades":
            self.screen.set_focus(self.grades)  # now, not after the keys already waiting
            self.post_message(self.Editing("", ""))
            return
        area = self.area(target)
        self.screen.set_focus(area)
        area.move_cursor(area.document.end)  # typing adds to what is there
        self.post_message(self.Editing(target, area.text))

    def action_leave_field(self) -> None:
        self.action_jump("grades")

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        area = event.widget
        if isinstance(area, TextArea) and self._field_of(area) is not None and not area.read_only:
            area.border_subtitle = literal(TYPING)

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if self._field_of(event.widget) is not None:
            event.widget.border_subtitle = ""
            self.save_typing()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        field, audit = self._field_of(event.text_area), self.audit
        if field is None or audit is None or self._loading or event.text_area.read_only:
            return
        if event.text_area.text != getattr(audit, field):  # what is saved or on its way
            self.saves.typed(self._unsaved(audit, field, event.text_area.text))  # on disk before any pause
            self.saves.later(self._key(audit.id, field), lambda: self._save_text(field))
        else:
            self.saves.untyped(self._key(audit.id, field), f"audit:{audit.id}:{field}")

    def save_typing(self) -> None:
        """Queue every field whose text differs from what is saved, now. The field itself is
        read: its last keys may not have reached `on_text_area_changed` yet."""
        self.saves.flush()
        if self.audit is not None and self.audit.status == "draft" and not self._loading:
            for field, _, _ in TEXT_FIELDS:
                self._save_text(field)

    def _save_text(self, field: str) -> None:
        audit = self.audit
        if audit is None:
            return
        text = self.area(field).text
        if getattr(audit, field) == text:
            return
        from qa_tui.services.audits import record

        audit_id = audit.id
        self.audit = replace(audit, **{field: text})
        self.write(lambda s, v: record.set_text(s, audit_id, field, text, expected_version=v), field=field,
                   value=text)
        self.post_message(self.Editing(field, text))

    def put_text(self, field: str, text: str) -> None:
        """Put `text` in `field` as if typed (a resume after a crash), save it and type on after it."""
        area = self.area(field)
        if area.text != text:
            area.load_text(text)
            self._save_text(field)
        self.action_jump(field)

    def action_history(self) -> None:
        from screens.history import HistoryScreen

        if self.audit is not None:
            self.app.push_screen(HistoryScreen("audit", self.audit.id))
