"""Audits on closure or transfer: the cases that closed or moved team in a period (found in the
case data and the audit trail, so imports and edits by hand both count), the service leader's list
to audit, and starting the closure audit with the framework's checks."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from qa_tui.config import Config
from qa_tui.dates import add_months, start_of_day
from qa_tui.db.models import Audit, AuditEvent, Case, Person, Team
from qa_tui.errors import NotAllowed, NotFound, ValidationError
from qa_tui.services.audits.record import AuditDTO, get_audit, local_date, start_audit
from qa_tui.services.people.directory import services_led_by

CLOSURE_KIND = "closure"
EVENTS = {"closed": "Closed", "transferred": "Moved team"}
DEFAULT_WITHIN_DAYS = 28
WINDOW_MONTHS = 12  # how far back the queue looks for closures and moves


@dataclass(frozen=True)
class QueueItem:
    """A case to audit because it closed or moved team."""

    case_id: uuid.UUID
    reference: str
    category: str
    event: str  # closed / transferred
    event_on: date
    team_id: uuid.UUID | None  # the team whose work is audited: where it closed, or the team it left
    team_code: str
    to_team_code: str  # transfers: the team it moved to
    service_id: uuid.UUID | None
    worker_id: uuid.UUID | None
    worker_name: str
    due_by: date
    audit_id: uuid.UUID | None  # the closure audit covering this event, if started
    audit_status: str
    auditor_name: str
    overdue: bool  # not started and past its due date

    @property
    def audit_label(self) -> str:
        """The audit's status once started; until then whether it is due or overdue."""
        return self.audit_status or ("overdue" if self.overdue else "due")

    @property
    def event_label(self) -> str:
        if self.event == "transferred":
            return f"Moved {self.team_code or '?'} → {self.to_team_code or '?'}"
        return EVENTS[self.event]


def within_days(cfg: Config) -> int:
    """Days allowed for a closure audit: the programme's audit_on_closure task, or 28."""
    return next((t.within_days for t in cfg.programme if t.task == "audit_on_closure"), DEFAULT_WITHIN_DAYS)


@dataclass
class CaseEvent:
    kind: str
    on: date
    team_id: uuid.UUID | None
    to_team_id: uuid.UUID | None = None


def case_events(session: Session, since: date, today: date) -> dict[tuple[uuid.UUID, str], CaseEvent]:
    """The latest closure and the latest move of team per case in the period. Closures: cases
    whose closed_on falls in the period, and cases closed in the period with an earlier date (an
    import that learnt of it late). Moves: trail updates changing one team to another."""
    found: dict[tuple[uuid.UUID, str], CaseEvent] = {}
    closed = session.execute(select(Case.id, Case.closed_on, Case.team_id).where(
        Case.closed_on >= since, Case.closed_on <= today))
    for case_id, closed_on, team_id in closed:
        found[(case_id, "closed")] = CaseEvent("closed", closed_on, team_id)
    changes = session.execute(
        select(AuditEvent.record_id, AuditEvent.at, AuditEvent.old, AuditEvent.new)
        .where(AuditEvent.table_name == Case.__tablename__, AuditEvent.action == "update",
               AuditEvent.at >= start_of_day(since), AuditEvent.at < start_of_day(today + timedelta(days=1)),
               or_(AuditEvent.new["closed_on"].as_string().is_not(None),
                   AuditEvent.new["team_id"].as_string().is_not(None)))
        .order_by(AuditEvent.at))
    moved: dict[uuid.UUID, CaseEvent] = {}
    reclosed: set[uuid.UUID] = set()
    for record_id, at, old, new in changes:
        case_id = uuid.UUID(record_id)
        old, new = old or {}, new or {}
        if new.get("closed_on") and not old.get("closed_on"):
            reclosed.add(case_id)
        if old.get("team_id") and new.get("team_id") and old["team_id"] != new["team_id"]:
            moved[case_id] = CaseEvent("transferred", local_date(at) or today, uuid.UUID(old["team_id"]),
                                    uuid.UUID(new["team_id"]))
    missing = reclosed - {case_id for case_id, _ in found}
    if missing:
        for case_id, closed_on, team_id in session.execute(select(Case.id, Case.closed_on, Case.team_id).where(
                Case.id.in_(missing), Case.closed_on.is_not(None))):
            found[(case_id, "closed")] = CaseEvent("closed", closed_on, team_id)
    for case_id, event in moved.items():
        found[(case_id, "transferred")] = event
    return found


