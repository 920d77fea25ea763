"""Dip sampling and family feedback by keyboard: a dip sample rated, commented, shared with the
worker and finalised; feedback recorded with refused input named and kept; the QR code shown and
saved; and the pickers behind the lists."""

from __future__ import annotations

import stat
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from textual.widgets import DataTable, Input, Static

from qa_tui.config import DIP_SAMPLE_AREAS, parse_config
from qa_tui.db.engine import Database
from qa_tui.db.models import Audit, AuditGrade, Case, Feedback, FollowUp, Person, Team
from qa_tui.errors import ChangedElsewhere, ValidationError
from qa_tui.services.practice.dip_sample import DipSampleView, rating_save, start_dip_sample
from qa_tui.services.practice.feedback import record_feedback
from qa_tui.services.practice.pickers import (
    case_id_for_reference,
    dip_case_list,
    dip_sample_case,
    dip_sample_cases,
    feedback_list,
    recent_feedback,
)
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, type_ahead, url_of

TODAY = date(2027, 2, 10)
FORM_URL = "https://forms.example.gov.uk/feedback"


def seed(db: Database) -> dict[str, uuid.UUID]:
    with db.session() as s:
        mine, other = Team(code="A1", name="Assessment Team 1"), Team(code="C1", name="Children in Care")
        s.add_all([mine, other])
        s.flush()
        tm = Person(staff_id="TM1", name="Morgan Pryce", role="TM", team_id=mine.id)
        sam = Person(staff_id="SW1", name="Sam Brook", role="SW", team_id=mine.id)
        cara = Person(staff_id="SW2", name="Cara Lane", role="SW", team_id=other.id)
        s.add_all([tm, sam, cara])
        s.flush()
        cases = [
            Case(reference="CASE-0001", category="CIN", worker_id=sam.id, team_id=mine.id, opened_on=date(2026, 1, 5)),
            Case(reference="CASE-0002", category="CP", worker_id=sam.id, team_id=mine.id, closed_on=date(2027, 1, 1)),
            Case(reference="CASE-0003", category="CIN", team_id=mine.id),  # unallocated
            Case(reference="CASE-0004", category="CLA", worker_id=sam.id, team_id=mine.id),
            Case(reference="CASE-0100", category="CLA", worker_id=cara.id, team_id=other.id),
        ]
        s.add_all(cases)
        s.flush()
        ids = {"tm": tm.id, "sam": sam.id, "cara": cara.id, "mine": mine.id, "other": other.id}
        ids.update({c.reference: c.id for c in cases})
        return ids



def table_rows(app, selector: str) -> list[list[str]]:  # noqa: ANN001
    table = app.screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def notes(app) -> str:  # noqa: ANN001
    return " | ".join(str(n.message) for n in app._notifications)


async def test_dip_sample_rated_commented_shared_and_finalised_by_keys(db: Database) -> None:
    ids = seed(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)
        assert [row[:3] for row in table_rows(app, "#dip-table")] == [
            ["CASE-0001", "CIN", "Sam Brook"], ["CASE-0004", "CLA", "Sam Brook"]]
        assert "your dip sample for 2027-02: not done yet" in screen_text(app)
        await pilot.press("enter", "y")  # start a dip sample of CASE-0001
        await settle(pilot)
        assert app.screen.__class__.__name__ == "DipSampleFormScreen"
        assert "Dip sample of CASE-0001" in screen_text(app)

        await pilot.press("1", "down", "2", "enter", *"Gaps", "escape")  # chronology: partly met, a comment
        await pilot.press("down", "enter", *"None", "escape")  # visits: a comment before the rating is kept...
        await settle(pilot)
        assert "Comment kept" in screen_text(app)
        await pilot.press("3")  # ...and saved with it
        await pilot.press("down", "1", "down", "1", "down", "2")  # three more; the last area left unrated
        await settle(pilot)
        await pilot.press("f", "y")  # refused: one area not rated, findings not shared
        await settle(pilot)
        assert "World of the adult / daily lived experience of the parent is not rated yet" in screen_text(app)
        await pilot.press("1", "c")  # the cursor was moved to the unrated area
        await settle(pilot)
        await pilot.press(*"Good visits", "enter")
        await settle(pilot)
        assert "Shared 10 Feb 2027" in screen_text(app)
        await pilot.press("f", "y")
        await settle(pilot)
        assert "FINALISED" in screen_text(app)
        await pilot.press("2")  # finalised: nothing changes
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "DipSampleScreen"
        assert "your dip sample for 2027-02: done" in screen_text(app)
        assert table_rows(app, "#dip-table")[0][3] == "finalised 10 Feb 2027"
    ctx.db.dispose()

    with db.reader() as s:
        audit = s.scalar(select(Audit).where(Audit.kind == "dip_sample", Audit.case_id == ids["CASE-0001"]))
        assert (audit.status, audit.auditor_id, audit.worker_id, audit.audit_date) == (
            "finalised", ids["tm"], ids["sam"], TODAY)
        grades = {g.domain: (g.grade, g.comment) for g in s.scalars(select(AuditGrade).where(AuditGrade.audit_id == audit.id))}
        keys = [key for key, _ in DIP_SAMPLE_AREAS]
        assert grades == dict(zip(keys, [(0, ""), (1, "Gaps"), (2, "None"), (0, ""), (0, ""), (1, ""), (0, "")]))
        shared = s.scalar(select(FollowUp).where(FollowUp.source_id == audit.id))
        assert (shared.worker_id, shared.summary, shared.source_kind) == (ids["sam"], "Good visits", "dip_sample")


