"""CSV imports of people and cases: upserts that write only real changes, and files rejected with
every problem by line and column while the database stays untouched."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select

from qa_tui.cli import main
from qa_tui.dates import parse_day
from qa_tui.db.engine import Database
from qa_tui.db.models import AuditEvent, Case, Person, Service, Team
from qa_tui.errors import ValidationError
from qa_tui.services.imports.csv_rows import ImportRejected, ImportReport, read_import_file
from qa_tui.services.imports.people_cases import import_cases, import_people

PEOPLE = """staff_id,name,role,team_code,team_name,manager_staff_id,asye_start,active_from,login
S1,Alex Worker,SW,T1,Assessment 1,M1,,01/09/2024,alex
S2,Bo Newly,NQSW,T1,,M1,03/04/2026,2026-04-03,
M1,Cam Manager,TM,T1,,,,,cam
"""
CASES = """case_reference,category,worker_staff_id,team_code,opened_on,closed_on,cp_plan_start,cp_plan_end
C-001,Child protection,S1,,05/01/2026,,05/02/2026,
C-002,cla,S2,,2025-12-01,,,
C-003,CIN,,T1,01/03/2026,,,
"""


def people(db: Database, text: str, **kwargs: Any) -> ImportReport:
    with db.session() as session:
        return import_people(session, text, **kwargs)


def cases(db: Database, text: str, **kwargs: Any) -> ImportReport:
    with db.session() as session:
        return import_cases(session, text, **kwargs)


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables an import can touch, to prove a rejected file wrote nothing."""
    with db.reader() as session:
        return {model.__tablename__: sorted(tuple(str(v) for v in row)
                                            for row in session.execute(select(model.__table__)))
                for model in (Person, Team, Service, Case, AuditEvent)}


def trail_actions(db: Database, table: str) -> list[str]:
    with db.reader() as session:
        return sorted(session.scalars(select(AuditEvent.action).where(AuditEvent.table_name == table)))


def rejected(call: Any, *args: Any, **kwargs: Any) -> list[tuple[int, str, str]]:
    with pytest.raises(ImportRejected) as caught:
        call(*args, **kwargs)
    return [(p.line, p.column, p.message) for p in caught.value.problems]


def assert_rejected_at(call: Any, db: Database, text: str, expected: tuple[int, str, str]) -> None:
    """The file is rejected with (at least) a problem at this line and column saying this."""
    problems = rejected(call, db, text)
    line, column, fragment = expected
    assert any(p[:2] == (line, column) and fragment in p[2] for p in problems), (expected, problems)


# --- people --------------------------------------------------------------------------------


def test_people_added_then_unchanged_then_changed(db: Database) -> None:
    report = people(db, PEOPLE)
    assert (report.added, report.changed, report.unchanged) == (3, 0, 0)
    assert report.added_keys == ("S1", "S2", "M1")
    assert report.organisation == ("added team T1 (Assessment 1)",)
    with db.reader() as s:
        by_staff = {p.staff_id: p for p in s.scalars(select(Person))}
        team = s.scalar(select(Team).where(Team.code == "T1"))
    assert by_staff["S1"].manager_id == by_staff["M1"].id  # a manager named before their own row
    assert by_staff["S1"].team_id == team.id and team.name == "Assessment 1"
    assert by_staff["S1"].active_from == date(2024, 9, 1)
    assert by_staff["S2"].asye_start == date(2026, 4, 3)  # 03/04/2026 is 3 April, day first
    assert by_staff["S2"].login is None and by_staff["M1"].login == "cam"
    assert by_staff["S2"].role == "NQSW"
    with db.reader() as s:
        summary = s.scalar(select(AuditEvent).where(AuditEvent.action == "import"))
    assert summary.table_name == "person" and summary.detail == "people.csv: 3 added, 0 changed, 0 unchanged"

    events_before = len(trail_actions(db, "person"))
    again = people(db, PEOPLE)
    assert (again.added, again.changed, again.unchanged) == (0, 0, 3)
    assert trail_actions(db, "person").count("update") == 0
    assert len(trail_actions(db, "person")) == events_before + 1  # only the import summary

    moved = PEOPLE.replace("S2,Bo Newly,NQSW", "S2,Bo Newly,SW").replace(",2026-04-03,", ",2026-04-04,")
    changed = people(db, moved)
    assert (changed.added, changed.changed, changed.unchanged) == (0, 1, 2)
    assert changed.changes[0].key == "S2" and changed.changes[0].columns == ("role", "active_from")
    assert trail_actions(db, "person").count("update") == 1


