"""Moderation: the queue of audits sent for moderation, the moderator's decision (kept beside the
auditor's grades), the separation rule that nobody moderates an audit they took part in,
finalising, and calibration counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, event, select
from sqlalchemy.orm import Session, SessionTransaction, aliased

from qa_tui.config import CHECKLIST_KINDS, ROLE_NAMES, Config
from qa_tui.db import trail
from qa_tui.db.models import (
    MODERATION_OUTCOMES,
    Action,
    Audit,
    AuditGrade,
    AuditParticipant,
    AuditTemplate,
    Case,
    Moderation,
    Person,
    Team,
)
from qa_tui.errors import NotAllowed, NotFound, ValidationError
from qa_tui.services.audits.record import (
    AuditState,
    case_label,
    check_grade,
    domain_label,
    is_not_finalised_in_time,
    is_past_moderation_deadline,
    load_audit,
    local_date,
    save_audit,
    stamp_on,
)
from qa_tui.services.people.permissions import FINALISE, moderator_roles_in, require, require_self


@dataclass(frozen=True)
class QueueRow:
    audit_id: uuid.UUID
    case_reference: str
    case_category: str
    worker_name: str
    auditor_name: str
    team_id: uuid.UUID | None
    team_name: str
    audit_date: date
    submitted_on: date
    days_waiting: int  # since it joined its list: sent for moderation, or moderated (to finalise)
    late: bool  # waiting: sent after the moderation deadline; to finalise: past the finalising time


@dataclass(frozen=True)
class DomainCalibration:
    domain: str
    agreed: int
    regraded_up: int
    regraded_down: int


@dataclass(frozen=True)
class Calibration:
    """Moderated domain grades compared with the auditors': up means a better grade (lower index)."""

    audits: int
    agreed: int
    regraded_up: int
    regraded_down: int
    by_domain: tuple[DomainCalibration, ...]


def moderation_queue(session: Session, today: date, *, cfg: Config,
                     team_id: uuid.UUID | None = None) -> list[QueueRow]:
    """Audits waiting for moderation, oldest submission first."""
    return [_queue_row(audit, names, local_date(audit.submitted_at) or today, today,
                       is_past_moderation_deadline(audit, today, cfg))
            for audit, *names in _audits_in(session, "submitted", Audit.submitted_at, team_id)]


def awaiting_finalisation(session: Session, today: date, *, cfg: Config,
                          team_id: uuid.UUID | None = None) -> list[QueueRow]:
    """Moderated audits not yet finalised, longest moderated first."""
    return [_queue_row(audit, names, local_date(audit.moderated_at) or today, today,
                       is_not_finalised_in_time(audit, today, cfg))
            for audit, *names in _audits_in(session, "moderated", Audit.moderated_at, team_id)]


