"""The focused reports (dip samples, observations, feedback, improvement): figures checked against
hand-computed values on a small council, the Markdown, and the `qa-tui report` verbs."""

from __future__ import annotations

import stat
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from qa_tui.cli import main
from qa_tui.config import parse_config
from qa_tui.dates import Month
from qa_tui.db.engine import Database
from qa_tui.db.models import (
    AuditEvent,
    AuditGrade,
    Feedback,
    GoodPractice,
    Observation,
    SupportPlan,
)
from qa_tui.errors import ValidationError
from qa_tui.services.programme.periods import parse_financial_quarter
from qa_tui.services.reports.kinds import (
    dip_sample_markdown,
    dip_sample_report,
    feedback_markdown,
    feedback_report,
    improvement_markdown,
    improvement_overview,
    observation_markdown,
    observation_report,
    parse_financial_half,
)
from tests.test_programme import Org, utc

CFG = parse_config({})
TODAY = date(2026, 11, 24)
SECRET_AIM = "Improve recording of visits"


def seed(db: Database) -> None:
    """Autumn 2026 in two teams; every figure asserted below is worked out by hand from this."""
    with db.session() as s:
        org = Org(s)
        org.team("A1", "S1")
        org.team("B1", "S2")
        org.person("TM1", "TM", "A1")
        org.person("SW1", "SW", "A1", manager="TM1")
        org.person("NQ1", "NQSW", "A1", manager="TM1", asye_start=date(2026, 4, 1))
        org.person("TMB", "TM", "B1")
        org.person("SWB", "SW", "B1", manager="TMB")
        org.case("C-1", "A1", "SW1")
        org.case("C-2", "A1", "SW1")
        org.case("C-B", "B1", "SWB")

        # Dip samples: ratings 0 Met, 1 Partly met, 2 Not met.
        for case, manager, on, status, ratings in [
            ("C-1", "TM1", date(2026, 10, 5), "finalised", {"case_summary": 0, "chronology": 2, "visits": 2}),
            ("C-2", "TM1", date(2026, 10, 20), "finalised", {"case_summary": 1, "chronology": 2, "visits": 0}),
            ("C-B", "TMB", date(2026, 10, 15), "finalised", {"case_summary": 2, "chronology": 0, "visits": 1}),
            ("C-B", "TMB", date(2026, 10, 16), "draft", {"case_summary": 2}),  # not finalised
            ("C-1", "TM1", date(2026, 9, 30), "finalised", {"chronology": 2}),  # September
        ]:
            audit = org.audit(case, manager, on, kind="dip_sample", status=status,
                              finalised_at=utc(on) if status == "finalised" else None)
            for area, rating in ratings.items():
                org.add(AuditGrade(audit_id=audit, domain=area, grade=rating))

        # Observations: H1 is April–September 2026, H2 October 2026–March 2027.
        for worker, on, kind, themes in [
            ("SW1", date(2026, 9, 1), "annual", ["Recording"]),
            ("NQ1", date(2026, 5, 10), "asye", ["planning"]),  # ASYE months 0–3 met; months 3–6 missed
            ("SW1", date(2026, 10, 10), "annual", ["voice of the child", "Planning"]),
        ]:
            org.add(Observation(worker_id=org.people[worker], observed_on=on, kind=kind, themes=themes,
                                observer_id=org.people["TM1"]))
        celebrated = s.scalar(select(Observation.id).where(Observation.observed_on == date(2026, 10, 10)))
        org.add(GoodPractice(source_kind="observation", source_id=celebrated, worker_id=org.people["SW1"],
                             why="Lovely direct work", marked_by_id=org.people["TM1"], marked_on=date(2026, 10, 11)))

        # Feedback: Q3 of FY 2026/27 is October–December 2026.
        for received, giver, channel, rating, said, themes in [
            (date(2026, 10, 3), "parent", "form", 4, "", ["listened"]),
            (date(2026, 10, 9), "child", "qr", 2, "", ["Listened", "late visits"]),
            (date(2026, 11, 1), "young_person", "form", None, "fine", []),
            (date(2026, 9, 30), "parent", "phone", 1, "", ["late visits"]),  # Q2
        ]:
            org.add(Feedback(received_on=received, giver=giver, channel=channel, rating=rating, said=said,
                             themes=themes))

        # Support plans: open on 24 November, A1 1 and B1 1; on 30 September, B1 1 only.
        for worker, manager, started, closed in [("SW1", "TM1", date(2026, 10, 1), None),
                                                 ("SWB", "TMB", date(2026, 6, 1), date(2026, 10, 15)),
                                                 ("SWB", "TMB", date(2026, 11, 1), None)]:
            org.add(SupportPlan(worker_id=org.people[worker], manager_id=org.people[manager], aim=SECRET_AIM,
                                started_on=started, status="closed" if closed else "open", closed_on=closed))


