"""The laptop tells the truth offline: after a pull, every figure its screens show for the team
equals the shared database's; deletions travel as tombstones; synced records keep their author;
a change and its history move together; draw rules hold on import."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from qa_tui.config import parse_config
from qa_tui.db.engine import Database
from textual.widgets import Input

from qa_tui.db.models import (
    Action,
    ActionChange,
    AuditEvent,
    Case,
    CaseDraw,
    DrawPick,
    FollowUp,
    Observation,
    Person,
    SyncConflict,
    Supervision,
    SupportPlan,
    SupportStep,
    Team,
)
from qa_tui.errors import NotAllowed, ValidationError
from qa_tui.services.audits.actions import action_history, extend_action
from qa_tui.services.practice.celebration import good_practice_for, mark_good_practice, unmark_good_practice
from qa_tui.demo import DEMO_USER_STAFF_ID, build_demo
from qa_tui.services.practice.observations import observation_coverage
from qa_tui.services.practice.supervision import supervision_status
from qa_tui.services.programme.dashboard import build_dashboard
from qa_tui.services.programme.obligations import obligations
from qa_tui.services.programme.triage import TriageFilters, triage_page
from qa_tui.services.sync.conflicts import ConflictView, list_conflicts, resolve_conflict
from qa_tui.services.sync.pull import pull_from_database
from tests.conftest import TODAY
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of
from tests.test_screens_sync import open_sync
from tests.test_sync import _ack, _export, _import, _new_sqlite, _pending, _pull, _seed_shared

CFG = parse_config({})


@pytest.fixture
def laptop(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    database = _new_sqlite(sqlite_template, tmp_path / "laptop", "jsmith")
    yield database
    database.dispose()


def _pictures(db: Database, team_id: uuid.UUID, people: list[uuid.UUID]) -> dict[str, object]:
    """Everything the laptop's overview screens show for one team, as comparable values."""
    with db.reader() as s:
        page = triage_page(s, TODAY, CFG, TriageFilters(team_id=team_id), limit=500)
        return {
            "dashboard": build_dashboard(s, today=TODAY, config=replace(CFG, user_team=s.scalar(
                select(Team.code).where(Team.id == team_id)))),
            "triage": page.rows,
            "supervision": supervision_status(s, TODAY, CFG, team_id=team_id),
            "coverage": observation_coverage(s, TODAY, CFG, team_id=team_id),
            "owed": {person: obligations(s, person, TODAY, CFG).lines for person in people},
        }


def test_a_pulled_team_shows_the_same_figures_as_the_shared_database(db: Database, laptop: Database) -> None:
    build_demo(db, today=TODAY, cases=400, seed=3)
    with db.reader() as s:
        team_id = s.scalar(select(Person.team_id).where(Person.staff_id == DEMO_USER_STAFF_ID))
        code = s.scalar(select(Team.code).where(Team.id == team_id))
        people = list(s.scalars(select(Person.id).where(Person.team_id == team_id).order_by(Person.staff_id)))
    with db.reader() as remote, laptop.session() as local:
        summary = pull_from_database(local, remote, source="shared", team_codes=(code,), today=TODAY)
    assert summary.skipped == () and summary.added > 0

    shared, offline = _pictures(db, team_id, people), _pictures(laptop, team_id, people)
    dashboard = shared["dashboard"]
    # The team is not trivially empty: the comparison below means something.
    assert dashboard.case_holders > 0 and sum(dashboard.audits_by_status.values()) > 0
    assert shared["supervision"] and any(row.last_held for row in shared["supervision"])
    assert any(row.observed_this_year for row in shared["coverage"])
    assert shared["triage"]
    for key in shared:
        assert offline[key] == shared[key], key


# --- deletions travel as tombstones --------------------------------------------------------


def _marked_observation(db: Database, ids: dict[str, uuid.UUID]) -> uuid.UUID:
    """An observation of the worker marked as good practice on the shared database."""
    with db.session() as s:
        obs = Observation(worker_id=ids["worker"], observer_id=ids["manager"], observed_on=date(2026, 11, 2),
                          kind="annual", went_well="Calm [b]child-led[/b] visit")
        s.add(obs)
        s.flush()
        mark_good_practice(s, source_kind="observation", source_id=obs.id, why="The child's voice, in \"their\" words",
                           marked_by_id=ids["manager"], today=date(2026, 11, 3))
        return obs.id