def moderate(session: Session, audit_id: uuid.UUID, moderator_id: uuid.UUID, *, outcome: str,
             grades: dict[str, tuple[int | None, str]] | None = None, overall_grade: int | None = None,
             comment: str = "", today: date) -> AuditState:
    """Record a moderator's decision on a submitted audit.

    agreed: the auditor's grades stand. regraded: `grades` (domain → (grade, comment)) and/or
    `overall_grade` replace some of them. Either way the moderated set is stored in full on a
    Moderation row and the audit becomes moderated; the auditor's own grades are never changed.
    returned: back to draft for rework, with a comment saying why.

    A moderator who is not in a moderator role, or who took part in the audit, is refused with
    NotAllowed, and the refusal is written to the audit trail in a transaction of its own once the
    caller's transaction ends, so it stays recorded although raising it rolls the caller back.
    """
    if outcome not in MODERATION_OUTCOMES:
        raise ValidationError("outcome", f"expected one of {', '.join(MODERATION_OUTCOMES)}, got {outcome!r}")
    audit = load_audit(session, audit_id)
    moderator = session.get(Person, moderator_id)
    if moderator is None:
        raise NotFound(f"Person {moderator_id} does not exist.")
    require_self(session, moderator_id, "moderate")
    if audit.status != "submitted":
        raise NotAllowed(f"The audit of {case_label(audit)} is not waiting for moderation (it is {audit.status}).")
    refusal = _refusal(session, audit, moderator)
    if refusal:
        _record_refusal_when_transaction_ends(session, audit.id, refusal)
        raise NotAllowed(refusal)

    grades = grades or {}
    if outcome == "returned":
        if not comment.strip():
            raise ValidationError("comment", "say what needs reworking when returning an audit")
        if grades or overall_grade is not None:
            raise ValidationError("grades", "a returned audit is not graded by the moderator")
        session.add(Moderation(audit_id=audit.id, moderator_id=moderator.id, outcome=outcome,
                               overall_grade=None, comment=comment.strip(), moderated_on=today, grades={}))
        audit.status, audit.submitted_at = "draft", None
        return save_audit(session, audit)

    auditor_grades = _agreed_grades(session, audit)
    if outcome == "agreed" and (grades or overall_grade is not None):
        raise ValidationError("grades", "an agreed moderation keeps the auditor's grades; "
                                        "choose regraded to change them")
    moderated: dict[str, dict[str, Any]] = {d: {"grade": g, "comment": ""} for d, g in auditor_grades.items()}
    for domain, (grade, domain_comment) in grades.items():
        label = domain_label(audit.template, domain)
        check_grade(audit.template, grade, f"moderated grade for {label}")
        moderated[domain] = {"grade": grade, "comment": domain_comment.strip()}
    check_grade(audit.template, overall_grade, "moderated overall grade")
    overall = audit.overall_grade if overall_grade is None else overall_grade
    if outcome == "regraded" and overall == audit.overall_grade and all(
            moderated[d]["grade"] == auditor_grades.get(d) for d in moderated):
        raise ValidationError("grades", "a regrade must change at least one grade; choose agreed otherwise")
    session.add(Moderation(audit_id=audit.id, moderator_id=moderator.id, outcome=outcome,
                           overall_grade=overall, comment=comment.strip(), moderated_on=today, grades=moderated))
    audit.status, audit.moderated_at = "moderated", stamp_on(today)
    return save_audit(session, audit)


def finalise(session: Session, audit_id: uuid.UUID, today: date) -> AuditState:
    """Close a moderated audit. Its open actions stay open and keep their own lifecycle (the
    screen shows them before asking). Only the roles allowed to finalise (docs/permissions.md)."""
    require(session, FINALISE)
    audit = load_audit(session, audit_id)
    if audit.status != "moderated":
        raise NotAllowed(f"The audit of {case_label(audit)} is {audit.status}; "
                         "only a moderated audit can be finalised.")
    audit.status, audit.finalised_at = "finalised", stamp_on(today)
    return save_audit(session, audit)


def open_actions_of(session: Session, audit_id: uuid.UUID) -> tuple[str, ...]:
    """The audit's actions still open, each as one line (title and due date), to show before
    finalising: they stay open and tracked after it."""
    rows = session.execute(select(Action.title, Action.due_on).where(
        Action.audit_id == audit_id, Action.status == "open").order_by(Action.due_on, Action.title))
    return tuple(f"{title} (due {due:%-d %b %Y})" if due else title for title, due in rows)


def calibration(session: Session, since: date, until: date) -> Calibration:
    """How moderators' grades compared with auditors' for moderations from `since` to `until`
    (inclusive), domain by domain. Checklist kinds (closure audits) keep their own scale and stay out."""
    rows = session.execute(
        select(Moderation.audit_id, Moderation.grades, AuditTemplate.domains)
        .join(Audit, Audit.id == Moderation.audit_id)
        .join(AuditTemplate, AuditTemplate.id == Audit.template_id)
        .where(Moderation.outcome.in_(("agreed", "regraded")), Audit.kind.not_in(CHECKLIST_KINDS),
               Moderation.moderated_on >= since, Moderation.moderated_on <= until)
    ).all()
    audit_ids = {audit_id for audit_id, _, _ in rows}
    auditor: dict[tuple[uuid.UUID, str], int | None] = {}
    if audit_ids:
        auditor = {(a, d): g for a, d, g in session.execute(
            select(AuditGrade.audit_id, AuditGrade.domain, AuditGrade.grade)
            .where(AuditGrade.audit_id.in_(audit_ids), AuditGrade.participant_id.is_(None)))}
    counts: dict[str, list[int]] = {}  # domain → [agreed, up, down], in template order
    for audit_id, moderated, domains in rows:
        for d in domains:
            before, after = auditor.get((audit_id, d["key"])), moderated.get(d["key"], {}).get("grade")
            if before is None or after is None:
                continue
            tally = counts.setdefault(d["key"], [0, 0, 0])
            tally[0 if after == before else 1 if after < before else 2] += 1
    by_domain = tuple(DomainCalibration(d, *t) for d, t in counts.items())
    return Calibration(len(audit_ids), sum(c.agreed for c in by_domain), sum(c.regraded_up for c in by_domain),
                       sum(c.regraded_down for c in by_domain), by_domain)


