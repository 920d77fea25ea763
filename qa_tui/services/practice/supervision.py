"""Supervision: recording sessions, cadence and who is overdue, the agenda of follow-ups and
actions for a worker's next supervision, what was discussed, and Markdown exports of both."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from qa_tui.config import ROLES, Config
from qa_tui.dates import add_months
from qa_tui.db.models import SUPERVISION_KINDS, Action, Case, Person, Supervision, SupportStep, Team
from qa_tui.errors import NotFound, ValidationError
from qa_tui.services.audits.actions import SOURCE_LABELS as ACTION_SOURCE_LABELS
from qa_tui.services.practice.agenda_items import Finding, findings_for
from qa_tui.services.practice.followups import FollowUpView, discussed_at, undiscussed_follow_ups
from qa_tui.services.practice.supervision_actions import ActionDiscussed, actions_discussed
from qa_tui.services.people.directory import PERSON_FIELDS, PersonRef, active_on
from qa_tui.services.people.permissions import SEE_SUPPORT_PLAN, SUPERVISE, decide, require, require_self

KIND_LABELS = {"casework": "Casework supervision", "reflective": "Reflective supervision"}
DUE_SOON_DAYS = 7  # "due this week": due today or within the next seven days


@dataclass(frozen=True)
class SupervisionView:
    id: uuid.UUID
    version: int
    worker_id: uuid.UUID
    supervisor_id: uuid.UUID | None
    held_on: date
    kind: str
    notes: str


@dataclass(frozen=True)
class SupervisionStatusRow:
    worker_id: uuid.UUID
    staff_id: str
    worker_name: str
    role: str
    team_code: str | None
    cadence: str
    last_held: date | None
    due_on: date | None  # None: never supervised and no start date to count from
    days_overdue: int
    overdue: bool
    reason: str
    due_this_week: bool = False  # not overdue, and due within DUE_SOON_DAYS (the dashboard's "due soon")


@dataclass(frozen=True)
class AgendaAction:
    id: uuid.UUID
    title: str
    due_on: date
    overdue: bool
    days_overdue: int
    case_reference: str | None
    version: int = 0
    source: str = ""  # where it comes from: "Dip sample, raised 3 Dec 2026"


@dataclass(frozen=True)
class Agenda:
    worker: PersonRef
    prepared_on: date
    last_held: date | None
    follow_ups: tuple[FollowUpView, ...]
    actions: tuple[AgendaAction, ...]
    findings: dict[uuid.UUID, Finding] = field(default_factory=dict)  # follow-up id → its substance


@dataclass(frozen=True)
class SupervisionRecord:
    supervision: SupervisionView
    worker: PersonRef
    supervisor: PersonRef | None
    discussed: tuple[FollowUpView, ...]
    findings: dict[uuid.UUID, Finding] = field(default_factory=dict)
    actions: tuple[ActionDiscussed, ...] = ()


def record_supervision(session: Session, *, worker_id: uuid.UUID, supervisor_id: uuid.UUID,
                       held_on: date, kind: str = "casework", notes: str = "",
                       today: date, record_id: uuid.UUID | None = None) -> SupervisionView:
    """Record a supervision that has taken place (dates after `today` are refused). `record_id` (a
    form's draft) is the id it takes: recorded once, the same draft again returns it."""
    if session.get(Person, worker_id) is None:
        raise NotFound(f"Worker {worker_id} does not exist.")
    if session.get(Person, supervisor_id) is None:
        raise NotFound(f"Supervisor {supervisor_id} does not exist.")
    if supervisor_id == worker_id:
        raise ValidationError("supervisor", "a worker cannot supervise themselves")
    require_self(session, supervisor_id, "record a supervision")
    require(session, SUPERVISE, worker_id=worker_id)
    if record_id is not None and (recorded := session.get(Supervision, record_id)) is not None:
        return _view(recorded)
    if kind not in SUPERVISION_KINDS:
        raise ValidationError("kind", f"expected one of {', '.join(SUPERVISION_KINDS)}, got {kind!r}")
    if held_on > today:
        raise ValidationError("held_on", f"{held_on.isoformat()} is in the future; record a supervision once it has been held")
    if not isinstance(notes, str):
        raise ValidationError("notes", "expected text")
    row = Supervision(id=record_id or uuid.uuid4(), worker_id=worker_id, supervisor_id=supervisor_id,
                      held_on=held_on, kind=kind, notes=notes)
    session.add(row)
    session.flush()
    return _view(row)


def next_supervision_due(last_held: date, cadence: str) -> date:
    """When the next supervision is due: weekly +7 days, fortnightly +14 days, monthly the same
    day next month (clamped: 31 Jan → 28/29 Feb), quarterly the same day three months on."""
    if cadence == "weekly":
        return last_held + timedelta(days=7)
    if cadence == "fortnightly":
        return last_held + timedelta(days=14)
    if cadence == "monthly":
        return add_months(last_held, 1)
    if cadence == "quarterly":
        return add_months(last_held, 3)
    raise ValueError(f"unknown supervision cadence {cadence!r}")


def supervision_due(last_held: date | None, active_from: date | None, cadence: str) -> tuple[date | None, str]:
    """The one supervision rule, used by the dashboard, triage and the programme: the next
    supervision is due one cadence period after the last one held, or after the worker started
    when none has been; with neither there is no due date (see supervision_overdue)."""
    if last_held is not None:
        return next_supervision_due(last_held, cadence), f"{cadence}; last held {last_held.isoformat()}"
    if active_from is not None:
        return (next_supervision_due(active_from, cadence),
                f"{cadence}; no supervision recorded since starting on {active_from.isoformat()}")
    return None, "no supervision recorded"


def supervision_overdue(due_on: date | None, day: date) -> bool:
    """Overdue on `day`: past the due date (due on the day itself is not yet overdue), or never
    supervised with no start date to count from."""
    return due_on is None or due_on < day


def supervision_status(session: Session, today: date, cfg: Config, team_id: uuid.UUID | None = None,
                       supervisor_id: uuid.UUID | None = None,
                       roles: tuple[str, ...] = ROLES,
                       team_ids: Collection[uuid.UUID] | None = None) -> list[SupervisionStatusRow]:
    """Who is due or overdue supervision on `today`, most overdue first.

    The cadence comes from the worker's role (config). A worker never supervised counts from
    their start date (`active_from`): the first supervision is due one cadence period after it;
    with no start date they are flagged overdue with "no supervision recorded". Due on the day
    itself is not yet overdue. `supervisor_id` limits the list to that person's line reports,
    `team_ids` to the people of those teams (a manager's dashboard)."""
    stmt = select(*PERSON_FIELDS, Person.last_supervised_on).where(Person.role.in_(roles), active_on(today))
    if team_id is not None:
        stmt = stmt.where(Person.team_id == team_id)
    if team_ids is not None:
        stmt = stmt.where(Person.team_id.in_(team_ids))
    if supervisor_id is not None:
        stmt = stmt.where(Person.manager_id == supervisor_id)
    return status_rows(session, session.execute(stmt).all(), today, cfg)


def overdue_supervision(session: Session, today: date, cfg: Config, team_id: uuid.UUID | None = None,
                        supervisor_id: uuid.UUID | None = None,
                        roles: tuple[str, ...] = ROLES) -> list[SupervisionStatusRow]:
    """The overdue rows of supervision_status, found in SQL: the next supervision grows with the
    last one (or the start date), so per cadence a worker is overdue exactly when that date is on
    or before the last day whose next supervision falls before `today`."""
    held = (select(func.max(Supervision.held_on)).where(Supervision.worker_id == Person.id,
                                                         Supervision.held_on <= today)
            .correlate(Person).scalar_subquery())
    stmt = select(*PERSON_FIELDS, Person.last_supervised_on, held.label("held")).where(
        Person.role.in_(roles), active_on(today))
    if team_id is not None:
        stmt = stmt.where(Person.team_id == team_id)
    if supervisor_id is not None:
        stmt = stmt.where(Person.manager_id == supervisor_id)
    people = stmt.subquery()
    by_role = {role: last_day_overdue_after(today, cfg.cadence_for(role)) for role in roles}
    cutoff = case(by_role, value=people.c.role)
    supervised = people.c.last_supervised_on <= today
    never = and_(people.c.held.is_(None), or_(people.c.last_supervised_on.is_(None), ~supervised))
    overdue = or_(
        and_(never, or_(people.c.active_from.is_(None), people.c.active_from <= cutoff)),
        and_(~never, or_(people.c.held.is_(None), people.c.held <= cutoff),
             or_(people.c.last_supervised_on.is_(None), ~supervised, people.c.last_supervised_on <= cutoff)))
    found = session.execute(select(*[c for c in people.c if c.key != "held"]).where(overdue)).all()
    return [row for row in status_rows(session, found, today, cfg) if row.overdue]


def last_day_overdue_after(today: date, cadence: str) -> date:
    """The last day L whose next supervision (next_supervision_due(L, cadence)) is before `today`."""
    day = today - timedelta(days=1)
    while next_supervision_due(day, cadence) >= today:
        day -= timedelta(days=1)
    return day


def status_rows(session: Session, people: Sequence[Any], today: date, cfg: Config) -> list[SupervisionStatusRow]:
    """supervision_status's rows for `people` (PERSON_FIELDS and last_supervised_on)."""
    if not people:
        return []
    last_held = dict(session.execute(
        select(Supervision.worker_id, func.max(Supervision.held_on))
        .where(Supervision.worker_id.in_([p.id for p in people]), Supervision.held_on <= today)
        .group_by(Supervision.worker_id)).all())
    team_codes = dict(session.execute(select(Team.id, Team.code)).all())

    rows = []
    for p in people:
        cadence = cfg.cadence_for(p.role)
        last = max((d for d in (last_held.get(p.id), p.last_supervised_on) if d and d <= today), default=None)
        due_on, reason = supervision_due(last, p.active_from, cadence)
        days_overdue = max(0, (today - due_on).days) if due_on else 0
        rows.append(SupervisionStatusRow(
            worker_id=p.id, staff_id=p.staff_id, worker_name=p.name, role=p.role,
            team_code=team_codes.get(p.team_id), cadence=cadence, last_held=last,
            due_on=due_on, days_overdue=days_overdue, overdue=supervision_overdue(due_on, today),
            reason=reason, due_this_week=due_on is not None and 0 <= (due_on - today).days <= DUE_SOON_DAYS,
        ))
    rows.sort(key=lambda r: (r.due_on or date.min, r.worker_name, r.staff_id))
    return rows


def supervision_agenda(session: Session, worker_id: uuid.UUID, today: date) -> Agenda:
    """Everything to take to the worker's next supervision: each follow-up not yet discussed
    (from audits, observations, dip samples, feedback), and their open actions, overdue flagged."""
    worker = session.get(Person, worker_id)
    if worker is None:
        raise NotFound(f"Worker {worker_id} does not exist.")
    last_held = session.scalar(select(func.max(Supervision.held_on)).where(
        Supervision.worker_id == worker_id, Supervision.held_on <= today))
    if worker.last_supervised_on and worker.last_supervised_on <= today:
        last_held = max(last_held or worker.last_supervised_on, worker.last_supervised_on)
    follow_ups = tuple(undiscussed_follow_ups(session, worker_id))
    actions = session.execute(
        select(Action, Case.reference).outerjoin(Case, Action.case_id == Case.id)
        .where(Action.owner_id == worker_id, Action.status == "open")
        .order_by(Action.due_on, Action.id)).all()
    follow_ups = undiscussed_follow_ups(session, worker_id)
    if not decide(session, SEE_SUPPORT_PLAN, worker_id=worker_id).allowed:
        # A support plan's steps are for the line management only (not the worker herself).
        private = set(session.scalars(select(SupportStep.id).where(
            SupportStep.id.in_([f.source_id for f in follow_ups if f.source_id is not None]))))
        follow_ups = [f for f in follow_ups if f.source_id not in private]
    return Agenda(
        worker=_ref(worker), prepared_on=today, last_held=last_held,
        follow_ups=tuple(follow_ups),
        actions=tuple(
            AgendaAction(id=a.id, title=a.title, due_on=a.due_on, overdue=a.due_on < today,
                         days_overdue=max(0, (today - a.due_on).days), case_reference=reference,
                         version=a.version, source=f"{ACTION_SOURCE_LABELS.get(a.source_kind, a.source_kind)}, "
                                                   f"raised {a.raised_on:%-d %b %Y}")
            for a, reference in actions
        ),
        findings=findings_for(session, follow_ups),
    )


def supervision_record(session: Session, supervision_id: uuid.UUID) -> SupervisionRecord:
    """A held supervision with the follow-ups ticked as discussed in it."""
    row = session.get(Supervision, supervision_id)
    if row is None:
        raise NotFound(f"Supervision {supervision_id} does not exist.")
    worker = session.get(Person, row.worker_id)
    supervisor = session.get(Person, row.supervisor_id) if row.supervisor_id else None
    discussed = tuple(discussed_at(session, supervision_id))
    return SupervisionRecord(
        supervision=_view(row), worker=_ref(worker), supervisor=_ref(supervisor) if supervisor else None,
        discussed=discussed, findings=findings_for(session, discussed),
        actions=tuple(actions_discussed(session, supervision_id)),
    )


def agenda_markdown(agenda: Agenda) -> str:
    """The agenda as Markdown to share or print; cases appear only by reference."""
    lines = [
        f"# Supervision agenda: {_who(agenda.worker)}",
        "",
        f"Prepared {agenda.prepared_on.isoformat()}. Last supervision: "
        f"{agenda.last_held.isoformat() if agenda.last_held else 'none recorded'}.",
        "",
        f"## To discuss ({len(agenda.follow_ups)})",
        "",
    ]
    for f in agenda.follow_ups:
        lines.append(f"- [ ] {_follow_up_line(f)}")
        lines += _finding_lines(agenda.findings.get(f.id))
    if not agenda.follow_ups:
        lines.append("Nothing waiting.")
    lines += ["", f"## Open actions ({len(agenda.actions)})", ""]
    for a in agenda.actions:
        when = f"due {a.due_on.isoformat()}"
        if a.overdue:
            when += f", **overdue by {a.days_overdue} day{'s' if a.days_overdue != 1 else ''}**"
        case = f", case {a.case_reference}" if a.case_reference else ""
        lines.append(f"- [ ] {_one_line(a.title)} ({when}{case})")
        if a.source:
            lines.append(f"  - From: {a.source}")
    if not agenda.actions:
        lines.append("No open actions.")
    return "\n".join(lines) + "\n"


def supervision_record_markdown(record: SupervisionRecord) -> str:
    """What was discussed at a supervision, as Markdown; cases appear only by reference."""
    s = record.supervision
    lines = [
        f"# {KIND_LABELS.get(s.kind, s.kind)}: {_who(record.worker)}",
        "",
        f"- Held: {s.held_on.isoformat()}",
        f"- Supervisor: {_who(record.supervisor) if record.supervisor else 'not recorded'}",
        "",
        f"## Discussed ({len(record.discussed)})",
        "",
    ]
    for f in record.discussed:
        lines.append(f"- {_follow_up_line(f)}")
        lines += _finding_lines(record.findings.get(f.id))
        if f.discussed_note:
            lines.append(f"  - Note: {_one_line(f.discussed_note)}")
    if not record.discussed:
        lines.append("No follow-ups were ticked at this supervision.")
    lines += ["", f"## Actions ({len(record.actions)})", ""]
    for a in record.actions:
        case = f" (case {a.case_reference})" if a.case_reference else ""
        lines.append(f"- {_one_line(a.title)}{case}: {a.line}")
    if not record.actions:
        lines.append("No action was updated at this supervision.")
    if s.notes.strip():
        lines += ["", "## Notes", "", *(line.rstrip() for line in s.notes.strip().splitlines())]
    return "\n".join(lines) + "\n"


def _follow_up_line(f: FollowUpView) -> str:
    case = f", case {f.case_reference}" if f.case_reference else ""
    return f"**{f.source_label}** (from {f.event_on.isoformat()}{case}): {_one_line(f.summary)}"


def _finding_lines(finding: Finding | None) -> list[str]:
    """The substance under an item, indented: the heading, each line, the worker's response."""
    if finding is None:
        return []
    lines = [f"  - {_one_line(finding.heading)}"]
    lines += [f"  - {label}: {_one_line(text)}" for label, text in finding.lines]
    if finding.response is not None:
        lines.append(f"  - {_one_line(finding.response.line)} ({finding.response.responded_on.isoformat()})")
        if finding.response.reflection:
            lines.append(f"  - Their reflection: {_one_line(finding.response.reflection)}")
    return lines


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _who(person: PersonRef) -> str:
    return f"{person.name} ({person.staff_id})"


def _ref(p: Person) -> PersonRef:
    return PersonRef(p.id, p.staff_id, p.name, p.role, p.team_id)


def _view(row: Supervision) -> SupervisionView:
    return SupervisionView(id=row.id, version=row.version, worker_id=row.worker_id,
                           supervisor_id=row.supervisor_id, held_on=row.held_on, kind=row.kind,
                           notes=row.notes)