def closure_transfer_queue(session: Session, today: date, since: date, *, cfg: Config,
                           leader_id: uuid.UUID | None = None) -> list[QueueItem]:
    """Cases that closed or moved team from `since` to `today`, each due a closure audit within
    the programme's days. With `leader_id`, only those of the services that person leads. Not yet
    audited first, soonest due first."""
    if since > today:
        raise ValidationError("since", f"{since.isoformat()} is after {today.isoformat()}")
    events = case_events(session, since, today)
    if not events:
        return []
    days = within_days(cfg)
    case_ids = {case_id for case_id, _ in events}
    worker = aliased(Person)
    cases = {c.id: (c, name) for c, name in session.execute(
        select(Case, worker.name).outerjoin(worker, worker.id == Case.worker_id).where(Case.id.in_(case_ids)))}
    teams = {t_id: (code, service) for t_id, code, service in session.execute(select(Team.id, Team.code, Team.service_id))}
    audits = _closure_audits(session, case_ids)
    allowed = services_led_by(session, leader_id) if leader_id is not None else None
    items = []
    for (case_id, _), event in events.items():
        case, worker_name = cases[case_id]
        code, service = teams.get(event.team_id, ("", None)) if event.team_id else ("", None)
        if allowed is not None and service not in allowed:
            continue
        covering = [a for a in audits.get(case_id, []) if a[2] >= event.on - timedelta(days=days)]
        audit_id, status, _, auditor = covering[-1] if covering else (None, "", None, "")
        due_by = event.on + timedelta(days=days)
        items.append(QueueItem(
            case_id, case.reference, case.category, event.kind, event.on, event.team_id, code,
            teams.get(event.to_team_id, ("", None))[0] if event.to_team_id else "", service,
            case.worker_id, worker_name or "", due_by, audit_id, status, auditor, not status and due_by < today))
    items.sort(key=lambda i: (i.audit_status not in ("", "draft"), i.due_by, i.reference, i.event))
    return items


def closure_queue(session: Session, today: date, *, cfg: Config, leader_id: uuid.UUID | None = None,
                  months: int = WINDOW_MONTHS) -> list[QueueItem]:
    """The queue over the last `months` up to `today` (the day `months` ago not included)."""
    return closure_transfer_queue(session, today, window_start(today, months), cfg=cfg, leader_id=leader_id)


def window_start(today: date, months: int = WINDOW_MONTHS) -> date:
    """The first day of the `months` looked back over, ending on `today`."""
    if months < 1:
        raise ValidationError("months", f"expected at least 1, got {months}")
    return add_months(today, -months) + timedelta(days=1)


def _closure_audits(session: Session, case_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[tuple[uuid.UUID, str, date, str]]]:
    auditor = aliased(Person)
    found: dict[uuid.UUID, list[tuple[uuid.UUID, str, date, str]]] = defaultdict(list)
    ids = sorted(case_ids)
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        rows = session.execute(
            select(Audit.case_id, Audit.id, Audit.status, Audit.audit_date, auditor.name)
            .outerjoin(auditor, auditor.id == Audit.auditor_id)
            .where(Audit.kind == CLOSURE_KIND, Audit.case_id.in_(chunk))
            .order_by(Audit.audit_date, Audit.created_at))
        for case_id, audit_id, status, day, name in rows:
            found[case_id].append((audit_id, status, day, name or ""))
    return found


def start_closure_audit(session: Session, case_id: uuid.UUID, auditor_id: uuid.UUID, *, today: date,
                        cfg: Config, team_id: uuid.UUID | None = None) -> AuditDTO:
    """Start the closure audit of a case (the framework's checks), or resume a draft closure
    audit of it. `team_id`: the team whose work is audited (the team a moved case left);
    by default the case's team."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"Case {case_id} does not exist.")
    if case.worker_id == auditor_id:
        raise NotAllowed(f"You hold case {case.reference}; a closure audit is made by someone else.")
    draft = session.scalar(select(Audit.id).where(Audit.kind == CLOSURE_KIND, Audit.case_id == case_id,
                                                  Audit.status == "draft").order_by(Audit.audit_date.desc()))
    if draft is not None:
        return get_audit(session, draft, today=today, cfg=cfg)
    return start_audit(session, kind=CLOSURE_KIND, template=cfg.template(CLOSURE_KIND), case_id=case.id,
                       worker_id=case.worker_id, auditor_id=auditor_id, team_id=team_id or case.team_id,
                       audit_date=today, today=today, cfg=cfg)


def describe_closure(session: Session, case_id: uuid.UUID) -> str:
    """A line on why the case is audited: when it closed, or its latest move of team."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"Case {case_id} does not exist.")
    if case.closed_on is not None:
        return f"Case {case.reference} closed on {case.closed_on:%-d %B %Y}."
    moves = session.execute(
        select(AuditEvent.at, AuditEvent.old, AuditEvent.new)
        .where(AuditEvent.table_name == Case.__tablename__, AuditEvent.action == "update",
               AuditEvent.record_id == str(case_id), AuditEvent.new["team_id"].as_string().is_not(None))
        .order_by(AuditEvent.at.desc())).all()
    codes = dict(session.execute(select(Team.id, Team.code)).all())
    for at, old, new in moves:
        if (old or {}).get("team_id") and new.get("team_id"):
            left, joined = codes.get(uuid.UUID(old["team_id"]), "?"), codes.get(uuid.UUID(new["team_id"]), "?")
            return f"Case {case.reference} moved from {left} to {joined} on {local_date(at):%-d %B %Y}."
    return f"Case {case.reference} is open and has not moved team."