def test_existing_person_can_report_to_someone_new(db: Database) -> None:
    people(db, PEOPLE)
    later = "staff_id,name,role,team_code,manager_staff_id\nS1,Alex Worker,SW,T1,M2\nM2,Dee Senior,SM,T1,\n"
    report = people(db, later)
    assert report.added_keys == ("M2",)
    assert [(c.key, c.columns) for c in report.changes] == [("S1", ("manager_staff_id",))]
    with db.reader() as s:
        by_staff = {p.staff_id: p for p in s.scalars(select(Person))}
    assert by_staff["S1"].manager_id == by_staff["M2"].id
    assert by_staff["S2"].manager_id == by_staff["M1"].id  # not in the file: left alone


def test_a_login_can_move_to_another_person_in_one_file(db: Database) -> None:
    people(db, PEOPLE)
    swap = "staff_id,name,role,team_code,login\nS1,Alex Worker,SW,T1,cam\nM1,Cam Manager,TM,T1,alex\n"
    report = people(db, swap)
    assert [(c.key, c.columns) for c in report.changes] == [("S1", ("login",)), ("M1", ("login",))]
    with db.reader() as s:
        logins = dict(s.execute(select(Person.staff_id, Person.login)).all())
    assert (logins["S1"], logins["M1"]) == ("cam", "alex")


def test_absent_optional_column_leaves_values_alone_but_blank_cell_clears(db: Database) -> None:
    people(db, PEOPLE)
    without_login = "staff_id,name,role,team_code\nS1,Alex Worker,SW,T1\n"
    assert people(db, without_login).unchanged == 1
    blank_login = "staff_id,name,role,team_code,login\nS1,Alex Worker,SW,T1,\n"
    assert people(db, blank_login).changes[0].columns == ("login",)
    with db.reader() as s:
        assert s.scalar(select(Person.login).where(Person.staff_id == "S1")) is None


def test_people_file_adds_services_and_renames_and_moves_teams(db: Database) -> None:
    people(db, PEOPLE)
    reorganised = """staff_id,name,role,team_code,team_name,service_code,service_name
S1,Alex Worker,SW,T1,Assessment One,CSC,Children's Social Care
S9,Eve Next,SW,T2,Long-term 2,CSC,
"""
    report = people(db, reorganised)
    assert report.organisation == (
        "added service CSC (Children's Social Care)",
        "renamed team T1 from 'Assessment 1' to 'Assessment One'",
        "moved team T1 to service CSC",
        "added team T2 (Long-term 2) in service CSC",
    )
    with db.reader() as s:
        service = s.scalar(select(Service))
        teams = {t.code: t for t in s.scalars(select(Team))}
    assert teams["T1"].name == "Assessment One" and teams["T1"].service_id == service.id
    assert teams["T2"].service_id == service.id


def test_nqsw_without_asye_start_is_a_warning_not_an_error(db: Database) -> None:
    report = people(db, "staff_id,name,role,team_code,team_name\nN1,New Worker,NQSW,T1,Team 1\n")
    assert report.added == 1
    assert [(w.line, w.column) for w in report.warnings] == [(2, "asye_start")]


def test_dry_run_reports_the_same_and_writes_nothing(db: Database) -> None:
    before = snapshot(db)
    dry = people(db, PEOPLE, dry_run=True)
    assert snapshot(db) == before
    real = people(db, PEOPLE)
    assert dry.dry_run and not real.dry_run
    assert (dry.added_keys, dry.organisation) == (real.added_keys, real.organisation)


