"""The Reports area on the demo council: the user's "what I owe", a senior manager's compliance
per team (and per role with one key), the monthly report by month keys, and an XLSX export by keys
read back."""

from __future__ import annotations

import stat
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from textual.widgets import DataTable, TabbedContent

from qa_tui.db.engine import Database
from qa_tui.db.models import Person, Team
from qa_tui.demo import DEMO_USER_STAFF_ID, build_demo
from qa_tui.services.reports.tables import CSV_SCHEMA
from qa_tui.widgets.record_table import RecordTable
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of

TODAY = date(2026, 11, 24)


@pytest.fixture
def demo_db(db: Database) -> Database:
    build_demo(db, today=TODAY, cases=400)
    return db



def cells(table: DataTable, column: int) -> list[str]:
    return [str(table.get_row_at(i)[column]) for i in range(table.row_count)]


def compliance_labels(table: RecordTable) -> list[str]:
    """The first column in full (on screen a long team name may end in … at 100 columns)."""
    shown = cells(table, 0)
    full = [str(line[1][0]) for line in table.records]
    assert all(s == f or (s.endswith("…") and f.startswith(s[:-1])) for s, f in zip(shown, full, strict=True))
    return full


async def test_a_team_manager_sees_what_they_owe(demo_db: Database) -> None:
    ctx = make_context(url_of(demo_db), today=TODAY, staff_id=DEMO_USER_STAFF_ID)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        screen = app.screen
        assert screen.query_one(TabbedContent).active == "tab-owe"
        owed = screen.owed
        assert owed is not None and owed.person.staff_id == DEMO_USER_STAFF_ID and owed.lines
        tasks = cells(screen.query_one("#owe-table", DataTable), 1)
        assert "Supervise each practitioner" in tasks
        assert f"({DEMO_USER_STAFF_ID}) on 2026-11-24" in screen_text(app)
    ctx.db.dispose()


async def test_a_senior_manager_sees_compliance_per_team_and_exports_xlsx(demo_db: Database) -> None:
    with demo_db.reader() as s:
        head = s.scalars(select(Person.staff_id).where(Person.role == "HOS").order_by(Person.staff_id)).first()
        team_codes = set(s.scalars(select(Team.code)))
    ctx = make_context(url_of(demo_db), today=TODAY, staff_id=head)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        screen = app.screen
        screen.query_one(TabbedContent).active = "tab-compliance"
        await settle(pilot)
        totals = screen.compliance_by["team"].totals
        # senior staff in no team are grouped by role and the service they lead ("HOS@CODE"), not "no team"
        assert len(totals) >= 3 and {t.group for t in totals if "@" not in t.group} <= team_codes
        assert "" not in {t.group for t in totals} and any(t.group.startswith("HOS@") for t in totals)
        shown = compliance_labels(screen.query_one("#compliance-table", RecordTable))
        assert [f"{t.group_label}: all tasks" for t in totals] == [c for c in shown if c.endswith(": all tasks")]
        assert "Compliance in Children's Assessment Service by team" in screen_text(app)  # their service first
        await pilot.press("g")  # by role
        await settle(pilot)
        assert "Head of service: all tasks" in compliance_labels(screen.query_one("#compliance-table", RecordTable))

        await pilot.press("left_square_bracket")  # the monthly report, a month earlier than last month
        await settle(pilot)
        assert screen.query_one(TabbedContent).active == "tab-monthly"
        assert screen.report is not None and screen.report.period_id == "2026-09"
        assert "Monthly report 2026-09" in screen_text(app)

        await pilot.press("e")
        await settle(pilot)
        await pilot.press("down", "down", "down", "enter")  # XLSX
        await settle(pilot)
        path = screen.last_export
        assert path is not None and path.name == "qa-report-2026-09.xlsx"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == [name.removesuffix(".csv") for name in CSV_SCHEMA]
    teams = [row[0] for row in book["dim_team"].iter_rows(min_row=2, values_only=True)]
    assert set(teams) == team_codes
    assert [r[0] for r in book["dim_period"].iter_rows(min_row=2, values_only=True)] == ["2026-09"]
    ctx.db.dispose()


async def test_compliance_rows_say_who_owes_and_done_n_of_m_at_100_columns(demo_db: Database) -> None:
    with demo_db.reader() as s:
        head = s.scalars(select(Person.staff_id).where(Person.role == "HOS").order_by(Person.staff_id)).first()
    ctx = make_context(url_of(demo_db), today=TODAY, staff_id=head)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("p", "2")
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#compliance-table", RecordTable)
        assert screen.query_one(TabbedContent).active == "tab-compliance"
        labels = [str(c.label).strip() for c in table.columns.values()]
        assert labels[:3] == ["Group / task", "Owed by", "Done"] and table.scroll_x == 0
        rows = screen.compliance_by["team"].rows
        assert any(r.owed_by.startswith("Social workers (") for r in rows)
        assert any(r.owed_by.startswith("Heads of service") or r.group.startswith("HOS@")
                   for r in screen.compliance_by["team"].totals)
        for i, (_key, cells) in enumerate(table.records):  # done, of what, rate and late are never cut
            shown = [str(table.get_row_at(i)[c]).strip() for c in (2, 3, 4, 6)]
            assert shown == [str(cells[c]).strip() for c in (2, 3, 4, 6)]
        audited = next(r for r in rows if r.task == "have_case_audited")
        shown = {(str(table.get_row_at(i)[2]), str(table.get_row_at(i)[3])) for i in range(table.row_count)}
        assert (f"{audited.done} of {audited.required}", "audits") in shown
    ctx.db.dispose()


async def test_a_head_of_service_sees_compliance_in_their_service_and_v_the_council(db: Database) -> None:
    from tests.kinds_seed import seed_org

    seed_org(db, TODAY)
    ctx = make_context(url_of(db), today=TODAY, staff_id="HOS1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("p", "2")
        await settle(pilot)
        screen = app.screen
        groups = " ".join(compliance_labels(screen.query_one("#compliance-table", RecordTable)))
        assert "Compliance in North by team" in screen_text(app)
        assert "North One" in groups and "South One" not in groups, groups
        await pilot.press("v")
        await settle(pilot)
        groups = " ".join(compliance_labels(screen.query_one("#compliance-table", RecordTable)))
        assert "Compliance in the whole council" in screen_text(app) and "v your service" in screen_text(app)
        assert "North One" in groups and "South One" in groups, groups
    ctx.db.dispose()
