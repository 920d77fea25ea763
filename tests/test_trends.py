"""Trend charts: twelve months of grades, agreement with moderators per team and per auditor, and
overdue actions, computed in the reports service; drawn as text in the app at 100×30 and as SVG in
the HTML report."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

from sqlalchemy import select
from textual.widgets import TabbedContent

from qa_tui.dates import Month
from qa_tui.db.engine import Database
from qa_tui.db.models import Team
from qa_tui.services.audits import moderation
from qa_tui.services.audits import record as audits
from qa_tui.services.audits.actions import add_action
from qa_tui.services.reports.trend_svg import trends_html
from qa_tui.services.reports.trends import trends
from qa_tui.widgets.charts import sparkline
from tests.pilot import SIZE, make_app, make_context, settle, url_of
from tests.test_audits import CFG, grade_everything, seed_org, start

SCALE = CFG.grading_scale


def moderated_in(db: Database, org, held: date, *, regrade: bool) -> None:  # noqa: ANN001
    dto = start(db, org, held, audit_date=held)
    grade_everything(db, dto.id, overall=1)
    with db.session() as s:
        audits.submit_for_moderation(s, dto.id, held)
        if regrade:
            moderation.moderate(s, dto.id, org.moderator_id, outcome="regraded",
                                grades={"impact": (2, ""), "voice": (3, "")}, overall_grade=2, today=held)
        else:
            moderation.moderate(s, dto.id, org.moderator_id, outcome="agreed", today=held)


def test_trends_follow_the_months(db: Database, today: date) -> None:
    org = seed_org(db)
    with db.session() as s:
        s.get(Team, org.team_id).name = "Assessment <1> & co"
    moderated_in(db, org, date(2026, 9, 10), regrade=False)
    moderated_in(db, org, date(2026, 10, 12), regrade=True)
    with db.session() as s:
        add_action(s, title="Chase", owner_id=org.worker_id, raised_by_id=org.auditor_id,
                   due_on=date(2026, 10, 20), team_id=org.team_id, today=date(2026, 10, 1), cfg=CFG)
    with db.reader() as s:
        t = trends(s, Month(2026, 12), today, SCALE)
    assert t.months[0] == "2026-01" and t.months[-1] == "2026-11"  # December has not begun
    sep, octo = t.months.index("2026-09"), t.months.index("2026-10")
    assert t.grades[sep] == (0, 1, 0, 0) and t.grades[octo] == (0, 0, 1, 0)  # by the moderated grade
    assert sum(map(sum, t.grades)) == 2
    council = t.agreement_council.values
    assert council[sep] == 1.0 and abs(council[octo] - 4 / 6) < 1e-9 and council[0] is None
    [team] = t.agreement_by_team
    assert team.label == "Assessment <1> & co" and team.last == council[octo]
    [auditor] = t.agreement_by_auditor
    assert auditor.label == "Terry Manager"
    overdue = t.overdue_actions.values
    assert overdue[t.months.index("2026-09")] == 0 and overdue[octo] == 1 and overdue[-1] == 1


def test_the_html_charts_are_valid_svg_with_labels_escaped(db: Database, today: date) -> None:
    org = seed_org(db)
    with db.session() as s:
        s.get(Team, org.team_id).name = "Assessment <1> & co"
    moderated_in(db, org, date(2026, 10, 12), regrade=True)
    with db.reader() as s:
        t = trends(s, Month(2026, 11), today, SCALE)
    page = trends_html(t)
    assert page.count("<svg") == 4 and "<script" not in page
    for svg in page.split('<figure class="chart">')[1:]:
        root = ET.fromstring(svg.removesuffix("</figure>").strip().removesuffix("</figure>"))
        assert root.tag.endswith("svg")
    assert "Assessment &lt;1&gt; &amp; co" in page


def test_sparkline_marks_missing_months() -> None:
    assert sparkline([0.0, None, 1.0], cell=1).plain == "▁·█"
    assert sparkline([0.5], cell=2).plain == "▅▅"


async def test_the_trends_tab_reads_at_100_by_30(db: Database, today: date) -> None:
    org = seed_org(db)
    moderated_in(db, org, date(2026, 10, 12), regrade=True)
    app = make_app(make_context(url_of(db), today=today, staff_id="H001"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        app.screen.query_one(TabbedContent).active = "tab-trends"
        await settle(pilot)
        charts = app.screen.query_one("#trends-charts")
        text = str(charts.render())
        assert "Completed audits by moderated overall grade" in text
        assert "Agreement with moderators by team" in text and "Terry Manager" in text
        assert "Actions overdue at each month's end" in text
        assert "2026-10  " in text
        assert max(len(line) for line in text.splitlines()) <= SIZE[0] - 4  # no line wraps at 100 columns
