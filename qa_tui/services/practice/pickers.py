"""What the observation, supervision, dip-sample and feedback screens list and offer to pick from
(a team's cases, a worker's observations and supervisions, recent feedback), and the supervision
exports."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from qa_tui.dates import financial_year_start
from qa_tui.db import trail
from qa_tui.db.models import Audit, Case, Feedback, Observation, Person, Supervision, Team
from qa_tui.errors import ValidationError
from qa_tui.files import write_export
from qa_tui.services.practice.dip_sample import DIP_KIND, DipSampleDueRow, dip_samples_due
from qa_tui.services.practice.feedback import FeedbackSummary, feedback_summary
from qa_tui.services.practice.observations import KIND_LABELS as OBSERVATION_KIND_LABELS
from qa_tui.services.practice.supervision import (
    SupervisionView,
    agenda_markdown,
    supervision_agenda,
    supervision_record,
    supervision_record_markdown,
)

DIP_CASES_SHOWN = 300
FEEDBACK_SHOWN = 200


@dataclass(frozen=True)
class ObservationChoice:
    id: uuid.UUID
    observed_on: date
    kind: str
    kind_label: str
    observer_name: str | None
    setting: str


@dataclass(frozen=True)
class DipCase:
    case_id: uuid.UUID
    reference: str
    category: str
    worker_id: uuid.UUID | None
    worker_name: str | None
    draft_id: uuid.UUID | None  # a dip sample in progress, by anyone
    draft_on: date | None
    last_finalised_on: date | None


@dataclass(frozen=True)
class DipCaseList:
    """The dip-sampling screen's list: a team's cases, and whether the user's own dip sample for
    this month is done (None when the user is not one of the team's managers)."""

    team_name: str
    cases: tuple[DipCase, ...]
    more: bool  # the list stopped at its limit: more cases than shown
    mine: DipSampleDueRow | None


@dataclass(frozen=True)
class FeedbackLine:
    id: uuid.UUID
    received_on: date
    case_reference: str | None
    worker_name: str | None
    giver: str
    channel: str
    rating: int | None
    said: str
    themes: tuple[str, ...]


@dataclass(frozen=True)
class FeedbackList:
    """The feedback screen's list: the latest feedback, and the financial year's summary."""

    lines: tuple[FeedbackLine, ...]
    summary: FeedbackSummary


# --- observations and supervisions of one worker --------------------------------------------


def observations_of_worker(session: Session, worker_id: uuid.UUID) -> list[ObservationChoice]:
    """Every observation of the worker, newest first."""
    observer = aliased(Person)
    rows = session.execute(
        select(Observation, observer.name).outerjoin(observer, Observation.observer_id == observer.id)
        .where(Observation.worker_id == worker_id)
        .order_by(Observation.observed_on.desc(), Observation.created_at.desc(), Observation.id))
    return [ObservationChoice(o.id, o.observed_on, o.kind, OBSERVATION_KIND_LABELS.get(o.kind, o.kind), name, o.setting)
            for o, name in rows]


def recent_supervisions(session: Session, worker_id: uuid.UUID, today: date, limit: int = 5) -> list[SupervisionView]:
    """The worker's latest supervisions held up to `today`, newest first."""
    rows = session.scalars(
        select(Supervision).where(Supervision.worker_id == worker_id, Supervision.held_on <= today)
        .order_by(Supervision.held_on.desc(), Supervision.created_at.desc(), Supervision.id).limit(limit))
    return [SupervisionView(id=s.id, version=s.version, worker_id=s.worker_id, supervisor_id=s.supervisor_id,
                            held_on=s.held_on, kind=s.kind, notes=s.notes) for s in rows]


# --- cases --------------------------------------------------------------------------------


def dip_sample_cases(session: Session, team_id: uuid.UUID, today: date,
                     limit: int = DIP_CASES_SHOWN) -> list[DipCase]:
    """The team's open, allocated cases on `today` (the ones a dip sample can be made of), by
    reference, at most `limit`; each with any dip sample in progress and the last finalised."""
    worker = aliased(Person)
    rows = session.execute(
        select(Case, worker.name).join(worker, Case.worker_id == worker.id)
        .where(Case.team_id == team_id,
               or_(Case.opened_on.is_(None), Case.opened_on <= today),
               or_(Case.closed_on.is_(None), Case.closed_on > today))
        .order_by(Case.reference).limit(limit)).all()
    return _dip_cases(session, rows)


def dip_sample_case(session: Session, reference: str) -> DipCase:
    """One case by its reference (surrounding spaces ignored), for a dip sample of any team."""
    case_id = case_id_for_reference(session, reference)
    if case_id is None:
        raise ValidationError("case reference", "type the reference of the case to dip sample")
    worker = aliased(Person)
    row = session.execute(select(Case, worker.name).outerjoin(worker, Case.worker_id == worker.id)
                          .where(Case.id == case_id)).one()
    return _dip_cases(session, [row])[0]


def case_id_for_reference(session: Session, reference: str) -> uuid.UUID | None:
    """The case with this reference; None for a blank reference; a ValidationError naming the
    reference when no case has it."""
    reference = reference.strip()
    if not reference:
        return None
    case_id = session.scalar(select(Case.id).where(Case.reference == reference))
    if case_id is None:
        raise ValidationError("case reference", f"no case has the reference {reference!r}")
    return case_id


def dip_case_list(session: Session, team_id: uuid.UUID, today: date, person_id: uuid.UUID | None,
                  limit: int = DIP_CASES_SHOWN) -> DipCaseList:
    """The team's cases to dip sample (see dip_sample_cases), and `person_id`'s dip sample this month."""
    team = session.get(Team, team_id)
    cases = dip_sample_cases(session, team_id, today, limit=limit)
    mine = next((r for r in dip_samples_due(session, today, team_id=team_id) if r.manager_id == person_id), None)
    return DipCaseList(team_name=team.name if team else "", cases=tuple(cases), more=len(cases) >= limit, mine=mine)


def _dip_cases(session: Session, rows: list) -> list[DipCase]:  # noqa: ANN001 - (Case, worker name) rows
    ids = [case.id for case, _ in rows]
    drafts: dict[uuid.UUID, tuple[uuid.UUID, date]] = {}
    finalised: dict[uuid.UUID, date] = {}
    if ids:
        for audit_id, case_id, day, status in session.execute(
                select(Audit.id, Audit.case_id, Audit.audit_date, Audit.status)
                .where(Audit.kind == DIP_KIND, Audit.case_id.in_(ids))
                .order_by(Audit.audit_date, Audit.created_at)):
            if status == "draft":
                drafts[case_id] = (audit_id, day)
            elif status == "finalised":
                finalised[case_id] = day
    return [DipCase(case_id=case.id, reference=case.reference, category=case.category, worker_id=case.worker_id,
                    worker_name=name, draft_id=drafts.get(case.id, (None, None))[0],
                    draft_on=drafts.get(case.id, (None, None))[1], last_finalised_on=finalised.get(case.id))
            for case, name in rows]


# --- feedback -----------------------------------------------------------------------------


def recent_feedback(session: Session, team_id: uuid.UUID | None = None,
                    limit: int = FEEDBACK_SHOWN) -> list[FeedbackLine]:
    """The latest feedback, newest first. With a team: feedback about a worker in the team, or
    about a case of the team when no worker is named (as in feedback_summary)."""
    worker = aliased(Person)
    stmt = (select(Feedback, Case.reference, worker.name)
            .outerjoin(worker, Feedback.worker_id == worker.id)
            .outerjoin(Case, Feedback.case_id == Case.id)
            .order_by(Feedback.received_on.desc(), Feedback.created_at.desc(), Feedback.id).limit(limit))
    if team_id is not None:
        stmt = stmt.where((worker.team_id == team_id) | (worker.id.is_(None) & (Case.team_id == team_id)))
    return [FeedbackLine(id=f.id, received_on=f.received_on, case_reference=reference, worker_name=name,
                         giver=f.giver, channel=f.channel, rating=f.rating, said=f.said,
                         themes=tuple(f.themes or ()))
            for f, reference, name in session.execute(stmt)]


def feedback_list(session: Session, today: date, team_id: uuid.UUID | None = None) -> FeedbackList:
    """The latest feedback (see recent_feedback) and the summary of the financial year to `today`."""
    return FeedbackList(lines=tuple(recent_feedback(session, team_id)),
                        summary=feedback_summary(session, financial_year_start(today), today, team_id))


# --- supervision exports ------------------------------------------------------------------


def export_agenda_markdown(session: Session, worker_id: uuid.UUID, today: date, path: Path | str) -> Path:
    """Write the worker's supervision agenda as Markdown (0600) and record the export."""
    target = _write_markdown(path, agenda_markdown(supervision_agenda(session, worker_id, today)))
    trail.record_event(session, "export", "person", worker_id, detail=f"supervision agenda as Markdown to {target}")
    return target


def export_supervision_markdown(session: Session, supervision_id: uuid.UUID, path: Path | str) -> Path:
    """Write the record of a held supervision as Markdown (0600) and record the export."""
    target = _write_markdown(path, supervision_record_markdown(supervision_record(session, supervision_id)))
    trail.record_event(session, "export", "supervision", supervision_id,
                       detail=f"supervision record as Markdown to {target}")
    return target


def _write_markdown(path: Path | str, text: str) -> Path:
    target = Path(path).expanduser()
    if target.is_dir():
        raise ValidationError("path", f"{target} is a folder; give a file name ending .md")
    try:
        return write_export(target, text)
    except OSError as exc:
        raise ValidationError("path", f"cannot write {target}: {exc.strerror or exc}") from None
