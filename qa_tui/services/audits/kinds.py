"""The kinds of audit beyond the monthly cycle, brought together for the one audit form: who may
audit, lists per kind, supervision-file and cross-service audits, and what the form shows beside
the grades."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from qa_tui.config import AUDIT_KIND_NAMES, AUDIT_KINDS, Config
from qa_tui.dates import add_months
from qa_tui.db.models import Audit, Case, Person, Service, Supervision, Team
from qa_tui.errors import NotAllowed, NotFound, ValidationError
from qa_tui.services.audits.record import AuditDTO, get_audit, start_audit
from qa_tui.services.practice.celebration import GoodPracticeItem, good_practice_for
from qa_tui.services.audits.closure import describe_closure, services_led_by
from qa_tui.services.audits.escalations import escalation_views
from qa_tui.services.practice.supervision import next_supervision_due
from qa_tui.services.audits.themes import (
    AgencyFindingView,
    ThemeView,
    agency_findings,
    theme_of_audit,
)
from qa_tui.services.people.directory import PersonRef, people_for_picking
from qa_tui.services.programme.triage import fuzzy_pattern
from qa_tui.text import plural

SUPERVISION_FILE = "supervision_file"
CROSS_SERVICE = "cross_service"
REGULARITY_MONTHS = 12
LISTED = 200
AUDITOR_ROLES_EXCLUDED = ("SW", "NQSW")  # practitioners have their work audited; they are not given audits


# --- who may audit --------------------------------------------------------------------------


def may_audit(role: str) -> bool:
    """Whether someone in `role` may be given cases to audit."""
    return role not in AUDITOR_ROLES_EXCLUDED


def auditors_for_picking(session: Session, today: date) -> list[PersonRef]:
    """Active people who may be given cases to audit, by name."""
    return [p for p in people_for_picking(session, today) if may_audit(p.role)]


# --- lists per kind -------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditListRow:
    audit_id: uuid.UUID
    kind: str
    subject: str  # the case reference, a carer file's reference, or the worker whose supervision file it is
    worker_name: str
    auditor_name: str
    team_code: str
    audit_date: date
    status: str


def audits_of_kind(session: Session, kind: str | tuple[str, ...], *, auditor_id: uuid.UUID | None = None,
                   limit: int = LISTED) -> list[AuditListRow]:
    """The latest audits of one kind, or of any of several (by one auditor, when given), newest first."""
    kinds = (kind,) if isinstance(kind, str) else kind
    for one in kinds:
        if one not in AUDIT_KINDS:
            raise ValidationError("kind", f"expected one of {', '.join(AUDIT_KINDS)}, got {one!r}")
    worker, auditor = aliased(Person), aliased(Person)
    stmt = (select(Audit.id, Audit.kind, Case.reference, Audit.record_reference, worker.name, auditor.name, Team.code,
                   Audit.audit_date, Audit.status)
            .outerjoin(Case, Case.id == Audit.case_id).outerjoin(worker, worker.id == Audit.worker_id)
            .outerjoin(auditor, auditor.id == Audit.auditor_id).outerjoin(Team, Team.id == Audit.team_id)
            .where(Audit.kind.in_(kinds))
            .order_by(Audit.audit_date.desc(), Audit.created_at.desc(), Audit.id).limit(limit))
    if auditor_id is not None:
        stmt = stmt.where(Audit.auditor_id == auditor_id)
    return [AuditListRow(a_id, k, ref or record or wname or "", wname or "", aname or "", code or "", day, status)
            for a_id, k, ref, record, wname, aname, code, day, status in session.execute(stmt)]


# --- supervision-file audits ----------------------------------------------------------------


@dataclass(frozen=True)
class SupervisionGap:
    start: date  # the last supervision before the gap (or the start of the window)
    end: date  # the next supervision (or today, while it is still open)
    days_late: int  # beyond when the next supervision was due
    open: bool


@dataclass(frozen=True)
class SupervisionRegularity:
    worker_id: uuid.UUID
    worker_name: str
    cadence: str
    since: date
    until: date
    held: int
    expected: int  # what the cadence asks for over the window
    reflective: int
    last_held: date | None
    gaps: tuple[SupervisionGap, ...]
    supervisors: tuple[str, ...]

    def summary(self) -> str:
        last = f"; last held {self.last_held:%-d %b %Y}" if self.last_held else "; none held"
        return (f"{self.held} supervisions since {self.since:%-d %b %Y} ({self.cadence}: {self.expected} expected)"
                f"{last}; {len(self.gaps)} gap{'s' if len(self.gaps) != 1 else ''} longer than {self.cadence}")


def supervision_regularity(session: Session, worker_id: uuid.UUID, today: date, cfg: Config, *,
                           months: int = REGULARITY_MONTHS) -> SupervisionRegularity:
    """How regular the worker's supervision has been over the last `months` (or since they
    started): held against the cadence for their role, and every gap longer than it."""
    worker = session.get(Person, worker_id)
    if worker is None:
        raise NotFound(f"Worker {worker_id} does not exist.")
    since = add_months(today, -months) + timedelta(days=1)
    if worker.active_from is not None and worker.active_from > since:
        since = worker.active_from
    cadence = cfg.cadence_for(worker.role)
    supervisor = aliased(Person)
    rows = session.execute(
        select(Supervision.held_on, Supervision.kind, supervisor.name)
        .outerjoin(supervisor, supervisor.id == Supervision.supervisor_id)
        .where(Supervision.worker_id == worker_id, Supervision.held_on >= since, Supervision.held_on <= today)
        .order_by(Supervision.held_on)).all()
    held = [day for day, _, _ in rows]
    expected, due = 0, next_supervision_due(since, cadence)
    while due <= today:
        expected += 1
        due = next_supervision_due(due, cadence)
    gaps = []
    spans = list(zip([since, *held], [*held, today], strict=True))
    for index, (start, end) in enumerate(spans):
        due_on = next_supervision_due(start, cadence)
        if end > due_on:
            gaps.append(SupervisionGap(start, end, (end - due_on).days, index == len(spans) - 1))
    return SupervisionRegularity(
        worker_id, worker.name, cadence, since, today, len(held), expected,
        sum(1 for _, kind, _ in rows if kind == "reflective"), held[-1] if held else None, tuple(gaps),
        tuple(sorted({name for _, _, name in rows if name})))


def start_supervision_file_audit(session: Session, worker_id: uuid.UUID, auditor_id: uuid.UUID, *,
                                 today: date, cfg: Config) -> AuditDTO:
    """Audit one worker's supervision file (no case), or resume the auditor's draft of it."""
    worker = session.get(Person, worker_id)
    if worker is None:
        raise NotFound(f"Worker {worker_id} does not exist.")
    if worker_id == auditor_id:
        raise NotAllowed("You cannot audit your own supervision file.")
    draft = session.scalar(select(Audit.id).where(
        Audit.kind == SUPERVISION_FILE, Audit.worker_id == worker_id, Audit.auditor_id == auditor_id,
        Audit.status == "draft"))
    if draft is not None:
        return get_audit(session, draft, today=today, cfg=cfg)
    return start_audit(session, kind=SUPERVISION_FILE, template=cfg.template(SUPERVISION_FILE), case_id=None,
                       worker_id=worker_id, auditor_id=auditor_id, team_id=worker.team_id, audit_date=today,
                       today=today, cfg=cfg)


# --- cross-service audits -------------------------------------------------------------------


@dataclass(frozen=True)
class OtherServiceCase:
    case_id: uuid.UUID
    reference: str
    category: str
    team_code: str
    service_name: str
    worker_name: str


def cross_service_cases(session: Session, person_id: uuid.UUID, today: date, *, search: str = "",
                        limit: int = LISTED) -> list[OtherServiceCase]:
    """Open cases of teams in services other than the person's own, by reference; `search`
    matches the reference or team code loosely."""
    home = _home_services(session, person_id)
    worker = aliased(Person)
    stmt = (select(Case.id, Case.reference, Case.category, Team.code, Service.name, worker.name)
            .join(Team, Team.id == Case.team_id).join(Service, Service.id == Team.service_id)
            .outerjoin(worker, worker.id == Case.worker_id)
            .where(Service.id.not_in(home), or_(Case.closed_on.is_(None), Case.closed_on > today))
            .order_by(Case.reference).limit(limit))
    if search.strip():
        pattern = fuzzy_pattern(search)
        stmt = stmt.where(or_(Case.reference.ilike(pattern, escape="\\"), Team.code.ilike(pattern, escape="\\")))
    return [OtherServiceCase(i, ref, cat, code, service, wname or "")
            for i, ref, cat, code, service, wname in session.execute(stmt)]


def start_cross_service_audit(session: Session, case_id: uuid.UUID, auditor_id: uuid.UUID, *,
                              today: date, cfg: Config) -> AuditDTO:
    """A service leader audits a case from another part of the service (or resumes their draft)."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"Case {case_id} does not exist.")
    service = session.scalar(select(Team.service_id).where(Team.id == case.team_id)) if case.team_id else None
    if service is None or service in _home_services(session, auditor_id):
        raise NotAllowed(f"Case {case.reference} is not from another service than yours; "
                         "audit it as a live or themed audit instead.")
    draft = session.scalar(select(Audit.id).where(
        Audit.kind == CROSS_SERVICE, Audit.case_id == case_id, Audit.auditor_id == auditor_id,
        Audit.status == "draft"))
    if draft is not None:
        return get_audit(session, draft, today=today, cfg=cfg)
    return start_audit(session, kind=CROSS_SERVICE, template=cfg.template(CROSS_SERVICE), case_id=case.id,
                       worker_id=case.worker_id, auditor_id=auditor_id, team_id=case.team_id, audit_date=today,
                       today=today, cfg=cfg)


