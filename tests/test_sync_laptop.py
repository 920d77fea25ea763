"""The laptop tells the truth offline: after a pull, every figure its screens show for the team
equals the shared database's; deletions travel as tombstones; synced records keep their author;
a change and its history move together; draw rules hold on import."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from qa_tui.config import parse_config
from qa_tui.db.engine import Database
from qa_tui.db.models import Person, Team
from qa_tui.demo import DEMO_USER_STAFF_ID, build_demo
from qa_tui.services.practice.observations import observation_coverage
from qa_tui.services.practice.supervision import supervision_status
from qa_tui.services.programme.dashboard import build_dashboard
from qa_tui.services.programme.obligations import obligations
from qa_tui.services.programme.triage import TriageFilters, triage_page
from qa_tui.services.sync.pull import pull_from_database
from tests.conftest import TODAY
from tests.test_sync import _new_sqlite

CFG = parse_config({})


@pytest.fixture
def laptop(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    database = _new_sqlite(sqlite_template, tmp_path / "laptop", "jsmith")
    yield database
    database.dispose()


def _pictures(db: Database, team_id: uuid.UUID, people: list[uuid.UUID]) -> dict[str, object]:
    """Everything the laptop's overview screens show for one team, as comparable values."""
    with db.reader() as s:
        page = triage_page(s, TODAY, CFG, TriageFilters(team_id=team_id), limit=500)
        return {
            "dashboard": build_dashboard(s, today=TODAY, config=CFG, team_id=team_id),
            "triage": page.rows,
            "supervision": supervision_status(s, TODAY, CFG, team_id=team_id),
            "coverage": observation_coverage(s, TODAY, CFG, team_id=team_id),
            "owed": {person: obligations(s, person, TODAY, CFG).lines for person in people},
        }


def test_a_pulled_team_shows_the_same_figures_as_the_shared_database(db: Database, laptop: Database) -> None:
    build_demo(db, today=TODAY, cases=400, seed=3)
    with db.reader() as s:
        team_id = s.scalar(select(Person.team_id).where(Person.staff_id == DEMO_USER_STAFF_ID))
        code = s.scalar(select(Team.code).where(Team.id == team_id))
        people = list(s.scalars(select(Person.id).where(Person.team_id == team_id).order_by(Person.staff_id)))
    with db.reader() as remote, laptop.session() as local:
        summary = pull_from_database(local, remote, source="shared", team_codes=(code,), today=TODAY)
    assert summary.skipped == () and summary.added > 0

    shared, offline = _pictures(db, team_id, people), _pictures(laptop, team_id, people)
    dashboard = shared["dashboard"]
    # The team is not trivially empty: the comparison below means something.
    assert dashboard.case_holders > 0 and sum(dashboard.audits_by_status.values()) > 0
    assert shared["supervision"] and any(row.last_held for row in shared["supervision"])
    assert any(row.observed_this_year for row in shared["coverage"])
    assert shared["triage"]
    for key in shared:
        assert offline[key] == shared[key], key
