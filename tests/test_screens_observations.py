"""Observations by keyboard: the coverage list shows who is overdue this financial year, and an
observation typed into the form is saved field by field, with refused input named and kept."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import select
from textual.widgets import DataTable, Input, Static

from qa_tui.config import parse_config
from qa_tui.db.engine import Database
from qa_tui.db.models import FollowUp, Observation, Person, Team
from qa_tui.errors import ChangedElsewhere
from qa_tui.services.practice.observations import (
    ObservationView,
    coverage_list,
    field_save,
    record_observation,
)
from qa_tui.services.people.directory import people_for_picking
from qa_tui.services.practice.pickers import observations_of_worker
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, type_ahead, url_of

TODAY = date(2027, 2, 10)  # after 1 January: anyone not yet observed this year is overdue


def seed(db: Database) -> dict[str, uuid.UUID]:
    with db.session() as s:
        team = Team(code="A1", name="Assessment Team 1")
        s.add(team)
        s.flush()
        tm = Person(staff_id="TM1", name="Morgan Pryce", role="TM", team_id=team.id, active_from=date(2020, 1, 1))
        s.add(tm)
        s.flush()
        people = {
            "tm": tm,
            "robin": Person(staff_id="SW1", name="Robin Ash", role="SW", team_id=team.id, manager_id=tm.id,
                            active_from=date(2025, 1, 1)),
            "sam": Person(staff_id="SW2", name="Sam Covered", role="SW", team_id=team.id, manager_id=tm.id,
                          active_from=date(2024, 6, 1)),
            "gone": Person(staff_id="SW3", name="Gale Gone", role="SW", team_id=team.id, active_from=date(2020, 1, 1),
                           active_to=date(2026, 12, 31)),
        }
        s.add_all(list(people.values())[1:])
        s.flush()
        record_observation(s, observer_id=tm.id, worker_id=people["sam"].id, observed_on=date(2026, 5, 1),
                           kind="annual", setting="Core group", today=TODAY)
        return {k: p.id for k, p in people.items()}



def table_rows(app, selector: str) -> list[list[str]]:  # noqa: ANN001
    table = app.screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def error_line(app) -> str:  # noqa: ANN001
    return str(app.screen.query_one("#form-error", Static).render())


def saved_reflection(db: Database, worker_id: uuid.UUID) -> str | None:
    with db.reader() as s:
        return s.scalar(select(Observation.reflection).where(Observation.worker_id == worker_id))


async def until(pilot, condition, seconds: float = 5.0) -> None:  # noqa: ANN001
    """Let the app run until `condition()` holds, failing after `seconds`."""
    for _ in range(int(seconds / 0.2)):
        await settle(pilot)
        if condition():
            return
        await pilot.pause(0.2)
    assert condition(), "timed out"


async def move_to_row(pilot, selector: str, first_cell: str) -> None:  # noqa: ANN001
    """Move the table's cursor to the row starting with `first_cell`, with the arrow keys."""
    table = pilot.app.screen.query_one(selector, DataTable)
    target = [row[0] for row in table_rows(pilot.app, selector)].index(first_cell)
    step = "down" if target > table.cursor_row else "up"
    await pilot.press(*[step] * abs(target - table.cursor_row))