BAD_PEOPLE = [
    ("staff_id,name,team_code\nS1,Alex,T1\n", (1, "role", "required column is missing")),
    (PEOPLE.replace("03/04/2026", "31/04/2026"), (3, "asye_start", "not a real date")),
    (PEOPLE.replace("03/04/2026", "04/13/2026"), (3, "asye_start", "not a real date")),
    (PEOPLE.replace("2026-04-03", "3 April 2026"), (3, "active_from", "expected YYYY-MM-DD or DD/MM/YYYY")),
    (PEOPLE.replace("Cam Manager,TM", "Cam Manager,Boss"), (4, "role", "unknown role 'Boss'")),
    (PEOPLE.replace("Bo Newly", ""), (3, "name", "must not be blank")),
    (PEOPLE.replace("M1,Cam", ",Cam"), (4, "staff_id", "must not be blank")),
    (PEOPLE.replace("M1,Cam", "S1,Cam"), (4, "staff_id", "'S1' is also on line 2")),
    (PEOPLE.replace("S2,Bo Newly,NQSW,T1", "S2,Bo Newly,NQSW,T7"), (3, "team_code", "no team 'T7'")),
    (PEOPLE.replace("S2,Bo Newly,NQSW,T1", "S2,Bo Newly,NQSW,"), (3, "team_code", "must not be blank")),
    (PEOPLE.replace("S1,Alex Worker,SW,T1,Assessment 1,M1", "S1,Alex Worker,SW,T1,Assessment 1,M9"),
     (2, "manager_staff_id", "no person with staff ID 'M9'")),
    (PEOPLE.replace("M1,Cam Manager,TM,T1,,", "M1,Cam Manager,TM,T1,,S1"), (4, "manager_staff_id", "loop")),
    (PEOPLE.replace(",,cam", ",,alex"), (4, "login", "'alex' is the login of staff ID S1 on line 2")),
    (PEOPLE + "S4,Extra,SW,T1,,,,,,surplus\n", (5, "", "10 cells but the header names 9 columns")),
]


def test_bad_people_files_are_rejected_with_line_and_column(db: Database) -> None:
    before = snapshot(db)
    for text, expected in BAD_PEOPLE:
        assert_rejected_at(people, db, text, expected)
    assert snapshot(db) == before


def test_active_to_before_active_from_is_rejected(db: Database) -> None:
    text = "staff_id,name,role,team_code,team_name,active_from,active_to\nS1,A,SW,T1,T,2026-05-01,30/04/2026\n"
    assert rejected(people, db, text) == [(2, "active_to", "2026-04-30 is before active_from 2026-05-01")]


def test_login_held_by_someone_outside_the_file_is_rejected(db: Database) -> None:
    people(db, PEOPLE)
    problems = rejected(people, db, "staff_id,name,role,team_code,login\nS2,Bo Newly,NQSW,T1,cam\n")
    assert problems == [(2, "login", "'cam' is the login of staff ID M1 in the database")]


def test_every_problem_is_listed_in_line_order(db: Database) -> None:
    text = """Staff ID,Name,Role,Team Code,Team Name,ASYE Start
S1,,SW,T1,Team 1,
S2,Bo,Wizard,T1,,2026-02-30
S1,Cy,SW,T1,,
"""
    with pytest.raises(ImportRejected) as caught:
        people(db, text)
    found = [(p.line, p.column) for p in caught.value.problems]
    assert found == [(2, "name"), (3, "role"), (3, "asye_start"), (4, "staff_id")]
    message = str(caught.value)
    assert message.startswith("people.csv was rejected and nothing was imported; 4 problems:")
    assert "line 3, column role: unknown role 'Wizard'" in message


# --- cases ---------------------------------------------------------------------------------


def test_cases_added_then_unchanged_then_changed(db: Database) -> None:
    people(db, PEOPLE)
    report = cases(db, CASES)
    assert (report.added, report.changed, report.unchanged) == (3, 0, 0)
    with db.reader() as s:
        by_ref = {c.reference: c for c in s.scalars(select(Case))}
        s1 = s.scalar(select(Person).where(Person.staff_id == "S1"))
        t1 = s.scalar(select(Team.id).where(Team.code == "T1"))
    assert {ref: c.category for ref, c in by_ref.items()} == {"C-001": "CP", "C-002": "CLA", "C-003": "CIN"}
    assert by_ref["C-001"].worker_id == s1.id and by_ref["C-001"].team_id == s1.team_id  # the worker's team
    assert by_ref["C-003"].worker_id is None and by_ref["C-003"].team_id == t1
    assert by_ref["C-001"].opened_on == date(2026, 1, 5) and by_ref["C-001"].cp_plan_start == date(2026, 2, 5)
    with db.reader() as s:
        summary = s.scalar(select(AuditEvent).where(AuditEvent.table_name == "case_file",
                                                    AuditEvent.action == "import"))
    assert summary.detail == "cases.csv: 3 added, 0 changed, 0 unchanged"

    again = cases(db, CASES)
    assert (again.added, again.changed, again.unchanged) == (0, 0, 3)
    closed = CASES.replace("01/03/2026,,,", "01/03/2026,20/11/2026,,")
    report = cases(db, closed)
    assert [(c.key, c.columns) for c in report.changes] == [("C-003", ("closed_on",))]
    assert trail_actions(db, "case_file").count("update") == 1


