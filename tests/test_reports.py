"""Reports: the monthly figures checked against hand-computed values on a small council, Cohen's
kappa, the Markdown, the CSV export read back (headers, 0600), and the `qa-tui report` commands."""

from __future__ import annotations

import csv
import stat
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from qa_tui.cli import main
from qa_tui.config import parse_config
from qa_tui.dates import Month
from qa_tui.db.engine import Database
from qa_tui.db.models import Action, AuditEvent, AuditGrade, Feedback, Moderation, Observation
from qa_tui.services.reports.figures import cohens_kappa, monthly_report
from qa_tui.services.reports.markdown import report_markdown
from qa_tui.services.reports.tables import CSV_SCHEMA, export_report_csv, report_tables
from tests.test_programme import Org, utc

CFG = parse_config({})
TODAY = date(2026, 11, 24)
OCTOBER = Month(2026, 10)


def seed(db: Database) -> None:
    """October 2026 in two teams, with the figures worked out by hand in the tests below."""
    with db.session() as s:
        org = Org(s)
        org.team("A1", "S1", "Assessment")
        org.team("B1", "S2", "Bridges")
        org.person("HOS1", "HOS")
        org.person("TM1", "TM", "A1")
        org.person("SW1", "SW", "A1", manager="TM1")
        org.person("TMB", "TM", "B1")
        org.person("SWB", "SW", "B1", manager="TMB")
        org.case("C-1", "A1", "SW1")
        org.case("C-B", "B1", "SWB")

        def graded(audit_id, agreed: dict[str, int], moderated: dict[str, int] | None, outcome: str = "agreed",
                   overall: int | None = None, on: date = date(2026, 10, 25)) -> None:  # noqa: ANN001
            for domain, grade in agreed.items():
                org.add(AuditGrade(audit_id=audit_id, domain=domain, grade=grade))
            if moderated is not None:
                org.add(Moderation(audit_id=audit_id, moderator_id=org.people["HOS1"], outcome=outcome,
                                   overall_grade=overall, moderated_on=on,
                                   grades={d: {"grade": g, "comment": ""} for d, g in moderated.items()}))

        # Sent on time, agreed, finalised within four weeks.
        a1 = org.audit("C-1", "TM1", date(2026, 10, 5), status="finalised", overall_grade=1,
                       submitted_at=utc(date(2026, 10, 20)), finalised_at=utc(date(2026, 10, 30)))
        graded(a1, {"recording": 1, "practice": 1, "impact": 2}, {"recording": 1, "practice": 1, "impact": 2},
               overall=1, on=date(2026, 10, 22))
        # Sent after the 28th; regraded one domain up, one down, overall Requires improvement → Good.
        a2 = org.audit("C-1", "TM1", date(2026, 10, 12), status="moderated", overall_grade=2,
                       submitted_at=utc(date(2026, 10, 30)))
        graded(a2, {"recording": 2, "practice": 2, "impact": 2}, {"recording": 1, "practice": 3, "impact": 2},
               outcome="regraded", overall=1, on=date(2026, 10, 31))
        # Never sent.
        org.audit("C-B", "TMB", date(2026, 10, 20), status="draft")
        # September's audit and November's moderation are outside October.
        a4 = org.audit("C-B", "TMB", date(2026, 9, 30), status="finalised", overall_grade=0,
                       submitted_at=utc(date(2026, 10, 1)), finalised_at=utc(date(2026, 10, 2)))
        graded(a4, {"recording": 0}, {"recording": 3}, outcome="regraded", overall=3, on=date(2026, 11, 2))
        dip = org.audit("C-B", "TMB", date(2026, 10, 15), kind="dip_sample", status="finalised",
                        finalised_at=utc(date(2026, 10, 15)))
        graded(dip, {"case_summary": 0, "chronology": 2, "visits": 1}, None)
        unfinished_dip = org.audit("C-1", "TM1", date(2026, 10, 16), kind="dip_sample", status="draft")
        graded(unfinished_dip, {"case_summary": 2}, None)

        for team, raised, due, status, completed in [
            ("A1", date(2026, 10, 5), date(2026, 11, 2), "done", date(2026, 10, 30)),  # raised, done on time
            ("A1", date(2026, 10, 12), date(2026, 10, 20), "done", date(2026, 11, 5)),  # raised, overdue at end
            ("B1", date(2026, 9, 1), date(2026, 10, 1), "done", date(2026, 10, 10)),  # done late in October
            ("B1", date(2026, 10, 20), date(2026, 11, 20), "open", None),  # raised, not yet due
            ("B1", date(2026, 8, 1), date(2026, 9, 1), "cancelled", None),  # counts nowhere
        ]:
            org.add(Action(title="Do it", owner_id=org.people["TM1"], team_id=org.teams[team], raised_on=raised,
                           due_on=due, status=status, completed_on=completed))
        for received, giver, rating, themes in [(date(2026, 10, 3), "parent", 4, ["listened"]),
                                                (date(2026, 10, 9), "child", 2, ["Listened", "late visits"]),
                                                (date(2026, 11, 1), "child", 1, ["late visits"])]:
            org.add(Feedback(received_on=received, giver=giver, channel="form", rating=rating, themes=themes))
        org.add(Observation(
            worker_id=org.people["SW1"], observed_on=date(2026, 10, 10), kind="annual", themes=["voice of the child"],
            observer_id=org.people["TM1"]))
        org.supervision("SW1", "TM1", date(2026, 10, 15))


