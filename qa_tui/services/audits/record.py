"""The audit record: starting an audit, saving it field by field, sending it for moderation, and
the deadline flags."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from qa_tui.config import AUDIT_KINDS, Config, Domain, Template
from qa_tui.dates import LONDON, moderation_deadline_after, weeks_after
from qa_tui.db.base import utcnow
from qa_tui.db.models import (
    Audit,
    AuditGrade,
    AuditParticipant,
    AuditTemplate,
    Case,
    DrawPick,
    FollowUp,
    Moderation,
    Person,
)
from qa_tui.errors import ChangedElsewhere, NotAllowed, NotFound, ValidationError
from qa_tui.services.audits.actions import ActionRow, actions_for_audit
from qa_tui.services.audits.escalations import check_escalated, check_owner_before_saving
from qa_tui.services.practice.followups import raise_follow_up
from qa_tui.services.audits.templates import ensure_template
from qa_tui.services.people.permissions import DRAW, require, require_self

TEXT_FIELDS = {
    "strengths": "Strengths",
    "to_improve": "To improve",
    "lived_experience": "Lived experience of the child",
}
STATUS_LABELS = {
    "draft": "Draft",
    "submitted": "Sent for moderation",
    "moderated": "Moderated",
    "finalised": "Finalised",
}
NO_GRADE = "—"
SUPERVISION_FILE_KIND = "supervision_file"
# A foster carer's or adopter's file is of no child's case (the worker, when given, supervises the carer).
KINDS_WITHOUT_CASE = ("carer_file",)


@dataclass(frozen=True)
class PersonName:
    id: uuid.UUID
    name: str
    staff_id: str


@dataclass(frozen=True)
class TemplateInfo:
    key: str
    name: str
    version: int
    scale: tuple[str, ...]
    domains: tuple[Domain, ...]

    def grade_label(self, grade: int | None) -> str:
        return NO_GRADE if grade is None else self.scale[grade]


@dataclass(frozen=True)
class ParticipantGrade:
    participant: PersonName
    grade: int | None
    comment: str


@dataclass(frozen=True)
class DomainGrades:
    domain: str
    label: str
    agreed: int | None  # index into the scale, 0 = best; None until graded
    comment: str
    by_participant: tuple[ParticipantGrade, ...]
    moderated: int | None  # from the latest agreed or regraded moderation; None until then


@dataclass(frozen=True)
class ModeratedGrade:
    domain: str
    grade: int | None
    comment: str


@dataclass(frozen=True)
class ModerationRecord:
    id: uuid.UUID
    moderator: PersonName
    outcome: str  # agreed / regraded / returned
    overall_grade: int | None
    comment: str
    moderated_on: date
    grades: tuple[ModeratedGrade, ...]


@dataclass(frozen=True)
class AuditDTO:
    id: uuid.UUID
    version: int  # pass back as expected_version when saving a field
    kind: str
    status: str
    case_id: uuid.UUID | None
    case_reference: str
    case_category: str
    worker: PersonName | None
    auditor: PersonName | None
    participants: tuple[PersonName, ...]
    team_id: uuid.UUID | None
    draw_pick_id: uuid.UUID | None
    template: TemplateInfo
    grades: tuple[DomainGrades, ...]
    overall_grade: int | None
    strengths: str
    to_improve: str
    lived_experience: str
    audit_date: date
    submitted_at: datetime | None
    moderated_at: datetime | None
    finalised_at: datetime | None
    moderation_deadline: date
    finalise_by: date
    past_moderation_deadline: bool  # not sent by the deadline (late, or still unsent after it)
    not_finalised_in_time: bool
    actions: tuple[ActionRow, ...]
    moderations: tuple[ModerationRecord, ...]  # oldest first
    record_reference: str = ""  # a record that is not a child's case (a carer's file): its reference

    @property
    def subject(self) -> str:
        """What was audited, for a title: the case reference, the carer file's reference, or ""."""
        return self.case_reference or (f"carer file {self.record_reference}" if self.record_reference else "")

    @property
    def moderated_overall(self) -> int | None:
        settled = [m for m in self.moderations if m.outcome != "returned"]
        return settled[-1].overall_grade if settled else None


