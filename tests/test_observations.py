"""Observations: recording and save-as-you-go edits, yearly coverage around 31 March / 1 April,
ASYE windows for newly qualified workers, and themes."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from qa_tui.config import parse_config
from qa_tui.dates import financial_year_end, financial_year_start
from qa_tui.db.engine import Database
from qa_tui.db.models import AuditEvent, FollowUp, Observation, Person, Team
from qa_tui.db.trail import ACTOR_KEY
from qa_tui.errors import ChangedElsewhere, NotFound, ValidationError
from qa_tui.services.practice.observations import (
    asye_verdict,
    asye_windows,
    observation_coverage,
    observation_themes,
    practitioner_verdict,
    record_observation,
    update_observation_field,
)

CFG = parse_config({})
DATES = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


def _org(db: Database) -> dict[str, uuid.UUID]:
    """A team with a manager, a social worker, an NQSW (ASYE from 15 May 2026), an IRO and a PI
    officer (not a practitioner), plus a second team's social worker."""
    with db.session() as s:
        t1, t2 = Team(code="T1", name="Assessment 1"), Team(code="T2", name="Children in care")
        s.add_all([t1, t2])
        s.flush()
        people = {
            "tm": Person(staff_id="TM1", name="Tess Manager", role="TM", team_id=t1.id),
            "sw": Person(staff_id="SW1", name="Sam Worker", role="SW", team_id=t1.id, active_from=date(2020, 1, 6)),
            "nqsw": Person(staff_id="NQ1", name="Nia Newly", role="NQSW", team_id=t1.id,
                           asye_start=date(2026, 5, 15), active_from=date(2026, 5, 15)),
            "iro": Person(staff_id="IRO1", name="Ira Chair", role="IRO", team_id=t1.id),
            "pi": Person(staff_id="PI1", name="Pat Improve", role="PI", team_id=t1.id),
            "sw2": Person(staff_id="SW2", name="Sol Other", role="SW", team_id=t2.id),
        }
        s.add_all(people.values())
        s.flush()
        ids = {k: p.id for k, p in people.items()}
        ids["t1"], ids["t2"] = t1.id, t2.id
    return ids


def _observe(db: Database, ids: dict[str, uuid.UUID], worker: str, on: date, kind: str = "annual",
             today: date | None = None, themes: list[str] | None = None):
    with db.session() as s:
        return record_observation(
            s, observer_id=ids["tm"], worker_id=ids[worker], observed_on=on, kind=kind,
            setting="Home visit", went_well="Warm, clear explanation", to_develop="Check understanding",
            reflection="I could slow down", feedback_shared=True, themes=themes or [], today=today or on)


def _row(db: Database, today: date, staff_id: str):
    with db.reader() as s:
        rows = observation_coverage(s, today, CFG)
    return next(r for r in rows if r.staff_id == staff_id)


def test_record_observation_stores_it_and_raises_a_reflective_review(db: Database, today: date) -> None:
    ids = _org(db)
    view = _observe(db, ids, "sw", date(2026, 11, 20), today=today, themes=[" Voice of the child ", "voice of the child", "", "Analysis"])
    with db.reader() as s:
        obs = s.get(Observation, view.id)
        assert (obs.worker_id, obs.observer_id, obs.kind, obs.observed_on) == (ids["sw"], ids["tm"], "annual", date(2026, 11, 20))
        assert (obs.setting, obs.went_well, obs.to_develop, obs.reflection) == (
            "Home visit", "Warm, clear explanation", "Check understanding", "I could slow down")
        assert obs.feedback_shared is True
        assert obs.themes == ["Voice of the child", "Analysis"]
        follow_ups = s.scalars(select(FollowUp)).all()
        assert len(follow_ups) == 1
        item = follow_ups[0]
        assert (item.worker_id, item.source_kind, item.source_id, item.raised_on, item.supervision_id) == (
            ids["sw"], "observation", view.id, today, None)
        assert "2026-11-20" in item.summary and "Home visit" in item.summary
        tables = {e.table_name for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "insert"))}
        assert {"observation", "follow_up"} <= tables


