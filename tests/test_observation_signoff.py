"""Observation sign-off, on both databases: the observer writes the observation until they sign it
off; the observed worker only adds their reflection, before or after; after sign-off nobody
changes the observer's text. Through the service, the form (keys pressed, read-only fields, a
clear line) and a laptop's bundle."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from sqlalchemy import select
from textual.widgets import Static, TextArea

from qa_tui.db.engine import Database
from qa_tui.db.models import Observation, Person
from qa_tui.errors import NotAllowed
from qa_tui.services.practice.observation_signoff import observation_access, sign_off_observation
from qa_tui.services.practice.observations import ObservationView, record_observation, update_observation_field
from qa_tui.services.sync.export import export_changes
from qa_tui.services.sync.importing import import_bundle
from qa_tui.services.sync.pull import pull_from_database
from screens.practice.observation_form import ObservationFormScreen
from tests.permissions_seed import Council, act_as, nobody, seed_council
from tests.pilot import SIZE, make_app, make_context, settle, url_of
from tests.test_sync_recheck import laptop  # noqa: F401 - the fixture: a laptop's SQLite file


@pytest.fixture
def council(db: Database) -> Council:
    return seed_council(db)


def _observed_by_tm(db: Database, council: Council, today: date) -> ObservationView:
    act_as(db, council.tm)
    with db.session() as s:
        obs = record_observation(s, observer_id=council.tm, worker_id=council.sw, observed_on=today, kind="annual",
                                 went_well="Clear [plan]", to_develop="Plan visits sooner", today=today)
    nobody(db)
    return obs


def _stored(db: Database, obs_id: object) -> Observation:
    with db.reader() as s:
        return s.get(Observation, obs_id)


def test_the_observer_edits_until_sign_off_and_the_worker_only_reflects(db: Database, council: Council,
                                                                       today: date) -> None:
    obs = _observed_by_tm(db, council, today)
    act_as(db, council.sw)  # the observed worker
    with db.session() as s, pytest.raises(NotAllowed, match="the worker adds their reflection only"):
        update_observation_field(s, obs.id, "to_develop", "Nothing to develop", today=today)
    with db.session() as s, pytest.raises(NotAllowed, match="the worker adds their reflection only"):
        sign_off_observation(s, obs.id, today=today)
    with db.session() as s:
        assert observation_access(s, obs.id).editable == {"reflection"}
        update_observation_field(s, obs.id, "reflection", "I will plan sooner", today=today)
    act_as(db, council.peer)
    with db.session() as s, pytest.raises(NotAllowed, match="only its observer may"):
        sign_off_observation(s, obs.id, today=today)
    with db.session() as s:
        assert observation_access(s, obs.id).editable == frozenset()

    act_as(db, council.tm)  # the observer: everything, then signs it off
    with db.session() as s:
        access = observation_access(s, obs.id)
        assert access.may_sign_off and {"to_develop", "went_well", "reflection"} <= access.editable
        update_observation_field(s, obs.id, "to_develop", "Plan visits a week ahead", today=today)
    with db.session() as s:
        signed = sign_off_observation(s, obs.id, today=today)
    assert signed.signed_off_on == today
    for field, value in (("to_develop", "Changed after sign-off"), ("reflection", "Rewritten by the observer")):
        with db.session() as s, pytest.raises(NotAllowed, match="signed off"):
            update_observation_field(s, obs.id, field, value, today=today)
    with db.session() as s, pytest.raises(NotAllowed, match="signed off"):
        sign_off_observation(s, obs.id, today=today)
    with db.session() as s:
        after = observation_access(s, obs.id)
        assert (after.editable, after.may_sign_off) == (frozenset(), False)
        assert after.note.startswith(f"Signed off on {today:%-d %b %Y}")

    act_as(db, council.sw)  # the worker may still add her reflection after sign-off
    with db.session() as s:
        assert observation_access(s, obs.id).editable == {"reflection"}
        update_observation_field(s, obs.id, "reflection", "I will plan a week ahead", today=today)
    stored = _stored(db, obs.id)
    assert (stored.to_develop, stored.reflection, stored.signed_off_on) == (
        "Plan visits a week ahead", "I will plan a week ahead", today)


def test_a_laptop_cannot_change_a_signed_off_observation(db: Database, laptop: Database, council: Council,
                                                         today: date) -> None:
    with db.session() as s:
        s.get(Person, council.tm).login = "terry"
    obs = _observed_by_tm(db, council, today)
    shared_as_terry = Database(db.engine, "terry", db.factory)
    with laptop.session() as local, shared_as_terry.session() as shared:
        pull_from_database(local, shared, source="postgresql://terry@db/qa")
    act_as(db, council.tm)  # signed off on the shared database while the laptop was away
    with db.session() as s:
        sign_off_observation(s, obs.id, today=today)
    nobody(db)
    with laptop.session() as s:  # offline, on the laptop still open before the sign-off
        s.get(Observation, obs.id).to_develop = "Nothing to develop"
    with laptop.session() as s:
        bundle = export_changes(s, exported_by="terry-laptop")
    with db.session() as s:
        receipt = import_bundle(s, bundle)
    [refused] = receipt.refused
    assert (refused.table, refused.id) == ("observation", str(obs.id)) and "signed off" in refused.reason
    assert _stored(db, obs.id).to_develop == "Plan visits sooner"
    assert dataclasses.asdict(receipt)["added"] == 0


def _area(app, field: str) -> TextArea:  # noqa: ANN001
    return app.screen.query_one(f"#field-{field}", TextArea)


async def _open_as(db: Database, staff_id: str, obs: ObservationView, today: date, check) -> None:  # noqa: ANN001
    """Open the observation's form as the person with `staff_id`, then `await check(app, pilot)`."""
    app = make_app(make_context(url_of(db), today=today, staff_id=staff_id))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(ObservationFormScreen(observation_id=obs.id))
        await settle(pilot)
        await check(app, pilot)


