"""Nothing typed in the smaller forms is lost: a dip-sample comment typed while the database is
out of reach is journalled as it is typed and offered back at the next start, naming the case and
the area, and restored with its rating; Esc on a record form asks before throwing typing away.
On SQLite and PostgreSQL. (Supervision records and ticks, and the support-plan wizard, are tested
beside their screens.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from qa_tui.config import DIP_SAMPLE_AREAS, parse_config
from qa_tui.context import AppContext
from qa_tui.db.engine import Database
from qa_tui.db.models import Audit, AuditGrade
from qa_tui.errors import ValidationError
from qa_tui.journal import journal_folder
from qa_tui.services.practice import dip_sample
from qa_tui.services.practice.dip_sample import start_dip_sample
from qa_tui.services.unsaved import restore_change
from screens.overview.unsaved import UnsavedDialog
from tests.pilot import SIZE, make_app, make_context, screen_text, url_of
from tests.test_action_drafts import start_dip_sample as begin_dip_sample
from tests.test_journal import dead_pid, stored
from tests.test_screens_dip_feedback import TODAY, seed
from tests.test_typing_safe import settle

FIRST_AREA, FIRST_LABEL = DIP_SAMPLE_AREAS[0]


def unreachable(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
    raise OperationalError("UPDATE audit_grade", {}, ConnectionRefusedError("server closed the connection"))


async def restored_at_the_next_start(journal_path: Path, ctx: AppContext, *then: str) -> str:
    """End the session as if killed (its journal names a process now gone), start again, and
    restore what is offered back, pressing `then` (to save a form reopened with its draft);
    returns what the offer showed."""
    body = json.loads(journal_path.read_text())
    body["pid"] = dead_pid()
    journal_path.write_text(json.dumps(body))
    again = make_app(ctx)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(again.screen, UnsavedDialog)
        shown = "\n".join(str(w.render()) for w in again.screen.query(".entry"))
        await pilot.press("r")
        await settle(pilot)
        if then:
            await pilot.press(*then)
            await settle(pilot)
        again.unsaved_journal.flush()
    return shown


def area_grades(db: Database) -> dict[str, tuple[int | None, str]]:
    with db.reader() as s:
        audit = s.scalar(select(Audit).where(Audit.kind == "dip_sample"))
        return {g.domain: (g.grade, g.comment) for g in s.scalars(select(AuditGrade).where(
            AuditGrade.audit_id == audit.id))}


async def test_a_dip_sample_comment_typed_in_an_outage_is_journalled_and_offered_back(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    folder = journal_folder(ctx.config.database_url)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await begin_dip_sample(pilot)  # of CASE-0001
        await pilot.press("2")  # the first area partly met: stored
        await settle(pilot)
        real_rate_area = dip_sample.rate_area
        monkeypatch.setattr(dip_sample, "rate_area", unreachable)
        await pilot.press("enter", *"Gaps in [b]visits[/b]")  # still typing: no save sent yet
        journal = app.unsaved_journal
        journal.flush()
        assert stored(journal) == ["Gaps in [b]visits[/b]"], "on disk before any save is sent"
        app.screen.saves.flush()  # the pause: the save is sent and fails; the comment stays journalled
        await settle(pilot)
        assert "Not saved: 1 change waiting" in screen_text(app), screen_text(app)
        journal.flush()
        assert stored(journal) == ["Gaps in [b]visits[/b]"]
        journal_path = journal.path
    monkeypatch.setattr(dip_sample, "rate_area", real_rate_area)  # the database is back
    assert area_grades(db)[FIRST_AREA] == (1, "")
    shown = await restored_at_the_next_start(journal_path, make_context(url_of(db), today=TODAY, staff_id="TM1"))
    assert f"Dip sample of CASE-0001 · comment on {FIRST_LABEL}" in shown and "Gaps in [b]visits[/b]" in shown
    assert area_grades(db)[FIRST_AREA] == (1, "Gaps in [b]visits[/b]")
    assert not list(folder.glob("*.json")), "restored: no journal left"


async def test_dip_sample_ratings_made_in_an_outage_stay_shown_and_are_stored_when_it_is_back(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(db)
    app = make_app(make_context(url_of(db), today=TODAY, staff_id="TM1"))
    async with app.run_test(size=SIZE) as pilot:
        await begin_dip_sample(pilot)  # of CASE-0001
        real_rate_area = dip_sample.rate_area
        monkeypatch.setattr(dip_sample, "rate_area", unreachable)
        await pilot.press("1", "down", "2", "down", "3")  # every rating's save fails: all three wait
        await settle(pilot)
        areas = app.screen.query_one("#dip-areas")
        assert [r.grade for r in areas.rows[:3]] == [0, 1, 2], "a rating waiting to be stored is still shown"
        assert "Not saved: 3 changes waiting" in screen_text(app), screen_text(app)
        monkeypatch.setattr(dip_sample, "rate_area", real_rate_area)  # the database is back
        app.screen.saves.retry()
        await settle(pilot)
        assert "3 of 7 areas rated · saved" in screen_text(app), screen_text(app)
    assert [area_grades(db)[key][0] for key, _ in DIP_SAMPLE_AREAS[:3]] == [0, 1, 2]


def test_a_comment_put_back_takes_the_rating_it_was_typed_under_or_the_stored_one(db: Database) -> None:
    ids = seed(db)
    with db.session() as s:
        audit_id = start_dip_sample(s, case_id=ids["CASE-0001"], manager_id=ids["tm"], today=TODAY,
                                    cfg=parse_config({})).id
    second = DIP_SAMPLE_AREAS[1][0]
    with db.session() as s:
        with pytest.raises(ValidationError, match="not rated yet"):  # nothing to store it with
            restore_change(s, "dip-comment", str(audit_id), f"{FIRST_AREA}:", "No rating", today=TODAY)
        restore_change(s, "dip-comment", str(audit_id), f"{FIRST_AREA}:2", "Typed under Not met", today=TODAY)
        restore_change(s, "dip-comment", str(audit_id), f"{FIRST_AREA}:", "Later, same rating", today=TODAY)
        restore_change(s, "dip-comment", str(audit_id), f"{second}:0", "Met", today=TODAY)
    assert area_grades(db) == {FIRST_AREA: (2, "Later, same rating"), second: (0, "Met")}


async def test_a_record_form_asks_before_esc_throws_away_what_was_typed_and_not_when_nothing_was(
        db: Database) -> None:
    """The form people, teams and cases share: here a new case (a team manager may add one)."""
    from tests.test_screens_admin import TODAY as ADMIN_DAY
    from tests.test_screens_admin import seeded

    seeded.__wrapped__(db)
    async with make_app(make_context(url_of(db), today=ADMIN_DAY, staff_id="TM1")).run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        await pilot.press("a", "3", "n")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "RecordForm"
        await pilot.press("escape")  # nothing typed: closes at once
        await settle(pilot)
        assert app.screen.__class__.__name__ == "AdminScreen"
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"C-4410")
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ConfirmDialog"
        await pilot.press("n")  # back to the form, what was typed still there
        await settle(pilot)
        assert app.screen.__class__.__name__ == "RecordForm"
        assert app.screen.query_one("#form-reference").value == "C-4410"
        await pilot.press("escape", "y")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "AdminScreen"


async def test_a_tick_note_being_typed_is_journalled_and_offered_back_naming_the_supervision(
        db: Database) -> None:
    from qa_tui.db.models import FollowUp
    from qa_tui.services.practice.supervision import record_supervision
    from screens.practice.supervision import AgendaScreen
    from tests.test_screens_supervision import TODAY as SUPERVISION_DAY
    from tests.test_screens_supervision import seed as seed_supervision

    ids = seed_supervision(db)
    with db.session() as s:
        held = record_supervision(s, worker_id=ids["robin"], supervisor_id=ids["tm"], held_on=SUPERVISION_DAY,
                                  kind="casework", notes="", today=SUPERVISION_DAY)
    ctx = make_context(url_of(db), today=SUPERVISION_DAY, staff_id="TM1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(AgendaScreen(ids["robin"], holding=held))
        await settle(pilot)
        await pilot.press("enter", *"Goals [set]")  # the observation review, mid-note when the app dies
        journal = app.unsaved_journal
        journal.flush()
        assert [draft["values"]["note"] for draft in stored(journal)] == ["Goals [set]"]
        journal_path = journal.path
    # Restored, the note's prompt opens again with it typed in; Enter ticks the item with it.
    shown = await restored_at_the_next_start(journal_path, make_context(url_of(db), today=SUPERVISION_DAY,
                                                                        staff_id="TM1"), "enter")
    assert "Supervision of Robin Ash on 10 Feb 2027 · note on Practice observation" in shown, shown
    with db.reader() as s:
        item = s.scalar(select(FollowUp).where(FollowUp.worker_id == ids["robin"],
                                               FollowUp.source_kind == "observation"))
        assert (item.supervision_id, item.discussed_note) == (held.id, "Goals [set]")
    assert not list(journal_folder(ctx.config.database_url).glob("*.json"))