@dataclass(frozen=True)
class AuditState:
    """What a save or a step in the lifecycle left behind."""

    id: uuid.UUID
    status: str
    version: int


@dataclass(frozen=True)
class Finding:
    id: uuid.UUID
    worker_id: uuid.UUID
    summary: str
    raised_on: date


class AuditDates(Protocol):
    """What the deadline flags read: an `Audit` row and an `AuditDTO` both fit."""

    audit_date: date
    submitted_at: datetime | None
    finalised_at: datetime | None


# --- starting and saving --------------------------------------------------------------------


def start_audit(session: Session, *, kind: str, template: Template, case_id: uuid.UUID | None,
                worker_id: uuid.UUID | None, auditor_id: uuid.UUID, team_id: uuid.UUID | None, audit_date: date,
                draw_pick_id: uuid.UUID | None = None, participants: Sequence[uuid.UUID] = (),
                record_reference: str | None = None, today: date, cfg: Config) -> AuditDTO:
    """A new draft audit with the auditor and `participants` taking part. For a drawn pick that
    already has an audit, that audit is returned to be resumed instead. A supervision-file audit
    is of a worker and has no case; a carer file audit may have no case; every other kind is of a
    case (whose worker may be None)."""
    if kind not in AUDIT_KINDS:
        raise ValidationError("kind", f"expected one of {', '.join(AUDIT_KINDS)}, got {kind!r}")
    if kind == SUPERVISION_FILE_KIND:
        if case_id is not None or worker_id is None:
            raise ValidationError("worker", "a supervision-file audit is of one worker's file, not of a case")
    elif case_id is None and kind not in KINDS_WITHOUT_CASE:
        raise ValidationError("case", f"a {kind} audit needs a case")
    if draw_pick_id is not None:
        existing = _audit_for_pick(session, draw_pick_id)
        if existing is not None:
            return get_audit(session, existing, today=today, cfg=cfg)
        pick = session.get(DrawPick, draw_pick_id)
        if pick is None:
            raise NotFound(f"Draw pick {draw_pick_id} does not exist.")
        if pick.case_id is not None and pick.case_id != case_id:
            raise ValidationError("case", f"the drawn case is {pick.case_reference}, not the case given")
        if pick.worker_id != worker_id:
            raise ValidationError("worker", "the drawn pick belongs to another worker")
    if case_id is not None and session.get(Case, case_id) is None:
        raise NotFound(f"Case {case_id} does not exist.")
    require_self(session, auditor_id, "lead an audit")
    if kind == "live":
        require(session, DRAW, cfg, team_id=team_id)
    for person_id, field in ((worker_id, "worker"), (auditor_id, "auditor"),
                             *((p, "participant") for p in participants)):
        if person_id is not None and session.get(Person, person_id) is None:
            raise ValidationError(field, f"no person with id {person_id}")
    stored = ensure_template(session, template)
    try:
        with session.begin_nested():
            audit = Audit(kind=kind, template_id=stored.id, case_id=case_id, worker_id=worker_id,
                          auditor_id=auditor_id, team_id=team_id, audit_date=audit_date, status="draft",
                          draw_pick_id=draw_pick_id, record_reference=record_reference)
            session.add(audit)
            session.flush()
            for person_id in dict.fromkeys([auditor_id, *participants]):
                session.add(AuditParticipant(audit_id=audit.id, person_id=person_id))
            session.flush()
    except IntegrityError:
        # Someone else started this pick between our look and our insert: resume theirs.
        existing = _audit_for_pick(session, draw_pick_id) if draw_pick_id is not None else None
        if existing is None:
            raise
        return get_audit(session, existing, today=today, cfg=cfg)
    return get_audit(session, audit.id, today=today, cfg=cfg)