def test_unmarking_good_practice_offline_removes_it_after_sync(db: Database, laptop: Database) -> None:
    ids = _seed_shared(db)
    obs_id = _marked_observation(db, ids)
    _pull(laptop, db, teams=("T1",))
    with laptop.session() as s:
        assert good_practice_for(s, "observation", obs_id) is not None
        unmark_good_practice(s, "observation", obs_id)
    assert _pending(laptop) == {"good_practice deleted": 1}
    bundle = _export(laptop)
    assert [(r.table, r.deleted) for r in bundle.records] == [("good_practice", True)]
    receipt = _import(db, bundle)
    assert receipt.deleted == 1 and receipt.conflicts == ()
    with db.reader() as s:
        assert good_practice_for(s, "observation", obs_id) is None
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "delete")).one()
        # The importer writes here (the trail's actor); the laptop's author is named in the event.
        assert event.table_name == "good_practice" and event.actor == "tester" and "by jsmith" in event.detail
        assert event.old["why"] == "The child's voice, in \"their\" words"
    # The same bundle again changes nothing; the receipt clears the tombstone.
    assert _import(db, bundle) == receipt
    _ack(laptop, receipt)
    assert _pending(laptop) == {}
    # A later pull does not bring it back.
    _pull(laptop, db, teams=("T1",))
    with laptop.reader() as s:
        assert good_practice_for(s, "observation", obs_id) is None


def _deleted_offline_reworded_in_office(db: Database, laptop: Database, why: str) -> uuid.UUID:
    """A good practice mark pulled, reworded in the office, then unmarked on the laptop."""
    ids = _seed_shared(db)
    obs_id = _marked_observation(db, ids)
    _pull(laptop, db, teams=("T1",))
    with db.session() as s:
        mark_good_practice(s, source_kind="observation", source_id=obs_id, why=why,
                           marked_by_id=ids["manager"], today=date(2026, 11, 4))
    with laptop.session() as s:
        unmark_good_practice(s, "observation", obs_id)
    return obs_id


def test_a_deletion_of_a_record_changed_in_the_office_is_a_conflict(db: Database, laptop: Database) -> None:
    obs_id = _deleted_offline_reworded_in_office(db, laptop, "Reworded in the office")
    receipt = _import(db, _export(laptop))
    assert [(c.table, c.reason) for c in receipt.conflicts] == [("good_practice", "edited-elsewhere")]
    with db.reader() as s:
        assert good_practice_for(s, "observation", obs_id).why == "Reworded in the office"
    # The pull while the deletion waits keeps the laptop's deletion; the ack hands it over.
    _ack(laptop, receipt)
    assert _pending(laptop) == {}
    with db.session() as s:
        [view] = list_conflicts(s)
        assert view.deletion and view.differing == ()
        with pytest.raises(ValidationError, match="keep the shared version or take the deletion"):
            resolve_conflict(s, view.id, "merged", {"why": "x"}, by="mo.manager")
    with db.session() as s:
        resolve_conflict(s, view.id, "incoming", by="mo.manager", expected_live_version=view.live_version)
    with db.reader() as s:
        assert good_practice_for(s, "observation", obs_id) is None
        resolved = s.scalars(select(AuditEvent).where(AuditEvent.action == "sync-resolve")).one()
        assert "kept the deletion" in resolved.detail and resolved.actor == "tester"
        deleted = s.scalars(select(AuditEvent).where(AuditEvent.action == "delete")).one()
        assert deleted.actor == "jsmith"  # the laptop's author, as an import would have written it


def test_a_deletion_kept_shared_comes_back_on_the_next_pull(db: Database, laptop: Database) -> None:
    obs_id = _deleted_offline_reworded_in_office(db, laptop, "Reworded in the office")
    _ack(laptop, _import(db, _export(laptop)))
    with db.session() as s:
        [view] = list_conflicts(s)
        resolve_conflict(s, view.id, "shared", by="mo.manager")
    _pull(laptop, db, teams=("T1",))
    with laptop.reader() as s:
        assert good_practice_for(s, "observation", obs_id).why == "Reworded in the office"


# --- a change and its history move together -----------------------------------------------


def _extension_held_as_conflict(db: Database, laptop: Database, ids: dict[str, uuid.UUID]) -> ConflictView:
    _pull(laptop, db, teams=("T1",))
    with db.session() as s:
        s.get(Action, ids["action"]).evidence = "Office: checked"
    with laptop.session() as s:
        extend_action(s, ids["action"], date(2026, 12, 31), "Family [away] until \"mid-December\"",
                      ids["manager"], date(2026, 11, 20))
    receipt = _import(db, _export(laptop))
    assert sorted((c.table, c.reason) for c in receipt.conflicts) == [
        ("action", "edited-elsewhere"), ("action_change", "held")]
    with db.reader() as s:
        assert action_history(s, ids["action"]) == []
        [view] = list_conflicts(s)  # the history is decided with its record, not listed alone
    assert view.table == "action" and view.held == 1
    return view


