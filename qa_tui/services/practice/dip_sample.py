"""Monthly dip samples by team managers: an audit of kind "dip_sample" rated Met / Partly met /
Not met per area, shared with the worker as a supervision follow-up, then finalised (no moderation)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from qa_tui.config import Config
from qa_tui.dates import Month, utcnow
from qa_tui.db.models import Audit, AuditGrade, Case, FollowUp, Person, Team
from qa_tui.errors import ChangedElsewhere, NotAllowed, NotFound, ValidationError
from qa_tui.services.practice.followups import raise_follow_up
from qa_tui.services.people.directory import is_active
from qa_tui.services.audits.templates import ensure_template

DIP_KIND = "dip_sample"
DIP_TEMPLATE_KEY = "dip"
DIP_SAMPLER_ROLES = ("TM",)


@dataclass(frozen=True)
class AreaRating:
    key: str
    label: str
    rating: int | None  # index into the scale, 0 = Met
    rating_label: str
    comment: str
    version: int | None  # None: not rated yet


@dataclass(frozen=True)
class DipSampleView:
    id: uuid.UUID
    version: int
    case_reference: str
    worker_id: uuid.UUID | None
    manager_id: uuid.UUID | None
    team_id: uuid.UUID | None
    audit_date: date
    status: str
    scale: tuple[str, ...]
    areas: tuple[AreaRating, ...]
    shared_with_worker_on: date | None
    shared_summary: str


@dataclass(frozen=True)
class DipSampleDueRow:
    manager_id: uuid.UUID
    staff_id: str
    manager_name: str
    team_code: str | None
    month: str  # YYYY-MM
    finalised_this_month: int
    in_progress: int
    done: bool
    last_finalised_on: date | None


def start_dip_sample(session: Session, *, case_id: uuid.UUID, manager_id: uuid.UUID, today: date,
                     cfg: Config) -> DipSampleView:
    """Open a draft dip sample of a case for its allocated worker and team, dated `today`."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"Case {case_id} does not exist.")
    if session.get(Person, manager_id) is None:
        raise NotFound(f"Manager {manager_id} does not exist.")
    if case.worker_id is None:
        raise ValidationError("case", f"case {case.reference} has no allocated worker to share the findings with")
    if case.worker_id == manager_id:
        raise NotAllowed(f"You hold case {case.reference}; another manager must dip sample it.")
    in_progress = session.scalar(select(Audit.id).where(
        Audit.kind == DIP_KIND, Audit.case_id == case_id, Audit.status == "draft"))
    if in_progress is not None:
        raise NotAllowed(f"A dip sample of case {case.reference} is already in progress; open that one.")
    worker = session.get(Person, case.worker_id)
    template = ensure_template(session, cfg.template(DIP_TEMPLATE_KEY))
    audit = Audit(kind=DIP_KIND, template_id=template.id, case_id=case.id, worker_id=case.worker_id,
                  auditor_id=manager_id, team_id=case.team_id or worker.team_id, audit_date=today,
                  status="draft")
    session.add(audit)
    session.flush()
    return dip_sample(session, audit.id)


def dip_sample(session: Session, audit_id: uuid.UUID) -> DipSampleView:
    """A dip sample with every area of its template, rated or not."""
    audit = _load(session, audit_id)
    grades = _area_grades(session, audit)
    scale = tuple(audit.template.scale)
    areas = []
    for domain in audit.template.domains:
        grade = grades.get(domain["key"])
        rating = grade.grade if grade else None
        areas.append(AreaRating(
            key=domain["key"], label=domain["label"], rating=rating,
            rating_label=scale[rating] if rating is not None else "",
            comment=grade.comment if grade else "", version=grade.version if grade else None,
        ))
    shared = _shared_follow_up(session, audit)
    return DipSampleView(
        id=audit.id, version=audit.version, case_reference=audit.case.reference if audit.case else "",
        worker_id=audit.worker_id, manager_id=audit.auditor_id, team_id=audit.team_id,
        audit_date=audit.audit_date, status=audit.status, scale=scale, areas=tuple(areas),
        shared_with_worker_on=shared.raised_on if shared else None,
        shared_summary=shared.summary if shared else "",
    )