def set_grade(session: Session, audit_id: uuid.UUID, domain: str, grade: int | None, *,
              participant_id: uuid.UUID | None = None, comment: str | None = None,
              expected_version: int | None = None) -> AuditState:
    """Save one domain's grade: the agreed grade (no participant) or a participant's own.
    A participant not yet listed is added, since giving a grade is taking part."""
    audit = _editable(session, audit_id, expected_version)
    label = domain_label(audit.template, domain)
    check_grade(audit.template, grade, f"grade for {label}")
    if participant_id is not None:
        _ensure_participant(session, audit, participant_id)
    else:
        check_owner_before_saving(session, audit, grade, f"grade for {label}")
    participant_match = (AuditGrade.participant_id.is_(None) if participant_id is None
                         else AuditGrade.participant_id == participant_id)
    row = session.scalar(select(AuditGrade).where(
        AuditGrade.audit_id == audit.id, AuditGrade.domain == domain, participant_match))
    if row is None:
        row = AuditGrade(audit_id=audit.id, domain=domain, participant_id=participant_id, comment="")
        session.add(row)
    row.grade = grade
    if comment is not None:
        row.comment = comment
    return save_audit(session, audit, row)


def set_text(session: Session, audit_id: uuid.UUID, field: str, value: str,
             expected_version: int | None = None) -> AuditState:
    """Save one of the audit's free-text fields (strengths, to_improve, lived_experience)."""
    if field not in TEXT_FIELDS:
        raise ValidationError("field", f"expected one of {', '.join(TEXT_FIELDS)}, got {field!r}")
    audit = _editable(session, audit_id, expected_version)
    setattr(audit, field, value)
    return save_audit(session, audit)


def set_overall_grade(session: Session, audit_id: uuid.UUID, grade: int | None, *,
                      expected_version: int | None = None) -> AuditState:
    audit = _editable(session, audit_id, expected_version)
    check_grade(audit.template, grade, "overall grade")
    check_owner_before_saving(session, audit, grade, "overall grade")
    audit.overall_grade = grade
    return save_audit(session, audit)


def add_participant(session: Session, audit_id: uuid.UUID, person_id: uuid.UUID, *,
                    expected_version: int | None = None) -> AuditState:
    audit = _editable(session, audit_id, expected_version)
    row = _ensure_participant(session, audit, person_id)
    return save_audit(session, audit, row)


def mark_finding_for_supervision(session: Session, audit_id: uuid.UUID, summary: str, today: date, *,
                                 record_id: uuid.UUID | None = None) -> Finding:
    """Put a finding on the audited worker's next supervision agenda. `record_id` (a form's
    draft) is the id it takes: put there once, the same draft again returns it."""
    audit = load_audit(session, audit_id)
    if audit.worker_id is None:
        raise NotAllowed("This audit has no worker to take the finding to supervision.")
    item = session.get(FollowUp, record_id) if record_id is not None else None
    if item is None:
        item = raise_follow_up(session, worker_id=audit.worker_id,
                               source_kind="dip_sample" if audit.kind == "dip_sample" else "audit",
                               source_id=audit.id, summary=summary, today=today, event_on=audit.audit_date,
                               record_id=record_id)
    session.flush()
    return Finding(item.id, item.worker_id, item.summary, item.raised_on)


def submit_for_moderation(session: Session, audit_id: uuid.UUID, today: date, *,
                          expected_version: int | None = None) -> AuditState:
    """Send a complete draft for moderation: every domain and the overall grade must be agreed,
    and an Inadequate finding escalated to a named owner (escalations.check_escalated)."""
    audit = _editable(session, audit_id, expected_version)
    agreed = dict(session.execute(select(AuditGrade.domain, AuditGrade.grade).where(
        AuditGrade.audit_id == audit.id, AuditGrade.participant_id.is_(None))).all())
    for d in audit.template.domains:
        if agreed.get(d["key"]) is None:
            raise ValidationError(f"grade for {d['label']}",
                                  "no agreed grade yet; grade every domain before sending for moderation")
    if audit.overall_grade is None:
        raise ValidationError("overall grade", "no overall grade yet; agree one before sending for moderation")
    check_escalated(session, audit)
    audit.status = "submitted"
    audit.submitted_at = stamp_on(today)
    return save_audit(session, audit)


# --- reading --------------------------------------------------------------------------------


