"""Learning and celebration: good practice marked on audits, observations and feedback, and the
quarterly pack in Markdown and HTML with the quarter's themes."""

from __future__ import annotations

import stat
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from qa_tui.config import parse_config
from qa_tui.db.engine import Database
from qa_tui.db.models import AuditEvent, GoodPractice
from qa_tui.errors import NotFound, ValidationError
from qa_tui.services.practice import celebration
from qa_tui.services.audits import themes
from qa_tui.services.practice.feedback import record_feedback
from qa_tui.services.practice.observations import record_observation
from tests.kinds_seed import Org, seed_org

CFG = parse_config({})
IN_Q3 = date(2026, 11, 10)
IN_Q2 = date(2026, 9, 20)


@pytest.fixture
def org(db: Database, today: date) -> Org:
    return seed_org(db, today)


def marked_sources(db: Database, org: Org, today: date) -> dict[str, uuid.UUID]:
    """A themed audit, an observation and a piece of feedback about Robin Ash (SW1)."""
    with db.session() as s:
        theme = themes.create_theme(s, name="Step-down <planning>", today=IN_Q3, cfg=CFG)
        row = themes.add_case_by_reference(s, theme.id, "C-001")
        audit = themes.start_theme_audit(s, row.id, org.people["tmn1"], today=IN_Q3, cfg=CFG)
        obs = record_observation(s, observer_id=org.people["tmn1"], worker_id=org.people["swa"], observed_on=IN_Q3,
                                 kind="annual", setting="Home visit", themes=["Direct work", "Voice"], today=today)
        record_observation(s, observer_id=org.people["tmn1"], worker_id=org.people["swb"], observed_on=IN_Q2,
                           kind="annual", themes=["Timeliness"], today=today)
        fb = record_feedback(s, received_on=IN_Q3, case_id=org.cases["C-001"], giver="parent", channel="phone",
                             rating=5, said="She listened", themes=["Listening"], today=today)
        return {"audit": audit.id, "observation": obs.id, "feedback": fb.id, "theme": theme.id}


def test_marking_good_practice_on_each_kind_of_record(db: Database, org: Org, today: date) -> None:
    ids = marked_sources(db, org, today)
    with db.session() as s:
        for kind in ("audit", "observation", "feedback"):
            item = celebration.mark_good_practice(s, source_kind=kind, source_id=ids[kind], why=f"  Great {kind} ",
                                                  marked_by_id=org.people["tmn1"], today=IN_Q3)
            assert (item.worker_name, item.why, item.marked_by_name) == ("Robin Ash", f"Great {kind}", "Tam One")
        again = celebration.mark_good_practice(s, source_kind="audit", source_id=ids["audit"], why="Better words",
                                               marked_by_id=org.people["opsn"], today=IN_Q3)
        assert again.why == "Better words" and again.marked_by_name == "Nia North"
        assert s.query(GoodPractice).count() == 3
        with pytest.raises(ValidationError, match="say in a line what was good"):
            celebration.mark_good_practice(s, source_kind="audit", source_id=ids["audit"], why=" ",
                                           marked_by_id=None, today=IN_Q3)
        with pytest.raises(NotFound, match="Practice observation"):
            celebration.mark_good_practice(s, source_kind="observation", source_id=uuid.uuid4(), why="x",
                                           marked_by_id=None, today=IN_Q3)
        with pytest.raises(ValidationError, match="expected one of audit, observation, feedback"):
            celebration.mark_good_practice(s, source_kind="supervision", source_id=ids["audit"], why="x",
                                           marked_by_id=None, today=IN_Q3)
    with db.reader() as s:
        items = {i.source_kind: i for i in celebration.good_practice_between(s, IN_Q3, IN_Q3)}
    assert items["audit"].what == "Themed audit of case C-001"
    assert items["observation"].what == "Annual practice observation: Home visit"
    assert items["feedback"].what == "Feedback from a parent about case C-001, rated 5/5"
    with db.session() as s:
        celebration.unmark_good_practice(s, "feedback", ids["feedback"])
        assert celebration.good_practice_for(s, "feedback", ids["feedback"]) is None
        with pytest.raises(NotFound):
            celebration.unmark_good_practice(s, "feedback", ids["feedback"])


