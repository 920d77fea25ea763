"""The Sync area by keys, with a laptop's SQLite file and the shared database side by side: pull,
export, import (and again), acknowledge; conflicts kept, taken and merged by hand; and the
helpers in qa_tui.services.sync.views."""

from __future__ import annotations

import os
import stat
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from textual.widgets import Input

from qa_tui.db.engine import Database
from qa_tui.db.models import (
    Action,
    AuditEvent,
    FollowUp,
    Observation,
    SyncConflict,
    Team,
)
from qa_tui.errors import DatabaseUnavailable, ValidationError
from qa_tui.files import exports_dir
from qa_tui.services.sync.state import pending_changes
from qa_tui.services.sync.views import (
    conflict_detail,
    export_to_file,
    field_text,
    field_value_from_text,
    new_bundle_path,
    newest_file,
    open_shared_database,
    split_password,
    write_receipt_beside,
)
from screens.sync.bundles import SyncScreen
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of
from tests.test_sync import _export, _import, _new_sqlite, _pull, _seed_shared

TODAY = date(2026, 11, 24)


@pytest.fixture
def laptop(sqlite_template: Path, tmp_path: Path) -> Database:
    database = _new_sqlite(sqlite_template, tmp_path / "laptop", "jsmith")
    yield database
    database.dispose()



def notes(app) -> str:
    return " | ".join(str(n.message) for n in app._notifications)


def count(db: Database, model: type, *where) -> int:
    with db.reader() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


async def open_sync(pilot) -> None:
    await settle(pilot)
    await pilot.press("y")
    await settle(pilot)
    assert pilot.app.screen.__class__.__name__ == "SyncScreen"


# --- the journey by keys --------------------------------------------------------------------


