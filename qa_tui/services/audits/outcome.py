"""What moderation decided about an audit, to show wherever the audit is shown: the auditor's and
the moderator's grades side by side with the regraded domains marked, the reason an audit was
returned for rework, and the audits returned to one auditor (the dashboard's "returned to you")."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_tui.db.models import Audit, Case, Moderation, Person
from qa_tui.services.audits.record import AuditDTO, ModerationRecord

OVERALL_LABEL = "Overall"


@dataclass(frozen=True)
class GradePair:
    """One domain (or the overall grade): the auditor's grade beside the moderator's."""

    label: str
    auditor: str  # the grade's label on the audit's scale, or "—"
    moderator: str
    auditor_grade: int | None  # index into the scale, 0 = best
    moderator_grade: int | None
    regraded: bool
    comment: str  # the moderator's comment on this domain, if any


@dataclass(frozen=True)
class ModerationOutcome:
    outcome: str  # agreed / regraded
    moderator: str
    moderated_on: date
    comment: str
    grades: tuple[GradePair, ...]  # every domain, then the overall grade

    @property
    def regraded_count(self) -> int:
        return sum(p.regraded for p in self.grades)


@dataclass(frozen=True)
class ReturnedAudit:
    """An audit sent back to its auditor for rework and not yet sent again."""

    audit_id: uuid.UUID
    case_reference: str
    audit_date: date
    moderator: str
    returned_on: date
    reason: str


def moderation_outcome(audit: AuditDTO) -> ModerationOutcome | None:
    """Both sets of grades after the latest agreed or regraded moderation; None before one."""
    settled = [m for m in audit.moderations if m.outcome != "returned"]
    if not settled:
        return None
    last = settled[-1]
    scale = audit.template
    by_domain = {g.domain: g for g in last.grades}
    pairs = []
    for g in audit.grades:
        moderated = by_domain.get(g.domain)
        grade = moderated.grade if moderated else g.agreed
        pairs.append(GradePair(g.label, scale.grade_label(g.agreed), scale.grade_label(grade), g.agreed, grade,
                               grade != g.agreed, moderated.comment if moderated else ""))
    overall = last.overall_grade
    pairs.append(GradePair(OVERALL_LABEL, scale.grade_label(audit.overall_grade), scale.grade_label(overall),
                           audit.overall_grade, overall, overall != audit.overall_grade, ""))
    return ModerationOutcome(last.outcome, last.moderator.name, last.moderated_on, last.comment, tuple(pairs))


def return_reason(audit: AuditDTO) -> ModerationRecord | None:
    """The moderation that sent this draft back for rework, while it is still a draft."""
    if audit.status != "draft" or not audit.moderations or audit.moderations[-1].outcome != "returned":
        return None
    return audit.moderations[-1]


def returned_to(session: Session, auditor_id: uuid.UUID | None) -> list[ReturnedAudit]:
    """Drafts of this auditor whose latest moderation returned them for rework, oldest first."""
    if auditor_id is None:
        return []
    rows = session.execute(
        select(Audit.id, Case.reference, Audit.audit_date, Person.name, Moderation.outcome,
               Moderation.moderated_on, Moderation.comment)
        .join(Moderation, Moderation.audit_id == Audit.id)
        .join(Person, Person.id == Moderation.moderator_id)
        .outerjoin(Case, Case.id == Audit.case_id)
        .where(Audit.auditor_id == auditor_id, Audit.status == "draft")
        .order_by(Moderation.moderated_on, Moderation.created_at, Moderation.id)).all()
    latest = {row[0]: row for row in rows}  # the same order as the audit's moderation history
    found = [ReturnedAudit(audit_id, reference or "", audit_date, moderator, on, comment)
             for audit_id, reference, audit_date, moderator, outcome, on, comment in latest.values()
             if outcome == "returned"]
    return sorted(found, key=lambda r: (r.returned_on, r.case_reference))
