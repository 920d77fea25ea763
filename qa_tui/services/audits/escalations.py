"""Escalations: an audit that grades a child's case Inadequate (overall or in a domain), or finds
a child who may be at risk now, names an escalation owner before it goes for moderation; the
owner responds by a deadline, and until then it is its own kind of late work in triage."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_tui.config import CHECKLIST_KINDS, Config
from qa_tui.config.vocabulary import ESCALATION_OWNER_ROLES, ROLE_NAMES
from qa_tui.db.acting import acting_of
from qa_tui.db.models import Audit, AuditGrade, Case, Escalation, Person
from qa_tui.errors import NeedsEscalationOwner, NotAllowed, NotFound, ValidationError
from qa_tui.services.people.permissions import ANSWER_ESCALATION, decide, managers_above, require
from qa_tui.text import without_controls

REASON_LABELS = {"inadequate": "graded Inadequate", "risk_now": "a child may be at risk now"}


@dataclass(frozen=True)
class EscalationRow:
    id: uuid.UUID
    audit_id: uuid.UUID
    owner_id: uuid.UUID
    reason: str
    note: str
    raised_on: date
    respond_by: date
    answered_on: date | None
    response: str
    answered_by_id: uuid.UUID | None = None


@dataclass(frozen=True)
class EscalationView:
    """An escalation as the answer form and the audit show it: names, not IDs."""

    id: uuid.UUID
    audit_id: uuid.UUID
    subject: str  # the case reference (or the record's), never a name
    reason: str  # REASON_LABELS' words
    owner_id: uuid.UUID
    owner_name: str
    note: str
    raised_on: date
    respond_by: date
    answered_on: date | None
    answered_by: str  # the name of who answered ("" until answered)
    response: str
    version: int

    def summary(self) -> str:
        """One paragraph: who it went to and why, and the answer once there is one."""
        head = f"{self.reason.capitalize()}: escalated to {self.owner_name} on {self.raised_on:%-d %b %Y}"
        head += f", note: {self.note}" if self.note else ""
        if self.answered_on is None:
            return f"{head}. Awaiting response (respond by {self.respond_by:%-d %b %Y})."
        by = f" by {self.answered_by}" if self.answered_by else ""  # older answers did not keep who gave them
        return f"{head}. Answered on {self.answered_on:%-d %b %Y}{by}: {self.response}"


def is_inadequate(audit: Audit, session: Session) -> bool:
    """Graded the scale's worst (Inadequate) overall or in any domain, by the auditors; checklist
    kinds (Met / Not met) never are."""
    if audit.kind in CHECKLIST_KINDS:
        return False
    worst = len(audit.template.scale) - 1
    if audit.overall_grade == worst:
        return True
    return session.scalar(select(AuditGrade.id).where(
        AuditGrade.audit_id == audit.id, AuditGrade.participant_id.is_(None), AuditGrade.grade == worst).limit(1)) \
        is not None


def escalations_of(session: Session, audit_id: uuid.UUID) -> list[EscalationRow]:
    return [_row(e) for e in session.scalars(select(Escalation).where(Escalation.audit_id == audit_id)
                                              .order_by(Escalation.raised_on, Escalation.created_at))]


def check_owner_before_saving(session: Session, audit: Audit, grade: int | None, field: str) -> None:
    """Refuse to save an agreed grade of Inadequate (overall or a domain's) until the audit names
    an escalation owner: the save is refused as a whole and nothing is written. A child at risk
    now needs no check here: it is recorded only as an escalation, which names its owner."""
    if audit.kind in CHECKLIST_KINDS or grade != len(audit.template.scale) - 1:
        return
    if not any(e.reason == "inadequate" for e in escalations_of(session, audit.id)):
        raise NeedsEscalationOwner(field, "Inadequate needs a named escalation owner; press ! to name who it "
                                          "is escalated to, and the grade is saved then")


def check_escalated(session: Session, audit: Audit) -> None:
    """Refuse to send an Inadequate audit for moderation before it names an escalation owner."""
    if is_inadequate(audit, session) and not any(e.reason == "inadequate" for e in escalations_of(session, audit.id)):
        raise ValidationError("escalation owner", "the audit grades Inadequate; name who the finding is escalated "
                                                  "to (an escalation owner) before sending it for moderation")


def raise_escalation(session: Session, audit_id: uuid.UUID, *, owner_id: uuid.UUID | None, reason: str,
                     note: str, today: date, cfg: Config, escalation_id: uuid.UUID | None = None) -> EscalationRow:
    """Escalate the audit's finding to `owner_id`, who responds within the configured days. With
    `escalation_id` (a form's draft), raising it again returns the one already raised."""
    if escalation_id is not None and (raised := session.get(Escalation, escalation_id)) is not None:
        return _row(raised)
    audit = session.get(Audit, audit_id)
    if audit is None:
        raise NotFound(f"Audit {audit_id} does not exist.")
    if reason not in REASON_LABELS:
        raise ValidationError("reason", f"expected one of {', '.join(REASON_LABELS)}, got {reason!r}")
    if owner_id is None:
        raise ValidationError("escalation owner", "name the person the finding is escalated to")
    owner = session.get(Person, owner_id)
    if owner is None:
        raise ValidationError("escalation owner", f"no person with id {owner_id}")
    if owner_id == audit.auditor_id:
        raise ValidationError("escalation owner", "escalate to someone other than the auditor")
    if owner.role not in ESCALATION_OWNER_ROLES:
        raise ValidationError("escalation owner", f"{owner.name} ({ROLE_NAMES.get(owner.role, owner.role).lower()}) is "
                                                  f"not a manager; escalate to a team manager or above")
    row = Escalation(audit_id=audit.id, owner_id=owner_id, reason=reason, note=note.strip(), raised_on=today,
                     **({"id": escalation_id} if escalation_id is not None else {}),
                     respond_by=today + timedelta(days=cfg.deadlines.escalation_response_days))
    session.add(row)
    session.flush()
    return _row(row)


def answer_escalation(session: Session, escalation_id: uuid.UUID, response: str, by_id: uuid.UUID | None,
                      today: date) -> EscalationRow:
    """The response: what was done or decided, kept with who answered and when; answered
    escalations leave triage. Its owner answers, or someone above them in the line management
    (the person acting in `session`, docs/permissions.md; `by_id` when there is nobody acting)."""
    row = session.get(Escalation, escalation_id)
    if row is None:
        raise NotFound(f"Escalation {escalation_id} does not exist.")
    require(session, ANSWER_ESCALATION, owner_id=row.owner_id)
    who = acting_of(session)
    answered_by = who.person_id if who is not None else by_id
    if by_id is not None and by_id != answered_by:
        raise NotAllowed("An escalation is answered only by the person acting, as themselves.")
    if answered_by is not None and answered_by != row.owner_id and answered_by not in managers_above(
            session, row.owner_id):
        raise NotAllowed("Only the escalation's owner, or someone above them in the line management, answers it.")
    if row.answered_on is not None:
        raise NotAllowed(f"This escalation was answered on {row.answered_on.isoformat()}.")
    text = without_controls(response).strip()
    if not text:
        raise ValidationError("response", "say what was done or decided in response")
    row.answered_on, row.response, row.answered_by_id = today, text, answered_by
    session.flush()
    return _row(row)


def escalation_view(session: Session, escalation_id: uuid.UUID) -> EscalationView:
    """One escalation, for the answer form."""
    views = _views(session, Escalation.id == escalation_id)
    if not views:
        raise NotFound(f"Escalation {escalation_id} does not exist.")
    return views[0]


def answer_refusal(session: Session, view: EscalationView) -> str:
    """Why the person acting may not answer this escalation ("": they may), said before they type."""
    if view.answered_on is not None:
        return f"This escalation was answered on {view.answered_on:%-d %b %Y} by {view.answered_by}."
    return decide(session, ANSWER_ESCALATION, owner_id=view.owner_id).reason


def escalation_views(session: Session, audit_id: uuid.UUID) -> list[EscalationView]:
    """An audit's escalations, oldest first, answered or not, for the audit and its moderation."""
    return _views(session, Escalation.audit_id == audit_id)


def _views(session: Session, where: Any) -> list[EscalationView]:
    rows = session.execute(select(Escalation, Case.reference, Audit.record_reference)
                           .join(Audit, Audit.id == Escalation.audit_id).outerjoin(Case, Case.id == Audit.case_id)
                           .where(where).order_by(Escalation.raised_on, Escalation.created_at)).all()
    ids = {e.owner_id for e, _, _ in rows} | {e.answered_by_id for e, _, _ in rows if e.answered_by_id}
    names = {pid: name for pid, name in session.execute(select(Person.id, Person.name).where(Person.id.in_(ids)))}
    return [EscalationView(e.id, e.audit_id, reference or record or "a record", REASON_LABELS.get(e.reason, e.reason),
                           e.owner_id, names.get(e.owner_id, ""), e.note, e.raised_on, e.respond_by, e.answered_on,
                           names.get(e.answered_by_id, "") if e.answered_by_id else "", e.response, e.version)
            for e, reference, record in rows]


def open_escalations(session: Session, *, owner_id: uuid.UUID | None = None) -> list[EscalationRow]:
    """Escalations not yet answered (one owner's, when given), oldest deadline first."""
    stmt = select(Escalation).where(Escalation.answered_on.is_(None)).order_by(Escalation.respond_by, Escalation.id)
    if owner_id is not None:
        stmt = stmt.where(Escalation.owner_id == owner_id)
    return [_row(e) for e in session.scalars(stmt)]


def _row(e: Escalation) -> EscalationRow:
    return EscalationRow(e.id, e.audit_id, e.owner_id, e.reason, e.note, e.raised_on, e.respond_by,
                         e.answered_on, e.response, e.answered_by_id)
