"""Every other kind of audit by keyboard, as a new user would: a themed audit over the CP plans
ending within 3 months, a multi-agency audit with findings per agency, a closure audit of a case
closed by hand, supervision-file and cross-service audits, two pieces of good practice and the
quarterly pack, and a support plan."""

from __future__ import annotations

import stat
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from textual.widgets import DataTable

from qa_tui.config import data_dir
from qa_tui.dates import today_local
from qa_tui.db.engine import Database
from qa_tui.db.models import (
    AgencyFinding,
    Audit,
    AuditGrade,
    Case,
    FollowUp,
    GoodPractice,
    SupportPlan,
    SupportStep,
    Theme,
    ThemeCase,
)
from qa_tui.services.practice.feedback import record_feedback
from qa_tui.services.practice.observations import record_observation
from tests.kinds_seed import Org, seed_org
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of

# The journeys run on SQLite; the two that read the trail or are the "done when" also run on
# PostgreSQL. Every service they call is tested on both databases in its own file.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def today() -> date:
    """The trail stamps each change with the clock, so closures are looked for around it."""
    return today_local()


@pytest.fixture
def org(db: Database, today: date) -> Org:
    return seed_org(db, today)



def screen_name(pilot) -> str:
    return pilot.app.screen.__class__.__name__


def table_column(pilot, selector: str, column: int = 0) -> list[str]:
    table = pilot.app.screen.query_one(selector, DataTable)
    return [str(table.get_row_at(i)[column]) for i in range(table.row_count)]


async def to_row(pilot, selector: str, first_cell: str) -> None:
    table = pilot.app.screen.query_one(selector, DataTable)
    target = table_column(pilot, selector).index(first_cell)
    await pilot.press(*["up"] * table.cursor_row, *["down"] * target)


async def choose(pilot, label: str) -> None:
    """Pick the option of the open ChoiceDialog whose label contains `label`, by keys."""
    labels = [text for _, text in pilot.app.screen.options]
    index = next(i for i, text in enumerate(labels) if label in text)
    await pilot.press("home", *["down"] * index, "enter")
    await settle(pilot)


def grade_labels(pilot) -> list[str]:
    return [row.label for row in pilot.app.screen.query_one("#af-grades").rows]


async def type_and_enter(pilot, text: str) -> None:
    await pilot.press(*text, "enter")
    await settle(pilot)


async def grade_everything(pilot, grade: str, count: int) -> None:
    """One key per domain and the overall grade; the saves queue up and run in order."""
    await pilot.press(*[grade] * count)
    await settle(pilot)


