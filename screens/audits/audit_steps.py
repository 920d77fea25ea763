"""Steps several audit screens take: knowing who you are, offering people to pick, and opening an
audit or starting it in your name."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from screens.audits.audit_form import AuditFormScreen
from screens.base import ServiceCalls
from screens.dialogs import ConfirmDialog

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qa_tui.services.audits.record import AuditDTO
    from qa_tui.services.people.directory import PersonRef


def person_options(people: Iterable[PersonRef]) -> list[tuple[uuid.UUID, str]]:
    """People as the choices of a ChoiceDialog: name and role."""
    return [(p.id, f"{p.name} ({p.role})") for p in people]


class AuditSteps(ServiceCalls):
    """For screens and widgets that call services: steps shared by the other-audits panes and
    the theme screen."""

    def person_needed(self) -> uuid.UUID | None:
        """The user's person record, or None after saying why nothing can be recorded."""
        person_id = self.ctx.person_id
        if person_id is None:
            self.notify(  # type: ignore[attr-defined]
                "You are not linked to a person record in the database, so nothing can be recorded in your name. "
                "Set your staff ID in the config file.", severity="error", timeout=10)
        return person_id

    def open_audit(self, audit_id: uuid.UUID) -> None:
        self.app.push_screen(AuditFormScreen(audit_id))  # type: ignore[attr-defined]

    def open_or_start_audit(self, audit_id: uuid.UUID | None, question: str, detail: str,
                            start: Callable[[Session, uuid.UUID], AuditDTO]) -> None:
        """Open the audit when it has been started; otherwise ask, start it in the user's name
        (`start(session, person_id)`) and open it."""
        if audit_id is not None:
            self.open_audit(audit_id)
            return
        me = self.person_needed()
        if me is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.call_service(lambda s: start(s, me), lambda audit: self.open_audit(audit.id), write=True)

        self.app.push_screen(ConfirmDialog(question, detail), confirmed)  # type: ignore[attr-defined]
