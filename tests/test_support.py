"""Individual support plans: only the manager who keeps a plan and the managers above them see it
(not the worker, nor a peer); only the management line changes it; each open step is reviewed at supervision."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from qa_tui.db.engine import Database
from qa_tui.db.models import AuditEvent, FollowUp, Person, SupportPlan, SupportStep
from qa_tui.errors import NotAllowed, NotFound, ValidationError
from qa_tui.services.practice import support
from qa_tui.services.practice.followups import tick_discussed
from qa_tui.services.practice.supervision import record_supervision, supervision_agenda
from tests.kinds_seed import Org, seed_org


@pytest.fixture
def org(db: Database, today: date) -> Org:
    return seed_org(db, today)


def plan_for_robin(db: Database, org: Org, today: date) -> support.SupportPlanView:
    with db.session() as s:
        return support.record_support_plan(
            s, worker_id=org.people["swa"], manager_id=org.people["tmn1"],
            aim="Write assessments within timescales",
            steps=[("Agree a weekly writing slot", today + timedelta(days=7)),
                   ("Shadow an advanced practitioner's assessment", today + timedelta(days=28))],
            today=today)


def test_only_the_management_line_sees_a_plan(db: Database, org: Org, today: date) -> None:
    plan = plan_for_robin(db, org, today)
    may = {"tmn1", "opsn", "dd"}  # not swa, whose plan it is
    with db.reader() as s:
        for key, person_id in org.people.items():
            visible = support.support_plans_visible_to(s, person_id, today=today)
            assert ([p.id for p in visible] == [plan.id]) == (key in may), key
            if key in may:
                assert support.get_support_plan(s, plan.id, person_id, today=today).aim.startswith("Write")
            else:
                with pytest.raises(NotFound, match="not yours to see"):
                    support.get_support_plan(s, plan.id, person_id, today=today)
        assert support.support_plans_visible_to(s, None, today=today) == []
        assert support.support_plans_visible_to(s, org.people["opsn"], org.people["swb"], today=today) == []


def test_who_may_record_and_change_a_plan(db: Database, org: Org, today: date) -> None:
    with db.session() as s:
        for manager in ("tmn2", "swa", "opss"):
            with pytest.raises(NotAllowed, match="Robin Ash's manager"):
                support.record_support_plan(s, worker_id=org.people["swa"], manager_id=org.people[manager],
                                            aim="x", today=today)
        with pytest.raises(ValidationError, match="say what the worker needs"):
            support.record_support_plan(s, worker_id=org.people["swa"], manager_id=org.people["opsn"], aim=" ",
                                        today=today)
        with pytest.raises(ValidationError, match="before the plan started"):
            support.record_support_plan(s, worker_id=org.people["swa"], manager_id=org.people["opsn"], aim="x",
                                        steps=[("Step", today - timedelta(days=1))], today=today)
    plan = plan_for_robin(db, org, today)
    first = plan.steps[0]
    with db.session() as s:
        for outsider in ("swa", "tmn2"):  # the worker does not see her plan, nor does a peer's manager
            with pytest.raises(NotFound, match="not yours to see"):
                support.complete_step(s, first.id, by_id=org.people[outsider], today=today)
        done = support.complete_step(s, first.id, by_id=org.people["dd"], today=today)
        assert done.steps[0].done_on == today
        later = support.add_step(s, plan.id, step="Present an assessment at team meeting",
                                 due_on=today + timedelta(days=60), by_id=org.people["tmn1"], today=today)
        assert [st.step for st in later.steps][-1] == "Present an assessment at team meeting"
        closed = support.close_plan(s, plan.id, outcome="Assessments now on time", by_id=org.people["tmn1"],
                                    today=today)
        assert (closed.status, closed.closed_on) == ("closed", today)
        with pytest.raises(NotAllowed, match="was closed"):
            support.add_step(s, plan.id, step="x", due_on=today, by_id=org.people["tmn1"], today=today)
    with db.reader() as s:
        assert support.support_plans_visible_to(s, org.people["swa"], today=today, include_closed=False) == []
        assert [p.name for p in support.workers_to_support(s, org.people["opsn"])] == [
            "Robin Ash", "Sam Birch", "Tam One", "Tam Two"]


def test_each_open_step_is_reviewed_at_supervision_without_its_words_on_the_agenda(
        db: Database, org: Org, today: date) -> None:
    plan = plan_for_robin(db, org, today)
    robin = org.people["swa"]
    with db.reader() as s:
        agenda = supervision_agenda(s, robin, today)
    items = [f for f in agenda.follow_ups if f.source_kind == "other"]
    assert [f.summary for f in items] == [
        f"Individual support plan: review the step due {today + timedelta(days=7):%-d %b %Y}",
        f"Individual support plan: review the step due {today + timedelta(days=28):%-d %b %Y}"]
    assert all("writing" not in f.summary and "Shadow" not in f.summary for f in items)
    assert all(step.on_agenda and step.last_reviewed_on is None for step in plan.steps)

    held = today + timedelta(days=3)
    with db.session() as s:
        sup = record_supervision(s, worker_id=robin, supervisor_id=org.people["tmn1"], held_on=held, today=held)
        for item in items:
            tick_discussed(s, item.id, sup.id)
        support.complete_step(s, plan.steps[0].id, by_id=org.people["tmn1"], today=held)
        assert support.raise_step_reviews(s, robin, held) == 1  # only the open step comes back
        assert support.raise_step_reviews(s, robin, held) == 0
        view = support.get_support_plan(s, plan.id, org.people["tmn1"], today=held)
    assert [(st.last_reviewed_on, st.on_agenda) for st in view.steps] == [(held, False), (held, True)]
    with db.reader() as s:
        waiting = [f for f in supervision_agenda(s, robin, held).follow_ups if f.source_kind == "other"]
    assert [f.source_id for f in waiting] == [plan.steps[1].id]


def test_reading_a_plan_writes_nothing_and_a_review_is_recorded_on_purpose(
        db: Database, org: Org, today: date) -> None:
    plan = plan_for_robin(db, org, today)
    robin, tam = org.people["swa"], org.people["tmn1"]
    other = plan_for_robin(db, org, today)  # a second plan for the same worker, left alone
    held = today + timedelta(days=3)
    with db.session() as s:
        sup = record_supervision(s, worker_id=robin, supervisor_id=tam, held_on=held, today=held)
        for item in supervision_agenda(s, robin, held).follow_ups:
            tick_discussed(s, item.id, sup.id)

    def trail_and_agenda() -> tuple[int, int]:
        with db.reader() as s:
            return (s.scalar(select(func.count()).select_from(AuditEvent)),
                    s.scalar(select(func.count()).select_from(FollowUp)))

    before = trail_and_agenda()
    with db.session() as s:
        view = support.get_support_plan(s, plan.id, tam, today=held)
        support.support_plans_visible_to(s, tam, today=held)
    assert trail_and_agenda() == before
    assert not any(step.on_agenda for step in view.steps)
    assert (view.steps_done, view.next_due) == (0, today + timedelta(days=7))

    with db.session() as s:
        with pytest.raises(NotFound, match="not yours to see"):
            support.review_open_steps(s, plan.id, by_id=robin, today=held)
        reviewed = support.review_open_steps(s, plan.id, by_id=tam, today=held)
        assert reviewed.raised == 2 and all(step.on_agenda for step in reviewed.plan.steps)
        assert support.review_open_steps(s, plan.id, by_id=tam, today=held).raised == 0
        assert not any(step.on_agenda for step in support.get_support_plan(s, other.id, tam, today=held).steps)
        support.complete_step(s, plan.steps[0].id, by_id=tam, today=held)
        done = support.get_support_plan(s, plan.id, tam, today=held)
        assert (done.steps_done, done.next_due) == (1, today + timedelta(days=28))
        support.close_plan(s, plan.id, outcome="Better", by_id=tam, today=held)
        with pytest.raises(NotAllowed, match="was closed"):
            support.review_open_steps(s, plan.id, by_id=tam, today=held)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parents=st.lists(st.integers(min_value=-1, max_value=7), min_size=3, max_size=8), data=st.data())
def test_visibility_is_the_keepers_line_upwards(db: Database, today: date, parents: list[int],
                                                                 data: st.DataObject) -> None:
    """Person i's manager is person parents[i] when that is an earlier person (a tree); the plan
    for a worker kept by one of their managers is visible exactly to the keeper and everyone above
    the keeper, never to the worker."""
    managers = [p if 0 <= p < i else None for i, p in enumerate(parents)]
    chains = []
    for i in range(len(managers)):
        chain, m = [], managers[i]
        while m is not None:
            chain.append(m)
            m = managers[m]
        chains.append(chain)
    candidates = [i for i in range(len(managers)) if chains[i]]
    if not candidates:
        return
    worker = data.draw(st.sampled_from(candidates))
    keeper = data.draw(st.sampled_from(chains[worker]))
    with db.session() as s:
        s.execute(delete(SupportStep))
        s.execute(delete(SupportPlan))
        s.execute(delete(FollowUp))
        s.execute(delete(Person))
        ids = [uuid.uuid4() for _ in managers]
        for i, m in enumerate(managers):
            s.add(Person(id=ids[i], staff_id=f"P{i}", name=f"Person {i}", role="SW",
                         manager_id=ids[m] if m is not None else None))
            s.flush()
        plan = support.record_support_plan(s, worker_id=ids[worker], manager_id=ids[keeper], aim="Improve",
                                           today=today)
    expected = {keeper, *chains[keeper]}
    with db.reader() as s:
        seen = {i for i in range(len(ids)) if support.support_plans_visible_to(s, ids[i], today=today)}
        row = s.scalar(select(SupportPlan).where(SupportPlan.id == plan.id))
        assert {i for i in range(len(ids)) if support.can_see_plan(s, ids[i], row)} == expected
    assert seen == expected
