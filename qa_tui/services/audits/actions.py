"""Actions raised by audits and other QA work: adding, completing, extending and reassigning them
(each change kept as history, bulk changes all-or-nothing), and the keyset-paged triage list."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from qa_tui.config import Config
from qa_tui.dates import utcnow, weeks_after
from qa_tui.db.models import (
    ACTION_STATUSES,
    FOLLOW_UP_SOURCES,
    Action,
    ActionChange,
    Audit,
    Case,
    Person,
    Team,
)
from qa_tui.errors import ChangedElsewhere, NotAllowed, NotFound, ValidationError

ACTION_SOURCES = FOLLOW_UP_SOURCES
SOURCE_LABELS = {
    "audit": "Case audit",
    "observation": "Practice observation",
    "dip_sample": "Dip sample",
    "feedback": "Family feedback",
    "other": "Other",
}
MAX_PAGE = 1000

# The position after which the next page starts: the last row's (due date, id).
ActionCursor = tuple[date, uuid.UUID]


@dataclass(frozen=True)
class ActionRow:
    id: uuid.UUID
    version: int
    title: str
    owner_id: uuid.UUID | None
    owner_name: str
    team_id: uuid.UUID | None
    team_name: str
    raised_on: date
    due_on: date
    status: str
    completed_on: date | None
    evidence: str
    days_overdue: int  # 0 unless open and past its due date
    source_kind: str
    audit_id: uuid.UUID | None
    case_reference: str
    child_outcome: str = ""  # what changed for the child, said when it was done

    @property
    def source(self) -> str:
        label = SOURCE_LABELS.get(self.source_kind, self.source_kind)
        return f"{label}, case {self.case_reference}" if self.case_reference else label

    @property
    def done_line(self) -> str:
        """When it was done and what changed for the child; "" while it is not done."""
        if self.status != "done" or self.completed_on is None:
            return ""
        return f"done {self.completed_on:%-d %b}; for the child: {self.child_outcome or 'not recorded'}"

    @property
    def cursor(self) -> ActionCursor:
        return (self.due_on, self.id)


@dataclass(frozen=True)
class ActionPage:
    rows: tuple[ActionRow, ...]
    next_after: ActionCursor | None  # pass as `after` for the next page; None: this was the last


@dataclass(frozen=True)
class ActionHistoryRow:
    change: str  # extended / reassigned / done / progress
    old_value: str
    new_value: str
    reason: str
    changed_on: date
    changed_by_name: str


def default_action_due(audit_date: date | None, today: date, cfg: Config) -> date:
    """When an action is due unless someone says otherwise: `action_due_weeks` after the audit
    (the frameworks count from the audit, not from when the action was written down), or after
    today when it comes from no audit; never before today."""
    return max(today, weeks_after(audit_date or today, cfg.deadlines.action_due_weeks))


def add_action(session: Session, *, title: str, owner_id: uuid.UUID | None, due_on: date | None = None,
               raised_by_id: uuid.UUID | None, source_kind: str = "audit", audit_id: uuid.UUID | None = None,
               source_id: uuid.UUID | None = None, case_id: uuid.UUID | None = None,
               team_id: uuid.UUID | None = None, today: date, cfg: Config,
               action_id: uuid.UUID | None = None) -> ActionRow:
    """Raise an action. Due by default `action_due_weeks` after the audit it comes from (after
    today for other actions; see default_action_due); an audit's action takes the audit's team
    and case unless others are given. `action_id` (a form's draft) is the id it takes: raised
    once, the same draft again returns it."""
    if action_id is not None and session.get(Action, action_id) is not None:
        return _rows_by_id(session, [action_id], today)[0]
    if not title.strip():
        raise ValidationError("title", "an action needs a title saying what must be done")
    if source_kind not in ACTION_SOURCES:
        raise ValidationError("source", f"expected one of {', '.join(ACTION_SOURCES)}, got {source_kind!r}")
    if owner_id is None:
        raise ValidationError("owner", "an action needs someone who owns it")
    _person(session, owner_id, "owner")
    if raised_by_id is not None:
        _person(session, raised_by_id, "raised by")
    if audit_id is not None:
        audit = session.get(Audit, audit_id)
        if audit is None:
            raise NotFound(f"Audit {audit_id} does not exist.")
        team_id = team_id or audit.team_id
        case_id = case_id or audit.case_id
    due = due_on or default_action_due(audit.audit_date if audit_id is not None else None, today, cfg)
    if due < today:
        raise ValidationError("due date", f"{due.isoformat()} is in the past; choose today or later")
    action = Action(id=action_id or uuid.uuid4(), title=title.strip(), owner_id=owner_id, team_id=team_id, raised_by_id=raised_by_id,
                    raised_on=today, due_on=due, status="open", source_kind=source_kind,
                    audit_id=audit_id, source_id=source_id, case_id=case_id)
    session.add(action)
    session.flush()
    return _rows_by_id(session, [action.id], today)[0]


def complete_action(session: Session, action_id: uuid.UUID, evidence: str, by_id: uuid.UUID | None,
                    today: date, *, expected_version: int | None = None,
                    supervision_id: uuid.UUID | None = None, child_outcome: str = "") -> ActionRow:
    return complete_actions(session, [action_id], evidence, by_id, today,
                            expected_versions=_one(action_id, expected_version), supervision_id=supervision_id,
                            child_outcome=child_outcome)[0]


def extend_action(session: Session, action_id: uuid.UUID, new_due: date, reason: str,
                  by_id: uuid.UUID | None, today: date, *, expected_version: int | None = None,
                  supervision_id: uuid.UUID | None = None) -> ActionRow:
    return extend_actions(session, [action_id], new_due, reason, by_id, today,
                          expected_versions=_one(action_id, expected_version), supervision_id=supervision_id)[0]


def record_progress(session: Session, action_id: uuid.UUID, note: str, by_id: uuid.UUID | None, today: date, *,
                    expected_version: int | None = None, supervision_id: uuid.UUID | None = None) -> ActionRow:
    """Note progress on an open action (it stays open and keeps its due date); kept in its history."""
    if not note.strip():
        raise ValidationError("progress", "say what progress has been made")

    def progress(action: Action) -> ActionChange:
        action.updated_at = utcnow()  # a new version, so a stale screen's change is refused
        return ActionChange(change="progress", reason=note.strip())

    return _change_each(session, [action_id], by_id, today, progress, _one(action_id, expected_version),
                        supervision_id=supervision_id)[0]


def reassign_action(session: Session, action_id: uuid.UUID, new_owner_id: uuid.UUID, reason: str,
                    by_id: uuid.UUID | None, today: date, *, expected_version: int | None = None) -> ActionRow:
    return reassign_actions(session, [action_id], new_owner_id, reason, by_id, today,
                            expected_versions=_one(action_id, expected_version))[0]


def _one(action_id: uuid.UUID, version: int | None) -> dict[uuid.UUID, int] | None:
    return None if version is None else {action_id: version}


def complete_actions(session: Session, action_ids: Sequence[uuid.UUID], evidence: str,
                     by_id: uuid.UUID | None, today: date, *,
                     expected_versions: Mapping[uuid.UUID, int] | None = None,
                     supervision_id: uuid.UUID | None = None, child_outcome: str = "") -> list[ActionRow]:
    """Mark open actions done with the evidence that they were, and what changed for the child
    (kept on its own, for the impact report); all of them or none."""
    if not evidence.strip():
        raise ValidationError("evidence", "say what shows the action was done")

    def complete(action: Action) -> ActionChange:
        action.status, action.evidence, action.completed_on = "done", evidence.strip(), today
        action.child_outcome = child_outcome.strip()
        return ActionChange(change="done", old_value="open", new_value="done", reason=evidence.strip())

    return _change_each(session, action_ids, by_id, today, complete, expected_versions, supervision_id=supervision_id)


def extend_actions(session: Session, action_ids: Sequence[uuid.UUID], new_due: date, reason: str,
                   by_id: uuid.UUID | None, today: date, *,
                   expected_versions: Mapping[uuid.UUID, int] | None = None,
                   supervision_id: uuid.UUID | None = None) -> list[ActionRow]:
    """Move open actions' due dates later, with the reason; all of them or none."""
    if not reason.strip():
        raise ValidationError("reason", "an extension needs a reason")
    if new_due < today:
        raise ValidationError("new due date", f"{new_due.isoformat()} is in the past")

    def extend(action: Action) -> ActionChange:
        if new_due <= action.due_on:
            raise ValidationError(
                f"new due date for “{action.title}”",
                f"{new_due.isoformat()} is not after the current due date {action.due_on.isoformat()}")
        old = action.due_on
        action.due_on = new_due
        return ActionChange(change="extended", old_value=old.isoformat(), new_value=new_due.isoformat(),
                            reason=reason.strip())

    return _change_each(session, action_ids, by_id, today, extend, expected_versions, supervision_id=supervision_id)


def reassign_actions(session: Session, action_ids: Sequence[uuid.UUID], new_owner_id: uuid.UUID,
                     reason: str, by_id: uuid.UUID | None, today: date, *,
                     expected_versions: Mapping[uuid.UUID, int] | None = None) -> list[ActionRow]:
    """Give open actions to another owner, with the reason; all of them or none."""
    if not reason.strip():
        raise ValidationError("reason", "a reassignment needs a reason")
    new_owner = _person(session, new_owner_id, "new owner")

    def reassign(action: Action) -> ActionChange:
        if action.owner_id == new_owner.id:
            raise ValidationError(f"new owner for “{action.title}”", f"{new_owner.name} already owns it")
        old = session.get(Person, action.owner_id) if action.owner_id else None
        action.owner_id = new_owner.id
        return ActionChange(change="reassigned", old_value=old.staff_id if old else "",
                            new_value=new_owner.staff_id, reason=reason.strip())

    return _change_each(session, action_ids, by_id, today, reassign, expected_versions)


def action_history(session: Session, action_id: uuid.UUID) -> list[ActionHistoryRow]:
    """Every change to an action, oldest first (reassignments name owners by staff ID)."""
    rows = session.execute(
        select(ActionChange, Person.name)
        .outerjoin(Person, Person.id == ActionChange.changed_by_id)
        .where(ActionChange.action_id == action_id)
        .order_by(ActionChange.changed_on, ActionChange.created_at, ActionChange.id)
    ).all()
    return [ActionHistoryRow(c.change, c.old_value, c.new_value, c.reason, c.changed_on, name or "")
            for c, name in rows]


def list_actions(session: Session, *, today: date, team_id: uuid.UUID | None = None,
                 owner_id: uuid.UUID | None = None, status: str | None = "open", overdue_only: bool = False,
                 after: ActionCursor | None = None, limit: int = 100) -> ActionPage:
    """One page of actions ordered by due date then id. Keyset paging: pass the page's
    `next_after` as `after` for the next one (no OFFSET, so every page costs the same).
    `overdue_only` means open and past the due date, whatever `status` says; status None: any."""
    if status is not None and status not in ACTION_STATUSES:
        raise ValidationError("status", f"expected one of {', '.join(ACTION_STATUSES)}, got {status!r}")
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError("limit", f"expected 1 to {MAX_PAGE}, got {limit}")
    stmt = _row_query()
    if overdue_only:
        status = "open"
        stmt = stmt.where(Action.due_on < today)
    if status is not None:
        stmt = stmt.where(Action.status == status)
    if team_id is not None:
        stmt = stmt.where(Action.team_id == team_id)
    if owner_id is not None:
        stmt = stmt.where(Action.owner_id == owner_id)
    if after is not None:
        after_due, after_id = after
        # The redundant `>=` gives both databases a plain range on the index's due date column.
        stmt = stmt.where(Action.due_on >= after_due,
                          or_(Action.due_on > after_due, and_(Action.due_on == after_due, Action.id > after_id)))
    stmt = stmt.order_by(Action.due_on, Action.id).limit(limit + 1)
    rows = [_row(r, today) for r in session.execute(stmt)]
    more = len(rows) > limit
    rows = rows[:limit]
    return ActionPage(tuple(rows), rows[-1].cursor if more else None)


def actions_for_audit(session: Session, audit_ids: Sequence[uuid.UUID],
                      today: date) -> dict[uuid.UUID, list[ActionRow]]:
    """Audit id → its actions by due date (audits without actions are left out)."""
    if not audit_ids:
        return {}
    stmt = _row_query().where(Action.audit_id.in_(list(audit_ids))).order_by(Action.due_on, Action.id)
    found: dict[uuid.UUID, list[ActionRow]] = {}
    for r in session.execute(stmt):
        row = _row(r, today)
        found.setdefault(row.audit_id, []).append(row)  # type: ignore[arg-type]
    return found


def _change_each(session: Session, action_ids: Sequence[uuid.UUID], by_id: uuid.UUID | None, today: date,
                 change: Callable[[Action], ActionChange],
                 expected_versions: Mapping[uuid.UUID, int] | None = None, *,
                 supervision_id: uuid.UUID | None = None) -> list[ActionRow]:
    """Apply `change` to every open action inside a savepoint: one refusal undoes them all, even
    when the caller goes on to commit its transaction. `supervision_id`: the supervision the
    change was made in, kept on its history row."""
    ids = list(dict.fromkeys(action_ids))
    if not ids:
        raise ValidationError("actions", "choose at least one action")
    if by_id is not None:
        _person(session, by_id, "changed by")
    actions = {a.id: a for a in session.scalars(select(Action).where(Action.id.in_(ids)))}
    missing = [str(i) for i in ids if i not in actions]
    if missing:
        raise NotFound(f"Action {missing[0]} does not exist.")
    for action_id, version in (expected_versions or {}).items():
        if action_id in actions and actions[action_id].version != version:
            raise ChangedElsewhere(f"The action “{actions[action_id].title}”")
    try:
        with session.begin_nested():
            for action_id in ids:
                action = actions[action_id]
                if action.status != "open":
                    raise NotAllowed(f"The action “{action.title}” is {action.status}; only open actions can change.")
                history = change(action)
                history.action_id, history.changed_on, history.changed_by_id = action.id, today, by_id
                history.supervision_id = supervision_id
                session.add(history)
            session.flush()
    except StaleDataError:
        raise ChangedElsewhere("One of these actions") from None
    return _rows_by_id(session, ids, today)


def _person(session: Session, person_id: uuid.UUID, field: str) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise ValidationError(field, f"no person with id {person_id}")
    return person


def _row_query() -> Select:
    return (
        select(Action.id, Action.version, Action.title, Action.owner_id, Person.name, Action.team_id,
               Team.name, Action.raised_on, Action.due_on, Action.status, Action.completed_on,
               Action.evidence, Action.source_kind, Action.audit_id, Case.reference, Action.child_outcome)
        .outerjoin(Person, Person.id == Action.owner_id)
        .outerjoin(Team, Team.id == Action.team_id)
        .outerjoin(Case, Case.id == Action.case_id)
    )


def _row(r: tuple, today: date) -> ActionRow:
    (id_, version, title, owner_id, owner_name, team_id, team_name, raised_on, due_on, status,
     completed_on, evidence, source_kind, audit_id, case_reference, child_outcome) = r
    overdue = (today - due_on).days if status == "open" and due_on < today else 0
    return ActionRow(id_, version, title, owner_id, owner_name or "", team_id, team_name or "", raised_on,
                     due_on, status, completed_on, evidence, overdue, source_kind, audit_id, case_reference or "",
                     child_outcome or "")


def _rows_by_id(session: Session, ids: list[uuid.UUID], today: date) -> list[ActionRow]:
    by_id = {r[0]: _row(r, today) for r in session.execute(_row_query().where(Action.id.in_(ids)))}
    return [by_id[i] for i in ids]
