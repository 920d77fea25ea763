"""Compliance as a head of service reads it: who owes each row and how much is done, senior staff
in no team grouped by role and service, and a closed month's figures unchanged by later moves."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from sqlalchemy import select

from qa_tui.cli import main
from qa_tui.db.engine import Database
from qa_tui.db.models import Case, Person, Team
from qa_tui.services.programme.compliance import compliance
from qa_tui.services.reports.figures import monthly_report
from qa_tui.services.reports.tables import CSV_SCHEMA, report_tables
from tests.test_programme import CFG, build
from tests.test_reports import OCTOBER, TODAY, seed


def test_each_row_says_who_owes_it_and_how_much_is_done(db: Database) -> None:
    build(db)
    with db.reader() as s:
        result = compliance(s, TODAY, CFG)
    rows = {(r.group, r.task): r for r in result.rows}
    audited = rows[("A1", "have_case_audited")]
    assert audited.owed_by == "Newly qualified social workers (1), Social workers (1)"
    assert (audited.unit, audited.counted) == ("audits", f"{audited.done} of {audited.required}")
    assert audited.progress == f"done {audited.done} of {audited.required} audits"
    supervise = rows[("A1", "supervise_each_practitioner")]
    assert supervise.owed_by == "Person TM1 (Team manager)"  # one person: by name
    assert supervise.unit == "supervisions"
    total = next(t for t in result.totals if t.group == "A1")
    assert total.progress == f"{total.people_met} of {total.people} people met every task"
    assert "Team managers (1)" in total.owed_by and "Social workers (1)" in total.owed_by


def test_senior_staff_in_no_team_are_grouped_by_role_and_the_service_they_lead(db: Database) -> None:
    ids = build(db)
    with db.session() as s:
        s.add(Person(staff_id="OPS2", name="Person OPS2", role="OPS"))  # leads no one yet
    with db.reader() as s:
        s1 = s.scalars(select(Team.service_id).where(Team.id == ids["A1"])).one()
        by_team = compliance(s, TODAY, CFG)
        service = compliance(s, TODAY, CFG, service_id=s1)
    labels = {t.group: t.group_label for t in by_team.totals}
    assert "" not in labels  # nobody is lumped into "no team"
    assert labels["HOS@S1"] == "Heads of service, Service S1"
    assert labels["OPS@S1"] == "Operations leads, Service S1"
    assert labels["OPS@"] == "Operations leads, council-wide"
    # the director's line reaches only S1 here, so they read as S1's too
    assert {g for g in labels if g.startswith("DD@")} == {"DD@S1"}
    # a head of service's view holds their own service's senior staff, not another's
    assert {t.group for t in service.totals} >= {"A1", "A2", "HOS@S1", "OPS@S1"}
    assert "OPS@" not in {t.group for t in service.totals} and "B1" not in {t.group for t in service.totals}


def test_the_cli_and_the_csv_say_who_owes_and_done_n_of_m(db: Database, capsys) -> None:  # noqa: ANN001
    build(db)
    url = db.engine.url.render_as_string(hide_password=False)
    assert main(["--db", url, "--today", TODAY.isoformat(), "report", "compliance"]) == 0
    out = capsys.readouterr().out
    assert "owed by" in out and "Person TM1 (Team manager)" in out and " audits " in out
    assert "done " in out and "people met every task" in out
    with db.reader() as s:
        tables = report_tables(monthly_report(s, OCTOBER, TODAY, CFG))
    header = CSV_SCHEMA["fact_programme_compliance.csv"]
    assert header[-3:] == ("owed_by", "unit", "expected")
    rows = [dict(zip(header, row, strict=True)) for row in tables["fact_programme_compliance.csv"]]
    audited = next(r for r in rows if r["task"] == "have_case_audited" and r["group"] == "A1")
    assert (audited["unit"], audited["expected"]) == ("audits", audited["required"])
    assert audited["owed_by"] == "Newly qualified social workers (1), Social workers (1)"


def _october(db: Database) -> dict[str, object]:
    with db.reader() as s:
        report = monthly_report(s, OCTOBER, TODAY, CFG)
    return {"team": [asdict(r) for r in (*report.compliance_by_team.rows, *report.compliance_by_team.totals)],
            "role": [asdict(r) for r in (*report.compliance_by_role.rows, *report.compliance_by_role.totals)],
            "observations": report.observations, "supervision": report.supervision, "people": report.people}


def test_last_months_figures_are_the_same_after_a_worker_moves_team_this_month(db: Database) -> None:
    seed(db)
    before = _october(db)
    with db.session() as s:  # November: SW1 and their case move from A1 to B1, under B1's manager
        b1 = s.scalars(select(Team.id).where(Team.code == "B1")).one()
        worker = s.scalars(select(Person).where(Person.staff_id == "SW1")).one()
        manager = s.scalars(select(Person.id).where(Person.staff_id == "TMB")).one()
        worker.team_id, worker.manager_id = b1, manager
        s.scalars(select(Case).where(Case.reference == "C-1")).one().team_id = b1
    after = _october(db)
    assert after == before
    with db.reader() as s:  # today's figures do see the move
        now = compliance(s, TODAY, CFG)
    assert next(r.owed_by for r in now.totals if r.group == "B1") == "Social workers (2), Team managers (1)"


def test_last_months_figures_keep_the_role_someone_had_then(db: Database) -> None:
    seed(db)
    before = _october(db)
    with db.session() as s:  # November: SW1 is promoted to team manager and leaves A1's caseload
        worker = s.scalars(select(Person).where(Person.staff_id == "SW1")).one()
        worker.role = "TM"
    assert _october(db) == before


def test_someone_who_joined_after_the_month_is_not_counted_in_it(db: Database) -> None:
    seed(db)
    with db.session() as s:
        a1 = s.scalars(select(Team.id).where(Team.code == "A1")).one()
        s.add(Person(staff_id="SWN", name="Person SWN", role="SW", team_id=a1, active_from=date(2026, 11, 2)))
        s.add(Person(staff_id="SWL", name="Person SWL", role="SW", team_id=a1, active_to=date(2026, 9, 30)))
    with db.reader() as s:
        report = monthly_report(s, OCTOBER, TODAY, CFG)
    owing = " ".join(r.owed_by for r in report.compliance_by_team.rows)
    assert "SWN" not in owing and "SWL" not in owing
    assert {p.staff_id for p in report.people} == {"HOS1", "TM1", "SW1", "TMB", "SWB"}


def test_someone_added_after_the_month_with_no_start_date_is_not_counted_in_it(db: Database) -> None:
    """Past reports do not change: a worker added in December with no start date begins, for
    October's figures, on the day they were added. People loaded at set-up still count."""
    seed(db)
    before = _october(db)
    with db.session() as s:
        a1 = s.scalars(select(Team.id).where(Team.code == "A1")).one()
        s.add(Person(staff_id="SWD", name="Person SWD", role="SW", team_id=a1))
    assert _october(db) == before
    with db.reader() as s:
        report = monthly_report(s, OCTOBER, TODAY, CFG)
        now = compliance(s, TODAY, CFG)
    assert "SWD" not in {p.staff_id for p in report.people}
    assert {p.staff_id for p in report.people} == {"HOS1", "TM1", "SW1", "TMB", "SWB"}
    assert "Social workers (2)" in next(r.owed_by for r in now.totals if r.group == "A1")  # today's do