async def test_themed_audit_over_cp_plans_ending_within_3_months(db: Database, org: Org, today: date) -> None:
    ctx = make_context(url_of(db), today=today, staff_id="HOS1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert screen_name(pilot) == "AuditsOtherScreen" and "Themed audits" in screen_text(pilot.app)
        await pilot.press("n")
        await settle(pilot)
        await type_and_enter(pilot, "CP ending soon")
        await type_and_enter(pilot, "")  # what it looks at: optional
        await pilot.press("enter")  # requested by: Hari Head, as offered
        await settle(pilot)
        assert screen_name(pilot) == "ThemeScreen"

        await pilot.press("r")
        await settle(pilot)
        await choose(pilot, "CP plans ending within N months")
        await pilot.press("enter")  # 3 months, as offered
        await settle(pilot)
        assert "Add the 2 open cases where CP plan ends within 3 months?" in screen_text(pilot.app)
        await pilot.press("y")
        await settle(pilot)
        assert table_column(pilot, "#th-table") == ["C-001", "C-006"]

        await pilot.press("enter")  # audit C-001
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert screen_name(pilot) == "AuditFormScreen"
        text = screen_text(pilot.app)
        assert "Themed audit" in text and "Case C-001 (CP)" in text and "Themed audit: CP ending soon" in text
        await grade_everything(pilot, "2", 6)  # five domains, then the overall grade
        await pilot.press("w", *"Step-down", "escape")
        await settle(pilot)
        await pilot.press("asterisk")
        await settle(pilot)
        await type_and_enter(pilot, "Family-led")
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "SUBMITTED" in screen_text(pilot.app)
        await pilot.press("escape")
        await settle(pilot)
        assert screen_name(pilot) == "ThemeScreen"
        assert "2 cases, 1 audited" in screen_text(pilot.app)
        await pilot.press("w")
        await settle(pilot)

    report = next((data_dir() / "exports").glob("theme-cp-ending-soon-*.md"))
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert "### Case C-001 (Good)" in report.read_text()
    with db.reader() as s:
        theme = s.scalar(select(Theme))
        assert (theme.name, theme.requested_by) == ("CP ending soon", "Hari Head")
        audit = s.scalar(select(Audit).join(ThemeCase, ThemeCase.audit_id == Audit.id))
        assert (audit.kind, audit.status, audit.overall_grade) == ("themed", "submitted", 1)
        assert audit.strengths == "Step-down"
        grades = s.scalars(select(AuditGrade.grade).where(AuditGrade.audit_id == audit.id)).all()
        assert grades == [1] * 5
        assert s.scalar(select(GoodPractice.why).where(GoodPractice.source_id == audit.id)) == "Family-led"


async def test_closure_audit_of_a_case_closed_by_hand(db: Database, org: Org, today: date) -> None:
    with db.session() as s:
        s.get(Case, org.cases["C-003"]).closed_on = today - timedelta(days=1)
    ctx = make_context(url_of(db), today=today, staff_id="OPS1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("u", "3")
        await settle(pilot)
        assert "Closure and transfer" in screen_text(pilot.app)
        assert sorted(table_column(pilot, "#ao-closure")) == ["C-003", "C-007"]
        await to_row(pilot, "#ao-closure", "C-003")
        await pilot.press("enter")
        await settle(pilot)
        assert "step-down plan" in screen_text(pilot.app)
        await pilot.press("y")
        await settle(pilot)
        text = screen_text(pilot.app)
        assert "Audit on closure or transfer" in text
        assert grade_labels(pilot) == ["Objectives of the plan met", "Chronology checked for gaps", "Key data recorded",
                                       "Overall quality acceptable", "Step-down plan in place", "Overall"]
        assert f"Case C-003 closed on {today - timedelta(days=1):%-d %B %Y}" in text
        await grade_everything(pilot, "1", 6)
        await pilot.press("u", "y")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert screen_name(pilot) == "AuditsOtherScreen"
        rows = dict(zip(table_column(pilot, "#ao-closure"), table_column(pilot, "#ao-closure", 6), strict=True))
        assert rows["C-003"] == "submitted"
    with db.reader() as s:
        audit = s.scalar(select(Audit).where(Audit.case_id == org.cases["C-003"]))
        assert (audit.kind, audit.status, audit.auditor_id) == ("closure", "submitted", org.people["opsn"])


@SQLITE_ONLY
async def test_supervision_file_and_cross_service_audits(db: Database, org: Org, today: date) -> None:
    ctx = make_context(url_of(db), today=today, staff_id="HOS1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("u", "4", "n")
        await settle(pilot)
        await choose(pilot, "Robin Ash")
        assert screen_name(pilot) == "AuditFormScreen"
        text = screen_text(pilot.app)
        assert "Supervision file audit" in text and "Supervision file of Robin Ash (SW1)" in text
        assert "0 supervisions since" in text and grade_labels(pilot)[0] == "Regularity of supervision"
        assert not pilot.app.screen.query_one("#af-lived_experience").display
        await grade_everything(pilot, "3", 6)
        await pilot.press("u", "y")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert table_column(pilot, "#ao-supervision_file") == ["Robin Ash"]

        await pilot.press("5", "n")
        await settle(pilot)
        await type_and_enter(pilot, "")  # every case from another service
        assert pilot.app.screen.options[0][1].startswith("C-005 CLA · S1 (South)")
        await choose(pilot, "C-006")
        text = screen_text(pilot.app)
        assert "Cross-service audit" in text and "Case C-006 (CP) · Cam Cedar (SW3)" in text
        await pilot.press("escape")
        await settle(pilot)
        assert table_column(pilot, "#ao-cross_service") == ["C-006"]
    with db.reader() as s:
        kinds = dict(s.execute(select(Audit.kind, Audit.status)).all())
        assert kinds == {"supervision_file": "submitted", "cross_service": "draft"}
        assert s.scalar(select(Audit.case_id).where(Audit.kind == "supervision_file")) is None


@SQLITE_ONLY
async def test_multi_agency_audit_with_findings_per_agency(db: Database, org: Org, today: date) -> None:
    ctx = make_context(url_of(db), today=today, staff_id="OPS1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("u", "2", "n")
        await settle(pilot)
        await type_and_enter(pilot, "Neglect")
        await type_and_enter(pilot, "Health, Police")
        await type_and_enter(pilot, "")
        await pilot.press("enter")  # requested by the safeguarding partnership, as offered
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        await type_and_enter(pilot, "C-003")
        await pilot.press("enter", "y")
        await settle(pilot)
        assert "Agencies: Health, Police" in screen_text(pilot.app)
        await pilot.press("e")
        await settle(pilot)
        await choose(pilot, "Police")
        await type_and_enter(pilot, "Same day")
        await type_and_enter(pilot, "Keep it")
        assert "Police: Same day Learning: Keep it" in screen_text(pilot.app)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await type_and_enter(pilot, "To the board")
    with db.reader() as s:
        finding = s.scalar(select(AgencyFinding))
        assert (finding.agency, finding.finding, finding.learning) == (
            "Police", "Same day", "Keep it")
        theme = s.scalar(select(Theme))
        assert (theme.kind, theme.agencies, theme.requested_by, theme.learning) == (
            "multi_agency", ["Health", "Police"], "Safeguarding partnership", "To the board")


@SQLITE_ONLY
async def test_two_pieces_of_good_practice_and_the_quarterly_pack(db: Database, org: Org, today: date) -> None:
    with db.session() as s:
        record_observation(s, observer_id=org.people["tmn1"], worker_id=org.people["swa"], observed_on=today,
                           kind="annual", setting="Home visit", themes=["Direct work"], today=today)
        record_feedback(s, received_on=today, case_id=org.cases["C-001"], giver="parent", channel="phone", rating=5,
                        said="She listened", themes=["Listening"], today=today)
    ctx = make_context(url_of(db), today=today, staff_id="TM1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("u", "6", "n")
        await settle(pilot)
        await choose(pilot, "A practice observation")
        await choose(pilot, "Robin Ash")
        await choose(pilot, "Home visit")
        await type_and_enter(pilot, "Child-led")
        commands = {c.title: c for c in pilot.app.screen.palette_commands()}
        assert "Good practice: mark feedback" in commands and "Export the learning and celebration pack" in commands
        commands["Good practice: mark feedback"].callback()  # as choosing the palette entry does
        await settle(pilot)
        await choose(pilot, "She listened")
        await type_and_enter(pilot, "Heard")
        assert len(table_column(pilot, "#ao-good_practice")) == 2
        await pilot.press("e")
        await settle(pilot)
    pack = next((data_dir() / "exports").glob("learning-and-celebration-*.md"))
    page = pack.with_suffix(".html")
    for path in (pack, page):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = pack.read_text()
    assert "Child-led" in text and "Heard" in text
    assert "Direct work (1)" in text and "Listening (1)" in text
    assert "Child-led" in page.read_text()


@SQLITE_ONLY
async def test_support_plan_recorded_and_put_on_the_agenda(db: Database, org: Org, today: date) -> None:
    ctx = make_context(url_of(db), today=today, staff_id="TM1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("u", "7", "n")
        await settle(pilot)
        await choose(pilot, "Robin Ash")
        await type_and_enter(pilot, "Timeliness")
        await type_and_enter(pilot, "Weekly slot")
        await pilot.press("enter")  # due in four weeks, as offered
        await settle(pilot)
        assert screen_name(pilot) == "SupportPlanScreen"
        text = screen_text(pilot.app)
        assert "Support plan for Robin Ash" in text and "Aim: Timeliness" in text
        await pilot.press("x")
        await settle(pilot)
    with db.reader() as s:
        plan = s.scalar(select(SupportPlan))
        assert (plan.worker_id, plan.manager_id) == (org.people["swa"], org.people["tmn1"])
        step = s.scalar(select(SupportStep))
        assert (step.step, step.due_on, step.done_on) == ("Weekly slot", today + timedelta(weeks=4), today)
        agenda = s.scalar(select(FollowUp.summary).where(FollowUp.source_id == step.id))
        assert "Weekly" not in agenda and "Individual support plan" in agenda


async def test_support_plan_with_a_due_date_that_cannot_be_read_or_is_refused_keeps_the_aim_and_step(
        db: Database, org: Org, today: date) -> None:
    ctx = make_context(url_of(db), today=today, staff_id="TM1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("u", "7", "n")
        await settle(pilot)
        await choose(pilot, "Robin Ash")
        await type_and_enter(pilot, "Timeliness")
        await type_and_enter(pilot, "Weekly slot")
        await pilot.press("ctrl+a", "ctrl+k")
        await type_and_enter(pilot, "31/02/2099")  # no such day: named beside the field, nothing lost
        assert screen_name(pilot) == "DraftedPrompt"  # a TextPrompt keeping its draft
        assert "not a real date" in str(pilot.app.screen.query_one("#prompt-error").render())
        assert pilot.app.screen.query_one("#prompt-input").value == "31/02/2099"
        await pilot.press("ctrl+a", "ctrl+k")
        await type_and_enter(pilot, "01/01/2000")  # a real day, but before the plan starts: refused, asked again
        await settle(pilot)
        assert screen_name(pilot) == "DraftedPrompt"
        assert "before the plan started" in str(pilot.app.screen.query_one("#prompt-error").render())
        assert pilot.app.screen.query_one("#prompt-input").value == "01/01/2000"
        await pilot.press("escape")  # the aim and the step are at stake: asked first, n keeps them
        await settle(pilot)
        assert screen_name(pilot) == "ConfirmDialog"
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("ctrl+a", "ctrl+k")
        await type_and_enter(pilot, "01/03/2099")
        await settle(pilot)
        assert screen_name(pilot) == "SupportPlanScreen"
    with db.reader() as s:
        plan = s.scalar(select(SupportPlan))
        step = s.scalar(select(SupportStep))
        assert (plan.aim, step.step, step.due_on) == ("Timeliness", "Weekly slot", date(2099, 3, 1))
