"""The local journal of unsaved edits: written (0600) before a save is sent and as text is typed,
taken out once stored, left behind by a session that died, and offered back on the dashboard, where
restoring stores it through the services and discarding asks first. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import stat
import subprocess
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from qa_tui.db.engine import Database
from qa_tui.db.models import Audit, AuditGrade
from qa_tui.demo import DEMO_USER_STAFF_ID, build_demo
from qa_tui.journal import Journal, Unsaved, journal_folder, left_behind
from qa_tui.services.audits import record
from screens.overview.unsaved import UnsavedDialog
from tests.pilot import SIZE, make_app, make_context, settle, url_of
from tests.test_audit_editor import BUILT_ON, MEETING_DAY, burst, open_meeting, status, typed


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def entry(value: object, field: str = "strengths") -> Unsaved:
    return Unsaved(f"audit:1:{field}", "audit-text", "1", field, f"Audit of C-1 · {field}", value)


def stored(journal: Journal) -> list[object]:
    if not journal.path.exists():
        return []
    return [e["value"] for e in json.loads(journal.path.read_text())["entries"]]


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_the_journal_is_private_written_at_once_then_at_most_every_fifth_of_a_second(tmp_path: Path) -> None:
    clock = Clock()
    journal = Journal(tmp_path / "qa.db.unsaved", clock=clock)
    journal.put(entry("w"))
    assert stored(journal) == ["w"], "the first change is on disk at once"
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(journal.path.parent.stat().st_mode) == 0o700
    clock.now += 0.05
    journal.put(entry("wa"))
    assert stored(journal) == ["w"], "a burst of keys is written together"
    journal.flush()  # the app's short interval
    assert stored(journal) == ["wa"]
    clock.now += 0.3
    journal.put(entry("war"))
    assert stored(journal) == ["war"], "after a pause the next key is written at once"


def test_a_stored_value_leaves_the_journal_but_a_newer_one_stays(tmp_path: Path) -> None:
    clock = Clock()
    journal = Journal(tmp_path / "j", clock=clock)
    journal.put(entry("warm"))
    journal.put(entry(2, field="grade:practice"))
    clock.now += 1
    journal.put(entry("warm and"))
    journal.drop("audit:1:strengths", "warm")  # the save of "warm" came back after more was typed
    clock.now += 1
    journal.flush()
    assert sorted(map(str, stored(journal))) == ["2", "warm and"]
    journal.drop("audit:1:strengths", "warm and")
    journal.drop("audit:1:grade:practice", 2)
    clock.now += 1
    journal.flush()
    assert not journal.path.exists(), "nothing unsaved: no file"


def test_only_journals_of_sessions_no_longer_running_are_left_behind(tmp_path: Path) -> None:
    folder = tmp_path / "j"
    mine = Journal(folder)
    mine.put(entry("mine"))
    folder.joinpath("broken.json").write_text("{not json")
    gone = folder / "dead.json"
    gone.write_text(json.dumps({"pid": dead_pid(), "entries": [entry("left").__dict__]}))
    found = left_behind(folder)
    assert [(path, [e.value for e in entries]) for path, entries in found] == [(gone, ["left"])]


def test_the_folder_is_beside_a_sqlite_file_and_keyed_by_url_for_a_server(tmp_path: Path) -> None:
    assert journal_folder(f"sqlite:///{tmp_path}/qa.db") == tmp_path / "qa.db.unsaved"
    one = journal_folder("postgresql+psycopg://ann:secret@db.example/qa")
    assert one == journal_folder("postgresql+psycopg://ann:other@db.example/qa"), "the password is not part of it"
    assert one != journal_folder("postgresql+psycopg://ann@db.example/qa2")
    assert one.parent == tmp_path / "data" / "unsaved"  # QA_TUI_DATA_DIR, set for every test


@pytest.fixture
def demo_db(db: Database) -> Database:
    build_demo(db, today=BUILT_ON, cases=400)
    return db


def unreachable(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
    raise OperationalError("UPDATE audit", {}, ConnectionRefusedError("server closed the connection"))


async def test_typing_in_an_outage_is_journalled_and_offered_back_at_the_next_start(
        demo_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = make_context(url_of(demo_db), today=MEETING_DAY, staff_id=DEMO_USER_STAFF_ID)
    folder = journal_folder(ctx.config.database_url)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_meeting(pilot)
        audit_id, reference = editor.audit.id, editor.audit.case_reference
        real_set_text, real_set_grade = record.set_text, record.set_grade
        monkeypatch.setattr(record, "set_text", unreachable)
        monkeypatch.setattr(record, "set_grade", unreachable)
        await burst(pilot, ["w", *typed("kept [b]safe[/b]")])  # still typing: no save sent yet
        journal = app.unsaved_journal
        assert journal is not None
        journal.flush()
        assert stored(journal) == ["kept [b]safe[/b]"], "on disk before any save is sent"
        await burst(pilot, ["escape"])  # the save is sent and fails: it stays journalled
        assert status(editor).startswith("Not saved: 1 change waiting"), status(editor)
        await burst(pilot, ["2"])  # and a grade: Good on the first domain
        journal.flush()
        assert stored(journal) == ["kept [b]safe[/b]", 1]
        journal_path = journal.path
    monkeypatch.setattr(record, "set_text", real_set_text)
    monkeypatch.setattr(record, "set_grade", real_set_grade)
    # The session ends (as if killed) with the text unsaved; its journal names a process now gone.
    body = json.loads(journal_path.read_text())
    body["pid"] = dead_pid()
    journal_path.write_text(json.dumps(body))
    with demo_db.reader() as s:
        assert s.get(Audit, audit_id).strengths == ""

    again = make_app(make_context(url_of(demo_db), today=MEETING_DAY, staff_id=DEMO_USER_STAFF_ID))
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(again.screen, UnsavedDialog)
        shown = "\n".join(str(w.render()) for w in again.screen.query(".entry"))
        assert f"Audit of {reference} · Strengths" in shown and "kept [b]safe[/b]" in shown, shown
        assert f"Audit of {reference} · grade for Quality of recording\n2 Good" in shown, "the grade as read"
        await pilot.press("r")
        await settle(pilot)
        assert not isinstance(again.screen, UnsavedDialog)
        again.unsaved_journal.flush()
    with demo_db.reader() as s:
        assert s.get(Audit, audit_id).strengths == "kept [b]safe[/b]"
        assert s.scalar(select(AuditGrade.grade).where(AuditGrade.audit_id == audit_id,
                                                       AuditGrade.domain == "recording")) == 1
    assert not list(folder.glob("*.json")), "restored: no journal left"


async def test_discarding_unsaved_edits_asks_first_and_later_keeps_them(demo_db: Database) -> None:
    ctx = make_context(url_of(demo_db), today=MEETING_DAY, staff_id=DEMO_USER_STAFF_ID)
    folder = journal_folder(ctx.config.database_url)
    folder.mkdir(parents=True)
    left = folder / "old.json"
    left.write_text(json.dumps({"pid": dead_pid(), "entries": [entry("a paragraph").__dict__]}))
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, UnsavedDialog)
        await pilot.press("escape")  # later: nothing is thrown away
        await settle(pilot)
        assert left.exists()
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key, expected in (("d", "ConfirmDialog"), ("n", "UnsavedDialog")):  # asked, and n keeps them
            await pilot.press(key)
            await settle(pilot)
            assert app.screen.__class__.__name__ == expected and left.exists()
        await pilot.press("d", "y")
        await settle(pilot)
        assert not left.exists()
