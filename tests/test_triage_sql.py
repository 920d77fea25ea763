"""Triage's late work worked out in SQL gives exactly what the per-person rules give: on a seeded
demo council, over several days (month ends, a clamped month, the last quarter of the year) and
scopes, overdue supervision and owed observations match supervision_status and
observation_coverage, and the draw's re-audits for impact match programme.impact."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from qa_tui.config import parse_config
from qa_tui.db.engine import Database
from qa_tui.db.models import Person, Team
from qa_tui.demo import build_demo
from qa_tui.services.practice.observations import observation_coverage
from qa_tui.services.practice.observations_owed import observations_owed
from qa_tui.services.practice.supervision import last_day_overdue_after, overdue_supervision, supervision_status

BUILT_ON = date(2026, 11, 24)
DAYS = (BUILT_ON, date(2026, 12, 31), date(2027, 1, 31), date(2027, 3, 1), date(2026, 9, 30))
CFG = parse_config({"supervision": {"cadence": {"NQSW": "fortnightly", "SW": "monthly", "TM": "quarterly", "IRO": "weekly"}}})


@pytest.fixture
def council(db: Database) -> Database:
    build_demo(db, today=BUILT_ON, cases=400)
    return db


def test_overdue_supervision_in_sql_is_the_overdue_rows_of_supervision_status(council: Database) -> None:
    with council.reader() as s:
        team_id = s.scalar(select(Team.id).order_by(Team.code))
        manager_id = s.scalar(select(Person.manager_id).where(Person.manager_id.is_not(None)).order_by(Person.staff_id))
        compared = 0
        for day in DAYS:
            for scope in ({}, {"team_id": team_id}, {"supervisor_id": manager_id}):
                expected = [r for r in supervision_status(s, day, CFG, **scope) if r.overdue]
                assert overdue_supervision(s, day, CFG, **scope) == expected, (day, scope)
                compared += len(expected)
        assert compared > 20  # the council has overdue supervision to compare


def test_owed_observations_in_sql_are_the_uncovered_rows_of_observation_coverage(council: Database) -> None:
    with council.reader() as s:
        team_id = s.scalar(select(Team.id).order_by(Team.code))
        statuses = set()
        for day in DAYS:
            for scope in ({}, {"team_id": team_id}):
                expected = [r for r in observation_coverage(s, day, CFG, **scope) if r.status != "covered"]
                assert observations_owed(s, day, CFG, **scope) == expected, (day, scope)
                statuses |= {r.status for r in expected}
        assert statuses == {"due", "overdue"}


@pytest.mark.parametrize("cadence", ["weekly", "fortnightly", "monthly", "quarterly"])
def test_the_last_day_overdue_after_is_exact(cadence: str) -> None:
    from datetime import timedelta

    from qa_tui.services.practice.supervision import next_supervision_due

    for today in (date(2027, 2, 28), date(2027, 3, 31), date(2026, 12, 1), date(2028, 2, 29)):
        last = last_day_overdue_after(today, cadence)
        assert next_supervision_due(last, cadence) < today <= next_supervision_due(last + timedelta(days=1), cadence)


def test_the_draws_reaudits_for_impact_are_those_programme_impact_lists_as_due(council: Database) -> None:
    from qa_tui.services.audits.draw_pools import reaudits_due_query
    from qa_tui.services.programme.impact import reaudits_due

    with council.reader() as s:
        found = 0
        for day in DAYS:
            expected = {r.case_id for r in reaudits_due(s, day, CFG)}
            assert set(s.scalars(reaudits_due_query(day, CFG.draw))) == expected, day
            found += len(expected)
        assert found > 0
