"""One draw per team and month, whoever asks and however many at once: 20 teams each drawn by two
people at the same moment end with exactly one draw each, the other person told why; and the
meeting always shows the team's one draw."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from qa_tui.config import DrawRules
from qa_tui.dates import Month
from qa_tui.db.engine import Database
from qa_tui.db.models import Case, CaseDraw, Person, Team
from qa_tui.errors import NotAllowed
from qa_tui.services.audits.draw import draw_cases_for_team
from qa_tui.services.audits.meeting import meeting_plan

MONTH = Month(2026, 11)
PAIRS = 20


def _teams(db: Database, count: int) -> list:
    ids = []
    with db.session() as s:
        for n in range(count):
            team = Team(code=f"C{n:02}", name=f"Team {n:02}")
            s.add(team)
            s.flush()
            worker = Person(staff_id=f"C{n:02}-S1", name=f"Worker {n:02}", role="SW", team_id=team.id)
            s.add(worker)
            s.flush()
            for c in range(3):
                s.add(Case(reference=f"C{n:02}-{c}", category="CIN", worker_id=worker.id, team_id=team.id))
            ids.append(team.id)
    return ids


def test_twenty_concurrent_pairs_of_draws_make_exactly_one_draw_each(db_url: str, today: date) -> None:
    setup = Database.open(db_url, actor="setup")
    teams = _teams(setup, PAIRS)
    setup.dispose()
    databases = [Database.open(db_url, actor=f"person-{n}") for n in range(2)]
    start = threading.Barrier(PAIRS * 2)
    made: list[tuple] = []
    refused: list[tuple] = []
    failed: list[BaseException] = []
    lock = threading.Lock()

    def draw(db: Database, team_id: object) -> None:
        try:
            start.wait(timeout=60)
            with db.session() as s:
                summary = draw_cases_for_team(s, team_id, MONTH, today, DrawRules(), drawn_by=db.actor)
            with lock:
                made.append((team_id, summary.id))
        except NotAllowed as exc:
            with lock:
                refused.append((team_id, str(exc)))
        except BaseException as exc:  # noqa: BLE001 - asserted below
            with lock:
                failed.append(exc)

    threads = [threading.Thread(target=draw, args=(databases[n], team)) for team in teams for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    for db in databases:
        db.dispose()
    assert not failed, failed
    assert sorted(t for t, _ in made) == sorted(teams)
    assert sorted(t for t, _ in refused) == sorted(teams)
    assert all("already has its draw for 2026-11" in message and "qa-tui draw redraw" in message
               for _, message in refused)
    check = Database.open(db_url, actor="check")
    with check.reader() as s:
        per_team = dict(s.execute(select(CaseDraw.team_id, func.count()).group_by(CaseDraw.team_id)).all())
        assert per_team == {team: 1 for team in teams}
        for team, draw_id in made:  # the meeting shows the one draw that was made
            assert meeting_plan(s, team, MONTH).draw.id == draw_id
    check.dispose()


def test_the_cli_refuses_a_second_draw_and_says_how_to_redraw(db: Database, db_url: str,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from qa_tui import cli

    _teams(db, 1)
    assert cli.main(["--db", db_url, "--today", "2026-11-24", "draw", "--team", "C00", "--month", "2026-11"]) == 0
    first = capsys.readouterr().out
    assert cli.main(["--db", db_url, "--today", "2026-11-24", "draw", "--team", "C00", "--month", "2026-11",
                     "--seed", "another"]) != 0
    err = capsys.readouterr().err
    draw_id = first.split()[1]
    assert "already has its draw for 2026-11" in err and f"qa-tui draw redraw {draw_id} --worker" in err
    with db.reader() as s:
        assert s.scalar(select(func.count()).select_from(CaseDraw)) == 1
