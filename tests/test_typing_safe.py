"""Forms keep every character typed at machine speed while the database is slow, fails and comes
back, and through a reload over a conflict: the observation form on SQLite and PostgreSQL."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from textual import events
from textual.worker import WorkerFailed
from textual.widgets import Static

from qa_tui.db.engine import Database
from qa_tui.db.models import Observation
from qa_tui.services.practice import observations
from screens.practice.observations import ObservationFormScreen
from screens.errors import DatabaseErrorScreen
from tests.pilot import SIZE, make_app, make_context, url_of
from tests.test_screens_observations import TODAY, seed

LOST = OperationalError("UPDATE observation", {}, ConnectionRefusedError("server closed the connection"))


async def type_fast(pilot, text: str) -> None:  # noqa: ANN001
    """Every key queued before the first is handled, as a fast typist on a busy machine."""
    for ch in text:
        key = {" ": "space", ",": "comma"}.get(ch, ch)
        pilot.app.post_message(events.Key(key, ch))
    await pilot.pause()


async def settle(pilot) -> None:  # noqa: ANN001
    """Wait for every worker, a failed one included (the form reports it), and the screen."""
    for _ in range(3):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerFailed:
            pass
        await pilot.pause()


def status(form: ObservationFormScreen) -> str:
    return str(form.query_one("#form-status", Static).render())


def stored(db: Database, obs_id: uuid.UUID) -> Observation:
    with db.reader() as s:
        return s.get(Observation, obs_id)


def sams_observation(db: Database) -> uuid.UUID:
    with db.reader() as s:
        return s.scalar(select(Observation.id))


async def open_form(pilot, obs_id: uuid.UUID) -> ObservationFormScreen:  # noqa: ANN001
    await settle(pilot)
    pilot.app.push_screen(ObservationFormScreen(observation_id=obs_id))
    await settle(pilot)
    form = pilot.app.screen
    for _ in range(500):  # on a loaded machine the form's load can land after the first settle
        if getattr(form, "obs", None) is not None:
            break
        await pilot.pause(0.01)
        await settle(pilot)
    return form


async def test_typing_while_the_database_is_slow_then_fails_then_recovers_stores_exactly_what_was_typed(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(db)
    obs_id = sams_observation(db)
    real = observations.update_observation_field
    database = {"down": False}

    def slow_and_sometimes_down(session, *args, **kwargs):  # noqa: ANN001, ANN202
        time.sleep(0.15)  # a slow database: keys keep arriving while each save runs
        if database["down"]:
            raise LOST
        return real(session, *args, **kwargs)

    def dialog_up() -> bool:
        return isinstance(app.screen, DatabaseErrorScreen)

    monkeypatch.setattr(observations, "update_observation_field", slow_and_sometimes_down)
    app = make_app(make_context(url_of(db), today=TODAY, staff_id="TM1"))
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, obs_id)
        form.query_one("#field-went_well").focus()
        await pilot.pause()
        for part in ("Warm, clear", " direct work"):
            await type_fast(pilot, part)
            form.saves.flush()  # a short pause in typing sends what is typed so far, while typing goes on
        await type_fast(pilot, " with [b]both[/b]")
        await settle(pilot)
        database["down"] = True
        form.saves.flush()
        await settle(pilot)
        # Noticed while typing: no dialog to take the next keys; the status line says it.
        assert not dialog_up() and status(form).startswith("Not saved: 1 change waiting"), status(form)
        await type_fast(pilot, " children and their dad.")
        form.query_one("#field-setting").focus()
        await pilot.pause()
        await pilot.press("end")  # Tab into a line selects it; End types after it
        await type_fast(pilot, " visit")
        form.saves.flush()
        await settle(pilot)
        assert not dialog_up() and status(form).startswith("Not saved: 2 changes waiting"), status(form)
        form.query_one("#field-feedback_shared").focus()  # not typing now: Save now fails, still no dialog
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not dialog_up() and status(form).startswith("Not saved: 2 changes waiting"), status(form)
        database["down"] = False
        await pilot.press("ctrl+s")  # every waiting change is sent, in order
        await settle(pilot)
        assert not dialog_up() and status(form).startswith("Saved · version"), status(form)
    row = stored(db, obs_id)
    assert (row.went_well, row.setting) == ("Warm, clear direct work with [b]both[/b] children and their dad.",
                                            "Core group visit")


async def test_someone_else_saving_another_field_meanwhile_keeps_both_without_asking(
        db: Database) -> None:
    seed(db)
    obs_id = sams_observation(db)
    app = make_app(make_context(url_of(db), today=TODAY, staff_id="TM1"))
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, obs_id)
        with db.session() as s:  # another person saves a different field meanwhile
            version = s.get(Observation, obs_id).version
            observations.update_observation_field(s, obs_id, "to_develop", "Theirs", expected_version=version,
                                                  today=TODAY)
        form.query_one("#field-went_well").focus()
        await pilot.pause()
        await type_fast(pilot, "Mine, typed fast")
        form.saves.flush()
        await settle(pilot)
        assert pilot.app.screen is form, "nothing to choose: only one of them changed each field"
        await type_fast(pilot, " and more")  # typing goes on
        await settle(pilot)
        assert status(form).startswith("Not saved: 1 change"), "typed since: waiting for a pause"
        form.saves.flush()
        await settle(pilot)
        assert form.query_one("#field-went_well").text == "Mine, typed fast and more"
        assert form.query_one("#field-to_develop").text == "Theirs"
        assert status(form).startswith("Saved · version"), status(form)
    row = stored(db, obs_id)
    assert (row.went_well, row.to_develop) == ("Mine, typed fast and more", "Theirs")


def test_escape_typed_quickly_before_a_digit_or_letter_is_read_as_two_keys() -> None:
    """In a real terminal Esc then 2 arrive as one sequence: read as Esc then 2 (a grade), not as
    a macOS Option character typed into the field; Esc then x is not Alt+x."""
    from textual._xterm_parser import XTermParser

    from qa_tui.app import read_escape_then_key_as_two_keys

    read_escape_then_key_as_two_keys()
    keys = [(event.key, event.character) for event in XTermParser().feed("\x1b2\x1bx£")]
    assert keys == [("escape", None), ("2", "2"), ("escape", None), ("x", "x"), ("pound_sign", "£")]


async def test_a_change_the_person_may_not_make_shows_refused_with_why_and_keeps_the_typing(db: Database) -> None:
    """The observer has the form open when the observation is signed off elsewhere (on her other
    device): her later typing is refused once (not retried), the status says so and why, and the
    text stays on screen until she puts the field back as stored."""
    from qa_tui.services.practice.observation_signoff import sign_off_observation

    seed(db)
    obs_id = sams_observation(db)
    app = make_app(make_context(url_of(db), today=TODAY, staff_id="TM1"))
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, obs_id)
        with db.session() as s:
            sign_off_observation(s, obs_id, today=TODAY)
        form.query_one("#field-went_well").focus()
        await pilot.pause()
        await type_fast(pilot, "My [own] view")
        form.saves.flush()
        await settle(pilot)
        line, why = status(form), str(form.query_one("#form-error", Static).render())
        assert line.startswith("Not saved: What went well refused"), line
        assert why.startswith("What went well: ") and "signed off" in why, why
        assert not form.saves.failed and form.saves.idle  # refused once: nothing left to retry forever
        assert form.query_one("#field-went_well").text == "My [own] view"
        assert stored(db, obs_id).went_well == ""
        form.query_one("#field-went_well").load_text("")  # put back as stored: nothing refused is left
        await pilot.pause()
        form.saves.flush()
        await settle(pilot)
        assert status(form).startswith("Saved · version"), status(form)
        assert "went well" not in str(form.query_one("#form-error", Static).render())
