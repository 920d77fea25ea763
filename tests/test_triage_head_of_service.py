"""A head of service opening triage sees their service, every team in it, by default (not one
team, nor the whole council); x brings them back to it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from qa_tui.db.engine import Database
from qa_tui.db.models import Person, Service, Team
from qa_tui.demo import build_demo
from qa_tui.services.programme.triage import TriageFilters, load_triage_filter, save_triage_filter
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of
from tests.test_programme import build

TODAY = date(2026, 11, 24)


def test_a_head_of_service_with_no_saved_filter_gets_their_service(db: Database) -> None:
    ids = build(db)
    with db.session() as s:
        s1 = s.scalars(select(Service.id).where(Service.code == "S1")).one()
        assert load_triage_filter(s, "hos", ids["A1"], ids["HOS1"]) == TriageFilters(service_id=s1)
        assert load_triage_filter(s, "tm", ids["A1"], ids["TM1"]) == TriageFilters(team_id=ids["A1"])
        save_triage_filter(s, "hos", TriageFilters(team_id=ids["A2"]))  # their own choice is kept
        assert load_triage_filter(s, "hos", ids["A1"], ids["HOS1"]) == TriageFilters(team_id=ids["A2"])


@pytest.fixture
def demo_db(db: Database) -> Database:
    build_demo(db, today=TODAY, cases=400)
    return db


async def test_a_head_of_service_opens_triage_on_their_service(demo_db: Database) -> None:
    with demo_db.reader() as s:
        head = s.scalars(select(Person).where(Person.role == "HOS").order_by(Person.staff_id)).first()
        assert head is not None
        staff_id, own_team = head.staff_id, head.team_id
        services = {t_id: service for t_id, service in s.execute(select(Team.id, Team.service_id))}
        names = dict(s.execute(select(Service.id, Service.name)).all())
    ctx = make_context(url_of(demo_db), today=TODAY, staff_id=staff_id)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        service = screen.filters.service_id
        assert service is not None and screen.filters.team_id is None
        assert own_team is None or services[own_team] == service
        assert f"service {names[service]}" in screen_text(app)
        teams = {r.team_id for r in screen.rows}
        assert screen.rows and {services.get(t) for t in teams if t is not None} == {service}
        screen.filters = TriageFilters(kinds=("action",))  # the whole council
        await pilot.press("x")
        await settle(pilot)
        assert screen.filters == TriageFilters(service_id=service)
    ctx.db.dispose()