@pytest.mark.parametrize("kind", ["asye", "annual", "peer", "iro_review"])
def test_every_kind_can_be_recorded_for_the_right_worker(db: Database, today: date, kind: str) -> None:
    ids = _org(db)
    worker = "nqsw" if kind == "asye" else "sw"
    view = _observe(db, ids, worker, date(2026, 11, 1), kind=kind, today=today)
    with db.reader() as s:
        assert s.get(Observation, view.id).kind == kind


def test_recording_refuses_bad_input(db: Database, today: date) -> None:
    ids = _org(db)
    with pytest.raises(ValidationError, match="only for newly qualified") as err:
        _observe(db, ids, "sw", date(2026, 11, 1), kind="asye", today=today)
    assert err.value.field == "kind"
    with pytest.raises(ValidationError, match="in the future") as err:
        _observe(db, ids, "sw", today + timedelta(days=1), today=today)
    assert err.value.field == "observed_on"
    with pytest.raises(ValidationError, match="expected one of"):
        _observe(db, ids, "sw", today, kind="shadowing", today=today)
    with pytest.raises(ValidationError, match="own practice"), db.session() as s:
        record_observation(s, observer_id=ids["sw"], worker_id=ids["sw"], observed_on=today,
                           kind="annual", setting="", went_well="", to_develop="", reflection="",
                           feedback_shared=False, themes=[], today=today)
    with pytest.raises(NotFound), db.session() as s:
        record_observation(s, observer_id=ids["tm"], worker_id=uuid.uuid4(), observed_on=today,
                           kind="annual", setting="", went_well="", to_develop="", reflection="",
                           feedback_shared=False, themes=[], today=today)
    with db.reader() as s:
        assert s.scalars(select(Observation)).all() == []
        assert s.scalars(select(FollowUp)).all() == []


def test_save_as_you_go_checks_fields_types_and_versions(db: Database, today: date) -> None:
    ids = _org(db)
    view = _observe(db, ids, "sw", date(2026, 11, 2), today=today)
    with db.session() as s:
        v2 = update_observation_field(s, view.id, "went_well", "Calm and curious", expected_version=view.version)
    assert v2.version == view.version + 1 and v2.went_well == "Calm and curious"
    with db.session() as s:
        v3 = update_observation_field(s, view.id, "themes", ["Risk", " risk ", "Planning"], expected_version=v2.version)
    assert v3.themes == ("Risk", "Planning")
    with pytest.raises(ChangedElsewhere), db.session() as s:
        update_observation_field(s, view.id, "reflection", "stale edit", expected_version=v2.version)
    with pytest.raises(ValidationError, match="not an observation field"), db.session() as s:
        update_observation_field(s, view.id, "worker_id", uuid.uuid4())
    with pytest.raises(ValidationError, match="yes or no"), db.session() as s:
        update_observation_field(s, view.id, "feedback_shared", "yes")
    with pytest.raises(ValidationError, match="expected text"), db.session() as s:
        update_observation_field(s, view.id, "to_develop", 42)
    with pytest.raises(ValidationError, match="at most 200"), db.session() as s:
        update_observation_field(s, view.id, "setting", "x" * 201)
    with pytest.raises(ValidationError, match="only for newly qualified"), db.session() as s:
        update_observation_field(s, view.id, "kind", "asye")
    with pytest.raises(ValidationError, match="in the future"), db.session() as s:
        update_observation_field(s, view.id, "observed_on", today + timedelta(days=3), today=today)
    with pytest.raises(TypeError), db.session() as s:
        update_observation_field(s, view.id, "observed_on", date(2026, 11, 3))
    with db.session() as s:
        update_observation_field(s, view.id, "observed_on", date(2026, 11, 3), today=today)
    with db.reader() as s:
        obs = s.get(Observation, view.id)
        assert (obs.went_well, obs.reflection, obs.observed_on, obs.version) == (
            "Calm and curious", "I could slow down", date(2026, 11, 3), v3.version + 1)
        summary = s.scalar(select(FollowUp.summary).where(FollowUp.source_id == view.id))
        assert "2026-11-03" in summary