async def test_a_user_in_no_team_chooses_one_once_and_sees_its_cases(db: Database) -> None:
    seed(db)
    with db.session() as s:
        s.add(Person(staff_id="HOS1", name="Harper Head", role="HOS"))
    ctx = make_context(url_of(db), today=TODAY, staff_id="HOS1")  # in no team: no team to start from
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ChoiceDialog"
        await pilot.press("enter")  # the first team: Assessment Team 1
        await settle(pilot)
        assert app.screen.__class__.__name__ == "DipSampleScreen"
        assert [row[0] for row in table_rows(app, "#dip-table")] == ["CASE-0001", "CASE-0004"]
        assert "Dip sampling · Assessment Team 1" in screen_text(app)
        await pilot.press("c", "escape")  # asked again only when the user asks
        await settle(pilot)
        assert app.screen.__class__.__name__ == "DipSampleScreen"
    ctx.db.dispose()


async def test_dip_sample_of_any_case_by_reference_and_an_unknown_reference(db: Database) -> None:
    ids = seed(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)
        await pilot.press("f", *"CASE-9", "enter")
        await settle(pilot)
        assert "no case has the reference 'CASE-9'" in notes(app)
        await pilot.press("f", *"CASE-0100", "enter")  # another team's case
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "Dip sample of CASE-0100" in screen_text(app) and "Cara Lane" in screen_text(app)
        await pilot.press("enter", *"Thin", "escape", "escape")  # a comment on an unrated area: asks first
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ConfirmDialog"
        await pilot.press("y")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "DipSampleScreen"
        await pilot.press("f", *"CASE-0100", "enter")  # the draft is reopened, not a second one started
        await settle(pilot)
        assert app.screen.__class__.__name__ == "DipSampleFormScreen"
    ctx.db.dispose()
    with db.reader() as s:
        drafts = s.scalars(select(Audit).where(Audit.kind == "dip_sample", Audit.case_id == ids["CASE-0100"])).all()
        assert [d.status for d in drafts] == ["draft"]