def test_a_move_made_inside_the_month_counts_in_it_and_one_made_just_after_does_not(db: Database) -> None:
    """The trail's moment decides: a change recorded on 31 October (UK time) stands in October's
    figures; one recorded at half past midnight on 1 November is undone for them."""
    from datetime import datetime, timezone

    from qa_tui.db.models import AuditEvent
    from qa_tui.services.programme.as_at import PERSON_FIELDS, values_before

    seed(db)
    with db.session() as s:
        sw1, swb = (s.scalars(select(Person.id).where(Person.staff_id == code)).one() for code in ("SW1", "SWB"))
        a1 = s.scalars(select(Team.id).where(Team.code == "A1")).one()
        s.add_all([  # 23:30 on 31 October is 23:30 UTC (GMT); 00:30 on 1 November likewise
            AuditEvent(actor="test", action="update", table_name="person", record_id=str(sw1),
                       at=datetime(2026, 10, 31, 23, 30, tzinfo=timezone.utc), old={"role": "NQSW"}, new={"role": "SW"}),
            AuditEvent(actor="test", action="update", table_name="person", record_id=str(swb),
                       at=datetime(2026, 11, 1, 0, 30, tzinfo=timezone.utc), old={"team_id": str(a1)}, new={}),
        ])
    with db.reader() as s:
        before = values_before(s, "person", PERSON_FIELDS, date(2026, 10, 31))
    assert sw1 not in before  # made inside October: October's figures keep it
    assert before[swb] == {"team_id": a1}  # made after: undone for October
