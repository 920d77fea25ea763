"""Importing a CIN census from the app, by keyboard: the file's name typed with brackets and
quotes, the kind guessed from it, the preview read, then written with one key and a confirmation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qa_tui.db.engine import Database
from qa_tui.db.models import Case, CpPlan, Person, Service, Team
from tests.cin_census_files import Layout, synthetic_children, write_census
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of

TODAY = date(2026, 11, 24)

# The service is tested on both databases in test_cin_census.py; this journey is about the keys.
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


async def test_import_a_cin_census_from_the_app(db: Database, tmp_path: Path) -> None:
    with db.session() as s:
        service = Service(code="CS", name="Children's Services")
        team = Team(code="A1", name="Assessment Team 1", service=service)
        s.add_all([service, team])
        s.flush()
        tm = Person(staff_id="TM1", name="Morgan Pryce", role="TM", team_id=team.id)
        s.add(tm)
        s.flush()
        s.add(Case(reference="SYN0000002", category="CLA", team_id=team.id, worker_id=tm.id,
                   opened_on=date(2020, 1, 1)))
    children = synthetic_children(40, seed=5, today=date(2026, 3, 31))
    folder = tmp_path / "census [2026]"
    folder.mkdir()
    path = write_census(folder / "CIN 'final' [v2].xml", children, Layout(stray_text=True, unknown_elements=True))

    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a", "i")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ImportFileDialog"
        await pilot.press(*str(path))
        await settle(pilot)
        assert app.screen.query_one("#file-kind").value == "cin-census"  # guessed from ".xml"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ImportScreen"
        text = screen_text(app)
        assert "CIN census" in text and str(path) in text  # the file's name as typed, brackets and all
        assert "CIN census year 2026 as at 31/03/2026 from local authority 999" in text
        assert "Children: 40 in the file, 40 used" in text
        assert "Never stored: UPN, date of birth, sex, ethnicity" in text
        assert "<ChildName>: not a census element qa-tui knows, in 8 children (SYN0000001, SYN0000006" in text
        assert "Nothing has been written" in text
        with db.reader() as s:
            assert s.scalar(select(func.count()).select_from(CpPlan)) == 0

        await pilot.press("w")
        await settle(pilot)
        assert "CIN 'final' [v2].xml: the changes shown will be saved" in screen_text(app)  # the name as it is
        await pilot.press("y")
        await settle(pilot)
        written = screen_text(app)
        plans = sum(len(c.plans) for c in children)
        assert f"Written. 39 new; 1 updated; {plans} CP plans added." in written

    with db.reader() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 40
        assert s.scalar(select(func.count()).select_from(CpPlan)) == plans
        kept = s.scalar(select(Case).where(Case.reference == "SYN0000002"))
        assert (kept.category, kept.team_id, kept.worker_id) == ("CLA", team.id, tm.id)  # the census names no one