def test_keep_shared_means_the_history_never_shows_the_extension(db: Database, laptop: Database) -> None:
    ids = _seed_shared(db)
    view = _extension_held_as_conflict(db, laptop, ids)
    with db.session() as s:
        held = s.scalars(select(SyncConflict).where(SyncConflict.held_by == view.id)).one()
        with pytest.raises(NotAllowed, match="decided with that one"):
            resolve_conflict(s, held.id, "incoming", by="mo.manager")
    with db.session() as s:
        resolve_conflict(s, view.id, "shared", by="mo.manager")
    with db.reader() as s:
        assert action_history(s, ids["action"]) == []
        assert s.get(Action, ids["action"]).due_on == date(2026, 11, 30)
        assert s.scalars(select(SyncConflict).where(SyncConflict.status == "open")).all() == []


def test_taking_the_laptop_version_applies_its_history_too(db: Database, laptop: Database) -> None:
    ids = _seed_shared(db)
    view = _extension_held_as_conflict(db, laptop, ids)
    with db.session() as s:
        resolve_conflict(s, view.id, "incoming", by="mo.manager", expected_live_version=view.live_version)
    with db.reader() as s:
        [change] = action_history(s, ids["action"])
        assert (change.change, change.reason) == ("extended", "Family [away] until \"mid-December\"")
        assert s.get(Action, ids["action"]).due_on == date(2026, 12, 31)
        assert s.scalars(select(ActionChange)).one().updated_by == "jsmith"


# --- draw rules hold on import -------------------------------------------------------------


def _draw(team_id: uuid.UUID, worker_id: uuid.UUID, seed: str) -> tuple[CaseDraw, DrawPick]:
    draw = CaseDraw(id=uuid.uuid4(), team_id=team_id, month="2026-11", seed=seed, algorithm="v1", rules={},
                    drawn_on=date(2026, 11, 2))
    return draw, DrawPick(draw_id=draw.id, worker_id=worker_id, case_reference="CASE-001")


def test_a_second_draw_for_a_team_and_month_is_refused_not_written(db: Database, laptop: Database) -> None:
    ids = _seed_shared(db)
    _pull(laptop, db, teams=("T1",))
    with db.session() as s:
        s.add_all(_draw(ids["t1"], ids["worker"], "office"))
    with laptop.session() as s:
        s.add_all(_draw(ids["t1"], ids["worker"], "laptop"))
        s.add(Supervision(worker_id=ids["worker"], held_on=date(2026, 11, 21)))
    receipt = _import(db, _export(laptop))
    assert receipt.added == 1 and receipt.conflicts == ()
    assert sorted(r.table for r in receipt.refused) == ["case_draw", "draw_pick"]
    assert "already have a draw" in next(r.reason for r in receipt.refused if r.table == "case_draw")
    with db.reader() as s:
        assert s.scalars(select(CaseDraw.seed)).all() == ["office"]
        assert len(s.scalars(select(DrawPick)).all()) == 1
    # The receipt names them, so the laptop stops sending them.
    _ack(laptop, receipt)
    assert _pending(laptop) == {}


# --- the pull dialog ------------------------------------------------------------------------


async def _pull_dialog(app, pilot, url: str) -> None:  # noqa: ANN001 - the app and its pilot
    await pilot.press("f")
    await settle(pilot)
    assert app.screen.__class__.__name__ == "PullDialog"
    app.screen.query_one("#pull-url", Input).value = url


async def test_pull_dialog_defaults_to_own_team_and_asks_before_the_whole_council(
        db: Database, laptop: Database) -> None:
    ids = _seed_shared(db)
    with db.session() as s:  # Mo Manager (M1) of T1 pulls: the laptop is hers
        s.scalar(select(Person).where(Person.staff_id == "M1")).login = "tester"
    _pull(laptop, db, teams=("T1",))
    ctx = make_context(url_of(laptop), today=TODAY)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await open_sync(pilot)
        await _pull_dialog(app, pilot, url_of(db))
        assert app.screen.query_one("#pull-team", Input).value == "T1"
        await pilot.press("ctrl+s")  # the own team: no question
        await settle(pilot)
        assert app.screen.__class__.__name__ == "SyncScreen"
        assert "team T1" in screen_text(app), screen_text(app)
        with laptop.reader() as s:
            assert s.get(Case, ids["other_case"]) is None

        # Emptied, the box means the whole council: asked first, and "no" pulls nothing.
        await _pull_dialog(app, pilot, url_of(db))
        app.screen.query_one("#pull-team", Input).value = ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ConfirmDialog"
        assert "whole council" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "PullDialog"
        assert "Type a team code" in screen_text(app)
        with laptop.reader() as s:
            assert s.get(Case, ids["other_case"]) is None
        # "Yes" pulls every team.
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "SyncScreen"
        assert "the whole council" in screen_text(app), screen_text(app)
        with laptop.reader() as s:
            assert s.get(Case, ids["other_case"]) is not None
    ctx.db.dispose()


