"""The audit editor's actions, findings for supervision, escalations and sending for moderation."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from qa_tui.services.unsaved_forms import FormDraft
from screens.dialogs import ConfirmDialog
from screens.drafts import DraftedPrompt, forget_draft

if TYPE_CHECKING:
    from qa_tui.errors import NeedsEscalationOwner
    from qa_tui.services.audits.actions import ActionRow
    from qa_tui.services.audits.record import AuditDTO
    from qa_tui.services.people.directory import PersonRef
    from qa_tui.widgets.save_queue import SaveQueue, Write

NEEDS_OWNER = "not saved: needs an escalation owner (press !)"


def ask_finding(node: Any, draft: FormDraft) -> None:
    """What to discuss at the worker's next supervision, kept as `draft` as it is typed until it
    is on their agenda (once, however often the draft is restored). `node` is the editor asking,
    or the screen a restored draft is offered on."""
    from qa_tui.services.audits.record import mark_finding_for_supervision

    audit_id, today, name = uuid.UUID(draft.record_id), node.ctx.today(), draft.context.get("worker", "the worker")

    def added(_: object) -> None:
        forget_draft(node.app, draft)
        node.notify(f"Added to {name}'s next supervision agenda.", markup=False)

    def typed(summary: str | None) -> None:
        if summary:
            node.call_service(lambda s: mark_finding_for_supervision(s, audit_id, summary, today,
                                                                     record_id=uuid.UUID(draft.draft_id)),
                              added, write=True)

    node.app.push_screen(DraftedPrompt(f"Finding for {name}'s next supervision", "What to discuss", draft,
                                       placeholder="e.g. Strong direct work; record the child's words verbatim"),
                         typed)


class AuditEditorActions:
    """What `AuditEditor` does beyond grades and text: actions with an owner and due date, a
    finding for supervision, an escalation and sending for moderation (keys a, f, ! and u)."""

    if TYPE_CHECKING:  # provided by AuditEditor
        audit: AuditDTO | None
        _owners: tuple[uuid.UUID | None, list[PersonRef]] | None
        _awaiting_owner: dict[str, Write]
        _held_reason: str
        _problem: str
        saves: SaveQueue
        grades: Any
        _grade_rows: Any
        _show_status: Any
        audit_name: Any
        ctx: Any
        app: Any
        call_service: Any
        notify: Any
        post_message: Any
        write: Any
        save_typing: Any
        _show_notes: Any
        NeedsReload: Any

    def _load_owners(self, audit: AuditDTO, then: Callable[[list[PersonRef]], None] | None = None) -> None:
        """Who may own an action, read ahead so `a` opens its dialog at once: the keys typed
        straight after it then land in the dialog."""
        from qa_tui.services.people.directory import people_for_picking

        ctx, team_id = self.ctx, audit.team_id
        include = [p.id for p in (audit.worker,) if p is not None]

        def loaded(people: list[PersonRef]) -> None:
            self._owners = (team_id, people)
            if then is not None:
                then(people)

        self.call_service(lambda s: people_for_picking(s, ctx.today(), team_id=team_id, include=include), loaded)

    def action_add_action(self) -> None:
        audit = self.audit
        if audit is None:
            return
        owners = self._owners
        if owners is not None and owners[0] == audit.team_id and all(
                any(p.id == w.id for p in owners[1]) for w in (audit.worker,) if w is not None):
            self._ask_action(owners[1])
        else:
            self._load_owners(audit, self._ask_action)

    def _ask_action(self, people: list[PersonRef]) -> None:
        audit, ctx = self.audit, self.ctx
        if audit is None:
            return
        from qa_tui.services.audits.actions import default_action_due
        from screens.action_drafts import action_draft, new_action

        draft = action_draft(record_id=audit.id, where=f"for {audit.subject or 'this supervision file'}",
                             source_kind="audit", owners=[(p.id, f"{p.name} ({p.role})") for p in people],
                             worker_id=audit.worker.id if audit.worker else None,
                             due=default_action_due(audit.audit_date, ctx.today(), ctx.config),
                             team_id=audit.team_id, case_id=audit.case_id)
        new_action(self, draft, self._action_added)

    def _action_added(self, action: ActionRow) -> None:
        if self.audit is not None and self.audit.id == action.audit_id:
            actions = sorted((*self.audit.actions, action), key=lambda a: (a.due_on, str(a.id)))
            self.audit = replace(self.audit, actions=tuple(actions))
            self._show_notes()

    def action_finding(self) -> None:
        audit = self.audit
        if audit is None or audit.worker is None:
            self.notify("This audit has no worker to take a finding to supervision.", severity="warning")
            return
        ask_finding(self, FormDraft("finding", str(audit.id), f"for {audit.worker.name} (audit of "
                                    f"{audit.case_reference})", context={"worker": audit.worker.name}))

    def action_escalate(self) -> None:
        audit, ctx = self.audit, self.ctx
        if audit is None:
            return
        from qa_tui.config.vocabulary import ESCALATION_OWNER_ROLES
        from qa_tui.services.people.directory import people_for_picking
        from screens.audits.escalation_dialog import ask_escalation, escalation_draft

        def ask(people: list[PersonRef]) -> None:
            def escalated(e: Any) -> None:
                if e.reason == "inadequate":
                    self._send_held(audit.id)

            ask_escalation(self, escalation_draft(audit.id, self.audit_name(audit),
                                                  [(p.id, f"{p.name} ({p.role})") for p in people]), escalated)

        auditor_id = audit.auditor.id if audit.auditor is not None else None
        self.call_service(lambda s: [p for p in people_for_picking(s, ctx.today(), ESCALATION_OWNER_ROLES)
                                     if p.id != auditor_id], ask)

    # --- Inadequate grades held until an escalation owner is named --------------------------------

    def _hold_for_owner(self, error: NeedsEscalationOwner) -> bool:
        """Keep a refused Inadequate grade on screen and in the journal, with why beside it; it is
        sent again once `!` names an escalation owner."""
        refused = self.saves.last_refused
        if refused is None or refused.key is None:
            return False
        self._awaiting_owner[refused.key] = refused
        if refused.unsaved is not None:
            self.saves.typed(refused.unsaved)  # a crash before the owner is named keeps it too
        self._held_reason = f"{error.field}: {error.problem}"
        self._problem = self.held_problem()
        self._show_held()
        return True

    def _held_keys(self, audit_id: uuid.UUID | None) -> list[str]:
        """The held grades of one audit (a meeting moves between several)."""
        return [key for key in self._awaiting_owner if audit_id is not None and key.startswith(f"{audit_id}:")]

    def held_problem(self) -> str:
        """What the status line says while a grade of the audit on screen waits for an escalation
        owner ("" when none does)."""
        if not self._held_keys(self.audit.id if self.audit else None):
            return ""
        return f"Not saved: {self._held_reason}."

    def _show_held(self) -> None:
        if self.audit is not None:
            self.grades.set_rows(self._grade_rows(self.audit), self.audit.template.scale)

    def _send_held(self, audit_id: uuid.UUID) -> None:
        """The audit now names an escalation owner: send its held grades again, in order."""
        held = [self._awaiting_owner.pop(key) for key in self._held_keys(audit_id)]
        for w in held:
            self.saves.add(w.job, w.then, key=w.key, value=w.value, unsaved=w.unsaved)
        if held:
            self._problem = self.held_problem()
            self._show_held()
            self._show_status()

    def leave_held(self, then: Callable[[], None]) -> None:
        """Leave at once unless a grade waits for an escalation owner: then only on a yes."""
        if not self._awaiting_owner:
            then()
            return

        def chosen(yes: bool | None) -> None:
            if yes:
                journal = self.saves.journal
                for w in self._awaiting_owner.values():
                    if journal is not None and w.unsaved is not None:
                        journal.drop(w.unsaved.key, any_value=True)
                self._awaiting_owner = {}
                then()

        self.app.push_screen(ConfirmDialog("Leave without the Inadequate grade?",
                                           "It is not saved until an escalation owner is named (press n, then !). "
                                           "Leaving throws it away."), chosen)

    def action_submit(self) -> None:
        audit = self.audit
        if audit is None or audit.status != "draft":
            return
        self.save_typing()
        from qa_tui.services.audits.record import submit_for_moderation

        today = self.ctx.today()
        what = f"the audit of {audit.subject}" if audit.subject else "this audit"

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.write(lambda s, v: submit_for_moderation(s, audit.id, today, expected_version=v),
                           lambda _: (self.notify("Sent for moderation."), self.post_message(self.NeedsReload())))

        self.app.push_screen(ConfirmDialog(f"Send {what} for moderation?",
                                           f"It must reach moderation by {audit.moderation_deadline:%-d %B}. "
                                           "After this it can no longer be edited here."), confirmed)