BAD_CASES = [
    ("category,worker_staff_id,team_code\nCP,S1,T1\n", (1, "case_reference", "required column is missing")),
    (CASES.replace("C-002,cla,S2", "C-002,cla,S99"), (3, "worker_staff_id", "no person with staff ID 'S99'")),
    (CASES.replace("C-003,CIN,,T1", "C-003,CIN,,T9"), (4, "team_code", "no team 'T9'")),
    (CASES.replace("C-003,CIN,,T1", "C-003,CIN,,"), (4, "team_code", "unallocated")),
    (CASES.replace("C-003", "C-001"), (4, "case_reference", "'C-001' is also on line 2")),
    (CASES.replace("C-002,cla", "C-002,"), (3, "category", "must not be blank")),
    (CASES.replace("C-002,cla", "C-002,Fostering"), (3, "category", "unknown category 'Fostering'")),
    (CASES.replace("2025-12-01", "12/31/2025"), (3, "opened_on", "not a real date")),
    (CASES.replace("01/03/2026,,", "01/03/2026,28/02/2026,"), (4, "closed_on", "before opened_on")),
    (CASES.replace("05/02/2026,", ",05/02/2026"), (2, "cp_plan_start", "must not be blank")),
]


def test_bad_cases_files_are_rejected_with_line_and_column(db: Database) -> None:
    people(db, PEOPLE)
    cases(db, CASES.replace("C-00", "OLD-"))
    before = snapshot(db)
    for text, expected in BAD_CASES:
        assert_rejected_at(cases, db, text, expected)
    assert snapshot(db) == before


