"""Nothing a person types in a form is lost: a supervision record, feedback, a response, a
moderation comment or a support plan's step is kept as a draft as it is typed, offered back on the
landing screen after the app was killed, reopened with the text in it, and stored once (restored
twice, it is still one record). Esc with text typed asks first. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import uuid

from sqlalchemy import func, select

from qa_tui.app import QAApp
from qa_tui.db.engine import Database
from qa_tui.db.models import Supervision
from qa_tui.journal import journal_folder
from screens.overview.unsaved import UnsavedDialog
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of
from tests.test_screens_supervision import TODAY, move_to_row, seed


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def killed(app: QAApp) -> list[dict]:
    """The session ends as if killed: its journal is left on disk naming a process now gone.
    Returns the drafts it held."""
    journal = app.unsaved_journal
    assert journal is not None
    journal.flush()
    body = json.loads(journal.path.read_text())
    body["pid"] = dead_pid()
    journal.path.write_text(json.dumps(body))
    return body["entries"]


async def offered(pilot, label: str) -> str:  # noqa: ANN001
    """The landing screen offers the draft back, named by its record and field; r restores it."""
    await settle(pilot)
    assert isinstance(pilot.app.screen, UnsavedDialog), pilot.app.screen
    shown = "\n".join(str(w.render()) for w in pilot.app.screen.query(".entry"))
    assert label in shown, shown
    await pilot.press("r")
    await settle(pilot)
    return shown


async def new_supervision_notes(pilot, worker: str) -> None:  # noqa: ANN001
    """From the supervision list, record a supervision with `worker`, the notes focused."""
    await settle(pilot)
    await pilot.press("s")
    await settle(pilot)
    await move_to_row(pilot, "#sup-table", worker)
    await pilot.press("h")
    await settle(pilot)
    pilot.app.screen.query_one("#sup-notes").focus()


async def test_a_supervision_note_survives_a_kill_and_is_recorded_once(db: Database) -> None:
    ids = seed(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await new_supervision_notes(pilot, "Sam Brook")
        await pilot.press(*"Talked about [b]risk[/b]", "enter", *"and the plan")
        await settle(pilot)
        entries = killed(app)
    assert [e["label"] for e in entries] == ["Supervision note for Sam Brook, 10 Feb 2027 · Notes"]
    folder = journal_folder(ctx.config.database_url)
    ctx.db.dispose()

    for attempt in range(2):  # restored, then (killed before the journal was cleared) restored again
        again = make_app(make_context(url_of(db), today=TODAY, staff_id="TM1"))
        async with again.run_test(size=SIZE) as pilot:
            shown = await offered(pilot, "Supervision note for Sam Brook, 10 Feb 2027 · Notes")
            assert "Talked about [b]risk[/b] and the plan" in shown
            assert again.screen.__class__.__name__ == "SupervisionDialog"
            assert again.screen.query_one("#sup-notes").text == "Talked about [b]risk[/b]\nand the plan"
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert again.screen.__class__.__name__ == "AgendaScreen"
            again.unsaved_journal.flush()
            if attempt == 0:
                assert not list(folder.glob("*.json")), "recorded: the draft has left the journal"
                folder.mkdir(exist_ok=True)
                (folder / "again.json").write_text(json.dumps({"pid": dead_pid(), "entries": entries}))
            again.ctx.db.dispose()
    with db.reader() as s:
        notes = s.scalars(select(Supervision.notes).where(Supervision.worker_id == ids["sam"],
                                                          Supervision.held_on == TODAY)).all()
        assert notes == ["Talked about [b]risk[/b]\nand the plan"], "restored twice, recorded once"


async def test_esc_on_a_typed_supervision_note_asks_and_a_yes_forgets_the_draft(db: Database) -> None:
    seed(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await new_supervision_notes(pilot, "Sam Brook")
        await pilot.press(*"Half a thought", "escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ConfirmDialog"
        assert "Discard what you typed?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.query_one("#sup-notes").text == "Half a thought"
        await pilot.press("escape", "y")
        await settle(pilot)
        assert app.screen.__class__.__name__ != "SupervisionDialog"
        app.unsaved_journal.flush()
        assert not app.unsaved_journal.entries, "discarded with a yes: nothing kept"
    ctx.db.dispose()
