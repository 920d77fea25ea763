"""Audits of records other than a child's case file: a CP conference record or a looked-after
child's review record (of a case in that category), and a foster carer's or adopter's file (by its
reference in the case system, never a name). Started here, or the auditor's draft resumed."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from qa_tui.config import AUDIT_KIND_NAMES, Config
from qa_tui.config.vocabulary import RECORD_AUDIT_KINDS
from qa_tui.db.models import Audit, Case, Person, Team
from qa_tui.errors import NotAllowed, NotFound, ValidationError
from qa_tui.services.audits.kinds import LISTED, may_audit
from qa_tui.services.audits.record import AuditDTO, get_audit, start_audit
from qa_tui.services.programme.triage import fuzzy_pattern

CASE_CATEGORY = {"cp_conference_record": "CP", "lac_review_record": "CLA"}  # the kinds of a child's record
REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_.-]{0,39}")


@dataclass(frozen=True)
class RecordCase:
    case_id: uuid.UUID
    reference: str
    category: str
    team_code: str
    worker_name: str


def needs_case(kind: str) -> bool:
    """Whether an audit of this kind is of a child's case (else of a carer's file, by reference)."""
    _check_kind(kind)
    return kind in CASE_CATEGORY


def cases_for_record_audit(session: Session, kind: str, today: date, *, search: str = "",
                           limit: int = LISTED) -> list[RecordCase]:
    """Open cases whose record this kind audits (CP for a conference record, looked after for a
    review record), by reference; `search` matches the reference or team code loosely."""
    if not needs_case(kind):
        raise ValidationError("kind", f"a {AUDIT_KIND_NAMES[kind].lower()} is not of a child's case")
    worker = aliased(Person)
    stmt = (select(Case.id, Case.reference, Case.category, Team.code, worker.name)
            .outerjoin(Team, Team.id == Case.team_id).outerjoin(worker, worker.id == Case.worker_id)
            .where(Case.category == CASE_CATEGORY[kind], or_(Case.closed_on.is_(None), Case.closed_on > today))
            .order_by(Case.reference).limit(limit))
    if search.strip():
        pattern = fuzzy_pattern(search)
        stmt = stmt.where(or_(Case.reference.ilike(pattern, escape="\\"), Team.code.ilike(pattern, escape="\\")))
    return [RecordCase(i, ref, cat, code or "", name or "") for i, ref, cat, code, name in session.execute(stmt)]


def check_record_reference(text: str) -> str | None:
    """Why `text` is not a carer file's reference (None when it is one)."""
    if not REFERENCE.fullmatch(text.strip()):
        return ("expected the reference in the case system (letters, digits, / - _ . up to 40, no spaces), "
                "never a name")
    return None


def start_record_audit(session: Session, kind: str, auditor_id: uuid.UUID, *, case_id: uuid.UUID | None = None,
                       record_reference: str = "", today: date, cfg: Config) -> AuditDTO:
    """Audit a CP conference or looked-after review record of `case_id`, or a carer's file by
    `record_reference`; the auditor's draft of the same record is resumed instead."""
    auditor = session.get(Person, auditor_id)
    if auditor is None:
        raise NotFound(f"Person {auditor_id} does not exist.")
    if not may_audit(auditor.role):
        raise NotAllowed(f"{auditor.name} audits no records: practitioners have their own work audited.")
    draft = select(Audit.id).where(Audit.kind == kind, Audit.auditor_id == auditor_id, Audit.status == "draft")
    if needs_case(kind):
        case = session.get(Case, case_id) if case_id is not None else None
        if case is None:
            raise ValidationError("case", f"a {AUDIT_KIND_NAMES[kind].lower()} needs the child's case")
        if case.category != CASE_CATEGORY[kind]:
            raise ValidationError("case", f"a {AUDIT_KIND_NAMES[kind].lower()} is of a {CASE_CATEGORY[kind]} case; "
                                          f"{case.reference} is {case.category}")
        existing = session.scalar(draft.where(Audit.case_id == case.id))
        if existing is not None:
            return get_audit(session, existing, today=today, cfg=cfg)
        return start_audit(session, kind=kind, template=cfg.template(kind), case_id=case.id, worker_id=case.worker_id,
                           auditor_id=auditor_id, team_id=case.team_id, audit_date=today, today=today, cfg=cfg)
    reference = record_reference.strip()
    problem = check_record_reference(reference)
    if problem:
        raise ValidationError("carer's reference", problem)
    existing = session.scalar(draft.where(Audit.record_reference == reference))
    if existing is not None:
        return get_audit(session, existing, today=today, cfg=cfg)
    return start_audit(session, kind=kind, template=cfg.template(kind), case_id=None, worker_id=None,
                       auditor_id=auditor_id, team_id=auditor.team_id, audit_date=today,
                       record_reference=reference, today=today, cfg=cfg)


def _check_kind(kind: str) -> None:
    if kind not in RECORD_AUDIT_KINDS:
        raise ValidationError("kind", f"expected one of {', '.join(RECORD_AUDIT_KINDS)}, got {kind!r}")
