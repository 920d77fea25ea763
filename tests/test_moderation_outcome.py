"""What moderation decided, shown with the audit: both sets of grades with the regraded domains
marked, the reason for a return at the top of the audit and on the auditor's dashboard."""

from __future__ import annotations

from datetime import date

from qa_tui.db.engine import Database
from qa_tui.services.audits import moderation
from qa_tui.services.audits import record as audits
from qa_tui.services.audits.outcome import moderation_outcome, return_reason, returned_to
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of
from tests.test_audits import CFG, Org, grade_everything, seed_org, start, submitted_audit


def regraded_audit(db: Database, org: Org, today: date) -> audits.AuditDTO:
    dto = start(db, org, today)
    grade_everything(db, dto.id, {"impact": 1, "voice": 2}, overall=1)
    with db.session() as s:
        audits.submit_for_moderation(s, dto.id, today)
        moderation.moderate(s, dto.id, org.moderator_id, outcome="regraded",
                            grades={"impact": (2, "No [b]evidence[/b]")}, overall_grade=2,
                            comment="Impact overstated", today=today)
    return dto


def returned_audit(db: Database, org: Org, today: date, reason: str) -> audits.AuditDTO:
    dto = submitted_audit(db, org, today)
    with db.session() as s:
        moderation.moderate(s, dto.id, org.moderator_id, outcome="returned", comment=reason, today=today)
    return dto


def test_after_a_regrade_both_sets_show_with_the_regraded_domains_marked(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = regraded_audit(db, org, today)
    with db.reader() as s:
        audit = audits.get_audit(s, dto.id, today=today, cfg=CFG)
    outcome = moderation_outcome(audit)
    assert outcome is not None
    assert (outcome.outcome, outcome.moderator, outcome.comment) == ("regraded", "Harper Head", "Impact overstated")
    pairs = {p.label: (p.auditor, p.moderator, p.regraded, p.comment) for p in outcome.grades}
    assert pairs["Impact"] == ("Good", "Requires improvement to be good", True, "No [b]evidence[/b]")
    assert pairs["Voice of the child"] == ("Requires improvement to be good",) * 2 + (False, "")
    assert pairs["Overall"] == ("Good", "Requires improvement to be good", True, "")
    assert outcome.regraded_count == 2
    assert return_reason(audit) is None


def test_before_moderation_there_is_no_outcome_and_agreed_marks_nothing(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = submitted_audit(db, org, today)
    with db.reader() as s:
        assert moderation_outcome(audits.get_audit(s, dto.id, today=today, cfg=CFG)) is None
    with db.session() as s:
        moderation.moderate(s, dto.id, org.moderator_id, outcome="agreed", today=today)
    with db.reader() as s:
        outcome = moderation_outcome(audits.get_audit(s, dto.id, today=today, cfg=CFG))
    assert outcome is not None and outcome.regraded_count == 0 and len(outcome.grades) == 7


def test_a_return_is_shown_until_the_audit_is_sent_again(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = returned_audit(db, org, today, "Evidence for impact is missing")
    with db.reader() as s:
        audit = audits.get_audit(s, dto.id, today=today, cfg=CFG)
        rows = returned_to(s, org.auditor_id)
        assert returned_to(s, org.moderator_id) == []
        assert returned_to(s, None) == []
    returned = return_reason(audit)
    assert returned is not None and returned.comment == "Evidence for impact is missing"
    assert [(r.case_reference, r.moderator, r.reason) for r in rows] == [
        ("CASE-0001", "Harper Head", "Evidence for impact is missing")]
    with db.session() as s:
        audits.submit_for_moderation(s, dto.id, today)
    with db.reader() as s:
        assert returned_to(s, org.auditor_id) == []
        assert return_reason(audits.get_audit(s, dto.id, today=today, cfg=CFG)) is None


async def test_the_auditor_sees_the_return_on_the_dashboard(db: Database, today: date) -> None:
    org = seed_org(db)
    returned_audit(db, org, today, "Say what [red]changed[/] for the child")
    app = make_app(make_context(url_of(db), today=today, staff_id="M001"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "Returned to you for rework: 1" in text
        assert "CASE-0001 by Harper Head" in text
        assert "Say what [red]changed[/] for the child" in text
        await pilot.press("w")  # open it to rework: the reason leads the audit
        await settle(pilot)
        assert app.screen.__class__.__name__ == "AuditFormScreen"
        assert "Say what [red]changed[/] for the child" in str(app.screen.query_one("#af-notes").render())
    app = make_app(make_context(url_of(db), today=today, staff_id="H001"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Returned to you" not in screen_text(app)


async def test_a_moderated_audit_reopened_shows_the_moderators_grades_beside_the_auditors(
        db: Database, today: date) -> None:
    org = seed_org(db)
    regraded_audit(db, org, today)
    app = make_app(make_context(url_of(db), today=today, staff_id="H001"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("v", "enter")  # the moderated list, then the audit
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ModerateAuditScreen"
        lines = app.screen.query_one("#moderate-grades").rows
        impact = next(r for r in lines if r.key == "impact")
        assert impact.grade == 2 and impact.note == "← regraded from Good"
        voice = next(r for r in lines if r.key == "voice")
        assert voice.grade == 2 and voice.note.startswith("auditor:")
        text = screen_text(app)
        assert "Moderation: Regraded 2 by Harper Head" in text
        assert "◆ Impact" not in text  # the grade list beside shows both sets already
        assert "Impact overstated" in text
        await pilot.press("h")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "HistoryScreen"
        whats = [r.what for r in app.screen.query_one("#td-table").records]
        assert "created moderation" in whats and "created grade: Impact" in whats


async def test_the_returned_audit_opens_with_the_moderators_reason_at_the_top(db: Database, today: date) -> None:
    from screens.audits.audit_form import AuditFormScreen

    org = seed_org(db)
    dto = returned_audit(db, org, today, "Evidence for impact is missing")
    app = make_app(make_context(url_of(db), today=today, staff_id="M001"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(AuditFormScreen(dto.id))
        await settle(pilot)
        notes = str(app.screen.query_one("#af-notes").render())
        assert notes.startswith("↩ Returned for rework by Harper Head on 24 Nov 2026:\nEvidence for impact is missing")
        await pilot.press("2")  # still a draft: the auditor can rework it
        await settle(pilot)
        assert "Saved" in str(app.screen.query_one("#af-status").render())
        await pilot.press("h")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "HistoryScreen"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "AuditFormScreen"


def test_the_lines_shown_with_an_audit_mark_each_regrade(db: Database, today: date) -> None:
    from qa_tui.widgets.moderation_view import moderation_lines

    org = seed_org(db)
    dto = regraded_audit(db, org, today)
    with db.reader() as s:
        audit = audits.get_audit(s, dto.id, today=today, cfg=CFG)
    lines = [line.plain for line in moderation_lines(audit)]
    assert lines[0] == "Moderation: Regraded 2 by Harper Head on 24 Nov 2026"
    assert "◆ Impact: 2 → 3 Requires improvement to be good (No [b]evidence[/b])" in lines
    assert "  Voice of the child: 3 → 3" in lines
    assert "◆ Overall: 2 → 3 Requires improvement to be good" in lines
    assert all(len(line) <= 80 for line in lines if not line.startswith("◆"))
