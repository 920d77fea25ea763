"""Dip samples: start from the case's allocation, rate areas, close the loop with the worker,
finalise only when complete, and which team managers have done this month's."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import select

from qa_tui.config import DIP_SAMPLE_AREAS, parse_config
from qa_tui.db.engine import Database
from qa_tui.db.models import Audit, AuditGrade, AuditTemplate, Case, FollowUp, Person, Team
from qa_tui.errors import ChangedElsewhere, NotAllowed, NotFound, ValidationError
from qa_tui.services.practice.dip_sample import (
    close_loop_with_worker,
    dip_samples_due,
    finalise_dip_sample,
    rate_area,
    start_dip_sample,
)

CFG = parse_config({})
AREAS = [key for key, _ in DIP_SAMPLE_AREAS]


def _org(db: Database) -> dict[str, uuid.UUID]:
    with db.session() as s:
        t1, t2 = Team(code="T1", name="Assessment 1"), Team(code="T2", name="Children in care")
        s.add_all([t1, t2])
        s.flush()
        people = {
            "tm": Person(staff_id="TM1", name="Tess Manager", role="TM", team_id=t1.id),
            "tm2": Person(staff_id="TM2", name="Theo Manager", role="TM", team_id=t2.id),
            "gone": Person(staff_id="TM3", name="Gone Manager", role="TM", team_id=t2.id, active_to=date(2026, 1, 1)),
            "sw": Person(staff_id="SW1", name="Sam Worker", role="SW", team_id=t1.id),
        }
        s.add_all(people.values())
        s.flush()
        allocated = Case(reference="CASE-0007", category="CIN", worker_id=people["sw"].id, team_id=t1.id)
        unallocated = Case(reference="CASE-0008", category="CIN", team_id=t1.id)
        s.add_all([allocated, unallocated])
        s.flush()
        ids = {k: p.id for k, p in people.items()}
        ids.update(t1=t1.id, case=allocated.id, unallocated=unallocated.id)
    return ids


def _start(db: Database, ids: dict[str, uuid.UUID], today: date, manager: str = "tm"):
    with db.session() as s:
        return start_dip_sample(s, case_id=ids["case"], manager_id=ids[manager], today=today, cfg=CFG)


def test_start_uses_the_case_allocation_and_the_dip_template(db: Database, today: date) -> None:
    ids = _org(db)
    view = _start(db, ids, today)
    assert (view.status, view.case_reference, view.scale) == ("draft", "CASE-0007", ("Met", "Partly met", "Not met"))
    assert [a.key for a in view.areas] == AREAS and all(a.rating is None for a in view.areas)
    with db.reader() as s:
        audit = s.get(Audit, view.id)
        template = s.get(AuditTemplate, audit.template_id)
        assert (audit.kind, audit.worker_id, audit.auditor_id, audit.team_id, audit.audit_date) == (
            "dip_sample", ids["sw"], ids["tm"], ids["t1"], today)
        assert (template.key, template.template_version) == ("dip", 1)
    with pytest.raises(NotAllowed, match="already in progress"):
        _start(db, ids, today, manager="tm2")
    with pytest.raises(ValidationError, match="no allocated worker"), db.session() as s:
        start_dip_sample(s, case_id=ids["unallocated"], manager_id=ids["tm"], today=today, cfg=CFG)
    with pytest.raises(NotAllowed, match="You hold"), db.session() as s:
        s.get(Case, ids["unallocated"]).worker_id = ids["tm"]
        s.flush()
        start_dip_sample(s, case_id=ids["unallocated"], manager_id=ids["tm"], today=today, cfg=CFG)
    with pytest.raises(NotFound), db.session() as s:
        start_dip_sample(s, case_id=uuid.uuid4(), manager_id=ids["tm"], today=today, cfg=CFG)


def test_rating_areas_stores_agreed_grades_with_comments(db: Database, today: date) -> None:
    ids = _org(db)
    view = _start(db, ids, today)
    with db.session() as s:
        rated = rate_area(s, view.id, "chronology", 1, "Gaps since September")
    area = next(a for a in rated.areas if a.key == "chronology")
    assert (area.rating, area.rating_label, area.comment, area.version) == (1, "Partly met", "Gaps since September", 1)
    with db.session() as s:
        rate_area(s, view.id, "chronology", 0, "Now up to date", expected_version=area.version)
    with pytest.raises(ChangedElsewhere), db.session() as s:
        rate_area(s, view.id, "chronology", 2, "stale", expected_version=area.version)
    with pytest.raises(ValidationError, match="unknown area"), db.session() as s:
        rate_area(s, view.id, "finance", 0, "")
    for bad in (3, -1, True, "Met"):
        with pytest.raises(ValidationError, match="from 0 to 2"), db.session() as s:
            rate_area(s, view.id, "visits", bad, "")
    with db.reader() as s:
        grades = s.scalars(select(AuditGrade).where(AuditGrade.audit_id == view.id)).all()
    assert [(g.domain, g.grade, g.comment, g.participant_id) for g in grades] == [
        ("chronology", 0, "Now up to date", None)]


def test_finalise_needs_every_area_rated_and_the_loop_closed(db: Database, today: date) -> None:
    ids = _org(db)
    view = _start(db, ids, today)
    with db.session() as s:
        rate_area(s, view.id, "case_summary", 0, "Clear")
        rate_area(s, view.id, "visits", 0, "On time")
    with pytest.raises(ValidationError) as err, db.session() as s:
        finalise_dip_sample(s, view.id, today)
    assert err.value.field == "areas.chronology" and "Chronology is not rated" in str(err.value)

    with db.session() as s:
        for key in AREAS:
            rate_area(s, view.id, key, 2 if key == "voice" else 0, "")
    with pytest.raises(ValidationError, match="share the findings"), db.session() as s:
        finalise_dip_sample(s, view.id, today)

    with pytest.raises(ValidationError, match="say what was found"), db.session() as s:
        close_loop_with_worker(s, view.id, "  ", today)
    with db.session() as s:
        shared = close_loop_with_worker(s, view.id, "Child's voice missing from the last three visits", today)
    assert shared.shared_with_worker_on == today
    with pytest.raises(NotAllowed, match="already shared"), db.session() as s:
        close_loop_with_worker(s, view.id, "again", today)
    with db.session() as s:
        final = finalise_dip_sample(s, view.id, today)
    assert final.status == "finalised"
    with db.reader() as s:
        audit = s.get(Audit, view.id)
        item = s.scalar(select(FollowUp).where(FollowUp.source_id == view.id))
    assert audit.status == "finalised" and audit.finalised_at is not None and audit.moderated_at is None
    assert (item.worker_id, item.source_kind, item.supervision_id) == (ids["sw"], "dip_sample", None)

    with pytest.raises(NotAllowed, match="finalised"), db.session() as s:
        rate_area(s, view.id, "visits", 1, "late change")
    with pytest.raises(NotAllowed, match="finalised"), db.session() as s:
        finalise_dip_sample(s, view.id, today)


def test_live_audits_are_not_dip_samples(db: Database, today: date) -> None:
    ids = _org(db)
    view = _start(db, ids, today)
    with db.session() as s:
        s.get(Audit, view.id).kind = "live"
    with pytest.raises(NotFound), db.session() as s:
        rate_area(s, view.id, "visits", 0, "")


def _finished(db: Database, ids: dict[str, uuid.UUID], day: date, manager: str = "tm") -> None:
    view = _start(db, ids, day, manager)
    with db.session() as s:
        for key in AREAS:
            rate_area(s, view.id, key, 0, "")
        close_loop_with_worker(s, view.id, "All met", day)
        finalise_dip_sample(s, view.id, day)


def test_dip_samples_due_per_team_manager_this_month(db: Database, today: date) -> None:
    ids = _org(db)
    _finished(db, ids, date(2026, 10, 30))
    with db.reader() as s:
        rows = dip_samples_due(s, today)
    assert [(r.staff_id, r.done, r.finalised_this_month, r.in_progress, r.last_finalised_on) for r in rows] == [
        ("TM1", False, 0, 0, date(2026, 10, 30)), ("TM2", False, 0, 0, None)]
    assert rows[0].month == "2026-11" and rows[0].team_code == "T1"

    _finished(db, ids, date(2026, 11, 1))
    _start(db, ids, today, manager="tm2")  # a draft does not count as done
    with db.reader() as s:
        rows = {r.staff_id: r for r in dip_samples_due(s, today)}
        team1 = dip_samples_due(s, today, team_id=ids["t1"])
        next_month = {r.staff_id: r for r in dip_samples_due(s, date(2026, 12, 1))}
    assert (rows["TM1"].done, rows["TM1"].finalised_this_month) == (True, 1)
    assert (rows["TM2"].done, rows["TM2"].in_progress) == (False, 1)
    assert [r.staff_id for r in team1] == ["TM1"]
    assert next_month["TM1"].done is False
