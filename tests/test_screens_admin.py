"""People & cases by keyboard: add and fix a team, add a person and change their role, close a
case, import an Annex A workbook through its preview, and save settings beside the config."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from qa_tui.config import config_path
from qa_tui.db.engine import Database
from qa_tui.db.models import AuditEvent, Case, Person, Service, Team
from qa_tui.preferences import Preferences, read_preferences
from tests.fixtures_workbooks import list_rows, write_workbook
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of

TODAY = date(2026, 11, 24)
# The services under these screens are tested on both databases in test_admin.py; a journey
# through the screens is about the keyboard and the forms, so it runs once, on SQLite.
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def seeded(db: Database) -> Database:
    with db.session() as s:
        service = Service(code="CS", name="Children's Services")
        team = Team(code="A1", name="Assessment Team 1", service=service)
        s.add_all([service, team])
        s.flush()
        s.add(Person(staff_id="TM1", name="Morgan Pryce", role="TM", team_id=team.id))
    return db



def form_error(app) -> str:  # noqa: ANN001
    return str(app.screen.query_one("#form-error").render())


async def type_into(pilot, widget_id: str, text: str) -> None:  # noqa: ANN001
    pilot.app.screen.query_one(f"#{widget_id}").focus()
    await pilot.pause()
    await pilot.press(*text)


async def choose(pilot, select_id: str, search: str) -> None:  # noqa: ANN001
    """Open a Select, type to find the option, and pick it, as a user would."""
    pilot.app.screen.query_one(f"#{select_id}").focus()
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()
    await pilot.press(*search)
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()


async def test_teams_people_and_cases_by_keyboard(seeded: Database) -> None:
    ctx = make_context(url_of(seeded), today=TODAY, staff_id="TM1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "AdminScreen"
        assert "Assessment Team 1" in str(app.screen.query_one("#teams-table").get_row_at(0))

        # A new team, then a second one whose code clashes: refused, named, nothing typed lost.
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"B2", "tab", *"Fostering")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "AdminScreen"
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"b2", "tab", *"Fostering East")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "RecordForm"
        assert "Team code: another team already has the code 'b2'" in form_error(app)
        assert app.screen.query_one("#form-name").value == "Fostering East"
        assert app.screen.focused.id == "form-code"  # the cursor is on the field at fault, text selected
        await pilot.press(*"C3", "ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "AdminScreen"

        # A person in the new team; then their role changes.
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"SW7", "tab", *"Sam Lee")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Team: choose a team" in form_error(app)
        await choose(pilot, "form-team_id", "Fost")
        await type_into(pilot, "form-asye_start", "01/09/2026")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "AdminScreen", form_error(app)
        table = app.screen.query_one("#people-table")
        assert "Sam Lee" in str(table.get_row_at(table.cursor_row))
        await pilot.press("e")
        await settle(pilot)
        await choose(pilot, "form-role", "NQ")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "AdminScreen", form_error(app)

        # A case: a name is refused as a reference; then closed by hand.
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Jane Smith")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Case reference: use the case system's ID" in form_error(app)
        await pilot.press(*"C-4410")
        await choose(pilot, "form-worker_id", "Sam")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "AdminScreen", form_error(app)
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert any("closed on 24/11/2026" in str(n.message) for n in app._notifications)
        assert app.screen.query_one("#cases-table").row_count == 0  # closed cases are hidden...
        await pilot.press("h")
        await settle(pilot)
        assert "closed 24/11/2026" in str(app.screen.query_one("#cases-table").get_row_at(0))  # ...not gone

    with seeded.reader() as s:
        teams = {t.code: t for t in s.scalars(select(Team))}
        assert {code: t.name for code, t in teams.items()} == {
            "A1": "Assessment Team 1", "B2": "Fostering", "C3": "Fostering East"}
        sam = s.scalar(select(Person).where(Person.staff_id == "SW7"))
        assert (sam.name, sam.role, sam.team_id, sam.asye_start) == ("Sam Lee", "NQSW", teams["B2"].id,
                                                                      date(2026, 9, 1))
        case = s.scalar(select(Case).where(Case.reference == "C-4410"))
        assert (case.worker_id, case.team_id, case.category, case.closed_on) == (sam.id, teams["B2"].id, "CIN", TODAY)
        role_change = s.scalar(select(AuditEvent).where(AuditEvent.record_id == str(sam.id),
                                                        AuditEvent.action == "update"))
        assert (role_change.old, role_change.new, role_change.actor) == ({"role": "SW"}, {"role": "NQSW"}, ctx.login)
    ctx.db.dispose()


async def test_moving_down_a_long_list_reads_the_next_page_below(seeded: Database) -> None:
    from qa_tui.services.people.admin import PAGE_SIZE

    with seeded.session() as s:
        s.add_all([Case(reference=f"C-{n:04d}", category="CIN") for n in range(PAGE_SIZE + 5)])
    ctx = make_context(url_of(seeded), today=TODAY, staff_id="TM1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a", "3")
        await settle(pilot)
        table = app.screen.query_one("#cases-table")
        assert table.row_count == PAGE_SIZE and f"first {PAGE_SIZE}; move down for more" in screen_text(app)
        await pilot.press("ctrl+end")
        await settle(pilot)
        assert table.row_count == PAGE_SIZE + 5 and "move down for more" not in screen_text(app)
        assert table.cursor_row == PAGE_SIZE - 1 and table.current.reference == f"C-{PAGE_SIZE - 1:04d}"
        await pilot.press("e")  # the record under the cursor
        await settle(pilot)
        assert app.screen.query_one("#form-reference").value == f"C-{PAGE_SIZE - 1:04d}"
    ctx.db.dispose()


async def test_import_an_annex_a_workbook_from_the_app(seeded: Database, tmp_path: Path) -> None:
    workbook = write_workbook(tmp_path / "annex-a.xlsx", [
        ("List 6", list_rows(6, [
            {"ref": "C900", "start": date(2026, 5, 1), "team": "Assessment Team 1", "worker": "Morgan Pryce"},
            {"ref": "C901", "start": date(2026, 6, 2), "team": "Duty East", "worker": "Kit Jones"},
            {"ref": "C902", "start": "31/13/2026", "team": "Duty East", "worker": "Kit Jones"},
        ])),
    ])
    ctx = make_context(url_of(seeded), today=TODAY, staff_id="TM1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a", "i")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ImportFileDialog"
        app.screen.query_one("#file-path").value = str(tmp_path / "missing.xlsx")
        await pilot.press("enter")
        await settle(pilot)
        assert "does not exist" in str(app.screen.query_one("#file-error").render())
        app.screen.query_one("#file-path").value = str(workbook)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ImportScreen"
        preview = screen_text(app)
        assert "List 6 (CIN) from sheet 'List 6': 3 rows, 2 used" in preview
        assert "Duty East" in preview and "Kit Jones [AX-" in preview  # a team and a worker to create, as written
        assert "List 6, row 4, column" in preview  # the unusable row, by sheet, row and column
        assert "Nothing has been written" in preview
        with seeded.reader() as s:
            assert s.scalar(select(Case).where(Case.reference == "C900")) is None

        await pilot.press("w")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "Written. 2 new; created 1 team and 1 worker." in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "AdminScreen"

    with seeded.reader() as s:
        refs = set(s.scalars(select(Case.reference)))
        assert refs == {"C900", "C901"}
        assert s.scalar(select(Team).where(Team.name == "Duty East")) is not None
    ctx.db.dispose()


async def test_a_bad_csv_is_shown_with_its_problems_and_writes_nothing(seeded: Database, tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("staff_id,name,role,team_code\nSW1,Robin Ash,Wizard,A1\n", encoding="utf-8")
    ctx = make_context(url_of(seeded), today=TODAY, staff_id="TM1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a", "i")
        await settle(pilot)
        app.screen.query_one("#file-path").value = str(people)
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        text = screen_text(app)
        assert "line 2, column role: unknown role 'Wizard'" in text and "Nothing was written" in text
        await pilot.press("w")  # nothing to write: the key does nothing
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ImportScreen"
    with seeded.reader() as s:
        assert s.scalar(select(Person).where(Person.staff_id == "SW1")) is None
    ctx.db.dispose()


async def test_settings_show_who_you_are_but_cannot_change_it(seeded: Database) -> None:
    """The bypass of issue 15: a team manager typed an operations lead's staff ID in Settings and
    became her. Now Settings shows who the database says you are, with no field to change it; the
    default team and theme are saved beside the config and the team change is recorded."""
    config_file = config_path()
    config_file.parent.mkdir(parents=True)
    config_file.write_text("# my settings\n[user]\nname = \"Morgan\"\nstaff_id = \"SW1\"\n", encoding="utf-8")
    with seeded.session() as s:
        s.add(Team(code="B2", name="Fostering"))
    ctx = make_context(url_of(seeded), today=TODAY, staff_id="TM1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert ctx.person_name == "Morgan Pryce"  # the owner (SQLite) or the login (PostgreSQL), not the config's SW1
        await pilot.press("a", "comma")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "SettingsScreen"
        assert not app.screen.query("#settings-staff-id")
        shown = str(app.screen.query_one("#settings-identity").render())
        assert "Morgan Pryce (TM1)" in shown
        await pilot.press(*"SW1")  # typing a staff ID goes nowhere
        await choose(pilot, "settings-team", "Fost")
        await choose(pilot, "settings-theme", "nord")
        assert app.theme == "nord"  # tried on at once
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "AdminScreen"
        assert ctx.person_name == "Morgan Pryce" and app.config.user_team == "B2" and app.theme == "nord"
        with ctx.db.reader() as s:
            assert ctx.team_id == s.scalar(select(Team.id).where(Team.code == "B2"))
            assert s.scalar(select(AuditEvent).where(AuditEvent.action == "settings")).new == {"team": "B2"}

    assert "staff_id = \"SW1\"" in config_file.read_text(encoding="utf-8")
    assert read_preferences(config_file.parent / "preferences.toml") == Preferences("", "B2", "nord")
    ctx.db.dispose()


async def test_a_standalone_install_asks_whose_it_is_at_first_run(seeded: Database) -> None:
    if not seeded.is_sqlite:
        pytest.skip("on PostgreSQL the login is the person: nothing to ask")
    ctx = make_context(url_of(seeded), today=TODAY)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.__class__.__name__ == "OwnerScreen"
        await pilot.press(*"NOPE", "enter")
        await settle(pilot)
        assert "No person has staff ID 'NOPE'" in str(app.screen.query_one("#owner-error").render())
        app.screen.query_one("#owner-staff-id").value = "tm1"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "DashboardScreen"
        assert ctx.person_name == "Morgan Pryce" and "Morgan Pryce" in app.sub_title
    with ctx.db.reader() as s:
        [named] = s.scalars(select(AuditEvent).where(AuditEvent.action == "owner")).all()
        assert "owner named at set-up: Morgan Pryce (TM1)" in named.detail
    ctx.db.dispose()
    again = make_context(url_of(seeded), today=TODAY)  # next time: no question, and it is her database
    assert (again.owner_needed, again.person_name) == (False, "Morgan Pryce")
    again.db.dispose()


async def test_a_bad_preferences_file_is_named_and_the_app_still_starts(seeded: Database) -> None:
    from screens.admin.settings import apply_saved_appearance

    prefs = config_path().parent / "preferences.toml"
    prefs.parent.mkdir(parents=True)
    prefs.write_text("[appearance]\ntheme = 3\n", encoding="utf-8")
    ctx = make_context(url_of(seeded), today=TODAY, staff_id="TM1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        apply_saved_appearance(app, app.config)
        await settle(pilot)
        messages = [str(n.message) for n in app._notifications]
        assert any(str(prefs) in m and "appearance.theme" in m for m in messages), messages
        assert app.screen.__class__.__name__ == "DashboardScreen"
    ctx.db.dispose()
