"""The concurrency benchmark's smoke run: a few people saving their own records through the
services on PostgreSQL while a manager runs triage and the report, every save counted and found
in the database afterwards. No time is asserted; the figures come from `python -m bench.concurrency`."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bench.concurrency import lost_updates, report, run
from qa_tui.db.engine import Database
from qa_tui.demo import build_demo
from tests.pilot import url_of



@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_three_people_save_for_two_seconds_with_no_error_and_nothing_lost(db: Database) -> None:
    from bench.run import TODAY

    build_demo(db, today=TODAY, cases=1000)
    url = url_of(db)
    result = run(url, people=3, readers=1, seconds=2)
    assert result["people"] == 3 and result["readers"] == 1
    assert result["saves"] > 0 and result["reads"] > 0
    assert result["errors"] == [] and result["lost updates"] == []
    assert result["p50 save (ms)"] <= result["p95 save (ms)"] <= result["p99 save (ms)"]
    table = report(result)
    assert "| p95 save (ms) |" in table and "| lost updates | 0 | 0 |" in table
    with db.reader() as s:  # each person saved as their own login, as the app would
        logins = set(s.execute(text("SELECT DISTINCT updated_by FROM audit WHERE strengths LIKE '% save %'")).scalars())
    assert len(logins) == 3 and all(login.startswith("qa_bench_") for login in logins)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_save_the_database_does_not_hold_is_reported_as_lost(db: Database) -> None:
    from bench.concurrency import Tally
    from bench.run import TODAY

    build_demo(db, today=TODAY, cases=300)
    with db.reader() as s:
        audit_id = s.execute(text("SELECT id FROM audit LIMIT 1")).scalar()
    tally = Tally()
    tally.last_text[("audit", audit_id)] = "a value never stored"
    lost = lost_updates(url_of(db), tally)
    assert len(lost) == 1 and "a value never stored" in lost[0]