async def test_coverage_lists_the_overdue_worker_and_filters_by_status(db: Database) -> None:
    seed(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        rows = {row[0]: row for row in table_rows(app, "#obs-table")}
        assert set(rows) == {"Robin Ash", "Sam Covered"}  # the TM is not a practitioner; Gale has left
        assert rows["Robin Ash"][5] == "overdue" and rows["Sam Covered"][5] == "covered"
        text = screen_text(app)
        assert "FY 2026/27" in text and "1 overdue" in text and "1 covered" in text
        await move_to_row(pilot, "#obs-table", "Robin Ash")
        assert "Robin Ash: not observed in FY 2026/27" in screen_text(app)
        await pilot.press("f")  # overdue only
        await settle(pilot)
        assert [row[0] for row in table_rows(app, "#obs-table")] == ["Robin Ash"]
        assert "showing overdue only" in screen_text(app)
    ctx.db.dispose()


async def test_names_and_themes_are_shown_as_typed_never_as_markup(db: Database) -> None:
    ids = seed(db)
    with db.session() as s:
        robin = s.get(Person, ids["robin"])
        robin.name = "Robin [b]Ash[/b] [/]"
        record_observation(s, observer_id=ids["tm"], worker_id=ids["sam"], observed_on=date(2027, 1, 5),
                           kind="peer", themes=["[red]risk[/red]"], today=TODAY)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        await move_to_row(pilot, "#obs-table", "Robin [b]Ash[/b] [/]")
        assert "Robin [b]Ash[/b] [/]: not observed in FY 2026/27" in screen_text(app)
        assert "Themes this year, all teams: [red]risk[/red] (1)" in screen_text(app)
    ctx.db.dispose()


async def open_new_observation(pilot) -> None:  # noqa: ANN001
    """From the dashboard: the observations area, then a new observation's form."""
    await settle(pilot)
    for key in ("o", "n"):
        await pilot.press(key)
        await settle(pilot)


async def test_observation_typed_with_keys_alone_is_saved_as_you_go(db: Database) -> None:
    ids = seed(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        app = pilot.app
        await open_new_observation(pilot)
        assert app.screen.__class__.__name__ == "ObservationFormScreen"
        await pilot.press("enter", *"Rob", "enter")  # worker
        await pilot.press("tab", "tab")  # observer: the user by default
        await pilot.press("home", "ctrl+k", *"31/02/2027", "tab", "ctrl+s")  # a date that does not exist
        await settle(pilot)
        assert error_line(app).startswith("Date observed: '31/02/2027' is not a real date")
        await pilot.press("shift+tab", "home", "ctrl+k", *"03/02/2027", "tab")
        await pilot.press("enter", *"ASYE", "enter")  # refused: Robin is not newly qualified
        await settle(pilot)
        assert error_line(app).startswith("Kind: ASYE observations are only for newly qualified workers")
        with db.reader() as s:
            assert s.scalars(select(Observation).where(Observation.worker_id == ids["robin"])).all() == []
        await pilot.press("enter", *"ann", "enter")  # now the observation can be created
        await settle(pilot)
        with db.reader() as s:
            assert s.scalar(select(Observation).where(Observation.worker_id == ids["robin"])) is not None
        # Worker and observer are fixed once saved, so Tab goes on to the setting.
        await pilot.press("tab", *"Home", "tab", "space", "tab", *"voice, dads, Voice")
        await pilot.press("tab", *"Warm", "tab", *"Risk", "tab", *"Slow")
        await until(pilot, lambda: saved_reflection(db, ids["robin"]) == "Slow")  # saved after a pause in typing
        assert "Saved · version" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ObservationsScreen"
        assert {row[0]: row[5] for row in table_rows(app, "#obs-table")}["Robin Ash"] == "covered"

        # Enter on the worker lists their observations; opening it and editing saves again.
        await move_to_row(pilot, "#obs-table", "Robin Ash")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ChoiceDialog"
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ObservationFormScreen"
        assert app.screen.query_one("#field-setting", Input).value == "Home"
        await pilot.press("end", *" (CG)", "escape")  # leaving saves what is pending first
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ObservationsScreen"
    ctx.db.dispose()

    with db.reader() as s:
        obs = s.scalar(select(Observation).where(Observation.worker_id == ids["robin"]))
        assert (obs.observer_id, obs.observed_on, obs.kind) == (ids["tm"], date(2027, 2, 3), "annual")
        assert obs.setting == "Home (CG)"
        assert obs.feedback_shared is True
        assert obs.themes == ["voice", "dads"]  # repeats, ignoring case, are dropped
        assert (obs.went_well, obs.to_develop, obs.reflection) == ("Warm", "Risk", "Slow")
        assert obs.version > 2  # created, then saved field by field
        review = s.scalar(select(FollowUp).where(FollowUp.source_id == obs.id))
        assert review.worker_id == ids["robin"] and review.supervision_id is None
        assert "(Home (CG))" in review.summary


async def test_leaving_an_unsaved_form_asks_first_and_keeps_the_text(db: Database) -> None:
    seed(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        app = pilot.app
        await open_new_observation(pilot)
        await pilot.press("tab", "tab", "tab", "tab", *"School", "ctrl+s")  # no worker or kind yet
        await settle(pilot)
        assert "Not saved yet: choose worker and kind" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ConfirmDialog"
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.query_one("#field-setting", Input).value == "School"
    ctx.db.dispose()
    with db.reader() as s:
        assert len(s.scalars(select(Observation)).all()) == 1  # only the seeded one


def test_pickers_list_a_workers_observations_and_people_including_named_leavers(db: Database) -> None:
    ids = seed(db)
    with db.session() as s:
        record_observation(s, observer_id=ids["tm"], worker_id=ids["sam"], observed_on=date(2027, 1, 5),
                           kind="peer", today=TODAY)
    with db.reader() as s:
        found = observations_of_worker(s, ids["sam"])
        assert [(o.observed_on, o.kind_label, o.observer_name) for o in found] == [
            (date(2027, 1, 5), "peer observation", "Morgan Pryce"),
            (date(2026, 5, 1), "annual practice observation", "Morgan Pryce")]
        assert observations_of_worker(s, ids["robin"]) == []
        workers = people_for_picking(s, TODAY, ("SW",))
        assert [p.name for p in workers] == ["Robin Ash", "Sam Covered"]
        assert [p.name for p in people_for_picking(s, TODAY, ("SW",), include=[ids["gone"]])] == [
            "Gale Gone", "Robin Ash", "Sam Covered"]
        assert [p.name for p in people_for_picking(s, TODAY)] == ["Morgan Pryce", "Robin Ash", "Sam Covered"]


def test_queued_field_saves_each_expect_the_version_the_one_before_returned(db: Database) -> None:
    ids = seed(db)
    with db.reader() as s:
        obs_id = s.scalar(select(Observation.id).where(Observation.worker_id == ids["sam"]))
    latest: list[ObservationView] = []

    def version() -> int | None:
        return latest[-1].version if latest else 1

    saves = [field_save(obs_id, "setting", "Home visit", today=TODAY, version=version),
             field_save(obs_id, "reflection", "Calm", today=TODAY, version=version)]  # both queued first
    for save in saves:
        with db.session() as s:
            latest.append(save(s))
    assert (latest[-1].setting, latest[-1].reflection, latest[-1].version) == ("Home visit", "Calm", 3)
    stale = field_save(obs_id, "reflection", "Late", today=TODAY, version=lambda: 2)
    with pytest.raises(ChangedElsewhere), db.session() as s:
        stale(s)


def test_coverage_list_holds_the_teams_coverage_and_every_teams_themes(db: Database) -> None:
    ids = seed(db)
    with db.session() as s:
        other = Team(code="B1", name="Other team")
        s.add(other)
        s.flush()
        kit = Person(staff_id="SW9", name="Kit Other", role="SW", team_id=other.id, active_from=date(2020, 1, 1))
        s.add(kit)
        s.flush()
        record_observation(s, observer_id=ids["tm"], worker_id=kit.id, observed_on=date(2027, 1, 5), kind="annual",
                           themes=["voice"], today=TODAY)
        team_id = s.get(Person, ids["tm"]).team_id
    with db.reader() as s:
        mine = coverage_list(s, TODAY, parse_config({}), team_id=team_id)
        everyone = coverage_list(s, TODAY, parse_config({}))
    assert [r.worker_name for r in mine.rows] == ["Robin Ash", "Sam Covered"]
    assert [r.worker_name for r in everyone.rows] == ["Robin Ash", "Sam Covered", "Kit Other"]
    assert [(t.theme, t.count) for t in mine.themes] == [("voice", 1)]  # themes are the council's


async def test_a_newly_qualified_workers_asye_windows_show_when_highlighted(db: Database) -> None:
    ids = seed(db)
    with db.session() as s:
        nq = Person(staff_id="NQ1", name="Noor Newly", role="NQSW", team_id=s.get(Person, ids["tm"]).team_id,
                    manager_id=ids["tm"], active_from=date(2026, 6, 1), asye_start=date(2026, 6, 1))
        s.add(nq)
        s.flush()
        record_observation(s, observer_id=ids["tm"], worker_id=nq.id, observed_on=date(2026, 10, 1), kind="asye",
                           today=TODAY)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        await move_to_row(pilot, "#obs-table", "Noor Newly")
        await settle(pilot)
        text = screen_text(app)
        assert "Noor Newly: ASYE 1 of 3; overdue: months 0–3" in text
        assert "months 3–6 done 1 Oct 2026" in text
    ctx.db.dispose()


@pytest.mark.parametrize("list_open", [True, False], ids=["list-open", "all-at-once"])
async def test_words_typed_straight_after_choosing_from_a_list_land_in_the_fields(db: Database, list_open: bool) -> None:
    """Enter on the kind, arrows, Enter, then Tab and words, all queued before the first is
    handled (as fast typing in a terminal sends them): the kind is the one the arrows reached, the
    words land where Tab took them, the focus stays there, and no letter is read as an area's key."""
    ids = seed(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        app = pilot.app
        await open_new_observation(pilot)
        await pilot.press("enter", *"Rob", "enter", "tab", "tab", "tab")  # on the kind
        if list_open:
            await pilot.press("enter")
            await settle(pilot)
        keys = [*([] if list_open else ["enter"]), "down", "down", "enter", "tab", *"Home [visit] tomorrow",
                "tab", "tab", *"voice, dads"]
        await type_ahead(pilot, *keys)
        form = app.screen
        assert form.__class__.__name__ == "ObservationFormScreen"
        assert form.query_one("#field-kind").value == "annual"
        assert form.query_one("#field-setting", Input).value == "Home [visit] tomorrow"
        assert form.query_one("#field-themes", Input).value == "voice, dads"
        await until(pilot, lambda: _saved_setting(db, ids["robin"]) == "Home [visit] tomorrow")
        assert form.focused is form.query_one("#field-themes", Input)
        await pilot.press(*"!")
        assert form.query_one("#field-themes", Input).value == "voice, dads!"
        await pilot.press("shift+tab", "shift+tab", "shift+tab")  # back on the kind, closed
        assert form.focused is form.query_one("#field-kind")
        await pilot.press("escape")  # the form's Esc, not swallowed by the list
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ObservationsScreen"
    ctx.db.dispose()


def _saved_setting(db: Database, worker_id: uuid.UUID) -> str | None:
    with db.reader() as s:
        return s.scalar(select(Observation.setting).where(Observation.worker_id == worker_id))
