"""Regression tests for the programme's wrong answers (issue 17): ASYE windows and who observes
count the same in coverage, the programme and compliance."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from qa_tui.db.engine import Database
from qa_tui.db.models import Observation
from qa_tui.services.practice.asye import asye_progress
from qa_tui.services.practice.observations import observation_coverage
from qa_tui.services.programme.compliance import compliance
from tests.test_programme import CFG, Org, _lines, build

OBSERVED = replace(CFG, programme=tuple(t for t in CFG.programme if t.task == "be_observed"))


def observe(org: Org, worker: str, on: date, kind: str = "annual", observer: str | None = None) -> None:
    org.add(Observation(worker_id=org.people[worker], observed_on=on, kind=kind,
                        observer_id=org.people[observer] if observer else None))


def test_an_nqsw_missing_an_asye_window_is_late_in_coverage_programme_and_compliance(db: Database) -> None:
    build(db)
    today = date(2026, 11, 24)
    with db.session() as s:
        org = Org.load(s)
        org.person("NQ", "NQSW", "A1", manager="TM1", asye_start=date(2026, 6, 1))
        observe(org, "NQ", date(2026, 7, 1), "annual", observer="TM1")  # an annual one: not an ASYE window
        observe(org, "NQ", date(2026, 10, 1), "asye", observer="TM1")  # months 3–6
    line = _lines(db, "NQ", today, OBSERVED)[("be_observed", "FY 2026/27")]
    assert [(i.subject, i.done, i.late) for i in line.items] == [
        ("ASYE months 0–3", 0, True), ("ASYE months 3–6", 1, False), ("ASYE months 9–12", 0, False)]
    assert (line.done, line.required, line.status) == (1, 3, "late")
    with db.reader() as s:
        cover = {r.staff_id: r for r in observation_coverage(s, today, CFG)}
        row = next(r for r in compliance(s, today, OBSERVED).rows if r.group == "A1")
        progress = asye_progress(s, today, CFG)
    assert cover["NQ"].status == "overdue" and "months 0–3" in cover["NQ"].reason
    assert row.people_late >= 1
    nq = next(p for p in progress if p.staff_id == "NQ")
    assert [w.status for w in nq.windows] == ["overdue", "done", "upcoming"]
    assert nq.summary == "1 of 3; overdue: months 0–3"
    # The last window opens, the first is made up by no later observation: still late, "1 of 3".
    with db.reader() as s:
        later = next(p for p in asye_progress(s, date(2027, 3, 10), CFG) if p.staff_id == "NQ")
    assert later.summary == "1 of 3; overdue: months 0–3; due by 2027-05-31"


def test_only_observations_by_a_team_leader_or_above_count_for_the_year(db: Database) -> None:
    build(db)
    today = date(2027, 2, 10)  # the last quarter of the year: not observed is overdue
    with db.session() as s:
        org = Org.load(s)
        observe(org, "SW1", date(2026, 9, 1), "peer", observer="SWB")  # a peer
        observe(org, "SWB", date(2026, 9, 1), "annual")  # nobody recorded
        observe(org, "SW2", date(2026, 9, 1), "annual", observer="HOS1")  # NQSW without an ASYE start
    lines = {staff: _lines(db, staff, today, OBSERVED)[("be_observed", "FY 2026/27")] for staff in ("SW1", "SWB")}
    assert [(line.done, line.status) for line in lines.values()] == [(0, "late"), (0, "late")]
    with db.reader() as s:
        cover = {r.staff_id: r.status for r in observation_coverage(s, today, CFG)}
    assert cover["SW1"] == cover["SWB"] == "overdue" and cover["SW2"] == "covered"
    with db.session() as s:
        observe(Org.load(s), "SW1", date(2027, 1, 5), "annual", observer="TM1")
    assert _lines(db, "SW1", today, OBSERVED)[("be_observed", "FY 2026/27")].status == "met"
    with db.reader() as s:
        assert {r.staff_id: r.status for r in observation_coverage(s, today, CFG)}["SW1"] == "covered"


def test_closure_audits_keep_their_met_scale_and_stay_out_of_calibration(db: Database) -> None:
    from qa_tui.db.models import AuditGrade, Moderation
    from qa_tui.services.audits.templates import ensure_template
    from qa_tui.services.reports.figures import monthly_report
    from qa_tui.services.reports.markdown import report_markdown
    from qa_tui.services.reports.tables import report_tables
    from tests.test_reports import OCTOBER, TODAY, seed

    seed(db)
    with db.session() as s:
        org = Org.load(s)
        closure = org.audit("C-B", "TMB", date(2026, 10, 8), kind="closure", status="finalised", overall_grade=0,
                            template_id=ensure_template(s, CFG.template("closure")).id)
        for key in ("objectives", "chronology", "key_data"):
            org.add(AuditGrade(audit_id=closure, domain=key, grade=0))
        org.add(Moderation(audit_id=closure, moderator_id=org.people["HOS1"], outcome="regraded", overall_grade=2,
                           moderated_on=date(2026, 10, 20),
                           grades={k: {"grade": 2, "comment": ""} for k in ("objectives", "chronology", "key_data")}))
    with db.reader() as s:
        report = monthly_report(s, OCTOBER, TODAY, CFG)
    graded = [(g.team_code, g.grade_label, g.agreed, g.moderated) for g in report.grades if g.scale == "grades"]
    assert graded == [("A1", "Good", 1, 2), ("A1", "Requires improvement to be good", 1, 0)]  # no "Outstanding"
    closures = [(g.team_code, g.grade_label, g.agreed, g.moderated, g.scale) for g in report.grades if g.scale != "grades"]
    assert closures == [("B1", "Met", 1, 0, "closure"), ("B1", "Not met", 0, 1, "closure")]
    council = next(c for c in report.calibration if c.scope == "council")
    assert (council.audits, council.domain_grades) == (2, 6)  # the closure audit is not calibrated
    assert report.calibration_by_domain.audits == 2
    text = report_markdown(report)
    assert "Outstanding" not in text and "| B1 | Met | 1 | 0 |" in text
    rows = report_tables(report)["fact_audit_grades.csv"]
    assert ("2026-10", "B1", 0, "Met", "agreed", 1, "closure") in rows


def test_last_months_report_is_the_same_after_an_action_is_extended_this_month(db: Database) -> None:
    from qa_tui.db.models import Action
    from qa_tui.services.audits.actions import extend_actions
    from qa_tui.services.reports.figures import monthly_report
    from qa_tui.services.reports.markdown import report_markdown
    from tests.test_reports import OCTOBER, TODAY, measures, seed

    seed(db)
    with db.reader() as s:
        before = monthly_report(s, OCTOBER, TODAY, CFG)
    assert measures(before.actions, "A1")["overdue_at_end"] == 1
    with db.session() as s:
        late = s.query(Action).filter(Action.due_on == date(2026, 10, 20)).one()
        late.status, late.completed_on = "open", None  # still open in November
    with db.reader() as s:
        before = monthly_report(s, OCTOBER, TODAY, CFG)
    with db.session() as s:
        late = s.query(Action).filter(Action.due_on == date(2026, 10, 20)).one()
        extend_actions(s, [late.id], date(2026, 12, 15), "Waiting for the conference", None, TODAY)
    with db.reader() as s:
        after = monthly_report(s, OCTOBER, TODAY, CFG)
        november = monthly_report(s, OCTOBER.shift(1), TODAY, CFG)
    assert after.actions == before.actions and measures(after.actions, "A1")["overdue_at_end"] == 1
    assert measures(november.actions, "A1").get("overdue_at_end", 0) == 0  # extended on the 24th: not overdue now
    assert report_markdown(after) == report_markdown(before)
    assert f"made on {TODAY.isoformat()}" in report_markdown(after)


def test_report_asye_prints_each_nqsws_windows(db: Database, capsys) -> None:  # noqa: ANN001
    from qa_tui.cli import main

    build(db)
    with db.session() as s:
        org = Org.load(s)
        org.person("NQ", "NQSW", "A1", manager="TM1", asye_start=date(2026, 6, 1), name="Noor Newly")
        observe(org, "NQ", date(2026, 10, 1), "asye", observer="TM1")
    url = db.engine.url.render_as_string(hide_password=False)
    assert main(["--db", url, "--today", "2026-11-24", "report", "asye", "--team", "A1"]) == 0
    out = capsys.readouterr().out
    assert "Noor Newly (NQ) A1: 1 of 3; overdue: months 0–3" in out
    assert "months 3–6" in out and "done observed 2026-10-01" in out
    assert "Person SW2 (SW2) A1: no ASYE start date recorded" in out  # an NQSW with no dates at all
