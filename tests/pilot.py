"""Helpers for Pilot tests: an app on a prepared database, and waiting for its workers."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

from textual.pilot import Pilot

from qa_tui.app import QAApp
from qa_tui.config import load_config
from qa_tui.context import AppContext, open_context
from qa_tui.db.engine import Database

SIZE = (100, 30)  # the projector size every screen must read well at


def built_council(template: Path, path: Path, build: Callable[[str], object]) -> Path:
    """A SQLite council made once from the migrated `template` by `build(url)`, checkpointed so
    that everything is in the one file; tests open private copies of it."""
    shutil.copyfile(template, path)
    build(f"sqlite:///{path}")
    db = Database.open(f"sqlite:///{path}", actor="tester")
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


def private_copy(council: Path, folder: Path) -> str:
    """One test's own copy of a built council (0600 in a 0700 folder), as a URL."""
    folder.mkdir(mode=0o700)
    path = folder / council.name
    shutil.copyfile(council, path)
    os.chmod(path, 0o600)
    return f"sqlite:///{path}"


def url_of(db: Database) -> str:
    """The database's URL with its password, to open a second connection in the test."""
    return db.engine.url.render_as_string(hide_password=False)


def make_context(db_url: str, *, today: date, staff_id: str = "", **config_changes: object) -> AppContext:
    """A context for the person with `staff_id` (as the database decides identity: the SQLite
    file's owner, or the PostgreSQL login linked to them), or for nobody."""
    if staff_id:
        become(db_url, staff_id)
    config = replace(load_config(db_override=db_url), user_staff_id=staff_id, **config_changes)
    return open_context(config, today=today)


def become(db_url: str, staff_id: str) -> None:
    """Make the test's user the person with `staff_id`: the owner of a SQLite file, or on
    PostgreSQL the person linked to the test's login (taken from anyone else)."""
    from sqlalchemy import select, text

    from qa_tui.db.models import Person
    from qa_tui.services.people.owner import set_standalone_owner

    db = Database.open(db_url, actor="test set-up")
    try:
        with db.session() as s:
            if db.is_sqlite:
                set_standalone_owner(s, staff_id)
                return
            login = s.execute(text("SELECT current_user")).scalar()
            for other in s.scalars(select(Person).where(Person.login == login, Person.staff_id != staff_id)):
                other.login = None
            s.flush()
            s.scalar(select(Person).where(Person.staff_id == staff_id)).login = login
    finally:
        db.dispose()


def make_app(ctx: AppContext) -> QAApp:
    return QAApp(ctx.config, today=ctx.today_override, ctx=ctx)


async def settle(pilot: Pilot) -> None:
    """Wait until every worker has finished and the screen has caught up. A worker that fails is
    the app's to report (its workers do not exit on error): the wait goes on, and the test looks
    at what the app shows."""
    from textual.worker import WorkerFailed

    for _ in range(3):
        for _attempt in range(10):
            try:
                await pilot.app.workers.wait_for_complete()
                break
            except WorkerFailed:
                await pilot.pause()
        await pilot.pause()


async def type_ahead(pilot: Pilot, *keys: str) -> None:
    """Keys arriving faster than the app handles them (a fast typist, a busy machine, tmux): all
    queued before the first is handled, then the app left to settle. A one-character key is typed
    as that character; longer ones are key names ("down", "enter")."""
    from textual import events
    from textual.keys import _character_to_key

    for key in keys:
        if len(key) == 1:
            pilot.app.post_message(events.Key(_character_to_key(key), key))
        else:
            pilot.app.post_message(events.Key(key, " " if key == "space" else None))
    await pilot.pause()
    while pilot.app.keys_pending:  # each key is handled to the end before the next is read
        await pilot.pause(0.05)
    await settle(pilot)


def screen_text(app: QAApp) -> str:
    """Everything visible on the current screen, as plain text."""
    from textual.widgets import Static

    parts = []
    for widget in app.screen.query("*"):
        if isinstance(widget, Static):
            parts.append(str(widget.render()))
        if widget.border_title:
            parts.append(str(widget.border_title))
    return "\n".join(parts)