async def test_pull_export_and_import_twice_by_keys(db: Database, laptop: Database, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    ids = _seed_shared(db)
    bar_moves: list[tuple[str, int, int]] = []
    advance = SyncScreen._advance

    def recorded(screen: SyncScreen, label: str, done: int, total: int) -> None:
        bar_moves.append((label, done, total))
        advance(screen, label, done, total)

    monkeypatch.setattr(SyncScreen, "_advance", recorded)
    laptop_ctx = make_context(url_of(laptop), today=TODAY)
    app = make_app(laptop_ctx)
    async with app.run_test(size=SIZE) as pilot:
        await open_sync(pilot)
        assert "none yet" in screen_text(app) and "never" in screen_text(app)

        await pilot.press("f")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "PullDialog"
        app.screen.query_one("#pull-url", Input).value = url_of(db)
        await pilot.press("enter", "enter", *"T1", "enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "SyncScreen"
        assert "Pulled" in screen_text(app) and "team T1" in screen_text(app), screen_text(app)
        with laptop.reader() as s:
            assert s.get(Action, ids["action"]) is not None and s.get(Team, ids["t2"]) is not None  # a manager's team
            assert s.get(Team, ids["t1"]).synced_version == 1

        # Offline work on the laptop: a new observation and an action marked done.
        with laptop.session() as s:
            s.add(Observation(worker_id=ids["worker"], observer_id=ids["manager"], observed_on=date(2026, 11, 20),
                              kind="annual", went_well="Calm, child-led visit"))
            action = s.get(Action, ids["action"])
            action.status, action.evidence = "done", "Chronology updated on 20 Nov"
        await pilot.press("e")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "TextPrompt"
        await pilot.press("enter")  # the default: the exports folder
        await settle(pilot)
        bundle = exports_dir() / "changes-2026-11-24.qsb"
        assert bundle.exists() and stat.S_IMODE(bundle.stat().st_mode) == 0o600
        assert stat.S_IMODE(bundle.parent.stat().st_mode) == 0o700
        assert "Exported 2 changed records" in screen_text(app), screen_text(app)
        assert ("Exporting", 2, 2) in bar_moves and bar_moves[0][0] == "Pulling"
        assert "2 to export" in screen_text(app)  # still waiting until the receipt is acknowledged
    laptop_ctx.db.dispose()

    damaged = tmp_path / "damaged.qsb"
    damaged.write_bytes(bundle.read_bytes()[:-40])
    shared_ctx = make_context(url_of(db), today=TODAY, staff_id="M1")
    app = make_app(shared_ctx)
    async with app.run_test(size=SIZE) as pilot:
        await open_sync(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert app.screen.query_one(Input).value == str(bundle)  # the newest bundle is offered
        app.screen.query_one(Input).value = str(damaged)
        await pilot.press("enter")
        await settle(pilot)
        assert "Importing: not done" in screen_text(app) and "truncated" in screen_text(app), screen_text(app)
        assert count(db, Observation) == 0 and not damaged.with_name(damaged.name + ".receipt.json").exists()

        await pilot.press("i", "enter")
        await settle(pilot)
        text = screen_text(app)
        assert "Imported" in text and "1 added · 1 updated · 0 unchanged · 0 conflicts" in text, text
        receipt = bundle.with_name(bundle.name + ".receipt.json")
        assert receipt.exists() and "Receipt written to" in screen_text(app)
        assert count(db, Observation) == 1 and bar_moves[-1] == ("Importing", 2, 2)
        with db.reader() as s:
            assert s.get(Action, ids["action"]).status == "done" and s.get(Action, ids["action"]).version == 2
        events = count(db, AuditEvent)
        receipt_bytes = receipt.read_bytes()

        await pilot.press("i", "enter")  # the same bundle again
        await settle(pilot)
        assert "Already imported" in screen_text(app), screen_text(app)
        assert count(db, AuditEvent) == events and count(db, Observation) == 1
        assert receipt.read_bytes() == receipt_bytes
    shared_ctx.db.dispose()


async def test_acknowledging_the_receipt_by_keys_clears_the_marks(laptop: Database, sqlite_template: Path,
                                                                  tmp_path: Path) -> None:
    """Only the laptop's SQLite file is involved (and the pull dialog), so this runs once."""
    shared = _new_sqlite(sqlite_template, tmp_path / "shared", "office")
    ids = _seed_shared(shared)
    _pull(laptop, shared)
    with laptop.session() as s:
        s.add(Observation(worker_id=ids["worker"], observed_on=date(2026, 11, 20), kind="annual"))
    folder = exports_dir()
    folder.mkdir(parents=True)
    receipt = _import(shared, _export(laptop))
    write_receipt_beside(folder / "monday.qsb", receipt)
    shared.dispose()
    ctx = make_context(url_of(laptop), today=TODAY)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await open_sync(pilot)
        assert "1 to export: 1 observation" in screen_text(app)
        await pilot.press("f")  # a password typed into the URL moves to the hidden field, out of sight
        await settle(pilot)
        url_box = app.screen.query_one("#pull-url", Input)
        url_box.value = "postgresql+psycopg://mo:s3cret@qa-db/qa"
        await pilot.press("enter")
        await pilot.pause()
        assert url_box.value == "postgresql+psycopg://mo@qa-db/qa"
        password = app.screen.query_one("#pull-password", Input)
        assert password.value == "s3cret" and password.password and password.has_focus
        await pilot.press("escape")

        await pilot.press("c")
        await settle(pilot)
        assert app.screen.query_one(Input).value == str(folder / "monday.qsb.receipt.json")
        await pilot.press("enter")
        await settle(pilot)
        assert "Acknowledged" in screen_text(app) and "1 record marked as synced" in screen_text(app)
        assert "0 to export" in screen_text(app) and f"bundle {receipt.bundle_id[:8]}, acknowledged" in screen_text(app)
    ctx.db.dispose()
    with laptop.reader() as s:
        assert pending_changes(s) == {}


# --- conflicts by keys ----------------------------------------------------------------------


async def test_conflicts_merged_by_hand_and_taken_after_a_reload(db: Database, laptop: Database) -> None:
    ids = _seed_shared(db)
    _pull(laptop, db)
    with db.session() as s:  # the office edits meanwhile
        action = s.get(Action, ids["action"])
        action.title, action.due_on = "Office title", date(2026, 12, 14)
        s.get(FollowUp, ids["follow_up"]).summary = "Office: discuss the child's voice and recording"
    with laptop.session() as s:
        action = s.get(Action, ids["action"])
        action.title, action.evidence = "Laptop title", "Seen at home"
        s.get(FollowUp, ids["follow_up"]).summary = "Laptop: discuss the child's voice"
    receipt = _import(db, _export(laptop))
    assert sorted(c.table for c in receipt.conflicts) == ["action", "follow_up"]

    ctx = make_context(url_of(db), today=TODAY, staff_id="M1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await open_sync(pilot)
        assert "Open conflicts in this database: 2" in screen_text(app)
        assert [c.table for c in app.screen.conflicts] == ["action", "follow_up"]

        # The action: title from the laptop, due date as the office set it, evidence typed by hand.
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert screen.__class__.__name__ == "ConflictScreen"
        assert screen.fields[:3] == ["title", "due_on", "evidence"]
        assert "3 fields differ" in screen_text(app) and "Office title" in screen_text(app)
        await pilot.press("2", "down", "down", "e")
        edit = screen.query_one("#conflict-edit", Input)
        assert edit.has_focus and edit.value == ""
        await pilot.press(*"Agreed", "enter")
        assert screen.choices == {**screen.choices, "title": "incoming", "due_on": "shared", "evidence": "edited"}
        await pilot.press("up", "e")  # a due date that is not a date is refused where it is typed
        edit.value = "31/02/2026"
        await pilot.press("enter")
        assert "not a real date" in screen_text(app) and screen.choices["due_on"] == "shared"
        await pilot.press("escape")
        await pilot.press("c")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ConfirmDialog"
        await pilot.press("y")
        await settle(pilot)
        assert "Kept the merged version" in notes(app), notes(app)
        assert app.screen.__class__.__name__ == "SyncScreen"
        assert "Open conflicts in this database: 1" in screen_text(app)

        # The follow-up: changed again in the office while it is open; keeping the incoming
        # version is refused until reloaded.
        await pilot.press("enter")
        await settle(pilot)
        with db.session() as s:
            s.get(FollowUp, ids["follow_up"]).discussed_note = "Changed again in the office"
        await pilot.press("i")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "changed by someone else — reload?" in screen_text(app), screen_text(app)
        assert count(db, SyncConflict, SyncConflict.status == "open") == 1
        await pilot.press("y")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ConflictScreen"
        assert app.screen.view.live_version == 3 and "discussed_note" in app.screen.view.differing
        await pilot.press("i")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "Kept the incoming version" in notes(app), notes(app)
        assert "Open conflicts in this database: 0" in screen_text(app)
    ctx.db.dispose()

    with db.reader() as s:
        action = s.get(Action, ids["action"])
        assert (action.title, action.due_on, action.evidence) == ("Laptop title", date(2026, 12, 14),
                                                                  "Agreed")
        follow_up = s.get(FollowUp, ids["follow_up"])
        assert follow_up.summary == "Laptop: discuss the child's voice" and follow_up.discussed_note == ""
        decisions = {e.record_id: e for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "sync-resolve"))}
        assert set(decisions) == {str(ids["action"]), str(ids["follow_up"])}
        assert "kept the merged version" in decisions[str(ids["action"])].detail
        assert decisions[str(ids["action"])].actor == ctx.login
        assert "kept the incoming version" in decisions[str(ids["follow_up"])].detail
        assert decisions[str(ids["follow_up"])].old["discussed_note"] == "Changed again in the office"


# --- sync_views -------------------------------------------------------------------------------


def test_field_values_typed_by_hand_take_the_column_form() -> None:
    assert field_value_from_text("action", "due_on", "14/12/2026") == "2026-12-14"
    assert field_value_from_text("action", "due_on", "2026-12-14") == "2026-12-14"
    assert field_value_from_text("action", "completed_on", " ") is None  # nullable
    assert field_value_from_text("action", "evidence", "") == ""  # text that is never null
    assert field_value_from_text("observation", "themes", '["voice", "plan"]') == ["voice", "plan"]
    owner = uuid.uuid4()
    assert field_value_from_text("action", "owner_id", str(owner).upper()) == str(owner)
    for field, text, problem in (("due_on", "31/02/2026", "not a real date"), ("due_on", "", "must have a value"),
                                 ("owner_id", "Wyn", "not a record ID"), ("status", "x" * 13, "longer than 12")):
        with pytest.raises(ValidationError, match=problem) as caught:
            field_value_from_text("action", field, text)
        assert caught.value.field == field
    with pytest.raises(ValidationError, match="not valid JSON"):
        field_value_from_text("observation", "themes", "[voice")
    for value, table, field in ((["voice"], "observation", "themes"), ("2026-12-14", "action", "due_on"),
                                (None, "action", "completed_on"), ("Seen at home", "action", "evidence")):
        assert field_value_from_text(table, field, field_text(value)) == value


def test_split_password_keeps_the_password_out_of_the_url() -> None:
    assert split_password("postgresql+psycopg://mo:s3cret@qa-db:5432/qa") == ("postgresql+psycopg://mo@qa-db:5432/qa",
                                                                               "s3cret")
    assert split_password(" postgresql+psycopg://mo@qa-db/qa ") == ("postgresql+psycopg://mo@qa-db/qa", None)
    with pytest.raises(ValidationError, match="not a database URL"):
        split_password("qa-db/qa")


def test_an_unreachable_shared_database_is_named_without_its_password() -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        open_shared_database("postgresql+psycopg://mo@127.0.0.1:1/qa", password="hunter2")
    assert "Cannot reach postgresql+psycopg://mo" in str(caught.value) and "hunter2" not in str(caught.value)


def test_default_bundle_names_never_replace_a_bundle(tmp_path: Path) -> None:
    assert new_bundle_path(tmp_path, TODAY) == tmp_path / "changes-2026-11-24.qsb"
    (tmp_path / "changes-2026-11-24.qsb").write_text("a")
    assert new_bundle_path(tmp_path, TODAY) == tmp_path / "changes-2026-11-24-2.qsb"
    assert newest_file(tmp_path / "missing", ".qsb") is None
    older = tmp_path / "changes-2026-11-24.qsb.receipt.json"
    newer = tmp_path / "other.receipt.json"
    older.write_text("{}")
    newer.write_text("{}")
    os.utime(older, ns=(1_000_000_000, 1_000_000_000))
    assert newest_file(tmp_path, ".receipt.json") == newer
    assert newest_file(tmp_path, ".qsb") == tmp_path / "changes-2026-11-24.qsb"


def test_export_with_nothing_changed_writes_no_file(laptop: Database, tmp_path: Path) -> None:
    target = tmp_path / "nothing.qsb"
    with laptop.session() as s:
        done = export_to_file(s, target, exported_by="jsmith", device_name="laptop-1", passphrase=None)
    assert done.bundle_id is None and done.records == 0 and not target.exists()


def test_conflict_detail_names_the_records_it_refers_to(db: Database, laptop: Database) -> None:
    ids = _seed_shared(db)
    _pull(laptop, db)
    with db.session() as s:
        s.get(Action, ids["action"]).title = "Office title"
    with laptop.session() as s:
        action = s.get(Action, ids["action"])
        action.title, action.owner_id = "Laptop title", ids["manager"]
    _import(db, _export(laptop))
    with db.reader() as s:
        conflict_id = s.scalar(select(SyncConflict.id))
        detail = conflict_detail(s, conflict_id)
    assert set(detail.view.differing) == {"title", "owner_id"}
    assert detail.labels[str(ids["worker"])] == "Wyn Worker (W1)"
    assert detail.labels[str(ids["manager"])] == "Mo Manager (M1)"
    assert detail.labels[str(ids["t1"])] == "T1 Assessment 1"
