"""Retention: the QA records of cases closed more than the configured number of years ago are
purged in one transaction; the purge (cutoff, counts, who) is kept in the audit trail, and the
trail's copies of the purged values are redacted (who, when and what stay)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sqlalchemy import ColumnElement, delete, null, or_, select, update
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from qa_tui.dates import add_months
from qa_tui.db import trail
from qa_tui.db.base import Base
from qa_tui.db.models import (
    Action,
    ActionChange,
    Audit,
    AuditEvent,
    AuditGrade,
    AuditParticipant,
    Case,
    Draft,
    Feedback,
    FollowUp,
    Moderation,
    RecordSeen,
    SyncConflict,
    WorkerResponse,
)
from qa_tui.errors import NotAllowed

CHUNK = 500  # IDs per statement, well inside both databases' bind limits
INSUFFICIENT_PRIVILEGE = "42501"
T = TypeVar("T")


@dataclass(frozen=True)
class PurgeReport:
    years: int  # 0: retention is off and nothing is purged
    cutoff: date | None  # QA records of cases closed before this day are purged
    cases: int  # closed cases whose QA records were purged (the case rows themselves stay)
    deleted: dict[str, int]  # table → rows purged (or that would be, on a dry run)
    redacted_events: int  # audit-trail events whose old and new values were emptied
    dry_run: bool

    @property
    def total(self) -> int:
        return sum(self.deleted.values())

    @property
    def summary(self) -> str:
        if self.cutoff is None:
            return "Retention is off ([retention] years_after_closure = 0): nothing purged."
        verb = "would purge" if self.dry_run else "purged"
        parts = ", ".join(f"{n} {table}" for table, n in self.deleted.items() if n) or "nothing"
        return (f"Cases closed before {self.cutoff.isoformat()} ({self.years} years): {verb} the QA records of "
                f"{self.cases} cases: {parts}.")


def retention_cutoff(today: date, years: int) -> date | None:
    """Cases closed before this day are past retention; None when retention is off (0 years)."""
    if years < 0:
        raise ValueError(f"years must be 0 or more, got {years}")
    return add_months(today, -12 * years) if years else None


def purge_closed_cases(session: Session, *, years: int, today: date, dry_run: bool = False) -> PurgeReport:
    """Delete the QA records (audits and dip samples with their grades, participants and
    moderations; actions and their history; feedback; follow-ups raised from them; meeting drafts
    and sync conflicts about them) of cases closed more than `years` years before `today`.

    Rows go with bulk deletes, not one trail event each, so their content is not copied into the
    trail again; the events that already hold it are redacted; one `purge` event records the
    cutoff, the counts and who ran it. On PostgreSQL the redaction needs the database owner: the
    application role may not change audit events, and the whole purge is then refused."""
    cutoff = retention_cutoff(today, years)
    if cutoff is None:
        return PurgeReport(years, None, 0, {}, 0, dry_run)
    cases = session.scalars(select(Case.id).where(Case.closed_on.is_not(None), Case.closed_on < cutoff)).all()
    doomed = _doomed_ids(session, cases)
    drafts = _drafts_about(session, doomed[Audit])
    conflicts = _conflicts_about(session, doomed)
    deleted = {model.__tablename__: len(ids) for model, ids in doomed.items()}
    deleted |= {Draft.__tablename__: len(drafts), SyncConflict.__tablename__: len(conflicts)}
    if dry_run:
        return PurgeReport(years, cutoff, len(cases), deleted, _events_about(session, doomed), True)

    trail.leave_untrailed(session)  # one purge event, not the deleted values copied again
    for model, ids in doomed.items():
        for chunk in _chunks(ids):
            session.execute(delete(model).where(model.id.in_(chunk))  # type: ignore[attr-defined]
                            .execution_options(synchronize_session=False))
    for chunk in _chunks(drafts):
        session.execute(delete(Draft).where(Draft.key.in_(chunk)))
    for chunk in _chunks(conflicts):
        session.execute(delete(SyncConflict).where(SyncConflict.id.in_(chunk)))
    redacted = _redact_events(session, doomed)
    report = PurgeReport(years, cutoff, len(cases), deleted, redacted, False)
    trail.record_event(session, "purge", "retention", None, detail=report.summary, new={
        "years": years, "cutoff": cutoff.isoformat(), "cases": len(cases), "deleted": deleted,
        "redacted_events": redacted})
    session.flush()
    return report


def _doomed_ids(session: Session, cases: Sequence[uuid.UUID]) -> dict[type[Base], list[uuid.UUID]]:
    """IDs to delete per model, children before parents (the order they are deleted in)."""
    audits = _ids(session, Audit, lambda chunk: Audit.case_id.in_(chunk), cases)
    feedback = _ids(session, Feedback, lambda chunk: Feedback.case_id.in_(chunk), cases)
    actions = sorted(set(_ids(session, Action, lambda chunk: Action.case_id.in_(chunk), cases))
                     | set(_ids(session, Action, lambda chunk: Action.audit_id.in_(chunk), audits)))
    return {
        ActionChange: _ids(session, ActionChange, lambda chunk: ActionChange.action_id.in_(chunk), actions),
        Action: actions,
        Moderation: _ids(session, Moderation, lambda chunk: Moderation.audit_id.in_(chunk), audits),
        AuditGrade: _ids(session, AuditGrade, lambda chunk: AuditGrade.audit_id.in_(chunk), audits),
        AuditParticipant: _ids(session, AuditParticipant, lambda chunk: AuditParticipant.audit_id.in_(chunk), audits),
        FollowUp: _ids(session, FollowUp, lambda chunk: FollowUp.source_id.in_(chunk), [*audits, *feedback]),
        WorkerResponse: _ids(session, WorkerResponse, lambda chunk: WorkerResponse.source_id.in_(chunk), audits),
        RecordSeen: _ids(session, RecordSeen, lambda chunk: RecordSeen.source_id.in_(chunk), [*audits, *feedback]),
        Audit: audits,
        Feedback: feedback,
    }


def _ids(session: Session, model: type[Base], where: Callable[[Sequence[uuid.UUID]], ColumnElement[bool]],
         parents: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """IDs of `model` rows matching `where(chunk)` for some chunk of `parents`."""
    found: set[uuid.UUID] = set()
    for chunk in _chunks(parents):
        found.update(session.scalars(select(model.id).where(where(chunk))))  # type: ignore[attr-defined]
    return sorted(found)


def _drafts_about(session: Session, audits: Sequence[uuid.UUID]) -> list[str]:
    """Meeting drafts (typed text kept for a resume) that belong to a purged audit."""
    wanted = {str(a) for a in audits}
    return [key for key, payload in session.execute(select(Draft.key, Draft.payload))
            if isinstance(payload, dict) and str(payload.get("audit_id")) in wanted]


def _conflicts_about(session: Session, doomed: dict[type[Base], list[uuid.UUID]]) -> list[uuid.UUID]:
    """Sync conflicts holding a laptop's copy of a purged record."""
    found: list[uuid.UUID] = []
    for model, ids in doomed.items():
        found += _ids(session, SyncConflict, lambda chunk, table=model.__tablename__: (
            (SyncConflict.table_name == table) & SyncConflict.record_id.in_(chunk)), ids)
    return found