def test_yearly_coverage_around_the_financial_year_boundary(db: Database) -> None:
    ids = _org(db)
    _observe(db, ids, "sw", date(2026, 3, 31))

    on_the_day = _row(db, date(2026, 3, 31), "SW1")
    assert (on_the_day.status, on_the_day.observed_this_year, on_the_day.next_due) == ("covered", 1, date(2027, 3, 31))
    next_year = _row(db, date(2026, 4, 1), "SW1")
    assert (next_year.status, next_year.observed_this_year, next_year.next_due) == ("due", 0, date(2027, 3, 31))
    assert next_year.last_observed == date(2026, 3, 31)
    assert _row(db, date(2026, 12, 31), "SW1").status == "due"
    last_quarter = _row(db, date(2027, 1, 1), "SW1")
    assert last_quarter.status == "overdue" and "FY 2026/27" in last_quarter.reason

    _observe(db, ids, "sw", date(2026, 4, 1), today=date(2027, 3, 31))
    year_end = _row(db, date(2027, 3, 31), "SW1")
    assert (year_end.status, year_end.observed_this_year, year_end.last_observed) == ("covered", 1, date(2026, 4, 1))
    assert _row(db, date(2027, 4, 1), "SW1").status == "due"


def test_coverage_lists_practitioners_only_and_filters_by_team(db: Database, today: date) -> None:
    ids = _org(db)
    with db.reader() as s:
        everyone = observation_coverage(s, today, CFG)
        team1 = observation_coverage(s, today, CFG, team_id=ids["t1"])
        managers = observation_coverage(s, today, CFG, roles=("TM",))
    assert [(r.team_code, r.staff_id) for r in everyone] == [
        ("T1", "IRO1"), ("T1", "NQ1"), ("T1", "SW1"), ("T2", "SW2")]
    assert {r.staff_id for r in team1} == {"IRO1", "NQ1", "SW1"}
    assert [r.staff_id for r in managers] == ["TM1"]
    assert all(r.status == "due" for r in everyone if r.role != "NQSW")


def test_joining_in_the_last_quarter_is_due_not_overdue(db: Database) -> None:
    _org(db)
    with db.session() as s:
        s.add(Person(staff_id="SW9", name="Late Joiner", role="SW", active_from=date(2027, 1, 12)))
    assert _row(db, date(2027, 2, 1), "SW9").status == "due"
    assert _row(db, date(2027, 2, 1), "SW1").status == "overdue"


def test_nqsw_windows_from_asye_start(db: Database, today: date) -> None:
    ids = _org(db)
    # ASYE from 15 May 2026: windows 15 May–14 Aug, 15 Aug–14 Nov, 15 Feb–14 May 2027.
    row = _row(db, today, "NQ1")
    assert (row.status, row.next_due) == ("overdue", date(2026, 8, 14))
    assert "months 0–3" in row.reason

    _observe(db, ids, "nqsw", date(2026, 6, 1), kind="asye", today=today)
    row = _row(db, today, "NQ1")
    assert (row.status, row.next_due) == ("overdue", date(2026, 11, 14))
    assert "months 3–6" in row.reason

    _observe(db, ids, "nqsw", date(2026, 9, 10), kind="peer", today=today)  # not an ASYE observation
    assert _row(db, today, "NQ1").status == "overdue"
    _observe(db, ids, "nqsw", date(2026, 9, 10), kind="asye", today=today)
    row = _row(db, today, "NQ1")
    assert (row.status, row.next_due, row.observed_this_year) == ("covered", date(2027, 5, 14), 3)

    assert _row(db, date(2027, 3, 1), "NQ1").status == "due"
    assert _row(db, date(2027, 5, 15), "NQ1").status == "overdue"


def test_nqsw_with_no_asye_start_uses_the_yearly_rule(db: Database, today: date) -> None:
    _org(db)
    with db.session() as s:
        s.add(Person(staff_id="NQ2", name="No Start", role="NQSW"))
    row = _row(db, today, "NQ2")
    assert row.status == "due" and "no ASYE start date" in row.reason


