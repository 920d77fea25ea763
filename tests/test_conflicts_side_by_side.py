"""Two versions of an observation side by side when someone else saved the same field while the
user's change was waiting: the user chooses or merges, Esc asks, and nothing typed is lost. On
PostgreSQL, two app instances typing into the same observation both keep their text."""

from __future__ import annotations

import uuid

import pytest

from qa_tui.app import QAApp
from qa_tui.db.engine import Database
from qa_tui.db.models import Observation
from qa_tui.services.practice import observations
from screens.audits.conflict import ConflictDialog
from tests.pilot import SIZE, make_app, make_context, screen_text, url_of
from tests.test_screens_observations import TODAY, seed
from tests.test_typing_safe import open_form, sams_observation, settle, status, stored, type_fast

POSTGRESQL_ONLY = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def sides(app) -> list[str]:  # noqa: ANN001
    return [str(w.render()) for w in app.screen.query(".side")]


def observation_and_app(db: Database) -> tuple[uuid.UUID, QAApp]:
    seed(db)
    return sams_observation(db), make_app(make_context(url_of(db), today=TODAY, staff_id="TM1"))


def save_elsewhere(db: Database, obs_id: uuid.UUID, field: str, value: str) -> None:
    """Another person saves `field` after the form was opened."""
    with db.session() as s:
        version = s.get(Observation, obs_id).version
        observations.update_observation_field(s, obs_id, field, value, expected_version=version, today=TODAY)


async def test_the_same_field_saved_elsewhere_shows_both_and_esc_asks_before_anything_is_dropped(
        db: Database) -> None:
    obs_id, app = observation_and_app(db)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, obs_id)
        save_elsewhere(db, obs_id, "went_well", "Theirs: [calm] visit")  # the same field, saved first
        form.query_one("#field-went_well").focus()
        await pilot.pause()
        await type_fast(pilot, "Mine: warm")
        form.saves.flush()
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ConflictDialog"
        assert sides(app) == ["Mine: warm", "Theirs: [calm] visit"], sides(app)
        await pilot.press("escape")  # decide later? asked first
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ConfirmDialog"
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is form and form.query_one("#field-went_well").text == "Mine: warm"
        assert status(form).startswith("Not saved: 1 change waiting"), status(form)
        form.query_one("#field-feedback_shared").focus()
        await pilot.press("escape")  # leaving with the conflict pending asks
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ChoiceDialog"
        await pilot.press("escape")  # keep editing
        await settle(pilot)
        await pilot.press("R")  # both versions again
        await settle(pilot)
        assert sides(app) == ["Mine: warm", "Theirs: [calm] visit"], sides(app)
        await pilot.press("e")  # both in the field, to edit into one
        await settle(pilot)
        form.saves.flush()  # the pause after a change to the field
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#field-went_well").text == "Mine: warm\n\nTheirs: [calm] visit"
        assert status(form).startswith("Saved · version"), status(form)
    assert stored(db, obs_id).went_well == "Mine: warm\n\nTheirs: [calm] visit"


async def test_taking_theirs_shows_and_keeps_the_other_persons_value(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ConflictDialog, "GUARD_SECONDS", ConflictDialog.GUARD_SECONDS)  # put back afterwards
    obs_id, app = observation_and_app(db)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, obs_id)
        save_elsewhere(db, obs_id, "setting", "Home visit")
        form.query_one("#field-setting").focus()
        await pilot.pause()
        await pilot.press("end")
        await type_fast(pilot, " at school")
        form.saves.flush()
        await settle(pilot)
        assert sides(app) == ["Core group at school", "Home visit"], sides(app)
        ConflictDialog.GUARD_SECONDS = 3600  # however slow this machine, still within the guard
        try:
            await pilot.press("t", "m")  # still typing as it opened: neither is taken as a choice
            await settle(pilot)
        finally:
            ConflictDialog.GUARD_SECONDS = 0
        assert sides(app) == ["Core group at school", "Home visit"] and "not taken as a choice" in screen_text(app)
        await pilot.press("t")  # a choice, once it has been seen
        await settle(pilot)
        form.saves.flush()
        await settle(pilot)
        assert form.query_one("#field-setting").value == "Home visit"
        assert status(form).startswith("Saved · version"), status(form)
    assert stored(db, obs_id).setting == "Home visit"


@POSTGRESQL_ONLY
async def test_two_app_instances_typing_into_the_same_observation_both_keep_their_text(db: Database) -> None:
    obs_id, first = observation_and_app(db)
    second = make_app(make_context(url_of(db), today=TODAY, staff_id="TM1"))
    async with first.run_test(size=SIZE) as one:
        form_one = await open_form(one, obs_id)  # opened before the second app takes over this task's context
        async with second.run_test(size=SIZE) as two:
            await two_people_type(one, form_one, two, await open_form(two, obs_id))
    assert stored(db, obs_id).went_well == "From the office and more\n\nFrom the car\n\nFrom the office, agreed"


async def two_people_type(one, form_one, two, form_two) -> None:  # noqa: ANN001
    """The office and the car type into the same field; each save meets the other's version."""
    for pilot, form, text in ((one, form_one, "From the office"), (two, form_two, "From the car")):
        form.query_one("#field-went_well").focus()
        await pilot.pause()
        await type_fast(pilot, text)
    await one.press("ctrl+s")  # the office saves first, through the real save path
    await settle(one)
    assert status(form_one).startswith("Saved · version"), status(form_one)
    await two.press("ctrl+s")  # the car's save meets the office's version: both shown
    await settle(two)
    assert sides(two.app) == ["From the car", "From the office"], sides(two.app)
    await two.press("e")
    await settle(two)
    await type_fast(two, ", agreed")
    await two.press("ctrl+s")
    await settle(two)
    assert status(form_two).startswith("Saved · version"), status(form_two)
    await type_fast(one, " and more")  # the office typed on: its save now meets the car's
    await one.press("ctrl+s")
    await settle(one)
    assert sides(one.app) == ["From the office and more", "From the car\n\nFrom the office, agreed"], sides(one.app)
    await one.press("e")
    await settle(one)
    await one.press("ctrl+s")
    await settle(one)
    assert status(form_one).startswith("Saved · version"), status(form_one)