def _events_about(session: Session, doomed: dict[type[Base], list[uuid.UUID]]) -> int:
    count = 0
    for model, ids in doomed.items():
        for chunk in _chunks(ids):
            count += len(session.scalars(select(AuditEvent.id).where(_event_match(model, chunk))).all())
    return count


def _event_match(model: type[Base], chunk: Sequence[uuid.UUID]) -> ColumnElement[bool]:
    """Events about these rows that still hold values."""
    return ((AuditEvent.table_name == model.__tablename__)
            & AuditEvent.record_id.in_([str(i) for i in chunk])
            & or_(AuditEvent.old.is_not(None), AuditEvent.new.is_not(None)))


def _redact_events(session: Session, doomed: dict[type[Base], list[uuid.UUID]]) -> int:
    redacted = 0
    try:
        for model, ids in doomed.items():
            for chunk in _chunks(ids):
                result = session.execute(update(AuditEvent).where(_event_match(model, chunk))
                                         .values(old=null(), new=null()).execution_options(synchronize_session=False))
                redacted += result.rowcount
    except ProgrammingError as exc:
        if getattr(exc.orig, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
            raise
        raise NotAllowed("The retention purge redacts the audit trail, which the application role may not change; "
                         "run `qa-tui retention purge` as the database owner. Nothing was purged.") from None
    return redacted


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]
