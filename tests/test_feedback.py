"""Feedback: recording with validation, the follow-up for the worker, summaries by period and
team, and the feedback form's QR code (terminal text and a private PNG)."""

from __future__ import annotations

import stat
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from qa_tui.db.engine import Database
from qa_tui.db.models import Case, Feedback, FollowUp, Person, Team
from qa_tui.errors import NotFound, ValidationError
from qa_tui.services.practice.feedback import (
    feedback_qr_text,
    feedback_summary,
    record_feedback,
    save_feedback_qr_png,
)

URL = "https://forms.example.org/qa-feedback"


def _org(db: Database) -> dict[str, uuid.UUID]:
    with db.session() as s:
        t1, t2 = Team(code="T1", name="Assessment 1"), Team(code="T2", name="Children in care")
        s.add_all([t1, t2])
        s.flush()
        sw1 = Person(staff_id="SW1", name="Sam Worker", role="SW", team_id=t1.id)
        sw2 = Person(staff_id="SW2", name="Sol Other", role="SW", team_id=t2.id)
        s.add_all([sw1, sw2])
        s.flush()
        allocated = Case(reference="CASE-0101", category="CLA", worker_id=sw1.id, team_id=t1.id)
        unallocated = Case(reference="CASE-0102", category="CIN", team_id=t2.id)
        s.add_all([allocated, unallocated])
        s.flush()
        return {"t1": t1.id, "t2": t2.id, "sw1": sw1.id, "sw2": sw2.id,
                "case": allocated.id, "unallocated": unallocated.id}


def _record(db: Database, today: date, **overrides):
    values = {"received_on": today, "giver": "parent", "channel": "qr", "rating": 4,
              "said": "She listened to us", "themes": ["Listening"], "today": today}
    values.update(overrides)
    with db.session() as s:
        return record_feedback(s, **values)


def test_feedback_about_a_case_goes_to_its_worker_with_a_follow_up(db: Database, today: date) -> None:
    ids = _org(db)
    view = _record(db, today, case_id=ids["case"], received_on=date(2026, 11, 20))
    assert (view.worker_id, view.case_reference, view.themes) == (ids["sw1"], "CASE-0101", ("Listening",))
    with db.reader() as s:
        row = s.get(Feedback, view.id)
        item = s.scalar(select(FollowUp))
    assert (row.case_id, row.worker_id, row.giver, row.channel, row.rating, row.said) == (
        ids["case"], ids["sw1"], "parent", "qr", 4, "She listened to us")
    assert (item.worker_id, item.source_kind, item.source_id, item.raised_on) == (ids["sw1"], "feedback", view.id, today)
    assert item.summary == "Feedback from a parent about case CASE-0101 received 2026-11-20, rated 4/5"


def test_feedback_without_a_worker_raises_no_follow_up(db: Database, today: date) -> None:
    ids = _org(db)
    view = _record(db, today, case_id=ids["unallocated"], rating=None, giver="professional", channel="email")
    assert view.worker_id is None
    with db.reader() as s:
        assert s.scalars(select(FollowUp)).all() == []
        assert s.get(Feedback, view.id).rating is None


@pytest.mark.parametrize(("overrides", "field"), [
    ({"giver": "neighbour"}, "giver"),
    ({"channel": "fax"}, "channel"),
    ({"rating": 0}, "rating"),
    ({"rating": 6}, "rating"),
    ({"rating": True}, "rating"),
    ({"rating": 3.5}, "rating"),
    ({"rating": None, "said": "   "}, "said"),
    ({"received_on": date(2026, 11, 25)}, "received_on"),
])
def test_bad_feedback_is_refused_and_nothing_written(db: Database, today: date, overrides: dict, field: str) -> None:
    _org(db)
    with pytest.raises(ValidationError) as err:
        _record(db, today, **overrides)
    assert err.value.field == field
    with db.reader() as s:
        assert s.scalars(select(Feedback)).all() == []


def test_unknown_case_or_worker_is_not_found(db: Database, today: date) -> None:
    _org(db)
    with pytest.raises(NotFound):
        _record(db, today, case_id=uuid.uuid4())
    with pytest.raises(NotFound):
        _record(db, today, worker_id=uuid.uuid4())


def test_summary_by_period_and_team(db: Database, today: date) -> None:
    ids = _org(db)
    _record(db, today, case_id=ids["case"], rating=5, themes=["Listening", "Reliable"])
    _record(db, today, worker_id=ids["sw1"], giver="child", channel="in_person", rating=3, themes=["listening"])
    _record(db, today, worker_id=ids["sw2"], giver="carer", channel="phone", rating=2, themes=[])
    _record(db, today, case_id=ids["unallocated"], giver="professional", channel="email", rating=None, said="Timely", themes=[])
    _record(db, today, received_on=today - timedelta(days=60), worker_id=ids["sw1"], rating=1)

    with db.reader() as s:
        month = feedback_summary(s, date(2026, 11, 1), date(2026, 11, 30))
        team1 = feedback_summary(s, date(2026, 11, 1), date(2026, 11, 30), team_id=ids["t1"])
        team2 = feedback_summary(s, date(2026, 11, 1), date(2026, 11, 30), team_id=ids["t2"])
        empty = feedback_summary(s, date(2025, 1, 1), date(2025, 1, 31))
    assert (month.received, month.rated, month.average_rating) == (4, 3, 3.33)
    assert dict(month.rating_counts) == {1: 0, 2: 1, 3: 1, 4: 0, 5: 1}
    assert dict(month.by_giver) == {"child": 1, "young_person": 0, "parent": 1, "carer": 1, "professional": 1}
    assert dict(month.by_channel)["email"] == 1
    assert [(t.theme, t.count) for t in month.themes] == [("Listening", 2), ("Reliable", 1)]
    assert (team1.received, team1.average_rating) == (2, 4.0)
    assert (team2.received, team2.rated) == (2, 1)  # SW2's, and the unallocated T2 case's
    assert (empty.received, empty.average_rating, empty.themes) == (0, None, ())


def test_qr_text_draws_the_form_address() -> None:
    text = feedback_qr_text(URL)
    lines = text.splitlines()
    assert len(lines) > 10 and set("".join(lines)) <= {" ", "█", "▀", "▄"}
    assert feedback_qr_text(URL) == text
    assert feedback_qr_text(URL + "?team=T1") != text


def test_qr_png_is_private_and_a_png(tmp_path: Path) -> None:
    target = tmp_path / "qr" / "feedback.png"
    target.parent.mkdir()
    target.write_bytes(b"old")
    target.chmod(0o644)
    written = save_feedback_qr_png(URL, target)
    assert written == target
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert [p.name for p in target.parent.iterdir()] == ["feedback.png"]


def test_qr_needs_a_configured_address(tmp_path: Path) -> None:
    for bad in ("", "   "):
        with pytest.raises(ValidationError, match=r"set \[feedback\] form_url in the config file") as err:
            feedback_qr_text(bad)
        assert err.value.field == "feedback.form_url"
    with pytest.raises(ValidationError, match="https://"):
        save_feedback_qr_png("forms.example.org", tmp_path / "x.png")
    with pytest.raises(ValidationError, match="cannot write"):
        save_feedback_qr_png(URL, tmp_path / "missing" / "x.png")
    assert list(tmp_path.iterdir()) == []