def rate_area(session: Session, audit_id: uuid.UUID, area: str, rating: int, comment: str = "",
              expected_version: int | None = None) -> DipSampleView:
    """Rate one area (index into the scale: 0 Met, 1 Partly met, 2 Not met) with a comment.

    `expected_version` is the area's version when the form loaded it (None if it was unrated):
    if someone else has rated it since, ChangedElsewhere is raised."""
    audit = _load_draft(session, audit_id)
    labels = {d["key"]: d["label"] for d in audit.template.domains}
    if area not in labels:
        raise ValidationError("area", f"unknown area {area!r}; expected one of {', '.join(labels)}")
    scale = audit.template.scale
    if isinstance(rating, bool) or not isinstance(rating, int) or not 0 <= rating < len(scale):
        raise ValidationError(f"areas.{area}", f"expected a rating from 0 to {len(scale) - 1} ({' / '.join(scale)})")
    if not isinstance(comment, str):
        raise ValidationError(f"areas.{area}.comment", "expected text")
    grade = _area_grades(session, audit).get(area)
    if expected_version is not None and (grade is None or grade.version != expected_version):
        raise ChangedElsewhere(f"The rating for {labels[area]}")
    if grade is None:
        session.add(AuditGrade(audit_id=audit.id, domain=area, participant_id=None, grade=rating, comment=comment))
    else:
        grade.grade, grade.comment = rating, comment
    try:
        session.flush()
    except StaleDataError:
        raise ChangedElsewhere(f"The rating for {labels[area]}") from None
    return dip_sample(session, audit_id)


def rating_save(audit_id: uuid.UUID, area: str, rating: int, comment: str, *,
                version: Callable[[], int | None]) -> Callable[[Session], DipSampleView]:
    """One area's rating and comment, for a form that saves as the user goes. Saves wait in line
    one behind another, so the area's version to expect is asked for when this one runs (by then,
    the version the previous save returned), not when it was queued."""

    def save(session: Session) -> DipSampleView:
        return rate_area(session, audit_id, area, rating, comment, expected_version=version())

    return save


def restore_comment(session: Session, audit_id: uuid.UUID, area: str, comment: str,
                    rating: int | None = None) -> DipSampleView:
    """Put back a comment a session never stored (kept in the journal of unsaved edits), with the
    rating it was typed under or, without one, the area's stored rating."""
    if rating is None:
        grade = _area_grades(session, _load_draft(session, audit_id)).get(area)
        if grade is None or grade.grade is None:
            raise ValidationError(f"areas.{area}", "the area is not rated yet: rate it in the dip sample, "
                                                   "then the comment can be stored with it")
        rating = grade.grade
    return rate_area(session, audit_id, area, rating, comment)


def close_loop_with_worker(session: Session, audit_id: uuid.UUID, summary: str, today: date) -> DipSampleView:
    """Share the findings with the worker: a follow-up for their next supervision."""
    audit = _load_draft(session, audit_id)
    if audit.worker_id is None:
        raise ValidationError("worker", "this dip sample has no worker to share the findings with")
    shared = _shared_follow_up(session, audit)
    if shared is not None:
        raise NotAllowed(f"The findings were already shared with the worker on {shared.raised_on.isoformat()}.")
    if not summary.strip():
        raise ValidationError("summary", "say what was found and what the worker should take from it")
    raise_follow_up(session, worker_id=audit.worker_id, source_kind=DIP_KIND, source_id=audit.id,
                    summary=summary, today=today, event_on=audit.audit_date)
    session.flush()
    return dip_sample(session, audit_id)