async def test_the_observer_signs_off_with_f3_and_the_form_becomes_read_only(db: Database, council: Council,
                                                                              today: date) -> None:
    obs = _observed_by_tm(db, council, today)

    async def check(app, pilot) -> None:  # noqa: ANN001
        assert app.screen.check_action("sign_off", ()) is True
        await pilot.press("f3")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ConfirmDialog"
        await pilot.press("y")
        await settle(pilot)
        assert _stored(db, obs.id).signed_off_on == today
        assert all(_area(app, f).read_only for f in ("went_well", "to_develop", "reflection"))
        assert str(app.screen.query_one("#form-access", Static).render()).startswith(
            f"Signed off on {today:%-d %b %Y}")
        assert app.screen.check_action("sign_off", ()) is None  # greyed: once only
        _area(app, "to_develop").focus()
        await pilot.press(*"xyz", "ctrl+s")
        await settle(pilot)

    await _open_as(db, "M001", obs, today, check)
    assert _stored(db, obs.id).to_develop == "Plan visits sooner"


async def test_the_worker_sees_the_observers_text_read_only_and_adds_her_reflection(db: Database, council: Council,
                                                                                   today: date) -> None:
    obs = _observed_by_tm(db, council, today)

    async def check(app, pilot) -> None:  # noqa: ANN001
        assert _area(app, "to_develop").read_only and not _area(app, "reflection").read_only
        assert "reflection only" in str(app.screen.query_one("#form-access", Static).render())
        assert app.screen.check_action("sign_off", ()) is None
        assert app.screen.focused is _area(app, "reflection")
        await pilot.press(*"Agreed", "ctrl+s")
        await settle(pilot)
        _area(app, "to_develop").focus()
        await pilot.press(*"xyz", "ctrl+s")
        await settle(pilot)

    await _open_as(db, "W001", obs, today, check)
    stored = _stored(db, obs.id)
    assert (stored.reflection, stored.to_develop) == ("Agreed", "Plan visits sooner")
    with db.reader() as s:
        assert s.scalar(select(Observation.signed_off_on)) is None
