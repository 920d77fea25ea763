"""Moderation: the queue of audits sent for moderation (late ones flagged), a read of each audit
with the auditor's grades beside the moderator's, and agree / regrade / return; then finalise."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static

from qa_tui.services.unsaved_forms import FormDraft
from qa_tui.widgets.grades import OVERALL, GradeList, GradeRow
from qa_tui.widgets.literal import literal, literal_markup
from qa_tui.widgets.moderation_view import moderation_lines
from qa_tui.widgets.record_table import RecordTable
from screens.base import QAScreen
from screens.dialogs import ConfirmDialog
from screens.drafts import DraftedPrompt, forget_draft

if TYPE_CHECKING:
    from collections.abc import Sequence

    from qa_tui.services.audits.escalations import EscalationView
    from qa_tui.services.audits.moderation import QueueRow
    from qa_tui.services.audits.record import AuditDTO


def queue_cells(r: QueueRow) -> tuple[str, ...]:
    return (r.case_reference, r.worker_name, r.team_name, r.auditor_name, f"{r.audit_date:%d/%m}",
            f"{r.submitted_on:%d/%m}", f"{r.days_waiting}d", "LATE" if r.late else "")


class ModerationScreen(QAScreen):
    CSS_PATH = "moderation.tcss"
    BINDINGS = [
        Binding("enter", "open", "Moderate", id="moderate-open", tooltip="Read and moderate the highlighted audit"),
        Binding("v", "toggle_view", "Waiting / to finalise", id="moderate-view",
                tooltip="Switch between audits waiting for moderation and moderated ones to finalise"),
        Binding("f", "finalise", "Finalise", id="moderate-finalise", tooltip="Finalise the highlighted moderated audit"),
        Binding("A", "all_teams", "My team / all", id="moderate-scope", tooltip="Show my team only, or every team"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view = "waiting"
        self.all_teams = True

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="moderation-title")
        yield RecordTable(("Case", "Worker", "Team", "Auditor", "Audited", "Sent", "Waiting", ""), queue_cells,
                          key=lambda r: r.audit_id, id="moderation-table")
        yield Static("", id="moderation-note")
        yield Footer()

    @property
    def table(self) -> RecordTable[QueueRow]:
        return self.query_one("#moderation-table", RecordTable)

    def on_screen_resume(self) -> None:
        self.load()

    def load(self) -> None:
        from qa_tui.services.audits.moderation import awaiting_finalisation, moderation_queue

        ctx = self.ctx
        team_id = None if self.all_teams else ctx.team_id
        fetch = moderation_queue if self.view == "waiting" else awaiting_finalisation
        self.call_service(lambda s: fetch(s, ctx.today(), cfg=ctx.config, team_id=team_id), self.show,
                          group="moderation", exclusive=True)

    def show(self, rows: list[QueueRow]) -> None:
        what = "Waiting for moderation" if self.view == "waiting" else "Moderated, to finalise"
        scope = "all teams" if self.all_teams else "my team"
        late = sum(1 for r in rows if r.late)
        self.query_one("#moderation-title", Static).update(
            literal_markup("[b]$what[/b] · $scope · $count audits", what=what, scope=scope, count=len(rows))
            + (literal_markup(" · [b $error]$late late[/]", late=late) if late else ""))
        self.table.show(rows)
        self.query_one("#moderation-note", Static).update(
            "Enter reads and moderates the highlighted audit. Nobody moderates an audit they took part in."
            if self.view == "waiting" else "f finalises the highlighted audit; its open actions stay in triage.")
        self.table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        row = self.table.current
        if row is not None:
            self.app.push_screen(ModerateAuditScreen(row.audit_id, read_only=self.view != "waiting"))

    def action_toggle_view(self) -> None:
        self.view = "finalise" if self.view == "waiting" else "waiting"
        self.load()

    def action_all_teams(self) -> None:
        self.all_teams = not self.all_teams
        self.load()

    def action_finalise(self) -> None:
        row = self.table.current
        if row is None or self.view != "finalise":
            self.notify("Switch to the moderated list (v) and highlight an audit to finalise.", severity="warning")
            return
        from qa_tui.services.audits.moderation import finalise, open_actions_of

        ctx = self.ctx

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.call_service(lambda s: finalise(s, row.audit_id, ctx.today()),
                                  lambda _: (self.notify("Finalised."), self.load()), write=True)

        def ask(actions: tuple[str, ...]) -> None:
            listed = "".join(f"\n  • {line}" for line in actions[:8])
            more = f"\n  … and {len(actions) - 8} more" if len(actions) > 8 else ""
            body = (f"{len(actions)} open action{'s' if len(actions) != 1 else ''}:{listed}{more}\n"
                    "They stay open and tracked in triage." if actions else "It has no open actions.")
            self.app.push_screen(ConfirmDialog(f"Finalise the audit of {row.case_reference}?", body), confirmed)

        self.call_service(lambda s: open_actions_of(s, row.audit_id), ask)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        from qa_tui.services.people.permissions import FINALISE

        if action == "finalise" and self.qa_app.ready and not self.ctx.may(FINALISE):
            return None  # greyed: the footer says it cannot be done by this person
        return True

    def palette_commands(self):  # noqa: ANN201
        from textual.app import SystemCommand

        yield SystemCommand("Moderation: waiting / to finalise", "Switch between the two lists", self.action_toggle_view)


def audit_reading(audit: AuditDTO, escalations: Sequence[EscalationView] = ()) -> Text:
    """The audit's text, actions, escalations (with their answers) and moderation history to read
    beside the grades, as typed."""
    text = Text("\n").join(moderation_lines(audit, grades=False))  # the grade list shows both sets
    if text.plain:
        text.append("\n")
    for heading, body in (("Strengths", audit.strengths), ("What to improve", audit.to_improve),
                          ("The child's lived experience", audit.lived_experience)):
        text.append(f"{heading}\n", style="bold")
        text.append_text(literal(f"{body or '—'}\n\n"))
    text.append("Actions\n", style="bold")
    text.append_text(literal("\n".join(f"  • {a.title} — {a.owner_name}, due {a.due_on:%-d %b}"
                                        + (f"; {a.done_line}" if a.done_line else "") for a in audit.actions)
                             or "  none"))
    if escalations:
        text.append("\n\nEscalations\n", style="bold")
        text.append_text(literal("\n".join(f"  • {e.summary()}" for e in escalations)))
    text.append("\n\nModeration history\n", style="bold")
    text.append_text(literal("\n".join(f"  • {m.moderated_on:%-d %b}: {m.outcome} by {m.moderator.name}"
                                        + (f" — {m.comment}" if m.comment else "") for m in audit.moderations)
                             or "  none"))
    return text


# Each outcome's comment prompt: its title, its label, and whether a comment is needed.
COMMENT_PROMPTS = {"agreed": ("Agree the auditor's grades", "Comment (optional)", False),
                   "regraded": ("Why regrade?", "Comment for the auditor", True),
                   "returned": ("Return for rework", "What needs reworking", True)}


def reopen_moderation(screen: QAScreen, draft: FormDraft) -> None:
    """Open the audit again with the regrade and the comment a moderator was typing."""
    screen.app.push_screen(ModerateAuditScreen(uuid.UUID(draft.record_id), draft=draft))


class ModerateAuditScreen(QAScreen):
    """One audit: the auditor's grades beside the moderator's; agree, regrade or return. The
    comment is kept as a draft as it is typed, with the regrade, until the moderation is stored."""

    CSS_PATH = "moderation.tcss"
    BINDINGS = [
        Binding("a", "agree", "Agree", id="agree", tooltip="Agree the auditor's grades, with an optional comment"),
        Binding("g", "save_regrade", "Save regrade", id="save-regrade",
                tooltip="Record the grades changed with 1-4, with a comment for the auditor"),
        Binding("r", "return_audit", "Return for rework", id="return", tooltip="Send the audit back to the auditor"),
        Binding("x", "export", "Export record", id="export-record", tooltip="Write the worker's one-page record"),
        Binding("h", "history", "History", id="moderate-history",
                tooltip="Who changed this audit, its grades and moderations, when, old → new"),
        Binding("escape", "app.pop_screen", "Back", id="back", tooltip="Back to the list"),
    ]

    def __init__(self, audit_id: uuid.UUID, *, read_only: bool = False, draft: FormDraft | None = None) -> None:
        super().__init__()
        self.audit_id = audit_id
        self.read_only = read_only
        self.restored = draft  # a comment typed in an earlier session, asked for again once loaded
        self.audit: AuditDTO | None = None
        self.moderated: dict[str, int | None] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="moderate-bar")
        with Horizontal(id="moderate-body"):
            with Vertical(id="moderate-left"):
                # A regrade is one key per domain; 0 or Delete puts back the auditor's grade.
                grades = GradeList(id="moderate-grades", grade_keys=True, advance=False)
                grades.border_title = "Moderator's grade (auditor's beside)"
                yield grades
            with VerticalScroll(id="moderate-right"):
                yield Static("", id="moderate-text")
        yield Footer()

    def on_mount(self) -> None:
        from qa_tui.services.audits.escalations import escalation_views
        from qa_tui.services.audits.record import get_audit

        ctx, audit_id = self.ctx, self.audit_id
        self.call_service(lambda s: (get_audit(s, audit_id, today=ctx.today(), cfg=ctx.config),
                                     escalation_views(s, audit_id)), lambda read: self.show(*read))

    def show(self, audit: AuditDTO, escalations: Sequence[EscalationView] = ()) -> None:
        self.audit = audit
        # Once moderated, the moderator's grades show (the auditor's beside them); before, the
        # auditor's are the starting point of a regrade.
        settled = any(m.outcome != "returned" for m in audit.moderations)
        self.moderated = {g.domain: g.moderated if settled else g.agreed for g in audit.grades}
        self.moderated[OVERALL] = audit.moderated_overall if settled else audit.overall_grade
        worker = audit.worker.name if audit.worker else "?"
        auditor = audit.auditor.name if audit.auditor else "?"
        self.query_one("#moderate-bar", Static).update(Text.assemble(
            literal(audit.case_reference, "bold"), literal(f" {audit.case_category} · worker "), literal(worker, "bold"),
            literal(f" · audited by {auditor} on {audit.audit_date:%-d %b %Y} · "),
            literal(f" {audit.status.upper()} ", "reverse")))
        grade_list = self.query_one(GradeList)
        grade_list.read_only = self.read_only or audit.status != "submitted"
        self._render_grades()
        self.query_one("#moderate-text", Static).update(literal(audit_reading(audit, escalations)))
        grade_list.focus()
        draft, self.restored = self.restored, None
        if draft is not None and self._can_moderate():
            self.moderated |= draft.context.get("moderated", {})
            self._render_grades()
            self._ask_comment(str(draft.context.get("outcome", "agreed")), draft)

    def _render_grades(self) -> None:
        audit = self.audit
        if audit is None:
            return
        scale = audit.template.scale
        grade_list = self.query_one(GradeList)

        def note(auditor_grade: int | None, moderated: int | None) -> str:
            # Short, so it still shows beside a long grade on one line.
            auditor = scale[auditor_grade] if auditor_grade is not None else "—"
            return f"auditor: {auditor}" if moderated == auditor_grade else f"← regraded from {auditor}"

        rows = [GradeRow(g.domain, g.label, self.moderated.get(g.domain), note(g.agreed, self.moderated.get(g.domain)))
                for g in audit.grades]
        rows.append(GradeRow(OVERALL, "Overall", self.moderated.get(OVERALL),
                             note(audit.overall_grade, self.moderated.get(OVERALL))))
        grade_list.set_rows(rows, scale)

    def _changes(self) -> tuple[dict[str, tuple[int | None, str]], int | None]:
        assert self.audit is not None
        grades = {g.domain: (self.moderated[g.domain], "") for g in self.audit.grades
                  if self.moderated.get(g.domain) != g.agreed}
        overall = self.moderated.get(OVERALL)
        return grades, (overall if overall != self.audit.overall_grade else None)

    def _can_moderate(self) -> bool:
        if self.audit is None:
            return False
        if self.read_only or self.audit.status != "submitted":
            self.notify("This audit is not waiting for moderation.", severity="warning")
            return False
        from qa_tui.services.people.permissions import MODERATE

        if not self.ctx.may(MODERATE):  # said at once, before anything is typed
            self.notify(f"{self.ctx.person_name or self.ctx.login} may not moderate audits: your role is not a "
                        "moderator role (docs/permissions.md).", severity="warning")
            return False
        return True

    @on(GradeList.Graded, "#moderate-grades")
    def _regraded(self, event: GradeList.Graded) -> None:
        audit = self.audit
        if audit is None or not self._can_moderate():
            return
        auditors = {g.domain: g.agreed for g in audit.grades} | {OVERALL: audit.overall_grade}
        key = event.row.key
        self.moderated[key] = auditors.get(key) if event.grade is None else event.grade
        self._render_grades()

    def _ask_comment(self, outcome: str, draft: FormDraft | None = None) -> None:
        """The comment for `outcome`, kept as a draft (with the regrade) as it is typed."""
        assert self.audit is not None
        grades, overall = self._changes()
        changes: dict[str, Any] = {"grades": grades, "overall_grade": overall} if outcome == "regraded" else {}
        draft = draft or FormDraft("moderation", str(self.audit_id), f"on the audit of {self.audit.case_reference}",
                                   context={"outcome": outcome, "moderated": dict(self.moderated)})
        title, label, required = COMMENT_PROMPTS[outcome]

        def typed(comment: str | None) -> None:
            if comment is not None and (comment or not required):
                self._moderate(outcome, comment, draft, **changes)

        self.app.push_screen(DraftedPrompt(title, label, draft, required=required), typed)

    def _moderate(self, outcome: str, comment: str, draft: FormDraft, **changes: Any) -> None:
        from qa_tui.services.audits.moderation import moderate

        ctx, audit_id = self.ctx, self.audit_id
        if ctx.person_id is None:
            self.notify("You are not linked to a person record; set [user] staff_id in the config.", severity="error")
            return
        self.call_service(
            lambda s: moderate(s, audit_id, ctx.person_id, outcome=outcome, comment=comment, today=ctx.today(),
                               **changes),
            lambda _: self._done(outcome, draft), write=True)

    def _done(self, outcome: str, draft: FormDraft) -> None:
        forget_draft(self.qa_app, draft)
        self.notify({"agreed": "Grades agreed.", "regraded": "Regrade recorded; both sets of grades are kept.",
                     "returned": "Returned to the auditor for rework."}[outcome])
        self.app.pop_screen()

    def action_agree(self) -> None:
        if not self._can_moderate():
            return
        grades, overall = self._changes()
        if grades or overall is not None:
            self.notify("You have changed grades: press g to save the regrade, or reload to agree.", severity="warning")
            return
        self._ask_comment("agreed")

    def action_save_regrade(self) -> None:
        if not self._can_moderate():
            return
        grades, overall = self._changes()
        if not grades and overall is None:
            self.notify("No grade changed: press 1-4 on a domain to regrade it, or a to agree.", severity="warning")
            return
        self._ask_comment("regraded")

    def action_return_audit(self) -> None:
        if not self._can_moderate():
            return
        self._ask_comment("returned")

    def action_history(self) -> None:
        from screens.history import HistoryScreen

        self.app.push_screen(HistoryScreen("audit", self.audit_id))

    def palette_commands(self):  # noqa: ANN201
        from textual.app import SystemCommand

        yield SystemCommand("Audit: history", "Who changed this audit, when, old → new", self.action_history)

    def action_export(self) -> None:
        from qa_tui.services.audits.summaries import export_audit_record

        ctx, audit_id = self.ctx, self.audit_id
        self.call_service(lambda s: export_audit_record(s, audit_id, today=ctx.today(), cfg=ctx.config),
                          lambda path: self.notify(f"Saved the record to {path}", timeout=10), write=True)