def test_dip_sample_report_figures(db: Database) -> None:
    seed(db)
    with db.reader() as s:
        report = dip_sample_report(s, Month(2026, 10), TODAY, CFG)
    assert report.scale == ("Met", "Partly met", "Not met")
    a1, b1 = report.teams
    assert (a1.team_code, a1.finalised, b1.team_code, b1.finalised) == ("A1", 2, "B1", 1)
    assert [(a.area_key, a.counts) for a in a1.areas] == [
        ("case_summary", (1, 1, 0)), ("chronology", (0, 0, 2)), ("visits", (1, 0, 1))]
    assert [(a.area_key, a.counts) for a in b1.areas] == [
        ("case_summary", (0, 0, 1)), ("chronology", (1, 0, 0)), ("visits", (0, 1, 0))]
    assert a1.most_not_met == (("Chronology", 2), ("Visits", 1))
    assert b1.most_not_met == (("Case summary", 1),)
    assert report.most_not_met == (("Chronology", 2), ("Case summary", 1), ("Visits", 1))
    text = dip_sample_markdown(report)
    assert text.startswith("# Dip sample report: 2026-10")
    assert "| A1 | Chronology | 0 | 0 | 2 |" in text

    with db.reader() as s:
        september = dip_sample_report(s, Month(2026, 9), TODAY, CFG)
    assert [(t.team_code, t.finalised, t.most_not_met) for t in september.teams] == [
        ("A1", 1, (("Chronology", 1),)), ("B1", 0, ())]


def test_observation_report_figures_for_each_half(db: Database) -> None:
    seed(db)
    with db.reader() as s:
        h2 = observation_report(s, parse_financial_half("2026-H2"), TODAY, CFG)
        h1 = observation_report(s, parse_financial_half("2026-H1"), TODAY, CFG)
    assert (h2.period.start, h2.period.end, h2.as_at) == (date(2026, 10, 1), date(2027, 3, 31), TODAY)
    assert [(t.team_code, t.practitioners, t.covered, t.due, t.overdue, t.observations_held) for t in h2.teams] == [
        ("A1", 2, 1, 0, 1, 1), ("B1", 1, 0, 1, 0, 0)]
    assert [(r.staff_id, r.status, r.observed_this_year) for r in h2.asye] == [("NQ1", "overdue", 1)]
    assert "months 3–6" in h2.asye[0].reason
    assert [(t.theme, t.count) for t in h2.themes] == [("Planning", 1), ("voice of the child", 1)]

    assert (h1.period.label, h1.as_at) == ("2026-H1", date(2026, 9, 30))
    assert [(t.team_code, t.observations_held) for t in h1.teams] == [("A1", 2), ("B1", 0)]
    assert [(t.theme, t.count) for t in h1.themes] == [("planning", 1), ("Recording", 1)]
    text = observation_markdown(h2)
    assert text.startswith("# Practice observation report: 2026-H2")
    assert "| A1 | 2 | 1 | 0 | 1 | 1 |" in text and "Person NQ1 (NQ1)" in text


