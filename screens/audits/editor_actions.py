"""The audit editor's actions, findings for supervision, escalations and sending for moderation."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from screens.dialogs import ActionDialog, ActionInput, ConfirmDialog, TextPrompt

if TYPE_CHECKING:
    from qa_tui.services.audits.actions import ActionRow
    from qa_tui.services.audits.record import AuditDTO
    from qa_tui.services.people.directory import PersonRef


class AuditEditorActions:
    """What `AuditEditor` does beyond grades and text: actions with an owner and due date, a
    finding for supervision, an escalation and sending for moderation (keys a, f, ! and u)."""

    if TYPE_CHECKING:  # provided by AuditEditor
        audit: AuditDTO | None
        _owners: tuple[uuid.UUID | None, list[PersonRef]] | None
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
        from qa_tui.services.audits.actions import add_action, default_action_due

        def saved(form: ActionInput | None) -> None:
            if form is not None:
                self.call_service(
                    lambda s: add_action(s, title=form.title, owner_id=form.owner_id, due_on=form.due_on,
                                         raised_by_id=ctx.person_id, source_kind="audit", audit_id=audit.id,
                                         case_id=audit.case_id, team_id=audit.team_id, today=ctx.today(),
                                         cfg=ctx.config),
                    self._action_added, write=True)

        due = default_action_due(audit.audit_date, ctx.today(), ctx.config)
        owners = [(p.id, f"{p.name} ({p.role})") for p in people]
        self.app.push_screen(ActionDialog(owners, audit.worker.id if audit.worker else None, due,
                                          f"for {audit.case_reference or 'this supervision file'}"), saved)

    def _action_added(self, action: ActionRow) -> None:
        self.notify("Action added.")
        if self.audit is not None and self.audit.id == action.audit_id:
            actions = sorted((*self.audit.actions, action), key=lambda a: (a.due_on, str(a.id)))
            self.audit = replace(self.audit, actions=tuple(actions))
            self._show_notes()

    def action_finding(self) -> None:
        audit = self.audit
        if audit is None or audit.worker is None:
            self.notify("This audit has no worker to take a finding to supervision.", severity="warning")
            return
        from qa_tui.services.audits.record import mark_finding_for_supervision

        today, name = self.ctx.today(), audit.worker.name

        def saved(summary: str | None) -> None:
            if summary:
                self.call_service(lambda s: mark_finding_for_supervision(s, audit.id, summary, today),
                                  lambda _: self.notify(f"Added to {name}'s next supervision agenda.", markup=False),
                                  write=True)

        self.app.push_screen(TextPrompt(f"Finding for {name}'s next supervision", "What to discuss",
                                        placeholder="e.g. Strong direct work; record the child's words verbatim"),
                             saved)

    def action_escalate(self) -> None:
        audit, ctx = self.audit, self.ctx
        if audit is None:
            return
        from qa_tui.services.audits.escalations import raise_escalation
        from qa_tui.services.people.directory import people_for_picking
        from screens.audits.escalation_dialog import EscalationDialog

        def ask(people: list[PersonRef]) -> None:
            def chosen(form: Any) -> None:
                if form is not None:
                    self.call_service(lambda s: raise_escalation(
                        s, audit.id, owner_id=form.owner_id, reason=form.reason, note=form.note, today=ctx.today(),
                        cfg=ctx.config), lambda e: self.notify(f"Escalated; response due by {e.respond_by:%-d %B}."),
                        write=True)

            self.app.push_screen(EscalationDialog([(p.id, f"{p.name} ({p.role})") for p in people],
                                                  f"the audit of {audit.case_reference or 'this record'}"), chosen)

        self.call_service(lambda s: people_for_picking(s, ctx.today()), ask)

    def action_submit(self) -> None:
        audit = self.audit
        if audit is None or audit.status != "draft":
            return
        self.save_typing()
        from qa_tui.services.audits.record import submit_for_moderation

        today = self.ctx.today()
        what = f"the audit of {audit.case_reference}" if audit.case_reference else "this audit"

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.write(lambda s, v: submit_for_moderation(s, audit.id, today, expected_version=v),
                           lambda _: (self.notify("Sent for moderation."), self.post_message(self.NeedsReload())))

        self.app.push_screen(ConfirmDialog(f"Send {what} for moderation?",
                                           f"It must reach moderation by {audit.moderation_deadline:%-d %B}. "
                                           "After this it can no longer be edited here."), confirmed)