def finalise_dip_sample(session: Session, audit_id: uuid.UUID, today: date) -> DipSampleView:
    """Finalise a draft dip sample: every area rated and the findings shared with the worker.
    Dip samples are not moderated, so this goes straight from draft to finalised."""
    audit = _load_draft(session, audit_id)
    if today < audit.audit_date:
        raise ValidationError("today", f"this dip sample is dated {audit.audit_date.isoformat()}, after today")
    grades = _area_grades(session, audit)
    for domain in audit.template.domains:
        grade = grades.get(domain["key"])
        if grade is None or grade.grade is None:
            raise ValidationError(f"areas.{domain['key']}", f"{domain['label']} is not rated yet")
    if _shared_follow_up(session, audit) is None:
        raise ValidationError("close_loop", "share the findings with the worker before finalising")
    audit.status = "finalised"
    audit.finalised_at = utcnow()
    try:
        session.flush()
    except StaleDataError:
        raise ChangedElsewhere("This dip sample") from None
    return dip_sample(session, audit_id)


def dip_samples_due(session: Session, today: date, *, team_id: uuid.UUID | None = None) -> list[DipSampleDueRow]:
    """For each active team manager: whether they have finalised a dip sample dated this month
    (the local calendar month of `today`), with drafts in progress counted separately."""
    month = Month.of(today)
    stmt = select(Person).where(Person.role.in_(DIP_SAMPLER_ROLES)).order_by(Person.name, Person.staff_id)
    if team_id is not None:
        stmt = stmt.where(Person.team_id == team_id)
    managers = [p for p in session.scalars(stmt) if is_active(p, today)]
    if not managers:
        return []
    finalised = Audit.status == "finalised"
    per_manager = {auditor: (done, drafts, last) for auditor, done, drafts, last in session.execute(
        select(Audit.auditor_id,
               func.count().filter(finalised, Audit.audit_date >= month.first),
               func.count().filter(Audit.status == "draft"),
               func.max(Audit.audit_date).filter(finalised))
        .where(Audit.kind == DIP_KIND, Audit.auditor_id.in_([m.id for m in managers]), Audit.audit_date <= month.last)
        .group_by(Audit.auditor_id))}
    team_codes = dict(session.execute(select(Team.id, Team.code)).all())
    rows = []
    for m in managers:
        done, drafts, last = per_manager.get(m.id, (0, 0, None))
        rows.append(DipSampleDueRow(
            manager_id=m.id, staff_id=m.staff_id, manager_name=m.name, team_code=team_codes.get(m.team_id), month=str(month),
            finalised_this_month=done, in_progress=drafts, done=done > 0, last_finalised_on=last,
        ))
    rows.sort(key=lambda r: (r.done, r.team_code or "", r.manager_name, r.staff_id))
    return rows


def _load(session: Session, audit_id: uuid.UUID) -> Audit:
    audit = session.get(Audit, audit_id)
    if audit is None or audit.kind != DIP_KIND:
        raise NotFound(f"Dip sample {audit_id} does not exist.")
    return audit


def _load_draft(session: Session, audit_id: uuid.UUID) -> Audit:
    audit = _load(session, audit_id)
    if audit.status != "draft":
        raise NotAllowed(f"This dip sample is {audit.status} and can no longer be changed.")
    return audit


def _area_grades(session: Session, audit: Audit) -> dict[str, AuditGrade]:
    """The agreed (participant-less) rating per area."""
    return {g.domain: g for g in session.scalars(select(AuditGrade).where(
        AuditGrade.audit_id == audit.id, AuditGrade.participant_id.is_(None)))}


def _shared_follow_up(session: Session, audit: Audit) -> FollowUp | None:
    return session.scalar(select(FollowUp).where(
        FollowUp.source_kind == DIP_KIND, FollowUp.source_id == audit.id).order_by(FollowUp.raised_on).limit(1))