def _home_services(session: Session, person_id: uuid.UUID) -> set[uuid.UUID]:
    home = services_led_by(session, person_id)
    if not home:
        raise NotAllowed("Your team is not part of a service, so no case is from another service. "
                         "Ask for your team to be put in its service.")
    return home


# --- what the form shows --------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFormContext:
    audit: AuditDTO
    kind_name: str
    subject: str  # "Case CASE-0042 (CP)", "Foster carer or adopter file FC-7" or "Supervision file of Robin Ash (SW1)"
    notes: tuple[str, ...]  # lines beside the grades: the theme, the closure, supervision regularity
    theme: ThemeView | None
    regularity: SupervisionRegularity | None
    findings: tuple[AgencyFindingView, ...]
    good_practice: GoodPracticeItem | None


def form_context(session: Session, audit_id: uuid.UUID, *, today: date, cfg: Config) -> AuditFormContext:
    """The audit and everything the form shows for its kind."""
    audit = get_audit(session, audit_id, today=today, cfg=cfg)
    notes: list[str] = []
    theme = theme_of_audit(session, audit_id)
    if theme is not None:
        notes.append(f"{theme.kind_name}: {theme.name}")
        if theme.description:
            notes.append(theme.description)
        if theme.agencies:
            notes.append("Agencies: " + ", ".join(theme.agencies))
    regularity = None
    if audit.kind == SUPERVISION_FILE and audit.worker is not None:
        regularity = supervision_regularity(session, audit.worker.id, today, cfg)
        notes.append(regularity.summary())
        notes += [f"Gap: {g.start:%-d %b %Y} → {g.end:%-d %b %Y}, {plural(g.days_late, 'day')} late" + (" (still open)" if g.open else "")
                  for g in regularity.gaps]
        if regularity.supervisors:
            notes.append("Supervised by " + ", ".join(regularity.supervisors))
    if audit.kind == "closure" and audit.case_id is not None:
        notes.append(describe_closure(session, audit.case_id))
    notes += [e.summary() for e in escalation_views(session, audit_id)]  # and the answer, once given
    if audit.worker is not None:
        subject_worker = f"{audit.worker.name} ({audit.worker.staff_id})"
    else:
        subject_worker = "no allocated worker"
    subject = (f"Case {audit.case_reference} ({audit.case_category}) · {subject_worker}" if audit.case_id
               else f"Foster carer or adopter file {audit.record_reference}" if audit.record_reference
               else f"Supervision file of {subject_worker}")
    return AuditFormContext(audit, AUDIT_KIND_NAMES[audit.kind], subject, tuple(notes), theme, regularity,
                            tuple(agency_findings(session, audit_id)), good_practice_for(session, "audit", audit_id))
