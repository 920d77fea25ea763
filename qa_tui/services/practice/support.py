"""Individual support plans: a manager's action plan of dated steps for a worker who needs support
to improve, seen only by that manager and the managers above them (not the worker, nor a peer),
with every open step put on the worker's supervision agenda until it is done."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from qa_tui.db.models import FollowUp, Person, Supervision, SupportPlan, SupportStep
from qa_tui.errors import ChangedElsewhere, NotAllowed, NotFound, ValidationError
from qa_tui.services.practice.followups import raise_follow_up
from qa_tui.services.people.directory import PersonRef
from qa_tui.services.people.permissions import managers_above, require_self

FOLLOW_UP_SOURCE = "other"
STEP_WEEKS = 4  # a new step is offered this far ahead


@dataclass(frozen=True)
class SupportStepView:
    id: uuid.UUID
    version: int
    step: str
    due_on: date
    done_on: date | None
    overdue: bool
    last_reviewed_on: date | None  # the latest supervision where it was discussed
    on_agenda: bool  # waiting to be discussed at the next supervision


@dataclass(frozen=True)
class SupportPlanView:
    id: uuid.UUID
    version: int
    worker: PersonRef
    manager: PersonRef
    aim: str
    started_on: date
    status: str
    closed_on: date | None
    outcome: str
    steps: tuple[SupportStepView, ...]  # by due date

    @property
    def steps_done(self) -> int:
        return sum(s.done_on is not None for s in self.steps)

    @property
    def next_due(self) -> date | None:
        """When the earliest open step is due."""
        return min((s.due_on for s in self.steps if s.done_on is None), default=None)


@dataclass(frozen=True)
class StepReviews:
    plan: SupportPlanView
    raised: int  # open steps put back on the supervision agenda


# --- who may see and change a plan ----------------------------------------------------------


def can_see_plan(session: Session, viewer_id: uuid.UUID | None, plan: SupportPlan) -> bool:
    """The manager who keeps the plan and the managers above them: the line management only (not
    the worker it is for, nor a peer; docs/permissions.md)."""
    if viewer_id is None or viewer_id == plan.worker_id:
        return False
    return viewer_id == plan.manager_id or viewer_id in managers_above(session, plan.manager_id)


def support_plans_visible_to(session: Session, viewer_id: uuid.UUID | None, worker_id: uuid.UUID | None = None, *,
                             today: date, include_closed: bool = True) -> list[SupportPlanView]:
    """The plans `viewer_id` may see (of one worker, when given), open ones first, newest first."""
    require_self(session, viewer_id, "see support plans")
    if viewer_id is None:
        return []
    below = _everyone_below(session, viewer_id)
    stmt = select(SupportPlan).where(SupportPlan.worker_id != viewer_id,
                                     or_(SupportPlan.manager_id == viewer_id,
                                         SupportPlan.manager_id.in_(below) if below else False))
    if worker_id is not None:
        stmt = stmt.where(SupportPlan.worker_id == worker_id)
    if not include_closed:
        stmt = stmt.where(SupportPlan.status == "open")
    plans = session.scalars(stmt.order_by(SupportPlan.status.desc(), SupportPlan.started_on.desc(), SupportPlan.id))
    return [_view(session, p, today) for p in plans]


def get_support_plan(session: Session, plan_id: uuid.UUID, viewer_id: uuid.UUID | None, *, today: date) -> SupportPlanView:
    return _view(session, _visible(session, plan_id, viewer_id), today)


def workers_to_support(session: Session, manager_id: uuid.UUID) -> list[PersonRef]:
    """Everyone below the manager in the management line (active or not), by name."""
    below = _everyone_below(session, manager_id)
    if not below:
        return []
    rows = session.scalars(select(Person).where(Person.id.in_(below), Person.active_to.is_(None))
                           .order_by(Person.name, Person.staff_id))
    return [PersonRef(p.id, p.staff_id, p.name, p.role, p.team_id) for p in rows]


def _everyone_below(session: Session, person_id: uuid.UUID) -> list[uuid.UUID]:
    reports: dict[uuid.UUID, list[uuid.UUID]] = {}
    for pid, manager_id in session.execute(select(Person.id, Person.manager_id).where(Person.manager_id.is_not(None))):
        reports.setdefault(manager_id, []).append(pid)
    found: list[uuid.UUID] = []
    waiting = list(reports.get(person_id, ()))
    while waiting:
        pid = waiting.pop()
        if pid in found or pid == person_id:
            continue
        found.append(pid)
        waiting += reports.get(pid, ())
    return found


# --- recording ------------------------------------------------------------------------------


def default_step_due(today: date) -> date:
    """When a new step is due unless the manager says otherwise."""
    return today + timedelta(weeks=STEP_WEEKS)


def record_support_plan(session: Session, *, worker_id: uuid.UUID, manager_id: uuid.UUID, aim: str,
                        steps: Sequence[tuple[str, date]] = (), today: date,
                        record_id: uuid.UUID | None = None) -> SupportPlanView:
    """A new plan kept by `manager_id`, who must be the worker's manager or above them; each step
    goes on the worker's supervision agenda. `record_id` (a form's draft) is the id it takes:
    recorded once, the same draft again returns it."""
    worker = session.get(Person, worker_id)
    if worker is None:
        raise NotFound(f"Worker {worker_id} does not exist.")
    require_self(session, manager_id, "keep a support plan")
    if session.get(Person, manager_id) is None:
        raise NotFound(f"Manager {manager_id} does not exist.")
    if manager_id not in managers_above(session, worker_id):
        raise NotAllowed(f"Only {worker.name}'s manager, or a manager above them, can record a support plan for them.")
    if record_id is not None and (recorded := session.get(SupportPlan, record_id)) is not None:
        return _view(session, recorded, today)
    if not aim.strip():
        raise ValidationError("aim", "say what the worker needs support to improve")
    for index, (text, due_on) in enumerate(steps, 1):
        _check_step(text, due_on, today, f"step {index}")
    plan = SupportPlan(id=record_id or uuid.uuid4(), worker_id=worker_id, manager_id=manager_id, aim=aim.strip(),
                       started_on=today, status="open")
    session.add(plan)
    session.flush()
    for index, (text, due_on) in enumerate(steps, 1):
        _add_step(session, plan, text, due_on, today, f"step {index}")
    session.flush()
    return _view(session, plan, today)


def add_step(session: Session, plan_id: uuid.UUID, *, step: str, due_on: date, by_id: uuid.UUID | None,
             today: date, record_id: uuid.UUID | None = None) -> SupportPlanView:
    """A step added to an open plan. `record_id` (a form's draft) is the id it takes: added once,
    the same draft again adds nothing."""
    plan = _changeable(session, plan_id, by_id)
    if record_id is None or session.get(SupportStep, record_id) is None:
        _add_step(session, plan, step, due_on, today, "step", record_id)
    _flush(session)
    return _view(session, plan, today)


def complete_step(session: Session, step_id: uuid.UUID, *, by_id: uuid.UUID | None, today: date,
                  expected_version: int | None = None) -> SupportPlanView:
    """Mark a step done today (it leaves the agenda once its last review is discussed)."""
    step = session.get(SupportStep, step_id)
    if step is None:
        raise NotFound(f"Support plan step {step_id} does not exist.")
    plan = _changeable(session, step.plan_id, by_id)
    if expected_version is not None and step.version != expected_version:
        raise ChangedElsewhere("This step of the support plan")
    if step.done_on is not None:
        raise NotAllowed(f"This step was already done on {step.done_on:%-d %b %Y}.")
    step.done_on = today
    _flush(session)
    return _view(session, plan, today)


def close_plan(session: Session, plan_id: uuid.UUID, *, outcome: str, by_id: uuid.UUID | None, today: date,
               expected_version: int | None = None) -> SupportPlanView:
    plan = _changeable(session, plan_id, by_id)
    if expected_version is not None and plan.version != expected_version:
        raise ChangedElsewhere("This support plan")
    if not outcome.strip():
        raise ValidationError("outcome", "say how the plan ended")
    plan.status, plan.closed_on, plan.outcome = "closed", today, outcome.strip()
    _flush(session)
    return _view(session, plan, today)


def review_open_steps(session: Session, plan_id: uuid.UUID, *, by_id: uuid.UUID | None,
                      today: date) -> StepReviews:
    """Put the plan's open steps whose last review has been discussed back on the worker's
    supervision agenda. Only the management line records this, and only on purpose: reading a
    plan never changes the agenda."""
    plan = _changeable(session, plan_id, by_id)
    raised = raise_step_reviews(session, plan.worker_id, today, plan_id=plan.id)
    return StepReviews(_view(session, plan, today), raised)


def raise_step_reviews(session: Session, worker_id: uuid.UUID, today: date, *,
                       plan_id: uuid.UUID | None = None) -> int:
    """Put every open step of the worker's open plans (or of one plan) back on their supervision
    agenda once the previous review has been discussed, so each supervision reviews them until
    they are done. Returns how many were raised."""
    stmt = select(SupportStep).join(SupportPlan, SupportPlan.id == SupportStep.plan_id).where(
        SupportPlan.worker_id == worker_id, SupportPlan.status == "open", SupportStep.done_on.is_(None))
    if plan_id is not None:
        stmt = stmt.where(SupportPlan.id == plan_id)
    steps = session.scalars(stmt).all()
    waiting = set(session.scalars(select(FollowUp.source_id).where(
        FollowUp.worker_id == worker_id, FollowUp.source_kind == FOLLOW_UP_SOURCE, FollowUp.supervision_id.is_(None))))
    raised = 0
    for step in steps:
        if step.id not in waiting:
            step.follow_up_id = _raise_review(session, worker_id, step, today).id
            raised += 1
    _flush(session)
    return raised


def _check_step(text: str, due_on: date, started_on: date, where: str) -> None:
    if not text.strip():
        raise ValidationError(where, "say what the worker will do")
    if due_on < started_on:
        raise ValidationError(where, f"due {due_on:%-d %b %Y}, before the plan started on {started_on:%-d %b %Y}")


def _add_step(session: Session, plan: SupportPlan, text: str, due_on: date, today: date, where: str,
              step_id: uuid.UUID | None = None) -> None:
    _check_step(text, due_on, plan.started_on, where)
    step = SupportStep(id=step_id or uuid.uuid4(), plan_id=plan.id, step=text.strip(), due_on=due_on)
    session.add(step)
    step.follow_up_id = _raise_review(session, plan.worker_id, step, today).id


def _raise_review(session: Session, worker_id: uuid.UUID, step: SupportStep, today: date) -> FollowUp:
    # The agenda names the step's due date only: what the step says stays in the plan, which
    # only the worker and their management line can open.
    item = raise_follow_up(session, worker_id=worker_id, source_kind=FOLLOW_UP_SOURCE, source_id=step.id,
                           summary=f"Individual support plan: review the step due {step.due_on:%-d %b %Y}",
                           today=today)
    session.flush()
    return item


def _visible(session: Session, plan_id: uuid.UUID, viewer_id: uuid.UUID | None) -> SupportPlan:
    require_self(session, viewer_id, "see support plans")
    plan = session.get(SupportPlan, plan_id)
    if plan is None or not can_see_plan(session, viewer_id, plan):
        # The same answer whether it exists or not: a plan's existence is itself private.
        raise NotFound("No such support plan, or it is not yours to see.")
    return plan


def _changeable(session: Session, plan_id: uuid.UUID, by_id: uuid.UUID | None) -> SupportPlan:
    plan = _visible(session, plan_id, by_id)  # who sees it (the line management) may change it
    if plan.status != "open":
        raise NotAllowed(f"This plan was closed on {plan.closed_on:%-d %b %Y}.")
    return plan


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise ChangedElsewhere("This support plan") from None


def _view(session: Session, plan: SupportPlan, today: date) -> SupportPlanView:
    steps = session.scalars(select(SupportStep).where(SupportStep.plan_id == plan.id)
                            .order_by(SupportStep.due_on, SupportStep.created_at, SupportStep.id)).all()
    ids = [s.id for s in steps]
    reviewed: dict[uuid.UUID, date] = {}
    waiting: set[uuid.UUID] = set()
    if ids:
        reviewed = dict(session.execute(
            select(FollowUp.source_id, func.max(Supervision.held_on))
            .join(Supervision, Supervision.id == FollowUp.supervision_id)
            .where(FollowUp.source_id.in_(ids), FollowUp.source_kind == FOLLOW_UP_SOURCE)
            .group_by(FollowUp.source_id)).all())
        waiting = set(session.scalars(select(FollowUp.source_id).where(
            FollowUp.source_id.in_(ids), FollowUp.source_kind == FOLLOW_UP_SOURCE, FollowUp.supervision_id.is_(None))))
    worker, manager = session.get(Person, plan.worker_id), session.get(Person, plan.manager_id)
    assert worker is not None and manager is not None
    return SupportPlanView(
        plan.id, plan.version, _ref(worker), _ref(manager), plan.aim, plan.started_on, plan.status, plan.closed_on,
        plan.outcome,
        tuple(SupportStepView(s.id, s.version, s.step, s.due_on, s.done_on, s.done_on is None and s.due_on < today,
                              reviewed.get(s.id), s.id in waiting) for s in steps))


def _ref(p: Person) -> PersonRef:
    return PersonRef(p.id, p.staff_id, p.name, p.role, p.team_id)
