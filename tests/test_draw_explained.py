"""Why the draw picked what it picked: the recorded rules in words, each worker's pool and its
size, the original pick beside each re-draw with its reason in full, people named (not logins);
and the screen reached by i from the live audit."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from qa_tui.config import DrawRules
from qa_tui.dates import Month
from qa_tui.db.engine import Database
from qa_tui.db.models import Case, Person
from qa_tui.services.audits.draw import draw_cases_for_team, get_draw, redraw_for_worker
from qa_tui.services.audits.draw_explained import explain_draw
from tests.pilot import SIZE, become, make_app, make_context, screen_text, settle, url_of
from tests.test_audits import seed_org

MONTH = Month(2026, 11)


def drawn_and_redrawn(db: Database, today: date, *, signed_in: bool = False):  # noqa: ANN201
    """A draw and a re-draw by Terry Manager (M001), recorded under his login: "tmanager", or, when
    `signed_in`, the login the database links him to as the test's user (tests.pilot.become)."""
    org = seed_org(db)
    with db.session() as s:
        for n in range(3, 7):
            s.add(Case(reference=f"CASE-000{n}", category="CIN", worker_id=org.worker_id, team_id=org.team_id))
        if not signed_in:
            s.get(Person, org.auditor_id).login = "tmanager"
    if signed_in:
        become(url_of(db), "M001")
    with db.session() as s:
        login = s.scalar(select(Person.login).where(Person.id == org.auditor_id)) or "M001"
    with db.session() as s:
        draw = draw_cases_for_team(s, org.team_id, MONTH, today, DrawRules(), seed="a" * 32, drawn_by=login)
    with db.session() as s:
        redraw_for_worker(s, draw.id, org.worker_id, "The case is in court this week [urgent]", login, today)
    return org, draw


def test_the_draw_is_explained_with_rules_pools_and_each_redraw_in_full(db: Database, today: date) -> None:
    org, draw = drawn_and_redrawn(db, today)
    with db.reader() as s:
        explained = explain_draw(s, draw.id)
        assert get_draw(s, draw.id).drawn_by_name == "Terry Manager (M001)"
    assert explained.drawn_by == "Terry Manager (M001)"
    assert explained.rules[0].startswith("Workers taking part: active case-holders (")
    assert "Left out: cases audited in the last 12 months." in explained.rules
    assert any(r.startswith("Offered all the same: cases due a re-audit for impact, 3 months") for r in explained.rules)
    assert "Left out: cases already drawn this month." in explained.rules
    worker = next(w for w in explained.workers if w.worker_id == org.worker_id)
    assert worker.pool == ("CASE-0001", "CASE-0002", "CASE-0003", "CASE-0004", "CASE-0005", "CASE-0006")
    assert [p.round for p in worker.picks] == [0, 1]
    assert worker.original.case_reference != worker.current.case_reference
    assert worker.current.reason == "The case is in court this week [urgent]"
    assert worker.current.requested_by == "Terry Manager (M001)"
    assert worker.original.requested_by == ""
    advanced = next(w for w in explained.workers if w.staff_id == "A001")  # holds no case
    assert advanced.pool == () and advanced.picks == () and advanced.empty_reason == "no open cases allocated"


async def test_i_on_the_live_audit_shows_why_each_case_was_drawn(db: Database, today: date) -> None:
    org, draw = drawn_and_redrawn(db, today, signed_in=True)
    app = make_app(make_context(url_of(db), today=today, staff_id="M001"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        assert "by Terry Manager (M001)" in screen_text(app)
        table = app.screen.query_one("#plan-table")
        table.select(next(r for r in table.records if getattr(getattr(r, "pick", None), "worker_id", None)
                          == org.worker_id))
        await pilot.press("i")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "DrawExplanationScreen"
        text = screen_text(app)
        assert "Left out: cases audited in the last 12 months." in text
        assert "Sam Worker (W001, Social worker) · 6 eligible cases: CASE-0001, CASE-0002" in text
        assert "Original pick: " in text
        assert "Re-draw 1: " in text and "asked by Terry Manager (M001): The case is in court this week [urgent]" in text
        row = app.screen.query_one("#td-table").current
        assert row.worker_id == org.worker_id
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "LiveAuditScreen"