def test_a_record_deleted_in_the_office_goes_from_the_laptop_at_the_next_pull(db: Database, laptop: Database) -> None:
    ids = _seed_shared(db)
    obs_id = _marked_observation(db, ids)
    other = _marked_observation(db, ids)
    _pull(laptop, db, teams=("T1",))
    with laptop.session() as s:  # edited here, not yet synced: stays, and goes up with the next export
        mark_good_practice(s, source_kind="observation", source_id=other, why="Edited on the laptop",
                           marked_by_id=ids["manager"], today=date(2026, 11, 5))
    with db.session() as s:
        unmark_good_practice(s, "observation", obs_id)
        unmark_good_practice(s, "observation", other)
    summary = _pull(laptop, db, teams=("T1",))
    assert summary.removed == 1
    with laptop.reader() as s:
        assert good_practice_for(s, "observation", obs_id) is None
        assert good_practice_for(s, "observation", other).why == "Edited on the laptop"
    assert _pending(laptop) == {"good_practice": 1}  # no tombstone for a deletion made in the office


def test_history_held_in_the_office_stays_on_the_laptop_until_decided(db: Database, laptop: Database) -> None:
    ids = _seed_shared(db)
    view = _extension_held_as_conflict(db, laptop, ids)
    _ack(laptop, _import(db, _export(laptop)))  # the same bundle content again: its receipt
    _pull(laptop, db, teams=("T1",))
    with laptop.reader() as s:
        assert len(action_history(s, ids["action"])) == 1  # waiting for the office, not gone
    with db.session() as s:
        resolve_conflict(s, view.id, "shared", by="mo.manager")
    _pull(laptop, db, teams=("T1",))
    with laptop.reader() as s:  # the office kept its version: the laptop's history agrees
        assert action_history(s, ids["action"]) == []
        assert s.get(Action, ids["action"]).evidence == "Office: checked"
    assert _pending(laptop) == {}


async def test_a_deletion_conflict_by_keys_offers_keep_or_delete_only(db: Database, laptop: Database) -> None:
    obs_id = _deleted_offline_reworded_in_office(db, laptop, "Reworded [i]in[/i] the office")
    _import(db, _export(laptop))
    ctx = make_context(url_of(db), today=TODAY, staff_id="M1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_sync(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ConflictScreen"
        text = screen_text(app)
        assert "Deleted on the laptop" in text and "the record was deleted there" in text, text
        assert "why" in app.screen.fields and app.screen.detail.view.live["why"] == "Reworded [i]in[/i] the office"
        await pilot.press("2")  # no hand merge of a deletion
        await pilot.pause()
        assert "keep the shared version (h) or take the deletion (i)" in " | ".join(
            str(n.message) for n in app._notifications)
        await pilot.press("i")
        await settle(pilot)
        assert "deleted here, as it was on the laptop" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
    ctx.db.dispose()
    with db.reader() as s:
        assert good_practice_for(s, "observation", obs_id) is None
        assert s.scalars(select(SyncConflict)).one().resolution == "incoming"


def test_any_removal_travels_and_a_record_still_referred_to_is_an_in_use_conflict(
        db: Database, laptop: Database) -> None:
    ids = _seed_shared(db)
    _pull(laptop, db, teams=("T1",))
    with db.session() as s:  # the office links a support step to the follow-up meanwhile
        plan = SupportPlan(worker_id=ids["worker"], manager_id=ids["manager"], started_on=date(2026, 11, 1),
                           aim="Recording the child's voice")
        s.add(plan)
        s.flush()
        s.add(SupportStep(plan_id=plan.id, step="Discuss [it]", due_on=date(2026, 12, 1),
                          follow_up_id=ids["follow_up"]))
    with laptop.session() as s:  # removed offline: the follow-up and the open action
        s.delete(s.get(FollowUp, ids["follow_up"]))
        s.delete(s.get(Action, ids["action"]))
    receipt = _import(db, _export(laptop))
    assert receipt.deleted == 1
    assert [(c.table, c.reason) for c in receipt.conflicts] == [("follow_up", "in-use")]
    with db.reader() as s:
        assert s.get(Action, ids["action"]) is None and s.get(FollowUp, ids["follow_up"]) is not None