def test_import_reads_each_table_once_whatever_the_row_count(db: Database) -> None:
    people(db, PEOPLE)
    rows = "".join(f"R{n:05d},CIN,S1,,01/04/2026,,,\n" for n in range(1200))
    text = CASES.splitlines(keepends=True)[0] + rows
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert cases(db, text).added == 1200
        assert cases(db, text).unchanged == 1200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    # The trail's own work once per transaction (naming the actor, sealing the chain) is not the import's.
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")
               and "audit_event" not in s and "set_config" not in s]
    assert len(selects) <= 2 * (2 + 1200 // 500 + 1)  # people, teams, then cases in chunks
    assert len(statements) < 60  # inserts go in batches, not one per row


def test_documented_templates_import_cleanly(db: Database) -> None:
    templates = Path(__file__).resolve().parents[1] / "docs" / "templates"
    staff = people(db, read_import_file(templates / "people.csv"))
    assert (staff.added, staff.warnings, staff.ignored_columns) == (6, (), ())
    caseload = cases(db, read_import_file(templates / "cases.csv"))
    assert caseload.added == 6


# --- the file itself -----------------------------------------------------------------------


def test_bom_crlf_header_drift_and_trailing_blank_lines(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    text = ("\ufeff Staff ID ,NAME,role,Team-Code,team name,Login\r\n"
            "S1,Siân Jones,sw,T1,Team 1,sian\r\n\r\n,,,,,\r\n\r\n")
    path.write_bytes(text.encode("utf-8"))
    report = people(db, read_import_file(path))
    assert report.added_keys == ("S1",)
    with db.reader() as s:
        person = s.scalar(select(Person))
    assert (person.name, person.role, person.login) == ("Siân Jones", "SW", "sian")


def test_a_quoted_cell_may_hold_commas_and_line_numbers_follow_spreadsheet_rows(db: Database) -> None:
    text = 'staff_id,name,role,team_code,team_name\nS1,"Jones, Siân",SW,T1,"Team 1"\n\nS2,Bo,XX,T1,\n'
    assert rejected(people, db, text) == [(4, "role", "unknown role 'XX'; expected one of "
                                                      "SW, NQSW, ASWP, TM, SM, OPS, HOS, AD, DD, IRO, PI")]


def test_files_that_are_not_utf8_csv_are_refused(tmp_path: Path) -> None:
    legacy = tmp_path / "people.csv"
    legacy.write_bytes("staff_id,name\nS1,Ann\nS2,Siân\n".encode("cp1252"))
    with pytest.raises(ImportRejected) as caught:
        read_import_file(legacy)
    assert [(p.line, p.column) for p in caught.value.problems] == [(3, "")]
    workbook = tmp_path / "people.xlsx"
    workbook.write_bytes(b"PK\x03\x04rest")
    with pytest.raises(ValidationError, match="not CSV"):
        read_import_file(workbook)


def test_empty_file_and_wrong_separator(db: Database) -> None:
    assert rejected(people, db, "\r\n\r\n")[0][:2] == (1, "")
    problems = rejected(people, db, "staff_id;name;role;team_code\nS1;A;SW;T1\n")
    assert (1, "", "the columns must be separated by commas") in problems


def test_ignored_columns_are_reported_once(db: Database) -> None:
    text = "staff_id,name,role,team_code,team_name,email,Email\nS1,A,SW,T1,Team,a@example.org,b\n"
    report = people(db, text)
    assert report.ignored_columns == ("email",)


@pytest.mark.parametrize(("text", "expected"), [
    ("03/04/2026", date(2026, 4, 3)), ("3/4/2026", date(2026, 4, 3)), ("2026-04-03", date(2026, 4, 3)),
    ("29/02/2028", date(2028, 2, 29)),
])
def test_dates_are_iso_or_day_first(text: str, expected: date) -> None:
    assert parse_day(text) == expected


@pytest.mark.parametrize("text", ["04/13/2026", "3/4/26", "29/02/2027", "2026-4", "03.04.2026", "01/01/0026"])
def test_dates_that_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_day(text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_any_date_written_either_way_reads_back(day: date) -> None:
    assert parse_day(day.isoformat()) == day
    assert parse_day(day.strftime("%d/%m/%Y")) == day


# --- the command ---------------------------------------------------------------------------


def test_cli_imports_reports_and_rejects(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    people_file = tmp_path / "staff.csv"
    people_file.write_text(PEOPLE, encoding="utf-8")
    assert main(["--db", db_url, "import", "people", str(people_file), "--dry-run"]) == 0
    assert "staff.csv: 3 added, 0 changed, 0 unchanged (dry run: nothing was written)" in capsys.readouterr().out
    assert main(["--db", db_url, "import", "people", str(people_file)]) == 0
    out = capsys.readouterr().out
    assert "staff.csv: 3 added, 0 changed, 0 unchanged\nAdded: S1, S2, M1" in out

    bad = tmp_path / "cases.csv"
    bad.write_text(CASES.replace("C-002,cla,S2", "C-002,cla,S99").replace("C-003,CIN", "C-003,Unknown"),
                   encoding="utf-8")
    assert main(["--db", db_url, "import", "cases", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "cases.csv was rejected and nothing was imported; 2 problems:" in err
    assert "line 3, column worker_staff_id: no person with staff ID 'S99'" in err
    assert "line 4, column category: unknown category 'Unknown'" in err

    good = tmp_path / "cases-ok.csv"
    good.write_text(CASES, encoding="utf-8")
    assert main(["--db", db_url, "import", "cases", str(good)]) == 0
    assert "cases-ok.csv: 3 added" in capsys.readouterr().out
    database = Database.open(db_url, actor="checker")
    try:
        with database.reader() as s:
            assert s.scalar(select(func.count()).select_from(Case)) == 3
            assert s.scalar(select(func.count()).select_from(Person)) == 3
    finally:
        database.dispose()
    assert main(["--db", db_url, "import", "cases", str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv: cannot be read" in capsys.readouterr().err