@pytest.mark.parametrize("text", ["2026-H3", "2026", "H1-2026", "26-H0"])
def test_a_bad_half_year_is_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_financial_half(text)


def test_feedback_report_figures(db: Database) -> None:
    seed(db)
    with db.reader() as s:
        report = feedback_report(s, parse_financial_quarter("2026-Q3"), TODAY)
    f = report.summary
    assert (f.received, f.rated, f.average_rating) == (3, 2, 3.0)
    assert dict(f.by_giver) == {"child": 1, "young_person": 1, "parent": 1, "carer": 0, "professional": 0}
    assert (dict(f.by_channel)["form"], dict(f.by_channel)["qr"], dict(f.by_channel)["phone"]) == (2, 1, 0)
    assert [(t.theme, t.count) for t in f.themes] == [("listened", 2), ("late visits", 1)]
    text = feedback_markdown(report)
    assert "3 received, 2 rated, average rating 3.00 out of 5" in text and "| a young person | 1 |" in text


def test_improvement_overview_counts_support_plans_without_naming_anyone(db: Database) -> None:
    seed(db)
    with db.reader() as s:
        q3 = improvement_overview(s, parse_financial_quarter("2026-Q3"), TODAY)
        q2 = improvement_overview(s, parse_financial_quarter("2026-Q2"), TODAY)
    assert q3.as_at == TODAY
    assert [(c.team_code, c.open_plans) for c in q3.support] == [("A1", 1), ("B1", 1)]
    assert [(c.team_code, c.open_plans) for c in q2.support] == [("B1", 1)]  # on 30 September
    assert [(t.source, t.theme, t.mentions) for t in q3.themes] == [
        ("observation", "Planning", 1), ("observation", "voice of the child", 1),
        ("feedback", "listened", 2), ("feedback", "late visits", 1)]
    assert [(i.worker_name, i.why) for i in q3.pack.good_practice] == [("Person SW1", "Lovely direct work")]
    assert q2.pack.good_practice == ()
    text = improvement_markdown(q3)
    assert "| A1 | 1 |" in text and "Lovely direct work" in text
    assert SECRET_AIM not in text


# --- the command line -------------------------------------------------------------------------


def cli(db_url: str, *args: str) -> int:
    return main(["--db", db_url, "--today", TODAY.isoformat(), "report", *args])


def test_report_kind_commands(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = Database.open(db_url, actor="tester")
    seed(db)
    db.dispose()

    for args, heading in [(("dip-samples",), "# Dip sample report: 2026-10"),  # last month by default
                          (("dip-samples", "--month", "2026-09"), "# Dip sample report: 2026-09"),
                          (("observations", "--half", "2026-H2"), "# Practice observation report: 2026-H2"),
                          (("feedback", "--quarter", "2026-Q3"), "# Family feedback report: Q3 FY 2026/27"),
                          (("improvement", "--quarter", "2026-Q3"), "# Practice improvement overview: Q3")]:
        assert cli(db_url, *args) == 0, args
        assert capsys.readouterr().out.startswith(heading), args

    out = tmp_path / "reports" / "improvement.md"
    assert cli(db_url, "improvement", "--quarter", "2026-Q3", "--out", str(out)) == 0
    assert f"Wrote {out}" in capsys.readouterr().out
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text().startswith("# Practice improvement overview") and SECRET_AIM not in out.read_text()
    db = Database.open(db_url, actor="tester")
    with db.reader() as s:
        events = s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "export")).all()
    db.dispose()
    assert events == [f"improvement report 2026-Q3 as Markdown to {out}"]

    for args, message in [(("dip-samples", "--month", "2026-13"), "--month"),
                          (("observations", "--half", "2026-H3"), "half"),
                          (("feedback", "--quarter", "2026-Q5"), "quarter"),
                          (("improvement", "--quarter", "2026-Q1", "--out", str(tmp_path)), "--out")]:
        assert cli(db_url, *args) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("qa-tui: ") and message in err and "Traceback" not in err