def get_audit(session: Session, audit_id: uuid.UUID, *, today: date, cfg: Config) -> AuditDTO:
    """Everything about one audit, with its deadline flags as of `today`."""
    audit = load_audit(session, audit_id)
    people = _people(session, audit)
    template = _template_info(audit.template)
    grades = session.scalars(select(AuditGrade).where(AuditGrade.audit_id == audit.id)).all()
    moderations = _moderations(session, audit.id, people)
    settled = [m for m in moderations if m.outcome != "returned"]
    moderated = {g.domain: g.grade for g in settled[-1].grades} if settled else {}
    domain_grades = []
    for d in template.domains:
        agreed = next((g for g in grades if g.domain == d.key and g.participant_id is None), None)
        own = sorted((g for g in grades if g.domain == d.key and g.participant_id is not None),
                     key=lambda g: people[g.participant_id].name)
        domain_grades.append(DomainGrades(
            d.key, d.label, agreed.grade if agreed else None, agreed.comment if agreed else "",
            tuple(ParticipantGrade(people[g.participant_id], g.grade, g.comment) for g in own),
            moderated.get(d.key)))
    participant_ids = session.scalars(select(AuditParticipant.person_id).where(
        AuditParticipant.audit_id == audit.id)).all()
    case = audit.case
    return AuditDTO(
        id=audit.id, version=audit.version, kind=audit.kind, status=audit.status,
        case_id=audit.case_id, case_reference=case.reference if case else "",
        case_category=case.category if case else "",
        worker=people.get(audit.worker_id), auditor=people.get(audit.auditor_id),
        participants=tuple(sorted((people[p] for p in participant_ids), key=lambda p: p.name)),
        team_id=audit.team_id, draw_pick_id=audit.draw_pick_id, template=template,
        grades=tuple(domain_grades), overall_grade=audit.overall_grade, strengths=audit.strengths,
        to_improve=audit.to_improve, lived_experience=audit.lived_experience, audit_date=audit.audit_date,
        submitted_at=audit.submitted_at, moderated_at=audit.moderated_at, finalised_at=audit.finalised_at,
        moderation_deadline=moderation_deadline_for(audit.audit_date, cfg),
        finalise_by=finalise_by(audit.audit_date, cfg),
        past_moderation_deadline=is_past_moderation_deadline(audit, today, cfg),
        not_finalised_in_time=is_not_finalised_in_time(audit, today, cfg),
        actions=tuple(actions_for_audit(session, [audit.id], today).get(audit.id, [])),
        moderations=tuple(moderations), record_reference=audit.record_reference or "",
    )


# --- deadlines ------------------------------------------------------------------------------


def moderation_deadline_for(audit_date: date, cfg: Config) -> date:
    """The moderation deadline of an audit held on `audit_date` (`qa_tui.dates.moderation_deadline_after`)."""
    return moderation_deadline_after(audit_date, cfg.deadlines.moderation_day)


def finalise_by(audit_date: date, cfg: Config) -> date:
    return weeks_after(audit_date, cfg.deadlines.finalise_within_weeks)


def is_past_moderation_deadline(audit: AuditDates, today: date, cfg: Config) -> bool:
    """Sent for moderation after the deadline, or not sent and the deadline has passed."""
    sent = local_date(audit.submitted_at)
    return (sent or today) > moderation_deadline_for(audit.audit_date, cfg)


def is_not_finalised_in_time(audit: AuditDates, today: date, cfg: Config) -> bool:
    """Finalised after `finalise_within_weeks`, or not finalised and that time has passed."""
    done = local_date(audit.finalised_at)
    return (done or today) > finalise_by(audit.audit_date, cfg)


def local_date(moment: datetime | None) -> date | None:
    return moment.astimezone(LONDON).date() if moment is not None else None


def stamp_on(today: date) -> datetime:
    """A UTC timestamp whose UK date is `today` (the time of day is the clock's): lifecycle
    timestamps follow the injected date, so every date rule sees the day the caller meant."""
    now = datetime.now(LONDON)
    return datetime.combine(today, now.time(), tzinfo=LONDON).astimezone(timezone.utc)


# --- helpers shared with moderation ---------------------------------------------------------


def load_audit(session: Session, audit_id: uuid.UUID) -> Audit:
    """The audit row, or NotFound."""
    audit = session.get(Audit, audit_id)
    if audit is None:
        raise NotFound(f"Audit {audit_id} does not exist.")
    return audit


def case_label(audit: Audit) -> str:
    if audit.case:
        return f"case {audit.case.reference}"
    return f"the supervision file of {audit.worker.name}" if audit.worker else "this case"


