"""The random case draw: eligibility, provable derivation, re-draws, verification and the CLI."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from qa_tui import cli
from qa_tui.config import DrawRules, default_templates
from qa_tui.dates import Month
from qa_tui.db.engine import Database
from qa_tui.db.models import Audit, AuditEvent, Case, CaseDraw, DrawPick, DrawPool, Person, Team
from qa_tui.errors import NotAllowed, ValidationError
from qa_tui.services.audits.draw import (
    current_picks,
    draw_all_teams,
    draw_cases_for_team,
    get_draw,
    latest_draw,
    redraw_for_worker,
)
from qa_tui.services.audits.draw_algorithm import ALGORITHM, derive_index, derive_pick
from qa_tui.services.audits.draw_verification import verify_draw
from qa_tui.services.audits.templates import ensure_template

MONTH = Month(2026, 11)
RULES = DrawRules()
CHI_SQUARE_999 = {3: 16.27, 4: 18.47}  # 0.999 quantiles of the chi-square distribution


# --- building synthetic caseloads ---------------------------------------------------------


def _team(s, code: str) -> Team:
    team = Team(code=code, name=f"Team {code}")
    s.add(team)
    s.flush()
    return team


def _worker(s, team: Team | None, staff_id: str, role: str = "SW", active_to: date | None = None) -> Person:
    person = Person(staff_id=staff_id, name=f"Worker {staff_id}", role=role,
                    team_id=team.id if team else None, active_to=active_to)
    s.add(person)
    s.flush()
    return person


def _case(s, reference: str, worker: Person | None, closed_on: date | None = None, category: str = "CIN") -> Case:
    case = Case(reference=reference, category=category, worker_id=worker.id if worker else None,
                team_id=worker.team_id if worker else None, closed_on=closed_on)
    s.add(case)
    s.flush()
    return case


def _audit(s, case: Case, on: date) -> None:
    template = ensure_template(s, default_templates()[0])
    s.add(Audit(kind="live", template_id=template.id, case_id=case.id, worker_id=case.worker_id, audit_date=on))
    s.flush()


def _already_drawn(s, case: Case, month: Month, worker: Person | None = None) -> None:
    """An earlier pick of this case in another team's draw for `month` (a team has one draw a
    month, so a case drawn this month elsewhere has moved since)."""
    other = _team(s, f"MOVED-{uuid.uuid4().hex[:6]}")
    draw = CaseDraw(team_id=other.id, month=str(month), seed="earlier", algorithm=ALGORITHM, rules={},
                    drawn_on=date(2026, 11, 1))
    s.add(draw)
    s.flush()
    s.add(DrawPick(draw_id=draw.id, worker_id=worker.id if worker else case.worker_id,
                   case_reference=case.reference, case_id=case.id))
    s.flush()


def _caseload(db: Database, workers: int = 3, cases_each: int = 6, code: str = "T1") -> uuid.UUID:
    with db.session() as s:
        team = _team(s, code)
        for w in range(workers):
            person = _worker(s, team, f"{code}-S{w:02d}")
            for c in range(cases_each):
                _case(s, f"{code}-C{w:02d}{c:02d}", person)
        return team.id


# --- the pure arithmetic ------------------------------------------------------------------


def test_derivation_is_pinned_so_a_published_draw_can_be_recomputed_by_anyone() -> None:
    # int(sha256("7f3a9c:S0001")) mod 7, computed once; a change here breaks every recorded draw.
    assert derive_index("7f3a9c", "S0001", 7) == 6
    assert derive_index("7f3a9c", "S0002", 1_000_003) == 302149
    pool = ("C1", "C2", "C3", "C4", "C5", "C6", "C7")
    assert derive_pick("7f3a9c", "S0001", pool) == "C7"
    assert derive_index("7f3a9c", "S0001", 6, round_no=1) == 2
    assert derive_pick("7f3a9c", "S0001", pool, 1, earlier=["C7"]) == "C3"
    assert derive_pick("s", "w", ("A",), 1, earlier=["A"]) is None


@pytest.mark.parametrize("earlier", [(), ("C3",)])
def test_each_case_is_picked_about_equally_often_over_many_seeds(earlier: tuple[str, ...]) -> None:
    pool = ("C1", "C2", "C3", "C4", "C5")
    round_no = len(earlier)
    counts = Counter(derive_pick(f"seed{i}", "S0001", pool, round_no, earlier) for i in range(5000))
    candidates = [c for c in pool if c not in earlier]
    assert set(counts) == set(candidates)
    expected = 5000 / len(candidates)
    statistic = sum((counts[c] - expected) ** 2 / expected for c in candidates)
    assert statistic < CHI_SQUARE_999[len(candidates) - 1], (counts, statistic)


def test_a_workers_pick_depends_only_on_the_seed_and_their_own_staff_id() -> None:
    pool = tuple(f"C{i:03d}" for i in range(40))
    picks = {derive_pick(f"seed{i}", "S1", pool) for i in range(60)}
    assert len(picks) > 20  # the seed matters
    assert derive_pick("abc", "S1", pool) == derive_pick("abc", "S1", list(pool))
    assert len({derive_pick("abc", f"S{i}", pool) for i in range(60)}) > 20  # so does the worker


# --- eligibility --------------------------------------------------------------------------

CASE_STATE = st.fixed_dictionaries({
    "closed": st.sampled_from([None, "past", "today", "future"]),
    "audited": st.sampled_from([None, "recent", "cutoff", "before_cutoff", "after_draw"]),
    "drawn": st.sampled_from([None, "this_month", "last_month"]),
    "holder": st.sampled_from(["worker", "worker", "worker", "unallocated", "outside", "inactive", "manager"]),
})
AUDIT_DATES = {"recent": date(2026, 6, 3), "cutoff": date(2025, 11, 1),
               "before_cutoff": date(2025, 10, 31), "after_draw": date(2026, 11, 20)}
CLOSED = {"past": timedelta(days=-30), "today": timedelta(0), "future": timedelta(days=10)}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(caseload=st.lists(st.lists(CASE_STATE, max_size=5), min_size=1, max_size=3))
def test_never_an_ineligible_case(db: Database, today: date, caseload: list[list[dict]]) -> None:
    tag = uuid.uuid4().hex[:8]
    expected: dict[str, list[str]] = {}
    with db.session() as s:
        team = _team(s, f"T{tag}")
        other_team = _team(s, f"O{tag}")
        outsider = _worker(s, other_team, f"{tag}-OUT")
        manager = _worker(s, team, f"{tag}-TM", role="TM")
        for w, states in enumerate(caseload):
            worker = _worker(s, team, f"{tag}-S{w}")
            inactive = _worker(s, team, f"{tag}-X{w}", active_to=today - timedelta(days=1))
            expected[worker.staff_id] = []
            for c, state in enumerate(states):
                holder = {"worker": worker, "unallocated": None, "outside": outsider,
                          "inactive": inactive, "manager": manager}[state["holder"]]
                closed_on = today + CLOSED[state["closed"]] if state["closed"] else None
                case = _case(s, f"{tag}-C{w}{c}", holder, closed_on)
                if state["audited"]:
                    _audit(s, case, AUDIT_DATES[state["audited"]])
                if state["drawn"]:
                    _already_drawn(s, case, MONTH if state["drawn"] == "this_month" else MONTH.shift(-1),
                                   worker)
                eligible = (holder is worker and state["closed"] in (None, "future")
                            and state["audited"] in (None, "before_cutoff") and state["drawn"] != "this_month")
                if eligible:
                    expected[worker.staff_id].append(case.reference)
        team_id = team.id
    with db.session() as s:
        summary = draw_cases_for_team(s, team_id, MONTH, today, RULES, seed=tag)
    assert {p.staff_id: list(p.eligible) for p in summary.pools} == {k: sorted(v) for k, v in expected.items()}
    for pick in summary.picks:
        if expected[pick.staff_id]:
            assert pick.case_reference in expected[pick.staff_id] and not pick.empty_reason
        else:
            assert pick.case_reference is None and pick.empty_reason
    with db.reader() as s:
        assert get_draw(s, summary.id) == summary  # what the draw returned is what was stored
        result = verify_draw(s, summary.id, today)
    assert result.picks_match and result.pools_current, result


def test_boundaries_closed_today_and_audit_window_start(db: Database, today: date) -> None:
    """Open means closing after today; the audit window starts on the first of the month N
    months before the draw month."""
    with db.session() as s:
        team = _team(s, "T1")
        worker = _worker(s, team, "S1")
        _audit(s, _case(s, "ON-CUTOFF", worker), date(2025, 11, 1))
        _audit(s, _case(s, "DAY-BEFORE", worker), date(2025, 10, 31))
        _case(s, "NEVER", worker)
        _case(s, "CLOSES-TODAY", worker, closed_on=today)
        _case(s, "CLOSES-TOMORROW", worker, closed_on=today + timedelta(days=1))
        team_id = team.id
    with db.reader() as s:
        summary = draw_cases_for_team(s, team_id, MONTH, today, RULES)
        assert summary.pools[0].eligible == ("CLOSES-TOMORROW", "DAY-BEFORE", "NEVER")
        assert summary.rules == {"roles": ["SW", "NQSW", "ASWP"], "require_open": True, "require_allocated": True,
                                 "exclude_audited_within_months": 12, "exclude_drawn_this_month": True,
                                 "impact_reaudit_months": 3, "impact_reaudit_grade_from": 2}
        s.rollback()  # a team has one draw a month: try the other rules instead of this one
        no_exclusions = draw_cases_for_team(s, team_id, MONTH, today,
                                  replace(RULES, exclude_audited_within_months=0, exclude_drawn_this_month=False))
        assert no_exclusions.pools[0].eligible == ("CLOSES-TOMORROW", "DAY-BEFORE", "NEVER", "ON-CUTOFF")


def test_empty_pools_say_why(db: Database, today: date) -> None:
    with db.session() as s:
        team = _team(s, "T1")
        _worker(s, team, "S-NONE")
        closed_only = _worker(s, team, "S-CLOSED")
        _case(s, "CL-1", closed_only, closed_on=today - timedelta(days=3))
        audited = _worker(s, team, "S-AUDITED")
        for i in range(3):
            _audit(s, _case(s, f"AU-{i}", audited), date(2026, 9, 1))
        one = _worker(s, team, "S-ONE")
        _already_drawn(s, _case(s, "DR-1", one), MONTH)
        mixed = _worker(s, team, "S-MIXED")
        _audit(s, _case(s, "MX-1", mixed), date(2026, 1, 5))
        _already_drawn(s, _case(s, "MX-2", mixed), MONTH)
        team_id = team.id
    with db.session() as s:
        summary = draw_cases_for_team(s, team_id, MONTH, today, RULES)
    reasons = {p.staff_id: (p.case_reference, p.empty_reason) for p in summary.picks}
    assert reasons == {
        "S-NONE": (None, "no open cases allocated"),
        "S-CLOSED": (None, "no open cases allocated"),
        "S-AUDITED": (None, "all 3 open cases audited in the last 12 months"),
        "S-ONE": (None, "the only open case already drawn this month"),
        "S-MIXED": (None, "all 2 open cases excluded: 1 audited in the last 12 months, 1 already drawn this month"),
    }
    assert all(pool.eligible == () for pool in summary.pools)


def test_switching_off_allocation_is_refused_not_ignored(db: Database, today: date) -> None:
    team_id = _caseload(db, workers=1)
    with db.session() as s, pytest.raises(ValidationError, match="require_allocated"):
        draw_cases_for_team(s, team_id, MONTH, today, replace(RULES, require_allocated=False))


# --- provable and stable ------------------------------------------------------------------


def _picks_with_seed(db: Database, team_id: uuid.UUID, today: date, seed: str) -> dict[str, str | None]:
    """Draw inside a transaction that is rolled back, so the next draw sees the same data."""
    with db.reader() as s:
        summary = draw_cases_for_team(s, team_id, MONTH, today, RULES, seed=seed)
        s.rollback()
    return {p.staff_id: p.case_reference for p in summary.picks}


def test_same_inputs_give_same_picks_and_a_fresh_seed_otherwise(db: Database, today: date) -> None:
    team_id = _caseload(db, workers=4, cases_each=8)
    first = _picks_with_seed(db, team_id, today, "fixed")
    assert first == _picks_with_seed(db, team_id, today, "fixed")
    assert all(first.values())
    seeds = set()
    for _ in range(2):
        with db.reader() as s:
            seeds.add(draw_cases_for_team(s, team_id, MONTH, today, RULES).seed)
            s.rollback()
    assert len(seeds) == 2 and all(len(seed) == 32 for seed in seeds)


def test_adding_or_removing_a_worker_changes_no_one_elses_pick(db: Database, today: date) -> None:
    team_id = _caseload(db, workers=4, cases_each=8)
    before = _picks_with_seed(db, team_id, today, "meeting")
    with db.session() as s:
        newcomer = _worker(s, s.get(Team, team_id), "T1-S99")
        for c in range(5):
            _case(s, f"NEW-{c}", newcomer)
        s.execute(update(Person).where(Person.staff_id == "T1-S00").values(active_to=today - timedelta(days=1)))
    after = _picks_with_seed(db, team_id, today, "meeting")
    assert after.pop("T1-S99") is not None
    assert "T1-S00" not in after
    before.pop("T1-S00")
    assert after == before


def test_a_second_draw_for_the_month_is_refused_with_the_way_to_redraw_one_worker(db: Database, today: date) -> None:
    team_id = _caseload(db, workers=2, cases_each=2)
    with db.session() as s:
        first = draw_cases_for_team(s, team_id, MONTH, today, RULES, seed="one")
    for seed in ("one", None):
        with db.session() as s, pytest.raises(NotAllowed, match=f"already has its draw for {MONTH}") as refused:
            draw_cases_for_team(s, team_id, MONTH, today, RULES, seed=seed)
        assert f"qa-tui draw redraw {first.id} --worker STAFF_ID --reason" in str(refused.value)
    with db.reader() as s:
        assert s.scalar(select(func.count()).select_from(CaseDraw).where(CaseDraw.team_id == team_id)) == 1
        assert latest_draw(s, team_id, MONTH).id == first.id
        assert latest_draw(s, team_id, MONTH.shift(1)) is None
    with db.session() as s:  # next month is a new draw
        assert draw_cases_for_team(s, team_id, MONTH.shift(1), today, RULES).month == str(MONTH.shift(1))


def test_the_database_refuses_a_second_current_draw_whatever_writes_it(db: Database, today: date) -> None:
    team_id = _caseload(db, workers=1, cases_each=1)
    with db.session() as s:
        draw_cases_for_team(s, team_id, MONTH, today, RULES)
    with pytest.raises(IntegrityError), db.session() as s:
        s.add(CaseDraw(team_id=team_id, month=str(MONTH), seed="raw", algorithm=ALGORITHM, rules={},
                       drawn_on=today))
        s.flush()
    with db.session() as s:  # an earlier draw no longer current does not count
        s.add(CaseDraw(team_id=team_id, month=str(MONTH), seed="withdrawn", algorithm=ALGORITHM, rules={},
                       drawn_on=today, is_current=False))


# --- re-draws and verification ------------------------------------------------------------


def test_redraw_is_recorded_beside_the_original_and_verifies(db: Database, today: date) -> None:
    team_id = _caseload(db, workers=3, cases_each=4)
    with db.session() as s:
        summary = draw_cases_for_team(s, team_id, MONTH, today, RULES, seed="audit-day")
    target = summary.picks[0]
    with db.session() as s, pytest.raises(ValidationError, match="reason"):
        redraw_for_worker(s, summary.id, target.worker_id, "  ", "tm1", today)
    with db.session() as s:
        first = redraw_for_worker(s, summary.id, target.worker_id, "family moved out of area", "tm1", today)
        second = redraw_for_worker(s, summary.id, target.worker_id, "worker on leave", "tm1", today)
    assert first.replaced_reference == target.case_reference
    assert (first.pick.round, second.pick.round) == (1, 2)
    assert len({target.case_reference, first.pick.case_reference, second.pick.case_reference}) == 3
    with db.reader() as s:
        rows = s.scalars(select(DrawPick).where(DrawPick.worker_id == target.worker_id)
                         .order_by(DrawPick.round)).all()
        assert [r.case_reference for r in rows] == [target.case_reference, first.pick.case_reference,
                                                    second.pick.case_reference]
        assert rows[0].replaces_id is None and rows[0].reason == ""
        assert rows[1].replaces_id == rows[0].id and rows[1].reason == "family moved out of area"
        assert rows[2].replaces_id == rows[1].id and rows[2].requested_by == "tm1"
        current = {p.staff_id: p for p in current_picks(s, summary.id)}
        assert current[target.staff_id].case_reference == second.pick.case_reference
        others = {p.staff_id: p.case_reference for p in summary.picks[1:]}
        assert {k: current[k].case_reference for k in others} == others
        result = verify_draw(s, summary.id, today)
    assert result.picks_match and len(result.pick_checks) == 5
    with db.session() as s:
        redraw_for_worker(s, summary.id, target.worker_id, "last one", "tm1", today)
    with db.session() as s, pytest.raises(NotAllowed, match="nothing is left"):
        redraw_for_worker(s, summary.id, target.worker_id, "again", "tm1", today)


def test_every_row_of_a_draw_has_its_insert_event_in_the_trail(db: Database, today: date) -> None:
    team_id = _caseload(db, workers=2, cases_each=3)
    with db.session() as s:
        summary = draw_cases_for_team(s, team_id, MONTH, today, RULES, seed="trail")
        redraw = redraw_for_worker(s, summary.id, summary.picks[0].worker_id, "sibling audited", "tm1", today)
    with db.reader() as s:
        rows = {r.id: r for model in (CaseDraw, DrawPool, DrawPick)
                for r in s.scalars(select(model).where((model.id if model is CaseDraw else model.draw_id) == summary.id))}
        events = {e.record_id: e for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "insert"))}
    assert len(rows) == 1 + 2 + 3
    for row_id, row in rows.items():
        event = events[str(row_id)]
        assert (event.actor, event.table_name, row.updated_by, row.version) == ("tester", row.__tablename__, "tester", 1)
    by_trail_hook = events[str(redraw.pick.pick_id)].new  # the re-draw is an ordinary ORM insert
    bulk = events[str(summary.picks[0].pick_id)].new
    assert bulk.keys() == by_trail_hook.keys()
    assert bulk["case_reference"] == summary.picks[0].case_reference and bulk["round"] == 0


@pytest.mark.parametrize("tamper", ["original", "redraw", "seed", "chain"])
def test_verify_fails_when_the_record_is_tampered_with(db: Database, today: date, tamper: str) -> None:
    team_id = _caseload(db, workers=2, cases_each=5)
    with db.session() as s:
        summary = draw_cases_for_team(s, team_id, MONTH, today, RULES, seed="honest")
        target = summary.picks[0]
        redraw_for_worker(s, summary.id, target.worker_id, "case closed", "tm1", today)
    pool = next(p.eligible for p in summary.pools if p.staff_id == target.staff_id)
    with db.session() as s:
        picks = s.scalars(select(DrawPick).where(DrawPick.worker_id == target.worker_id).order_by(DrawPick.round)).all()
        if tamper == "original":
            other = next(ref for ref in pool if ref not in {p.case_reference for p in picks})
            s.execute(update(DrawPick).where(DrawPick.id == picks[0].id).values(case_reference=other))
        elif tamper == "redraw":
            s.execute(update(DrawPick).where(DrawPick.id == picks[1].id).values(case_reference=picks[0].case_reference))
        elif tamper == "seed":
            s.execute(update(CaseDraw).where(CaseDraw.id == summary.id).values(seed="dishonest"))
        else:
            s.execute(update(DrawPick).where(DrawPick.id == picks[1].id).values(replaces_id=None))
    with db.reader() as s:
        result = verify_draw(s, summary.id, today)
    assert not result.picks_match
    assert result.pools_current


def test_verify_says_when_pools_no_longer_match_todays_data(db: Database, today: date) -> None:
    team_id = _caseload(db, workers=2, cases_each=3)
    with db.session() as s:
        summary = draw_cases_for_team(s, team_id, MONTH, today, RULES, seed="x")
    with db.session() as s:
        s.execute(update(Case).where(Case.reference == "T1-C0001").values(closed_on=today))
        team = s.get(Team, team_id)
        renamed = s.scalar(select(Person).where(Person.staff_id == "T1-S01"))
        _case(s, "T1-C0199", renamed)
        renamed.staff_id = "T1-S01-NEW"  # the recorded staff ID still derives the pick
        _worker(s, team, "T1-S07")
    with db.reader() as s:
        result = verify_draw(s, summary.id, today)
    assert result.picks_match and not result.pools_current
    changes = {c.staff_id: (c.added, c.removed) for c in result.pool_checks}
    assert changes == {"T1-S00": ((), ("T1-C0001",)), "T1-S01": (("T1-C0199",), ())}
    assert result.workers_joined == ("T1-S07",) and result.workers_left == ()


def test_draw_all_teams_draws_every_team_with_one_seed(db: Database, today: date) -> None:
    _caseload(db, workers=2, cases_each=3, code="A")
    _caseload(db, workers=3, cases_each=2, code="B")
    with db.session() as s:
        _team(s, "EMPTY")
    with db.reader() as s:
        team_b = s.scalar(select(Team.id).where(Team.code == "B"))
        alone = draw_cases_for_team(s, team_b, MONTH, today, RULES, seed="council")
        s.rollback()
    with db.session() as s:
        result = draw_all_teams(s, MONTH, today, RULES, seed="council")
    assert [d.team_code for d in result.draws] == ["A", "B"]
    assert result.teams_without_case_holders == ("EMPTY",)
    assert {d.seed for d in result.draws} == {"council"}
    assert sum(len(d.picks) for d in result.draws) == 5
    assert [p.case_reference for p in alone.picks] == [p.case_reference for p in result.draws[1].picks]
    with db.session() as s:  # again: the teams drawn already are left as they were
        again = draw_all_teams(s, MONTH, today, RULES, seed="council")
    assert (again.draws, again.teams_already_drawn) == ((), ("A", "B"))


# --- the command line ---------------------------------------------------------------------


def _cli(db_url: str, *argv: str) -> int:
    return cli.main(["--db", db_url, "--today", "2026-11-24", *argv])


def test_cli_draw_json_verify_and_redraw(db: Database, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _caseload(db, workers=2, cases_each=3)
    with db.session() as s:
        _worker(s, s.scalar(select(Team).where(Team.code == "T1")), "T1-S05")
    assert _cli(db_url, "draw", "--team", "T1", "--month", "2026-11", "--seed", "cli", "--json") == 0
    made = json.loads(capsys.readouterr().out)
    assert made["seed"] == "cli" and made["team"] == "T1" and made["algorithm"] == ALGORITHM
    assert made["pools"] == {"T1-S00": ["T1-C0000", "T1-C0001", "T1-C0002"],
                             "T1-S01": ["T1-C0100", "T1-C0101", "T1-C0102"], "T1-S05": []}
    by_staff = {p["staff_id"]: p for p in made["picks"]}
    assert by_staff["T1-S00"]["case_reference"] == derive_pick("cli", "T1-S00", made["pools"]["T1-S00"])
    assert by_staff["T1-S05"]["empty_reason"] == "no open cases allocated"

    assert _cli(db_url, "draw", "redraw", made["id"], "--worker", "T1-S00", "--reason", "sibling case") == 0
    assert "replaces " + by_staff["T1-S00"]["case_reference"] in capsys.readouterr().out
    assert _cli(db_url, "draw", "verify", made["id"], "--json") == 0
    checked = json.loads(capsys.readouterr().out)
    assert checked["picks_match"] and len(checked["picks"]) == 3
    assert _cli(db_url, "draw", "verify", made["id"]) == 0
    assert "verified" in capsys.readouterr().out
    with db.reader() as s:
        assert get_draw(s, uuid.UUID(made["id"])).picks[0].round == 1
    with db.session() as s:
        s.execute(update(CaseDraw).where(CaseDraw.id == uuid.UUID(made["id"])).values(seed="forged"))
    assert _cli(db_url, "draw", "verify", made["id"]) == 1
    assert "DOES NOT VERIFY" in capsys.readouterr().out

    assert _cli(db_url, "draw", "--all-teams", "--month", "2026-12", "--json") == 0
    council = json.loads(capsys.readouterr().out)
    assert [d["team"] for d in council] == ["T1"] and len(council[0]["seed"]) == 32


MISTAKES = [
    (("draw", "--team", "NOPE", "--month", "2026-11"), "no team with code 'NOPE'"),
    (("draw", "--team", "T1", "--month", "2026-13"), "--month: expected a month as YYYY-MM"),
    (("draw", "--month", "2026-11"), "--team"),
    (("draw", "--team", "T1", "--seed", "a:b"), "seed: a seed may not contain"),
    (("draw", "verify", "not-an-id"), "ID: expected a draw ID"),
    (("draw", "verify", str(uuid.UUID(int=7))), "No draw with ID"),
]


def test_cli_mistakes_are_one_line_and_exit_2(db: Database, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _caseload(db, workers=1)
    for argv, message in MISTAKES:
        assert _cli(db_url, *argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err, err