def test_asye_windows_default_and_configured() -> None:
    default = asye_windows(date(2027, 1, 31), 3)
    assert [(w.starts, w.ends) for w in default] == [
        (date(2027, 1, 31), date(2027, 4, 29)),
        (date(2027, 4, 30), date(2027, 7, 30)),
        (date(2027, 10, 31), date(2028, 1, 30)),
    ]
    four = asye_windows(date(2026, 4, 1), 4)
    assert [(w.first_month, w.last_month) for w in four] == [(0, 3), (3, 6), (6, 9), (9, 12)]
    assert four[-1].ends == date(2027, 3, 31)


def test_observation_themes_count_across_observations(db: Database, today: date) -> None:
    ids = _org(db)
    _observe(db, ids, "sw", date(2026, 10, 1), themes=["Voice of the child", "Analysis"], today=today)
    _observe(db, ids, "sw2", date(2026, 11, 1), themes=["voice of the child"], today=today)
    _observe(db, ids, "iro", date(2026, 9, 1), themes=["Analysis"], today=today)
    with db.reader() as s:
        counts = observation_themes(s, date(2026, 10, 1), date(2026, 11, 30))
    assert [(c.theme, c.count) for c in counts] == [("Voice of the child", 2), ("Analysis", 1)]


# --- properties -------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(day=DATES)
def test_financial_year_contains_the_day_and_is_a_year_long(day: date) -> None:
    start, end = financial_year_start(day), financial_year_end(day)
    assert start <= day <= end
    assert (start.month, start.day, end.month, end.day) == (4, 1, 3, 31)
    assert (end - start).days + 1 in (365, 366)


@settings(max_examples=200, deadline=None)
@given(today=DATES, back=st.integers(min_value=0, max_value=366), joined=st.none() | DATES)
def test_an_observation_in_the_same_year_covers_a_practitioner(today: date, back: int, joined: date | None) -> None:
    observed = max(financial_year_start(today), today - timedelta(days=back))
    assert practitioner_verdict([observed], today, joined).status == "covered"
    earlier = financial_year_start(today) - timedelta(days=1 + back)
    verdict = practitioner_verdict([earlier], today, joined)
    assert verdict.status in ("due", "overdue") and verdict.next_due == financial_year_end(today)


@settings(max_examples=200, deadline=None)
@given(start=DATES, today=DATES, per_year=st.integers(min_value=1, max_value=12))
def test_asye_windows_and_verdicts(start: date, today: date, per_year: int) -> None:
    windows = asye_windows(start, per_year)
    assert len(windows) == per_year and windows[0].starts == start
    assert all(w.starts <= w.ends for w in windows)
    assert all(a.ends < b.starts for a, b in zip(windows, windows[1:]))
    # one observation at the start of every window: never overdue while in the ASYE year
    met = [w.starts for w in windows]
    verdict = asye_verdict(start, met, met, today, per_year)
    if today <= windows[-1].ends:
        assert verdict.status == "covered"
    # nothing observed: overdue exactly when the first window has ended
    empty = asye_verdict(start, [], [], today, per_year)
    assert (empty.status == "overdue") == (today > windows[0].ends)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(today=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
       back=st.integers(min_value=0, max_value=366))
def test_coverage_report_agrees_for_any_today(db: Database, today: date, back: int) -> None:
    observed_on = max(financial_year_start(today), today - timedelta(days=back))
    with db.factory() as s:
        s.info[ACTOR_KEY] = "tester"
        worker = Person(staff_id=f"P{uuid.uuid4().hex[:8]}", name="Any Worker", role="SW")
        observer = Person(staff_id=f"O{uuid.uuid4().hex[:8]}", name="Any Observer", role="TM")
        s.add_all([worker, observer])
        s.flush()
        record_observation(s, observer_id=observer.id, worker_id=worker.id, observed_on=observed_on,
                           kind="annual", setting="", went_well="", to_develop="", reflection="",
                           feedback_shared=False, themes=[], today=today)
        rows = observation_coverage(s, today, CFG)
        s.rollback()
    assert [(r.status, r.observed_this_year) for r in rows] == [("covered", 1)]