def domain_label(template: AuditTemplate, domain: str) -> str:
    """The label of one of the template's domains; ValidationError naming the domain if unknown."""
    for d in template.domains:
        if d["key"] == domain:
            return d["label"]
    keys = ", ".join(d["key"] for d in template.domains)
    raise ValidationError("domain", f"{domain!r} is not a domain of {template.name} version "
                          f"{template.template_version}; expected one of {keys}")


def _audit_for_pick(session: Session, draw_pick_id: uuid.UUID) -> uuid.UUID | None:
    return session.scalar(select(Audit.id).where(Audit.draw_pick_id == draw_pick_id))


def _editable(session: Session, audit_id: uuid.UUID, expected_version: int | None) -> Audit:
    audit = load_audit(session, audit_id)
    if expected_version is not None and audit.version != expected_version:
        raise ChangedElsewhere(f"The audit of {case_label(audit)}")
    if audit.status != "draft":
        raise NotAllowed(f"The audit of {case_label(audit)} is {STATUS_LABELS[audit.status].lower()}; "
                         "only a draft can be changed.")
    return audit


def save_audit(session: Session, audit: Audit, *changed_rows: object) -> AuditState:
    """Flush the edit and bump the audit's version, so one version covers the whole record
    (grades and participants included). Nothing changed: nothing written, version kept."""
    if not session.is_modified(audit) and not any(
            r in session.new or session.is_modified(r) for r in changed_rows):
        return AuditState(audit.id, audit.status, audit.version)
    with session.no_autoflush:  # read now: after a failed flush nothing can load
        what = f"The audit of {case_label(audit)}"
    audit.updated_at = utcnow()
    try:
        session.flush()
    except StaleDataError:
        raise ChangedElsewhere(what) from None
    return AuditState(audit.id, audit.status, audit.version)


def check_grade(template: AuditTemplate, grade: int | None, field: str) -> None:
    if grade is None:
        return
    if isinstance(grade, bool) or not isinstance(grade, int) or not 0 <= grade < len(template.scale):
        raise ValidationError(field, f"expected a grade from 0 ({template.scale[0]}) to "
                              f"{len(template.scale) - 1} ({template.scale[-1]}), got {grade!r}")


def _ensure_participant(session: Session, audit: Audit, person_id: uuid.UUID) -> AuditParticipant:
    row = session.scalar(select(AuditParticipant).where(
        AuditParticipant.audit_id == audit.id, AuditParticipant.person_id == person_id))
    if row is None:
        if session.get(Person, person_id) is None:
            raise ValidationError("participant", f"no person with id {person_id}")
        row = AuditParticipant(audit_id=audit.id, person_id=person_id)
        session.add(row)
    return row


def _template_info(t: AuditTemplate) -> TemplateInfo:
    return TemplateInfo(t.key, t.name, t.template_version, tuple(t.scale),
                        tuple(Domain(d["key"], d["label"]) for d in t.domains))


def _people(session: Session, audit: Audit) -> dict[uuid.UUID, PersonName]:
    """Everyone the audit mentions: worker, auditor, participants, graders and moderators."""
    ids = {audit.worker_id, audit.auditor_id}
    ids.update(session.scalars(select(AuditParticipant.person_id).where(AuditParticipant.audit_id == audit.id)))
    ids.update(session.scalars(select(AuditGrade.participant_id).where(AuditGrade.audit_id == audit.id)))
    ids.update(session.scalars(select(Moderation.moderator_id).where(Moderation.audit_id == audit.id)))
    ids.discard(None)
    rows = session.execute(select(Person.id, Person.name, Person.staff_id).where(Person.id.in_(ids)))
    return {i: PersonName(i, name, staff_id) for i, name, staff_id in rows}


def _moderations(session: Session, audit_id: uuid.UUID, people: dict[uuid.UUID, PersonName]) -> list[ModerationRecord]:
    rows = session.scalars(select(Moderation).where(Moderation.audit_id == audit_id)
                           .order_by(Moderation.moderated_on, Moderation.created_at, Moderation.id)).all()
    return [ModerationRecord(
        m.id, people[m.moderator_id], m.outcome, m.overall_grade, m.comment, m.moderated_on,
        tuple(ModeratedGrade(domain, g.get("grade"), g.get("comment", "")) for domain, g in m.grades.items()))
        for m in rows]
