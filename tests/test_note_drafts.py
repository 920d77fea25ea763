"""Nothing typed in a short prompt that makes or changes a record is lost (issue 14): a multi-agency
audit's finding and learning, a theme's learning fed back, the findings shared with the worker
after a dip sample and the reason for a re-draw are kept as drafts as they are typed, offered back
after the app was killed, reopened with the text in them and stored once; a theme's learning
changed by someone else meanwhile is shown beside yours, not overwritten unseen."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from qa_tui.db.engine import Database
from qa_tui.db.models import AgencyFinding, DrawPick, FollowUp, Theme
from qa_tui.demo import DEMO_USER_STAFF_ID, build_demo
from qa_tui.journal import journal_folder
from qa_tui.services.audits.themes import set_theme_learning
from tests.kinds_seed import seed_org
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of
from tests.test_action_drafts import again, killed_again, start_dip_sample
from tests.test_form_drafts import killed, offered
from tests.test_screens_worker_loop import TODAY, notes, seed

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
FINDING = 'Police shared the [strategy] notes "same day" (antidisestablishmentarianism)'


def as_ops_lead(db: Database) -> tuple[date, object]:
    """The small council seeded today, and the app as its operations lead."""
    today = date.today()
    seed_org(db, today)
    return today, make_app(make_context(url_of(db), today=today, staff_id="OPS1"))


async def start_multi_agency_audit(pilot) -> None:  # noqa: ANN001
    """As the ops lead: a multi-agency audit of C-003 with Health and Police, its form open."""
    await settle(pilot)
    await pilot.press("u", "2", "n")
    await settle(pilot)
    for answer in ("Neglect", "Health, Police", ""):
        await pilot.press(*answer, "enter")
        await settle(pilot)
    await pilot.press("enter")  # requested by the safeguarding partnership, as offered
    await settle(pilot)
    await pilot.press("f")
    await settle(pilot)
    await pilot.press(*"C-003", "enter")
    await settle(pilot)
    await pilot.press("enter", "y")
    await settle(pilot)


# The two theme journeys run on SQLite (their services are tested on both databases in test_themes).
@SQLITE_ONLY
async def test_an_agency_finding_typed_when_the_app_died_comes_back_at_the_learning(db: Database) -> None:
    today, app = as_ops_lead(db)
    async with app.run_test(size=SIZE) as pilot:
        await start_multi_agency_audit(pilot)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("end", "enter")  # Police
        await settle(pilot)
        await pilot.press(*FINDING, "enter")
        await settle(pilot)
        assert "Learning fed back to Police" in screen_text(app)
        await pilot.press(*"Share [notes] within 24h")
        await settle(pilot)
        entries = killed(app)
    assert [e["label"] for e in entries] == ["Finding about Police, Case C-003 (CP) · Sam Birch (SW2) · Finding, Learning fed back"]
    app.ctx.db.dispose()

    restarted = make_app(make_context(url_of(db), today=today, staff_id="OPS1"))
    async with restarted.run_test(size=SIZE) as pilot:
        shown = await offered(pilot, "Finding about Police")
        assert FINDING in shown
        assert "Learning fed back to Police" in screen_text(restarted)
        assert restarted.screen.query_one("#prompt-input").value == "Share [notes] within 24h"
        await pilot.press("enter")
        await settle(pilot)
        assert "Finding about Police saved." in notes(restarted)
        restarted.unsaved_journal.flush()
        assert not restarted.unsaved_journal.entries
    restarted.ctx.db.dispose()
    with db.reader() as s:
        finding = s.scalar(select(AgencyFinding))
        assert (finding.agency, finding.finding, finding.learning) == ("Police", FINDING, "Share [notes] within 24h")


@SQLITE_ONLY
async def test_a_theme_learning_changed_by_someone_else_is_shown_beside_yours(db: Database) -> None:
    today, app = as_ops_lead(db)
    async with app.run_test(size=SIZE) as pilot:
        await start_multi_agency_audit(pilot)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"To the board [March]")
        with db.session() as s:  # meanwhile, a colleague records theirs
            theme = s.scalar(select(Theme))
            set_theme_learning(s, theme.id, "To the partnership, by Nia")
        await pilot.press("enter")
        await settle(pilot)
        shown = screen_text(app)
        assert "Theirs: “To the partnership, by Nia”" in shown, shown
        assert app.screen.query_one("#prompt-input").value == "To the board [March]"
        await pilot.press("end", *"; partnership too", "enter")
        await settle(pilot)
        assert "Learning saved: Neglect" in notes(app)
    app.ctx.db.dispose()
    with db.reader() as s:
        assert s.scalar(select(Theme.learning)) == "To the board [March]; partnership too"


async def test_findings_shared_after_a_dip_sample_come_back_and_are_shared_once(db: Database) -> None:
    seed(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await start_dip_sample(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"Chronology [gaps]; record the child's \"own words\"")
        await settle(pilot)
        entries = killed(app)
    assert [e["label"] for e in entries] == [
        "Closing the loop with Robin Ash after the dip sample of CASE-0001 · What the worker should take from it"]
    folder = journal_folder(ctx.config.database_url)
    ctx.db.dispose()

    for attempt in range(2):  # restored, then (killed before the journal was cleared) restored again
        restarted = again(db)
        async with restarted.run_test(size=SIZE) as pilot:
            await offered(pilot, "after the dip sample of CASE-0001")
            await pilot.press("enter")
            await settle(pilot)
            if attempt == 0:
                assert "On Robin Ash's next supervision agenda." in notes(restarted)
                restarted.unsaved_journal.flush()
                assert not list(folder.glob("*.json"))
                killed_again(folder, entries)
            else:
                assert "already shared" in screen_text(restarted), "refused beside the text, nothing raised twice"
                assert restarted.screen.query_one("#prompt-input").value.startswith("Chronology [gaps]")
        restarted.ctx.db.dispose()
    with db.reader() as s:
        assert s.scalars(select(FollowUp.summary).where(FollowUp.source_kind == "dip_sample")).all() == [
            "Chronology [gaps]; record the child's \"own words\""]


async def test_a_redraw_reason_typed_when_the_app_died_comes_back_and_redraws_once(db: Database) -> None:
    build_demo(db, today=date(2026, 11, 24), cases=400)
    meeting_day = date(2026, 12, 3)
    ctx = make_context(url_of(db), today=meeting_day, staff_id=DEMO_USER_STAFF_ID)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        await pilot.press("n", "y")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press(*"The case is in [court] this week")
        await settle(pilot)
        entries = killed(app)
    assert len(entries) == 1 and entries[0]["label"].startswith("Re-draw for ")
    folder = journal_folder(ctx.config.database_url)
    ctx.db.dispose()

    for attempt in range(2):
        restarted = make_app(make_context(url_of(db), today=meeting_day, staff_id=DEMO_USER_STAFF_ID))
        async with restarted.run_test(size=SIZE) as pilot:
            await offered(pilot, "Re-draw for ")
            assert restarted.screen.query_one("#prompt-input").value == "The case is in [court] this week"
            await pilot.press("enter")
            await settle(pilot)
            if attempt == 0:
                assert "Re-drawn for " in notes(restarted)
                restarted.unsaved_journal.flush()
                killed_again(folder, entries)
            else:
                assert "already re-drawn" in screen_text(restarted)
        restarted.ctx.db.dispose()
    with db.reader() as s:
        assert s.scalars(select(DrawPick.reason).where(DrawPick.round == 1)).all() == [
            "The case is in [court] this week"]


async def test_an_escalation_typed_when_the_app_died_comes_back_and_is_raised_once(db: Database) -> None:
    from qa_tui.db.models import Escalation, Person
    from qa_tui.services.audits.kinds import start_supervision_file_audit
    from screens.audits.audit_form import AuditFormScreen

    today = date(2026, 11, 24)
    build_demo(db, today=today, cases=400)
    ctx = make_context(url_of(db), today=today, staff_id=DEMO_USER_STAFF_ID)
    with db.session() as s:
        worker = s.scalar(select(Person).where(Person.role == "SW").order_by(Person.staff_id))
        me = s.scalar(select(Person).where(Person.staff_id == DEMO_USER_STAFF_ID))
        audit_id = start_supervision_file_audit(s, worker.id, me.id, today=today, cfg=ctx.config).id
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(AuditFormScreen(audit_id))
        await settle(pilot)
        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "DraftedEscalationDialog"
        await pilot.press("enter", "down", "enter")  # the owner list: the first person
        await settle(pilot)
        await pilot.press("tab", *"Seen today [urgent]; \"no food\" at home")
        await settle(pilot)
        entries = killed(app)
    assert [e["label"] for e in entries] == [
        f"Escalation: Supervision-file audit of {worker.name} · Escalation owner, Note for them"]
    folder = journal_folder(ctx.config.database_url)
    ctx.db.dispose()

    for attempt in range(2):  # restored, then (killed before the journal was cleared) restored again
        restarted = make_app(make_context(url_of(db), today=today, staff_id=DEMO_USER_STAFF_ID))
        async with restarted.run_test(size=SIZE) as pilot:
            await offered(pilot, "Escalation: Supervision-file audit")
            assert restarted.screen.query_one("#escalation-note").value == "Seen today [urgent]; \"no food\" at home"
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert "Escalated; response due by" in notes(restarted)
            if attempt == 0:
                restarted.unsaved_journal.flush()
                killed_again(folder, entries)
        restarted.ctx.db.dispose()
    with db.reader() as s:
        assert s.scalars(select(Escalation.note).where(Escalation.audit_id == audit_id)).all() == [
            "Seen today [urgent]; \"no food\" at home"]


async def test_a_lost_database_after_enter_keeps_the_note_and_a_q_typed_on_does_not_quit(
        db: Database, monkeypatch) -> None:  # noqa: ANN001
    from sqlalchemy.exc import OperationalError

    import screens.note_drafts
    from screens.errors import LostDatabaseScreen

    def lost(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OperationalError("INSERT", {}, ConnectionRefusedError("server closed the connection"))

    seed(db)
    app = again(db)
    async with app.run_test(size=SIZE) as pilot:
        await start_dip_sample(pilot)
        await pilot.press("c")
        await settle(pilot)
        monkeypatch.setattr(screens.note_drafts, "store_note", lost)
        await pilot.press(*"Visits [late]", "enter")
        await settle(pilot)
        assert isinstance(app.screen, LostDatabaseScreen)
        await pilot.press(*"quick")  # still typing when it opened: no key here closes the app
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, LostDatabaseScreen)
        app.unsaved_journal.flush()
        assert [e.label for e in app.unsaved_journal.entries] == [
            "Closing the loop with Robin Ash after the dip sample of CASE-0001 · What the worker should take from it"]
        monkeypatch.undo()
        await pilot.press("r")  # the database is back: the same note is stored
        await settle(pilot)
        assert "On Robin Ash's next supervision agenda." in notes(app)
    app.ctx.db.dispose()
    with db.reader() as s:
        assert s.scalars(select(FollowUp.summary).where(FollowUp.source_kind == "dip_sample")).all() == ["Visits [late]"]
