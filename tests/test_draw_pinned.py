"""Pins the picks a fixed seed makes on a fixed synthetic council, so that a change to how the
draw reads or writes (set-based SQL, bulk inserts) can never change what a published seed picks."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

from sqlalchemy import select

from qa_tui.dates import Month
from qa_tui.db.engine import Database
from qa_tui.db.models import Team
from qa_tui.services.audits.draw import draw_all_teams, draw_cases_for_team
from qa_tui.services.audits.draw_verification import verify_draw
from tests.test_draw import MONTH, RULES, _already_drawn, _audit, _case, _team, _worker

# Worked out once with the row-by-row draw (algorithm sha256-per-worker-v1); a change here breaks
# every recorded draw.
PINNED_PICKS = {
    "P1-S00": "P1-C0002", "P1-S01": "P1-C0107", "P1-S02": None, "P1-S03": None, "P1-S04": "P1-C0405",
    "P2-S00": "P2-C0000", "P2-S01": "P2-C0107", "P2-S03": "P2-C0309", "P2-S04": "P2-C0407",
    "P3-S00": "P3-C0000", "P3-S02": "P3-C0200", "P3-S03": "P3-C0301", "P3-S04": "P3-C0402",
}
PINNED_POOLS_DIGEST = "5ed99f7a0411e7f7e5a6fbb0e482a1555a452894ce21b049e62408faede24f7d"


def _pinned_council(db: Database, today: date) -> None:
    """Three teams of five workers with 2–14 cases each; some closed, audited or drawn already,
    one worker inactive, one a manager (not drawn), in a fixed pattern."""
    with db.session() as s:
        for code in ("P1", "P2", "P3"):
            team = _team(s, code)
            for w in range(5):
                staff_id = f"{code}-S{w:02d}"
                role = "TM" if (code, w) == ("P2", 2) else "SW"
                active_to = today - timedelta(days=1) if (code, w) == ("P3", 1) else None
                worker = _worker(s, team, staff_id, role=role, active_to=active_to)
                for c in range(2 + (w * 7 + len(code) * 3 + ord(code[1])) % 13):
                    n = w * 100 + c
                    closed = today - timedelta(days=3) if n % 5 == 3 else None
                    case = _case(s, f"{code}-C{n:04d}", worker, closed_on=closed,
                                 category=("CIN", "CP", "LAC")[n % 3])
                    if n % 4 == 1 or (code, w) == ("P1", 2):
                        _audit(s, case, date(2026, 3, 1) if n % 8 == 1 or w == 2 else date(2025, 6, 1))
                    if n % 6 == 4 or (code, w) == ("P1", 3):
                        _already_drawn(s, case, MONTH)


def _pools_digest(draws) -> str:
    pools = {p.staff_id: [list(p.eligible), p.empty_reason] for d in draws for p in d.pools}
    return hashlib.sha256(json.dumps(pools, sort_keys=True).encode()).hexdigest()


def test_a_fixed_seed_picks_the_same_cases_on_a_fixed_council(db: Database, today: date) -> None:
    _pinned_council(db, today)
    with db.reader() as s:
        team_id = s.scalar(select(Team.id).where(Team.code == "P2"))
        alone = draw_cases_for_team(s, team_id, MONTH, today, RULES, seed="pinned-seed")
        s.rollback()
    with db.session() as s:
        result = draw_all_teams(s, MONTH, today, RULES, seed="pinned-seed")
    picks = {p.staff_id: p.case_reference for d in result.draws for p in d.picks}
    assert picks == PINNED_PICKS
    assert _pools_digest(result.draws) == PINNED_POOLS_DIGEST
    assert [(p.staff_id, p.case_reference) for p in alone.picks] == [
        (p.staff_id, p.case_reference) for p in result.draws[1].picks]
    with db.reader() as s:
        for draw in result.draws:
            assert verify_draw(s, draw.id, today).picks_match