@pytest.mark.parametrize(("day", "label", "title"), [
    (date(2026, 11, 24), "2026-Q3", "Q3 FY 2026/27 (1 October to 31 December 2026)"),
    (date(2027, 2, 1), "2026-Q4", "Q4 FY 2026/27 (1 January to 31 March 2027)"),
    (date(2026, 4, 1), "2026-Q1", "Q1 FY 2026/27 (1 April to 30 June 2026)"),
])
def test_financial_quarters(day: date, label: str, title: str) -> None:
    quarter = celebration.quarter_of(day)
    assert quarter.label == label and celebration.quarter_title(quarter) == title


def test_quarterly_pack_gathers_the_quarter_only_and_writes_private_files(
        db: Database, org: Org, today: date, tmp_path: Path) -> None:
    ids = marked_sources(db, org, today)
    with db.session() as s:
        celebration.mark_good_practice(s, source_kind="observation", source_id=ids["observation"],
                                       why="Child's words <b>quoted</b> & acted on", marked_by_id=org.people["tmn1"],
                                       today=IN_Q3)
        celebration.mark_good_practice(s, source_kind="feedback", source_id=ids["feedback"], why="Family felt heard",
                                       marked_by_id=org.people["tmn1"], today=IN_Q2)  # last quarter
        pack = celebration.celebration_pack(s, celebration.quarter_of(today), today=today)
    assert pack.title == "Learning and celebration: Q3 FY 2026/27 (1 October to 31 December 2026)"
    assert [i.source_kind for i in pack.good_practice] == ["observation"]
    assert [(t.theme, t.count) for t in pack.observation_themes] == [("Direct work", 1), ("Voice", 1)]
    assert [(t.theme, t.count) for t in pack.feedback_themes] == [("Listening", 1)]
    assert [t.theme.theme.name for t in pack.themed_audits] == ["Step-down <planning>"]

    markdown = celebration.pack_markdown(pack)
    assert "### Robin Ash" in markdown and "Child's words <b>quoted</b> & acted on" in markdown
    assert "**Practice observations:** Direct work (1), Voice (1)" in markdown
    assert "1 received, average rating 5.0/5; themes: Listening (1)" in markdown
    assert "Timeliness" not in markdown and "Family felt heard" not in markdown
    page = celebration.pack_html(pack)
    assert "<b>quoted</b>" not in page and "&lt;b&gt;quoted&lt;/b&gt; &amp; acted on" in page
    assert "Step-down &lt;planning&gt;" in page

    with db.session() as s:
        md_path, html_path = celebration.export_celebration_pack(s, celebration.quarter_of(today), today=today,
                                                                out_dir=tmp_path)
    assert md_path.name == "learning-and-celebration-2026-Q3.md" and html_path.suffix == ".html"
    for path in (md_path, html_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert md_path.read_text() == markdown
    with db.reader() as s:
        detail = s.scalar(select(AuditEvent.detail).where(AuditEvent.action == "export",
                                                          AuditEvent.table_name == "good_practice"))
    assert "2026-Q3" in detail and str(html_path) in detail


def test_an_empty_quarter_says_so(db: Database, org: Org, today: date) -> None:
    with db.reader() as s:
        pack = celebration.celebration_pack(s, celebration.quarter_of(date(2026, 5, 1)), today=today)
    markdown = celebration.pack_markdown(pack)
    assert "_Nothing marked as good practice this quarter._" in markdown
    assert "_No themed or multi-agency audits this quarter._" in markdown
    assert "No themed or multi-agency audits this quarter." in celebration.pack_html(pack)


def test_the_quarter_before_and_after() -> None:
    q3 = celebration.quarter_of(date(2026, 11, 24))
    assert [celebration.quarter_after(q3, step).label for step in (-3, -1, 0, 1, 2)] == [
        "2025-Q4", "2026-Q2", "2026-Q3", "2026-Q4", "2027-Q1"]