def measures(rows, team: str) -> dict[str, int]:  # noqa: ANN001
    return {r.measure: r.value for r in rows if r.team_code == team}


def test_cohens_kappa_against_hand_computed_values() -> None:
    assert cohens_kappa([]) is None
    assert cohens_kappa([(1, 1), (1, 1)]) is None  # both always gave one grade: undefined
    assert cohens_kappa([(0, 0), (1, 1), (2, 2)]) == 1.0
    assert cohens_kappa([(0, 1), (1, 0)]) == pytest.approx(-1.0)
    # observed 24/36, expected 14/36 → 10/22
    assert cohens_kappa([(1, 1), (1, 1), (2, 2), (2, 1), (2, 3), (2, 2)]) == pytest.approx(5 / 11)


def test_monthly_report_figures_match_the_hand_computed_ones(db: Database) -> None:
    seed(db)
    with db.reader() as s:
        report = monthly_report(s, OCTOBER, TODAY, CFG)
    assert (report.period.start, report.period.end, report.as_at, report.period_id) == (
        date(2026, 10, 1), date(2026, 10, 31), date(2026, 10, 31), "2026-10")
    assert [(g.team_code, g.grade_label, g.agreed, g.moderated) for g in report.grades] == [
        ("A1", "Good", 1, 2), ("A1", "Requires improvement to be good", 1, 0)]

    council = next(c for c in report.calibration if c.scope == "council")
    assert (council.audits, council.domain_grades, council.agreed, council.regraded_up, council.regraded_down) == (
        2, 6, 4, 1, 1)
    assert council.kappa == pytest.approx(5 / 11) and council.agreement == pytest.approx(4 / 6)
    assert {(c.scope, c.scope_id) for c in report.calibration} == {("council", ""), ("team", "A1"), ("auditor", "TM1")}
    assert (report.calibration_by_domain.regraded_up, report.calibration_by_domain.regraded_down) == (1, 1)
    november = [c for c in report.calibration_trend if c.period_id == "2026-11"]
    assert november == []  # the trend ends with the report's month
    assert [c.period_id for c in report.calibration_trend if c.scope == "council"] == ["2026-10"]

    assert measures(report.moderation, "A1") == {
        "held": 2, "sent_on_time": 1, "sent_late": 1, "not_sent_overdue": 0, "not_sent_yet": 0,
        "finalised_on_time": 1, "finalised_late": 0, "not_finalised_overdue": 0}  # due 9 November: not at month end
    assert measures(report.moderation, "B1")["not_sent_overdue"] == 1  # the dip sample is not counted
    assert measures(report.moderation, "B1")["held"] == 1
    assert measures(report.actions, "A1") == {"raised": 2, "completed": 1, "completed_on_time": 1, "overdue_at_end": 1}
    assert measures(report.actions, "B1") == {"raised": 1, "completed": 1, "completed_on_time": 0, "overdue_at_end": 0}

    assert measures(report.observations, "A1")["observations_held"] == 1
    assert (measures(report.observations, "A1")["covered"], measures(report.observations, "B1")["due"]) == (1, 1)
    supervision = measures(report.supervision, "A1")
    assert (supervision["workers"], supervision["held_in_period"]) == (2, 1)
    assert [(d.team_code, d.area_key, d.rating_label, d.cases) for d in report.dip_samples] == [
        ("B1", "case_summary", "Met", 1), ("B1", "chronology", "Not met", 1), ("B1", "visits", "Partly met", 1)]

    assert (report.feedback.received, report.feedback.average_rating) == (2, 3.0)
    assert {(t.source, t.theme, t.mentions) for t in report.themes} == {
        ("observation", "voice of the child", 1), ("feedback", "listened", 2), ("feedback", "late visits", 1)}
    # the head of service, in no team and leading no one below, is a group of their own, not "no team"
    assert {t.group for t in report.compliance_by_team.totals} == {"HOS@", "A1", "B1"}
    assert {p.staff_id for p in report.people} == {"HOS1", "TM1", "SW1", "TMB", "SWB"}

    text = report_markdown(report)
    assert text.startswith("# Monthly QA report: 2026-10")
    for heading in ("## Audits completed by team and grade", "## Calibration", "## Moderation timeliness",
                    "## Actions", "## Observation coverage", "## Supervision", "## Dip sample results by area",
                    "## Family feedback", "## Themes", "## Programme compliance"):
        assert heading in text
    assert "| A1 | Good | 1 | 2 |" in text and "C-1" not in text
    compliance = text.split("## Programme compliance")[1]  # each task with who owes it, under its group
    assert "| Team | Task | Owed by |" in compliance
    owed = [r for r in report.compliance_by_team.rows if r.group == "A1"]
    assert owed and all(f"| {r.task_label} | {r.owed_by} |" in compliance for r in owed)