def _audits_in(session: Session, status: str, since: Any, team_id: uuid.UUID | None) -> list[Any]:
    """(audit, case reference, category, worker, auditor, team name) for audits in `status`."""
    worker, auditor = aliased(Person), aliased(Person)
    stmt = (
        select(Audit, Case.reference, Case.category, worker.name, auditor.name, Team.name)
        .outerjoin(Case, Case.id == Audit.case_id)
        .outerjoin(worker, worker.id == Audit.worker_id)
        .outerjoin(auditor, auditor.id == Audit.auditor_id)
        .outerjoin(Team, Team.id == Audit.team_id)
        .where(Audit.status == status)
        .order_by(since, Audit.id)
    )
    if team_id is not None:
        stmt = stmt.where(Audit.team_id == team_id)
    return list(session.execute(stmt))


def _queue_row(audit: Audit, names: list[str | None], waiting_since: date, today: date, late: bool) -> QueueRow:
    reference, category, worker_name, auditor_name, team_name = (n or "" for n in names)
    return QueueRow(audit.id, reference, category, worker_name, auditor_name, audit.team_id, team_name,
                    audit.audit_date, local_date(audit.submitted_at) or waiting_since,
                    (today - waiting_since).days, late)


def _agreed_grades(session: Session, audit: Audit) -> dict[str, int | None]:
    return dict(session.execute(select(AuditGrade.domain, AuditGrade.grade).where(
        AuditGrade.audit_id == audit.id, AuditGrade.participant_id.is_(None))).all())


def _refusal(session: Session, audit: Audit, moderator: Person) -> str:
    """Why this person may not moderate this audit, or "" if they may."""
    who = f"{moderator.name} ({moderator.staff_id})"
    moderator_roles = moderator_roles_in(session)
    if moderator.role not in moderator_roles:
        roles = ", ".join(ROLE_NAMES[r] for r in moderator_roles)
        return (f"{who} cannot moderate the audit of {case_label(audit)}: their role "
                f"({ROLE_NAMES.get(moderator.role, moderator.role)}) is not a moderator role ({roles}).")
    part = _part_taken(session, audit, moderator.id)
    if part:
        return (f"{who} cannot moderate the audit of {case_label(audit)}: they took part in it as "
                f"{part}. Ask a moderator who was not involved.")
    return ""


def _part_taken(session: Session, audit: Audit, person_id: uuid.UUID) -> str:
    if audit.auditor_id == person_id:
        return "the auditor"
    if audit.worker_id == person_id:
        return "the worker whose practice was audited"
    took_part = session.scalar(select(AuditParticipant.id).where(
        AuditParticipant.audit_id == audit.id, AuditParticipant.person_id == person_id))
    if took_part is not None:
        return "a participant"
    graded = session.scalar(select(AuditGrade.id).where(
        AuditGrade.audit_id == audit.id, AuditGrade.participant_id == person_id).limit(1))
    return "a participant who gave grades" if graded is not None else ""


def _record_refusal_when_transaction_ends(session: Session, audit_id: uuid.UUID, detail: str) -> None:
    """Write a refused-moderation event in its own transaction as soon as the caller's transaction
    ends, whether it commits or rolls back (raising the refusal usually rolls it back). Waiting for
    the end matters on SQLite, where the caller's write transaction holds the only write lock."""
    info = dict(session.info)
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    caller = session.get_transaction()
    written = False

    def write(_session: Session, ended: SessionTransaction) -> None:
        nonlocal written
        if ended is not caller or written:
            return
        written = True
        with Session(bind=engine, info=info) as side, side.begin():
            trail.record_event(side, "refused", "audit", audit_id, detail=detail)

    event.listen(session, "after_transaction_end", write)
