"""Answering an escalation: its owner, or someone above them in the line management, records what
was done or decided; the answer keeps who and when, is in the audit trail, leaves triage, and shows
on the audit and its moderation. In the app: Enter on the row in triage, the dashboard's e."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import select

from qa_tui.db.engine import Database
from qa_tui.db.models import AuditEvent, Escalation
from qa_tui.errors import NotAllowed
from qa_tui.services.audits import record as audits
from qa_tui.services.audits.escalations import (
    answer_escalation,
    answer_refusal,
    escalation_view,
    escalation_views,
    raise_escalation,
)
from qa_tui.services.programme.triage import TriageFilters
from tests.permissions_seed import CFG, Council, act_as, nobody, seed_council
from tests.test_triage import all_rows

TODAY = date(2026, 11, 24)


def escalated_to_team_manager(db: Database) -> tuple[Council, uuid.UUID]:
    """A live audit of Sam's case by Pat, a child at risk now escalated to Terry (Sam's manager,
    below Harper); set up by nobody in particular."""
    council = seed_council(db)
    nobody(db)
    with db.session() as s:
        audit = audits.start_audit(s, kind="live", template=CFG.template("live"), case_id=council.case,
                                   worker_id=council.sw, auditor_id=council.peer, team_id=council.team,
                                   audit_date=date(2026, 11, 10), today=TODAY, cfg=CFG)
        esc = raise_escalation(s, audit.id, owner_id=council.tm, reason="risk_now", note="Seen at school",
                               today=TODAY, cfg=CFG)
    return council, esc.id


def test_the_owner_answers_with_who_and_when_kept_and_in_the_trail(db: Database) -> None:
    council, esc_id = escalated_to_team_manager(db)
    act_as(db, council.tm)
    with db.session() as s:
        assert answer_refusal(s, escalation_view(s, esc_id)) == ""
        answer_escalation(s, esc_id, "Strategy discussion held.\nPlan revised; [urgent] visit booked.",
                          council.tm, TODAY)
    with db.reader() as s:
        row = s.get(Escalation, esc_id)
        assert (row.answered_on, row.answered_by_id) == (TODAY, council.tm)
        assert row.response == "Strategy discussion held.\nPlan revised; [urgent] visit booked."
        events = s.scalars(select(AuditEvent).where(AuditEvent.table_name == "escalation",
                                                    AuditEvent.record_id == str(esc_id),
                                                    AuditEvent.action == "update")).all()
        assert any((e.new or {}).get("response", "").startswith("Strategy discussion held") for e in events)
        view = escalation_views(s, row.audit_id)[0]
        assert view.answered_by == "Terry Manager"
        assert "Answered on 24 Nov 2026 by Terry Manager: Strategy discussion held" in view.summary()
        assert "answered on 24 Nov 2026" in answer_refusal(s, view)
    assert all_rows(db, TriageFilters(kinds=("escalation",))) == []  # answered: out of triage
    with db.session() as s, pytest.raises(NotAllowed, match="was answered on"):
        answer_escalation(s, esc_id, "Again", council.tm, TODAY)
    nobody(db)


def test_someone_above_the_owner_may_answer_and_anyone_else_is_refused_clearly(db: Database) -> None:
    council, esc_id = escalated_to_team_manager(db)
    for outsider in (council.sw, council.other_tm, council.other_hos):  # below, beside, another line
        act_as(db, outsider)
        with db.reader() as s:
            assert "may not answer this escalation: only its owner" in answer_refusal(s, escalation_view(s, esc_id))
        with db.session() as s, pytest.raises(NotAllowed, match="only its owner"):
            answer_escalation(s, esc_id, "Handled", outsider, TODAY)
    act_as(db, council.hos)  # Terry's head of service, managing the escalations of their line
    with db.session() as s:
        answer_escalation(s, esc_id, "Terry is on leave: I convened the strategy meeting.", council.hos, TODAY)
    with db.reader() as s:
        assert s.get(Escalation, esc_id).answered_by_id == council.hos
        assert escalation_view(s, esc_id).answered_by == "Harper Head"
    nobody(db)


async def test_a_half_typed_answer_comes_back_in_its_dialog_after_a_kill_and_closes_nothing_by_itself(
        db: Database) -> None:
    """Killed mid-answer: the next start offers the draft; restoring reopens the answer with the
    text in it (the escalation stays open until the owner saves), and it is stored as the owner."""
    from screens.audits.escalation_answer import EscalationAnswerDialog
    from tests.pilot import SIZE, make_app, make_context, settle, url_of
    from tests.test_form_drafts import killed, offered

    council, esc_id = escalated_to_team_manager(db)
    app = make_app(make_context(url_of(db), today=TODAY, staff_id="M001"))  # Terry, the owner
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("enter", *"Visited [same day], mum said \"fine\"")
        await settle(pilot)
        entries = killed(app)
    assert [e["label"] for e in entries] == [
        "Answer to the escalation of CASE-0001 a child may be at risk now · What you did or decided"], entries
    app.ctx.db.dispose()

    again = make_app(make_context(url_of(db), today=TODAY, staff_id="M001"))
    async with again.run_test(size=SIZE) as pilot:
        await offered(pilot, 'Visited [same day], mum said "fine"')
        dialog = again.screen
        assert isinstance(dialog, EscalationAnswerDialog)
        assert dialog.area.text == 'Visited [same day], mum said "fine"'
        with db.reader() as s:
            assert s.get(Escalation, esc_id).answered_on is None  # restoring alone answers nothing
        await pilot.press(*"; plan reviewed", "ctrl+s")
        await settle(pilot)
        assert not isinstance(again.screen, EscalationAnswerDialog)
        journal = again.unsaved_journal
        assert journal is not None and journal.entries == ()
    with db.reader() as s:
        row = s.get(Escalation, esc_id)
        assert (row.response, row.answered_by_id) == ('Visited [same day], mum said "fine"; plan reviewed',
                                                      council.tm)
    again.ctx.db.dispose()


async def test_the_owner_answers_from_the_dashboard_by_keys_and_the_escalation_leaves_triage(db: Database) -> None:
    from screens.audits.escalation_answer import EscalationAnswerDialog
    from screens.audits.moderation import ModerateAuditScreen
    from screens.dialogs import ConfirmDialog
    from screens.overview.triage import TriageScreen
    from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of

    council, esc_id = escalated_to_team_manager(db)
    with db.reader() as s:
        audit_id = s.get(Escalation, esc_id).audit_id
    ctx = make_context(url_of(db), today=TODAY, staff_id="M001")  # Terry, the owner
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")  # the dashboard's escalations: triage, mine, escalations only
        await settle(pilot)
        triage = app.screen
        assert isinstance(triage, TriageScreen)
        assert triage.filters is not None and triage.filters.kinds == ("escalation",)
        assert triage.filters.owner_id == council.tm
        assert [(r.kind, r.record_id) for r in triage.rows] == [("escalation", esc_id)]
        await pilot.press("enter", *"Met the family", "enter", *"[b]Plan[/b] revised")  # typed at once
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, EscalationAnswerDialog)
        assert dialog.area.text == "Met the family\n[b]Plan[/b] revised"
        assert "CASE-0001: a child may be at risk now, escalated to Terry Manager" in screen_text(app)
        journal = app.unsaved_journal
        assert journal is not None and [e.value["values"] for e in journal.entries] == [
            {"response": "Met the family\n[b]Plan[/b] revised"}]
        await pilot.press("escape")  # typed: asks before throwing it away
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is dialog and dialog.area.text == "Met the family\n[b]Plan[/b] revised"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is triage and triage.rows == []  # answered: out of triage
        assert journal.entries == ()
        app.push_screen(ModerateAuditScreen(audit_id, read_only=True))
        await settle(pilot)
        assert "Answered on 24 Nov 2026 by Terry Manager: Met the family" in " ".join(screen_text(app).split())
    with db.reader() as s:
        row = s.get(Escalation, esc_id)
        assert (row.response, row.answered_by_id, row.answered_on) == ("Met the family\n[b]Plan[/b] revised",
                                                                       council.tm, TODAY)
    ctx.db.dispose()


async def test_someone_else_opening_an_escalation_is_told_why_they_may_not_answer(db: Database) -> None:
    from screens.audits.escalation_answer import EscalationAnswerDialog
    from screens.overview.triage import TriageScreen
    from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of

    council, esc_id = escalated_to_team_manager(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="M002")  # Toni, a team manager of another line
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        triage = app.screen
        assert isinstance(triage, TriageScreen)
        triage.show_only(TriageFilters(kinds=("escalation",)))
        triage.reload()
        await settle(pilot)
        assert [r.record_id for r in triage.rows] == [esc_id]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, EscalationAnswerDialog)
        refusal = " ".join(screen_text(app).split())
        assert "Toni Elsewhere" in refusal and "may not answer this escalation: only its owner" in refusal
        await pilot.press(*"Handled", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, EscalationAnswerDialog) and app.screen.area.text == ""
        await pilot.press("escape")  # nothing typed: leaves at once
        await settle(pilot)
        assert app.screen is triage
    with db.reader() as s:
        assert s.get(Escalation, esc_id).answered_on is None
    ctx.db.dispose()


def test_the_escalations_history_shows_who_answered_and_what(db: Database) -> None:
    from qa_tui.services.history.record_history import record_history

    council, esc_id = escalated_to_team_manager(db)
    act_as(db, council.tm)
    with db.session() as s:
        answer_escalation(s, esc_id, "Visited with the police", council.tm, TODAY)
    nobody(db)
    with db.reader() as s:
        history = record_history(s, "escalation", esc_id)
    assert history.title == "Escalation to Terry Manager raised 24 Nov 2026"
    assert any(row.new == "Visited with the police" for row in history.rows), history.rows