def test_csv_export_is_private_tidy_and_reads_back(db: Database, tmp_path: Path) -> None:
    seed(db)
    out = tmp_path / "powerbi" / "2026-10"
    with db.session() as s:
        report = monthly_report(s, OCTOBER, TODAY, CFG)
        paths = export_report_csv(s, report, out)
    assert sorted(p.name for p in paths) == sorted(CSV_SCHEMA)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    tables = report_tables(report)
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        assert tuple(rows[0]) == CSV_SCHEMA[path.name]
        assert rows[1:] == [[str(v) for v in row] for row in tables[path.name]]
    with (out / "fact_actions.csv").open(newline="") as fh:
        facts = {(r["team_code"], r["measure"]): int(r["value"]) for r in csv.DictReader(fh)}
    assert facts[("A1", "overdue_at_end")] == 1 and facts[("B1", "completed")] == 1
    with (out / "dim_period.csv").open(newline="") as fh:
        period = next(csv.DictReader(fh))
    assert (period["period_id"], period["start_date"], period["end_date"], period["financial_year"]) == (
        "2026-10", "2026-10-01", "2026-10-31", "FY 2026/27")
    with (out / "fact_calibration.csv").open(newline="") as fh:
        kappa = next(r["kappa"] for r in csv.DictReader(fh) if r["scope"] == "council")
    assert kappa == f"{5 / 11:.4f}"
    with db.reader() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert len(events) == 1 and "2026-10" in events[0].detail


# --- the command line -------------------------------------------------------------------------


def cli(db_url: str, *args: str) -> int:
    return main(["--db", db_url, "--today", TODAY.isoformat(), "report", *args])


def test_report_commands(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = Database.open(db_url, actor="tester")
    seed(db)
    db.dispose()

    assert cli(db_url, "monthly", "--month", "2026-10") == 0
    assert capsys.readouterr().out.startswith("# Monthly QA report: 2026-10")
    assert cli(db_url, "monthly", "--month", "2026-10", "--format", "csv", "--out", str(tmp_path / "csv")) == 0
    assert "Wrote 14 CSV files" in capsys.readouterr().out
    assert (tmp_path / "csv" / "fact_audit_grades.csv").exists()
    assert cli(db_url, "quarterly", "--quarter", "2026-Q3", "--out", str(tmp_path / "md")) == 0
    written = tmp_path / "md" / "qa-report-2026-Q3.md"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert written.read_text().startswith("# Quarterly QA report: 2026-Q3")
    capsys.readouterr()

    assert cli(db_url, "owe", "--person", "TM1") == 0
    out = capsys.readouterr().out
    assert "What Person TM1 (TM1, Team manager) owes on 2026-11-24" in out and "Supervise each practitioner" in out
    assert cli(db_url, "compliance", "--by", "role") == 0
    assert "QA programme compliance by role" in capsys.readouterr().out
    assert cli(db_url, "cp-reviews") == 0
    assert "No CP plans that ended having lasted under 3 months" in capsys.readouterr().out

    for args, message in [(("monthly", "--month", "2026-13"), "--month"),
                          (("monthly", "--format", "csv"), "--out"),
                          (("quarterly", "--quarter", "2026-Q5"), "quarter"),
                          (("owe", "--person", "NOBODY"), "NOBODY"),
                          (("cp-reviews", "--team", "ZZ"), "ZZ")]:
        assert cli(db_url, *args) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("qa-tui: ") and message in err and "Traceback" not in err