async def test_feedback_recorded_by_keys_with_refused_input_named_and_kept(db: Database) -> None:
    ids = seed(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        assert "No feedback recorded yet" in screen_text(app)
        await pilot.press("c")  # no feedback form address in the config: the setting is named
        await settle(pilot)
        assert "feedback.form_url: set [feedback] form_url in the config file" in notes(app)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "FeedbackFormScreen"
        await pilot.press("tab", *"CASE-9", "tab", "tab", "enter", *"Par", "enter", "ctrl+s")
        await settle(pilot)
        error = app.screen.query_one("#fb-form-error", Static)
        assert str(error.render()) == "Channel: choose how the feedback came in"
        await pilot.press("enter", *"Pho", "enter", "tab", "enter", "4", "enter", "tab", *"listening",
                          "tab", *"She listened", "ctrl+s")
        await settle(pilot)
        assert str(error.render()) == "Case reference: no case has the reference 'CASE-9'"
        assert app.screen.query_one("#fb-case", Input).has_focus
        await pilot.press("home", "ctrl+k", *"CASE-0001", "ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "FeedbackScreen"
        assert table_rows(app, "#fb-table") == [["10 Feb 2027", "CASE-0001", "Sam Brook", "Parent", "Phone", "4"]]
        assert "She listened" in screen_text(app) and "Themes: listening" in screen_text(app)
    ctx.db.dispose()
    with db.reader() as s:
        fb = s.scalar(select(Feedback))
        assert (fb.received_on, fb.case_id, fb.worker_id, fb.giver, fb.channel, fb.rating, fb.said, fb.themes) == (
            TODAY, ids["CASE-0001"], ids["sam"], "parent", "phone", 4, "She listened", ["listening"])
        follow_up = s.scalar(select(FollowUp).where(FollowUp.source_id == fb.id))
        assert follow_up.worker_id == ids["sam"]


async def test_qr_code_shown_and_saved_as_a_private_png(db: Database, tmp_path: Path) -> None:
    seed(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1", feedback_form_url=FORM_URL)
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "QRCodeDialog"
        text = screen_text(app)
        assert FORM_URL in text and "▄▄▄▄▄" in text
        await pilot.press("x", "enter")
        await settle(pilot)
        assert "Saved the QR code" in notes(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "FeedbackScreen"
    ctx.db.dispose()
    png = tmp_path / "data" / "exports" / "feedback-qr.png"
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert stat.S_IMODE(png.stat().st_mode) == 0o600


def test_dip_sample_pickers_list_open_allocated_cases_with_their_dip_state(db: Database) -> None:
    ids = seed(db)
    cfg = parse_config({})
    with db.session() as s:
        done = start_dip_sample(s, case_id=ids["CASE-0004"], manager_id=ids["tm"], today=date(2027, 1, 10), cfg=cfg)
        s.get(Audit, done.id).status = "finalised"
        draft = start_dip_sample(s, case_id=ids["CASE-0004"], manager_id=ids["tm"], today=TODAY, cfg=cfg)
    with db.reader() as s:
        cases = dip_sample_cases(s, ids["mine"], TODAY)
        assert [(c.reference, c.worker_name) for c in cases] == [("CASE-0001", "Sam Brook"), ("CASE-0004", "Sam Brook")]
        assert (cases[0].draft_id, cases[0].last_finalised_on) == (None, None)
        assert (cases[1].draft_id, cases[1].draft_on, cases[1].last_finalised_on) == (draft.id, TODAY, date(2027, 1, 10))
        assert [c.reference for c in dip_sample_cases(s, ids["mine"], TODAY, limit=1)] == ["CASE-0001"]
        assert [c.reference for c in dip_sample_cases(s, ids["mine"], date(2026, 1, 1))] == ["CASE-0002", "CASE-0004"]
        assert dip_sample_case(s, "  CASE-0100 ").worker_name == "Cara Lane"
        assert case_id_for_reference(s, "  ") is None
        with pytest.raises(ValidationError, match="no case has the reference 'NOPE'"):
            dip_sample_case(s, "NOPE")


def test_recent_feedback_newest_first_and_by_team(db: Database) -> None:
    ids = seed(db)
    with db.session() as s:
        record_feedback(s, received_on=date(2027, 1, 3), case_id=ids["CASE-0001"], giver="child", channel="form",
                        rating=5, said="Kind", themes=["kindness"], today=TODAY)
        record_feedback(s, received_on=date(2027, 2, 1), worker_id=ids["cara"], giver="carer", channel="email",
                        said="Helpful", today=TODAY)
        record_feedback(s, received_on=date(2027, 2, 2), case_id=ids["CASE-0003"], giver="parent", channel="phone",
                        rating=2, today=TODAY)  # unallocated case of my team, no worker
    with db.reader() as s:
        everyone = recent_feedback(s)
        assert [(f.received_on, f.case_reference, f.worker_name) for f in everyone] == [
            (date(2027, 2, 2), "CASE-0003", None), (date(2027, 2, 1), None, "Cara Lane"),
            (date(2027, 1, 3), "CASE-0001", "Sam Brook")]
        assert everyone[2].themes == ("kindness",) and everyone[2].rating == 5
        assert [f.received_on for f in recent_feedback(s, ids["mine"])] == [date(2027, 2, 2), date(2027, 1, 3)]
        assert [f.worker_name for f in recent_feedback(s, ids["other"])] == ["Cara Lane"]
        assert len(recent_feedback(s, limit=2)) == 2


def test_queued_ratings_each_expect_the_version_the_one_before_returned(db: Database) -> None:
    ids = seed(db)
    with db.session() as s:
        view = start_dip_sample(s, case_id=ids["CASE-0001"], manager_id=ids["tm"], today=TODAY, cfg=parse_config({}))
    area = view.areas[0].key
    latest: list[DipSampleView] = [view]

    def version() -> int | None:
        return next(a.version for a in latest[-1].areas if a.key == area)

    saves = [rating_save(view.id, area, 1, "Gaps", version=version),  # both queued before either runs
             rating_save(view.id, area, 0, "Gaps filled", version=version)]
    for save in saves:
        with db.session() as s:
            latest.append(save(s))
    rated = latest[-1].areas[0]
    assert (rated.rating, rated.comment, rated.version) == (0, "Gaps filled", 2)
    with pytest.raises(ChangedElsewhere), db.session() as s:
        rating_save(view.id, area, 2, "", version=lambda: 1)(s)


def test_the_dip_list_names_the_team_and_whether_the_users_own_sample_is_done(db: Database) -> None:
    ids = seed(db)
    with db.session() as s:
        done = start_dip_sample(s, case_id=ids["CASE-0004"], manager_id=ids["tm"], today=TODAY, cfg=parse_config({}))
        s.get(Audit, done.id).status = "finalised"
    with db.reader() as s:
        listed = dip_case_list(s, ids["mine"], TODAY, ids["tm"])
        assert (listed.team_name, [c.reference for c in listed.cases], listed.more) == (
            "Assessment Team 1", ["CASE-0001", "CASE-0004"], False)
        assert listed.mine is not None and listed.mine.done and listed.mine.month == "2027-02"
        assert dip_case_list(s, ids["mine"], TODAY, ids["sam"]).mine is None  # not a team manager
        assert dip_case_list(s, ids["mine"], TODAY, ids["tm"], limit=2).more


def test_the_feedback_list_holds_the_latest_and_the_years_summary(db: Database) -> None:
    ids = seed(db)
    with db.session() as s:
        record_feedback(s, received_on=date(2027, 1, 3), case_id=ids["CASE-0001"], giver="child", channel="form",
                        rating=5, themes=["kindness"], today=TODAY)
        record_feedback(s, received_on=date(2026, 3, 1), worker_id=ids["sam"], giver="carer", channel="email",
                        rating=1, today=TODAY)  # the year before
        record_feedback(s, received_on=date(2027, 2, 1), worker_id=ids["cara"], giver="carer", channel="email",
                        rating=3, today=TODAY)  # another team
    with db.reader() as s:
        mine = feedback_list(s, TODAY, ids["mine"])
        everyone = feedback_list(s, TODAY)
    assert [f.received_on for f in mine.lines] == [date(2027, 1, 3), date(2026, 3, 1)]
    assert (mine.summary.since, mine.summary.received, mine.summary.average_rating) == (date(2026, 4, 1), 1, 5)
    assert [t.theme for t in mine.summary.themes] == ["kindness"]
    assert (len(everyone.lines), everyone.summary.received) == (3, 2)


async def test_a_dip_sample_typed_ahead_keeps_every_key_in_its_place(db: Database) -> None:
    """Down and Enter on the list, the ratings, Enter and a comment, all typed faster than the app
    keeps up: the second case is sampled and the comment's first letter is not lost."""
    ids = seed(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)
        await type_ahead(pilot, "down", "enter", "y")
        assert "Dip sample of CASE-0004" in screen_text(app)
        await type_ahead(pilot, "1", "down", "3", "enter", *"No chronology since [June]", "escape", "down", "2")
        await settle(pilot)
    ctx.db.dispose()
    with db.reader() as s:
        audit = s.scalar(select(Audit).where(Audit.case_id == ids["CASE-0004"]))
        grades = {g.domain: (g.grade, g.comment) for g in s.scalars(select(AuditGrade).where(AuditGrade.audit_id == audit.id))}
    (summary, _), (chronology, _), (visits, _) = DIP_SAMPLE_AREAS[:3]
    assert [grades[summary], grades[chronology], grades[visits][0]] == [  # stored from 0: Met, Not met, Partly met
        (0, ""), (2, "No chronology since [June]"), 1]
