"""Annex A import: the quirks of councils' workbooks, preview then apply, re-import, privacy,
and the `qa-tui import annex-a` command. Workbooks are built in the tests."""

from __future__ import annotations

import io
import json
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy.orm import aliased

from qa_tui.config import default_templates
from qa_tui.db.base import Base
from qa_tui.db.engine import Database
from qa_tui.db.models import Audit, AuditEvent, Case, Person, Team
from qa_tui.errors import ValidationError
from qa_tui.services.imports.annex_a import AnnexAPreview, apply_annex_a, list_number, preview_annex_a
from qa_tui.services.audits.templates import ensure_template
from qa_tui.services.imports.caseload import ImportResult
from qa_tui.services.imports.workbook import cell_date, header_key, is_placeholder
from tests.fixtures_workbooks import SENTINEL, SENTINEL_DOB, ExcelError, list_rows, write_workbook

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "annex_a" / "Annex_A_2024_Jan.xlsx"


# --- helpers --------------------------------------------------------------------------------


def preview(db: Database, path: Path, today: date) -> AnnexAPreview:
    with db.reader() as session:
        return preview_annex_a(session, path, today)


def apply(db: Database, source: AnnexAPreview | Path, today: date) -> ImportResult:
    with db.session() as session:
        return apply_annex_a(session, source, today)


def stored_cases(db: Database) -> dict[str, tuple[Any, ...]]:
    """reference → (category, opened_on, closed_on, cp_plan_start, cp_plan_end, team, worker)."""
    worker = aliased(Person)
    with db.reader() as session:
        rows = session.execute(
            select(Case, Team.name, worker.name)
            .outerjoin(Team, Case.team_id == Team.id).outerjoin(worker, Case.worker_id == worker.id))
        return {case.reference: (case.category, case.opened_on, case.closed_on, case.cp_plan_start,
                                 case.cp_plan_end, team, person) for case, team, person in rows}


def table_counts(db: Database) -> dict[str, int]:
    with db.reader() as session:
        return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def workbook(tmp_path: Path, sheets: list[tuple[str, list[list[Any]]]], name: str = "annex.xlsx") -> Path:
    return write_workbook(tmp_path / name, sheets)


def add_team(db: Database, code: str, name: str) -> Team:
    with db.session() as session:
        team = Team(code=code, name=name)
        session.add(team)
    return team


def add_person(db: Database, staff_id: str, name: str, team: Team | None = None) -> Person:
    with db.session() as session:
        person = Person(staff_id=staff_id, name=name, role="SW", team_id=team.id if team else None)
        session.add(person)
    return person


def add_case(db: Database, reference: str, category: str, *, worker: Person | None = None,
             closed_on: date | None = None) -> Case:
    with db.session() as session:
        case = Case(reference=reference, category=category, worker_id=worker.id if worker else None,
                    team_id=worker.team_id if worker else None, opened_on=date(2025, 1, 1), closed_on=closed_on)
        session.add(case)
    return case


# --- the shared sample ----------------------------------------------------------------------


def test_shared_sample_imports(db: Database, today: date) -> None:
    first = preview(db, SAMPLE, today)
    assert [(s.number, s.sheet, s.rows, s.used, s.open) for s in first.lists] == [
        (6, "List 6", 5, 5, 5), (7, "List 7", 7, 7, 2), (8, "List 8", 5, 5, 4), (9, "List 9", 6, 6, 6)]
    assert first.problems == ()
    unallocated = [w for w in first.warnings if "'#N/A' is not a worker's name" in w.message]
    assert [w.row for w in unallocated] == [2, 3, 4, 5, 6] and {w.sheet for w in unallocated} == {"List 6"}
    assert first.plan.counts()["new"] == 23

    result = apply(db, first, today)
    assert result.matches_preview
    cases = stored_cases(db)
    assert len(cases) == 23
    assert cases["12598894"] == ("CIN", date(2010, 6, 9), None, None, None, None, None)
    assert cases["10721552"] == ("CP", date(2020, 11, 23), date(2021, 2, 16), date(2020, 11, 23),
                                 date(2021, 2, 16), "Locality 4 Unit 1", None)
    assert cases["5358472"][-2:] == ("Locality 4 Unit 1", "Petra Wills")
    assert cases["1761444"] == ("CLA", date(2009, 8, 6), None, None, None, "Children in Care Team 1", "Eugene Swift")
    assert cases["3623204"][:3] == ("CLA", date(2008, 10, 22), date(2020, 9, 22))
    assert cases["7961370"] == ("CL", None, None, None, None, "Care Leavers Team", "Jae Vang")
    with db.reader() as session:
        names = set(session.scalars(select(Person.name)))
        assert "#N/A" not in names and "Isis Chandler" not in names  # only on a closed row
        assert all(p.staff_id.startswith("AX-") and p.role == "SW" for p in session.scalars(select(Person)))

    again = preview(db, SAMPLE, today)
    assert again.plan.counts()["unchanged"] == 23
    assert not again.plan.new_teams and not again.plan.new_workers and not again.plan.writes_anything


# --- quirks: sheets, headers, dates, placeholders, names ------------------------------------


def test_sheet_name_drift_title_rows_and_header_drift(db: Database, today: date, tmp_path: Path) -> None:
    six = list_rows(6, [{"ref": "A1", "start": date(2024, 1, 2), "team": "Team A", "worker": "Ann Able"}],
                    title_rows=[["Annex A - List 6: Children in need"], [], ["Generated 01/11/2026"]])
    seven = list_rows(7, [{"ref": "B1", "start": date(2024, 2, 3), "team": "Team A", "worker": "Ann Able"}],
                      headers={"ref": "  child\u00a0UNIQUE id ", "start": "CHILD PROTECTION PLAN START DATE ",
                               "team": "Allocated\u00a0Team", "worker": "allocated  worker."})
    eight = list_rows(8, [{"ref": 31, "start": date(2023, 3, 4), "end": date(2026, 10, 1), "team": "Team B",
                           "worker": "Bo Bright"}],
                      headers={"ref": "Child's Unique ID", "start": "Date started to be looked after (most recent)",
                               "end": "Date Ceased to be LAC", "worker": "Allocated Social Worker"},
                      extra_column="Notes")
    nine = list_rows(9, [{"ref": "D1", "team": "Leaving Care", "worker": "Cy Cole"}],
                     headers={"ref": "Child_Unique_ID", "team": "allocated_team", "worker": "Allocated-Worker"})
    path = workbook(tmp_path, [("Contents", [["Annex A"]]), ("List 1", [["Child Unique ID", "x"], ["Z9", 1]]),
                               ("List_6", six), ("list7", seven), ("LIST 8 - Children looked after", eight),
                               ("List9 ", nine), ("List 10", [["Child Unique ID", "Gender"], ["Q1", "F"]])])
    result = preview(db, path, today)
    assert [s.sheet for s in result.lists] == ["List_6", "list7", "LIST 8 - Children looked after", "List9 "]
    assert result.problems == ()
    apply(db, result, today)
    assert stored_cases(db) == {
        "A1": ("CIN", date(2024, 1, 2), None, None, None, "Team A", "Ann Able"),
        "B1": ("CP", date(2024, 2, 3), None, date(2024, 2, 3), None, "Team A", "Ann Able"),
        "31": ("CLA", date(2023, 3, 4), date(2026, 10, 1), None, None, None, None),  # closed: none created
        "D1": ("CL", None, None, None, None, "Leaving Care", "Cy Cole"),
    }


def test_sheet_and_header_normalisation() -> None:
    assert [list_number(n) for n in ("List 6", "List_6", "List6", " list 06 ", "LIST 7 - CP", "List 10", "Lists")] \
        == [6, 6, 6, 6, 7, 10, None]
    assert header_key("  Child's\u00a0Unique   ID ") == "childs unique id"
    assert header_key("Allocated_Worker (Name)") == "allocated worker name"


@pytest.mark.parametrize(("value", "expected"), [
    (date(2021, 1, 1), date(2021, 1, 1)),
    (44197, date(2021, 1, 1)),
    (44197.75, date(2021, 1, 1)),
    ("44197", date(2021, 1, 1)),
    ("05/12/2020", date(2020, 12, 5)),
    ("12/05/2020", date(2020, 5, 12)),  # ambiguous: day first, never month first
    ("5/1/21", date(2021, 1, 5)),
    ("05-12-2020", date(2020, 12, 5)),
    ("05.12.2020", date(2020, 12, 5)),
    ("5 Dec 2020", date(2020, 12, 5)),
    ("05-Dec-20", date(2020, 12, 5)),
    ("5th December 2020", date(2020, 12, 5)),
    ("2020-12-05", date(2020, 12, 5)),
    ("07/03/2021 00:00", date(2021, 3, 7)),
    ("2021-03-07T00:00:00", date(2021, 3, 7)),
    ("", None), (None, None), ("#N/A", None), (" - ", None),
])
def test_cell_dates(value: Any, expected: date | None) -> None:
    assert cell_date(value) == expected


@pytest.mark.parametrize("value", ["12/25/2020", "31/02/2021", "32/01/2020", "Dec 5 2020", "soon", "2020", 3.5, True])
def test_cell_dates_that_are_not_dates(value: Any) -> None:
    with pytest.raises(ValueError):
        cell_date(value)


def test_dates_as_serials_real_dates_and_uk_text(db: Database, today: date, tmp_path: Path) -> None:
    starts = [date(2020, 4, 1), 44197, "05/12/2020", "12/05/2020", "5-Dec-20", "2020-12-05", "07/03/2021 00:00"]
    children = [{"ref": f"C{i}", "start": start, "team": "T", "worker": "W One"} for i, start in enumerate(starts)]
    path = workbook(tmp_path, [("List 6", list_rows(6, children))])
    apply(db, path, today)
    opened = {ref: values[1] for ref, values in stored_cases(db).items()}
    assert opened == {"C0": date(2020, 4, 1), "C1": date(2021, 1, 1), "C2": date(2020, 12, 5),
                      "C3": date(2020, 5, 12), "C4": date(2020, 12, 5), "C5": date(2020, 12, 5),
                      "C6": date(2021, 3, 7)}


def test_invalid_dates_are_reported_with_sheet_row_column_and_the_case_left_alone(
        db: Database, today: date, tmp_path: Path) -> None:
    worker = add_person(db, "S1", "Wendy Worker", add_team(db, "T1", "Team One"))
    add_case(db, "HELD", "CIN", worker=worker)
    rows = list_rows(6, [
        {"ref": "OK", "start": "01/02/2021", "team": "Team One", "worker": "Wendy Worker"},
        {"ref": "HELD", "start": "31/02/2021", "team": "Team One", "worker": "Someone Else"},
        {"ref": "US", "start": "12/25/2020", "team": "Team One", "worker": "Wendy Worker"},
        {"ref": "LATER", "start": "01/02/2021", "end": today + timedelta(days=3), "team": "Team One"},
    ])
    result = preview(db, workbook(tmp_path, [("List 6", rows)]), today)
    problems = [str(p) for p in result.problems]
    assert problems[0].startswith("List 6, row 3, column F (CIN Start Date): '31/02/2021' is not a valid date")
    assert problems[1].startswith("List 6, row 4, column F (CIN Start Date): '12/25/2020' is not a valid date")
    assert problems[2].startswith("List 6, row 5, column H (CIN Closure Date): end date")
    assert set(result.held) == {"HELD", "US", "LATER"}
    apply(db, result, today)
    cases = stored_cases(db)
    assert cases["HELD"] == ("CIN", date(2025, 1, 1), None, None, None, "Team One", "Wendy Worker")  # not closed
    assert set(cases) == {"OK", "HELD"}


PLACEHOLDERS = [ExcelError("#N/A"), "#N/A", "", None, "Unallocated", "N/A", "n/a", "-", "TBC", " tbc ",
                "Not allocated", "#REF!", "unknown", "Vacant"]


def test_placeholder_workers_are_imported_unallocated_and_reported(db: Database, today: date, tmp_path: Path) -> None:
    assert all(map(is_placeholder, PLACEHOLDERS)) and not is_placeholder("Na Tbc") and not is_placeholder("Team 0")
    children = [{"ref": f"P{n}", "start": date(2025, 5, 1), "worker": placeholder,
                 "team": placeholder if n % 2 else "Real Team"} for n, placeholder in enumerate(PLACEHOLDERS)]
    result = preview(db, workbook(tmp_path, [("List 7", list_rows(7, children))]), today)
    notes = [str(n) for n in result.warnings if n.sheet == "List 7"]
    assert len(notes) == len(PLACEHOLDERS)
    assert all(", column I (Allocated Worker): " in n and "imported as unallocated" in n for n in notes)
    assert "List 7, row 2, column I (Allocated Worker): '#N/A' is not a worker's name; imported as unallocated" in notes
    assert "List 7, row 5, column I (Allocated Worker): no allocated worker; imported as unallocated, with no team" in notes
    apply(db, result, today)
    cases = stored_cases(db)
    assert all(cases[f"P{n}"][-2:] == (None if n % 2 else "Real Team", None) for n in range(len(PLACEHOLDERS)))
    with db.reader() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 0
        assert list(session.scalars(select(Team.name))) == ["Real Team"]


def test_names_match_existing_people_and_teams_despite_nbsp_case_and_spaces(
        db: Database, today: date, tmp_path: Path) -> None:
    team = add_team(db, "LOC4U1", "Locality 4 Unit 1")
    other = add_team(db, "LOC3", "Locality 3")
    dustin = add_person(db, "S1", "Dustin Hazlett", team)
    sam_4 = add_person(db, "S2", "Sam Lee", team)
    add_person(db, "S3", "Sam Lee", other)
    rows = list_rows(6, [
        {"ref": "N1", "start": date(2025, 1, 1), "team": "LOCALITY\u00a04  unit 1 ", "worker": "dustin\u00a0HAZLETT"},
        {"ref": "N2", "start": date(2025, 1, 1), "team": "Locality 4 Unit 1", "worker": "Sam\u00a0Lee"},
        {"ref": "N3", "start": date(2025, 1, 1), "team": "Brand New Team", "worker": "Sam Lee"},
        {"ref": "N4", "start": date(2025, 1, 1), "team": "loc3", "worker": "New\u00a0Person"},
        {"ref": "N5", "start": date(2025, 1, 1), "team": None, "worker": "S1"},
    ])
    result = preview(db, workbook(tmp_path, [("List 6", rows)]), today)
    assert [(t.code, t.name) for t in result.plan.new_teams] == [("BRAND-NEW-TEAM", "Brand New Team")]
    assert [(w.name, w.team) for w in result.plan.new_workers] == [("New Person", "Locality 3")]
    assert result.plan.new_workers[0].staff_id.startswith("AX-")
    assert any("2 people are named 'Sam Lee'" in note for note in result.plan.notes)
    apply(db, result, today)
    cases = stored_cases(db)
    assert cases["N1"][-2:] == ("Locality 4 Unit 1", "Dustin Hazlett")
    assert cases["N2"][-2:] == ("Locality 4 Unit 1", "Sam Lee")
    assert cases["N3"][-2:] == ("Brand New Team", None)  # two Sam Lees, neither in that team
    assert cases["N4"][-2:] == ("Locality 3", "New Person")  # team matched by code
    assert cases["N5"][-2:] == ("Locality 4 Unit 1", "Dustin Hazlett")  # staff ID as the worker; their team
    with db.reader() as session:
        assert session.get(Case, session.scalar(select(Case.id).where(Case.reference == "N2"))).worker_id == sam_4.id
        assert session.scalar(select(Person.name).where(Person.id == dustin.id)) == "Dustin Hazlett"


def test_duplicate_rows_and_extra_columns(db: Database, today: date, tmp_path: Path) -> None:
    same = {"ref": "D1", "start": date(2025, 2, 1), "team": "T", "worker": "Wyn Two"}
    rows = list_rows(6, [same, same, {"ref": "D2", "start": date(2024, 1, 1), "end": date(2025, 1, 1), "team": "T"},
                         {"ref": "D2", "start": date(2025, 3, 1), "team": "T", "worker": "Wyn Two"}],
                     extra_column="Family Surname")
    result = preview(db, workbook(tmp_path, [("List 6", rows)]), today)
    notes = [str(n) for n in result.warnings]
    assert "List 6, row 3: duplicate of row 2 for child D1; not used" in notes
    assert any(n.startswith("List 6, row 4: child D2 is also on row 5, which is used instead") for n in notes)
    apply(db, result, today)
    assert stored_cases(db) == {
        "D1": ("CIN", date(2025, 2, 1), None, None, None, "T", "Wyn Two"),
        "D2": ("CIN", date(2025, 3, 1), None, None, None, "T", "Wyn Two"),
    }


def test_a_child_on_several_lists_is_one_case_cla_over_cp_over_cin(db: Database, today: date, tmp_path: Path) -> None:
    def child(ref: str, worker: str, start: date, end: date | None = None) -> dict[str, Any]:
        return {"ref": ref, "start": start, "end": end, "team": "T", "worker": worker}

    sheets = [
        ("List 6", list_rows(6, [child("X", "Cin Worker", date(2024, 1, 1)), child("Y", "Cin Worker", date(2024, 1, 1))])),
        ("List 7", list_rows(7, [child("X", "Cp Worker", date(2024, 2, 1)),
                                 child("Y", "Cp Worker", date(2024, 3, 1), date(2024, 9, 1)),
                                 child("W", "Cp Worker", date(2024, 4, 1))])),
        ("List 8", list_rows(8, [child("X", "Cla Worker", date(2024, 5, 1)), child("Z", "Cla Worker", date(2024, 6, 1))])),
        ("List 9", list_rows(9, [child("Z", "Pa Worker", date(2024, 1, 1)), child("W", "Pa Worker", date(2024, 1, 1))])),
    ]
    apply(db, workbook(tmp_path, sheets), today)
    cases = stored_cases(db)
    assert cases["X"] == ("CLA", date(2024, 5, 1), None, date(2024, 2, 1), None, "T", "Cla Worker")
    assert cases["Y"] == ("CIN", date(2024, 1, 1), None, date(2024, 3, 1), date(2024, 9, 1), "T", "Cin Worker")
    assert cases["Z"][0] == "CLA" and cases["W"][0] == "CP"


def test_missing_and_empty_lists(db: Database, today: date, tmp_path: Path) -> None:
    add_case(db, "OPEN-CIN", "CIN")
    add_case(db, "OPEN-CL", "CL")
    add_case(db, "OPEN-CLA", "CLA")
    add_case(db, "OPEN-EH", "EH")
    sheets = [("List 6", list_rows(6, [])),
              ("List 7", list_rows(7, [{"ref": "NEW-CP", "start": date(2025, 6, 1), "team": "T", "worker": "Al Ex"}]))]
    result = preview(db, workbook(tmp_path, sheets), today)
    notes = [str(w) for w in result.warnings]
    assert any(n.startswith("List 6: the list is empty") for n in notes)
    assert "List 8: not in the file: child looked after cases are left as they are" in notes
    assert "List 9: not in the file: care leaver cases are left as they are" in notes
    assert result.closable == ("CIN", "CP")
    apply(db, result, today)
    cases = stored_cases(db)
    assert cases["OPEN-CIN"][2] == today
    assert cases["OPEN-CL"][2] is None and cases["OPEN-CLA"][2] is None and cases["OPEN-EH"][2] is None
    assert cases["NEW-CP"][0] == "CP"


# --- re-import ------------------------------------------------------------------------------


def test_reimport_reallocates_closes_and_reopens_without_touching_qa_records(
        db: Database, today: date, tmp_path: Path) -> None:
    def month(children: list[tuple[str, str]]) -> Path:
        rows = list_rows(8, [{"ref": ref, "start": date(2024, 1, 1), "team": "Cla Team", "worker": worker}
                             for ref, worker in children])
        return workbook(tmp_path, [("List 8", rows)], name=f"annex-{len(list(tmp_path.iterdir()))}.xlsx")

    apply(db, month([("K1", "Ann A"), ("K2", "Ann A"), ("K3", "Ben B")]), today - timedelta(days=30))
    add_case(db, "K4", "CLA", closed_on=date(2026, 1, 1))
    with db.session() as session:
        case = session.scalar(select(Case).where(Case.reference == "K1"))
        template = ensure_template(session, default_templates()[0])
        audit = Audit(kind="live", template_id=template.id, case_id=case.id, worker_id=case.worker_id,
                      audit_date=date(2026, 10, 1), strengths="good direct work")
        session.add(audit)
    with db.reader() as session:
        audit_before = session.get(Audit, audit.id)

    second = preview(db, month([("K1", "Ben B"), ("K3", "Ben B"), ("K4", "Ann A")]), today)
    changes = {c.reference: c for c in second.plan.changes}
    assert {ref: c.kind for ref, c in changes.items()} == {
        "K1": "reallocated", "K2": "closed", "K3": "unchanged", "K4": "reopened"}
    assert (changes["K1"].old_worker, changes["K1"].worker) == ("Ann A", "Ben B")
    result = apply(db, second, today)
    assert result.matches_preview and result.plan.counts()["closed"] == 1
    cases = stored_cases(db)
    assert cases["K1"][-1] == "Ben B" and cases["K2"][2] == today and cases["K2"][-1] == "Ann A"
    assert cases["K4"][2] is None and cases["K4"][-1] == "Ann A"
    with db.reader() as session:
        audit_after = session.get(Audit, audit.id)
        assert (audit_after.version, audit_after.case_id, audit_after.strengths, audit_after.worker_id) == (
            audit_before.version, audit_before.case_id, audit_before.strengths, audit_before.worker_id)
        events = session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "import")).all()
        assert any("1 reallocated, 1 closed, 1 reopened, 1 unchanged" in e for e in events)


def test_apply_works_the_changes_out_again_against_the_database(db: Database, today: date, tmp_path: Path) -> None:
    path = workbook(tmp_path, [("List 6", list_rows(6, [{"ref": "R1", "start": date(2025, 1, 1), "worker": "Di D"}]))])
    stale = preview(db, path, today)
    add_case(db, "R1", "CIN")
    result = apply(db, stale, today)
    assert not result.matches_preview and result.plan.counts()["reallocated"] == 1
    assert len(stored_cases(db)) == 1


# --- nothing written unless confirmed, nothing stored that should not be -------------------


def test_preview_writes_nothing(db: Database, today: date) -> None:
    before = table_counts(db)
    preview(db, SAMPLE, today)
    assert table_counts(db) == before


def _garbage(tmp_path: Path) -> Path:
    path = tmp_path / "garbage.xlsx"
    path.write_bytes(b"\x00\x01 not a workbook at all")
    return path


def _csv(tmp_path: Path) -> Path:
    path = tmp_path / "annex.xlsx"
    path.write_text("Child Unique ID,Allocated Worker\n1,Someone\n")
    return path


def _other_zip(tmp_path: Path) -> Path:
    path = tmp_path / "annex.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    return path


def _truncated(tmp_path: Path) -> Path:
    good = workbook(tmp_path, [("List 6", list_rows(6, [{"ref": "T1"}]))], name="good.xlsx")
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(good.read_bytes()[:600])
    return path


def _broken_xls(tmp_path: Path) -> Path:
    path = tmp_path / "broken.xls"
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 100)
    return path


def _password_protected(tmp_path: Path) -> Path:
    path = tmp_path / "protected.xlsx"
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 1000 + "EncryptedPackage".encode("utf-16-le"))
    return path


def _no_lists(tmp_path: Path) -> Path:
    return workbook(tmp_path, [("List 1", list_rows(6, [{"ref": "Z"}])), ("Summary", [["x"]])])


def _no_usable_rows(tmp_path: Path) -> Path:
    return workbook(tmp_path, [("List 6", list_rows(6, [{"ref": "B1", "start": "31/31/2020"}, {"ref": None}]))])


def _no_header(tmp_path: Path) -> Path:
    return workbook(tmp_path, [("List 7", [["Name", "Worker"], ["A", "B"]])])


BAD_FILES = [
    (lambda tmp: tmp / "missing.xlsx", "no such file"),
    (_garbage, "is not a workbook"),
    (_csv, "is not a workbook"),
    (_other_zip, "not an .xlsx or .ods workbook"),
    (_truncated, "damaged zip file"),
    (_broken_xls, "cannot be read as an .xls workbook"),
    (_password_protected, "is password-protected"),
    (_no_lists, "has no Annex A lists 6 to 9"),
    (_no_usable_rows, "has no usable case rows"),
    (_no_header, "has no usable case rows"),
]


def test_a_bad_file_leaves_the_database_untouched(db: Database, today: date, tmp_path: Path) -> None:
    apply(db, SAMPLE, today)
    before, cases_before = table_counts(db), stored_cases(db)
    for index, (make, message) in enumerate(BAD_FILES):
        folder = tmp_path / str(index)
        folder.mkdir()
        path = make(folder)
        with pytest.raises(ValidationError, match=message) as caught:
            apply(db, path, today)
        assert str(caught.value).startswith(f"{path}: ")
    assert table_counts(db) == before and stored_cases(db) == cases_before


def test_a_failure_while_writing_rolls_everything_back(db: Database, today: date,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from qa_tui.db import trail

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    before = table_counts(db)
    monkeypatch.setattr(trail, "record_event", broken)
    with pytest.raises(RuntimeError):
        apply(db, SAMPLE, today)
    assert table_counts(db) == before


def test_names_dates_of_birth_and_other_columns_are_never_stored(db: Database, today: date, tmp_path: Path) -> None:
    children = [{"ref": f"S{n}", "start": date(2024, 1, 1), "team": "T", "worker": "Priv Acy"} for n in range(3)]
    sheets = [(f"List {n}", list_rows(n, children, extra_column="Child Name")) for n in (6, 7, 8, 9)]
    apply(db, workbook(tmp_path, sheets), today)
    apply(db, SAMPLE, today)
    with db.reader() as session:
        dump = "\n".join(str(row) for table in Base.metadata.sorted_tables
                         for row in session.execute(select(table)).all())
    assert "S0" in dump and "Priv Acy" in dump
    for forbidden in (SENTINEL, SENTINEL_DOB.isoformat(), str(SENTINEL_DOB), "WBRI", "T28 2WB", "Female",
                      "N1 - Abuse or Neglect", "2002-02-13"):
        assert forbidden not in dump, forbidden


# --- formats --------------------------------------------------------------------------------


def _format_sheets() -> list[tuple[str, list[list[Any]]]]:
    return [
        ("List 6", list_rows(6, [{"ref": 1001, "start": date(2024, 1, 5), "team": "Team\u00a0F", "worker": "Fay\u00a0Format"},
                                 {"ref": "1002", "start": 45000, "team": ExcelError("#N/A"), "worker": ExcelError("#N/A")}],
                             title_rows=[["List 6 - Children in need"]])),
        ("List_7", list_rows(7, [{"ref": "1003", "start": "03/04/2024", "team": "Team F", "worker": "fay format"},
                                 {"ref": "1004", "start": "2024-04-03", "end": "30/09/2024", "team": "Team F",
                                  "worker": "FAY FORMAT"}])),
        ("list8", list_rows(8, [{"ref": 1001, "start": date(2024, 6, 1), "team": "Team F", "worker": "Gus Grey"}])),
    ]


@pytest.mark.parametrize("suffix", [".ods", ".xls"])
def test_ods_and_xls_import_like_xlsx(db: Database, today: date, tmp_path: Path, suffix: str) -> None:
    reference = preview(db, workbook(tmp_path, _format_sheets(), "annex.xlsx"), today)
    other = preview(db, workbook(tmp_path, _format_sheets(), f"annex{suffix}"), today)
    assert other.file_kind == suffix[1:]
    assert other.cases == reference.cases and other.plan.changes == reference.plan.changes
    assert [str(w) for w in other.warnings] == [str(w) for w in reference.warnings]
    apply(db, other, today)
    cases = stored_cases(db)
    assert cases["1001"] == ("CLA", date(2024, 6, 1), None, None, None, "Team F", "Gus Grey")
    assert cases["1002"] == ("CIN", date(2023, 3, 15), None, None, None, None, None)
    assert cases["1003"] == ("CP", date(2024, 4, 3), None, date(2024, 4, 3), None, "Team F", "fay format")
    assert cases["1004"][1:] == (date(2024, 4, 3), date(2024, 9, 30), date(2024, 4, 3), date(2024, 9, 30),
                                 "Team F", "fay format")


def test_workbook_in_the_ofsted_template_layout(db: Database, today: date, tmp_path: Path) -> None:
    """Sheets with a cover page, a title and a guidance row above each header, saved as ODS."""
    guidance = [["List 7: Child protection"], ["All children subject to a child protection plan in the last six months"]]
    sheets = [
        ("Cover", [["Ofsted Annex A"], ["Local authority", "Synthetic"]]),
        ("List 6", list_rows(6, [{"ref": "OF1", "start": date(2025, 1, 1), "team": "North", "worker": "Ola Ofsted"}],
                             title_rows=[["List 6: Children in need"], ["Guidance text"]])),
        ("List 7", list_rows(7, [{"ref": "OF2", "start": date(2025, 2, 1), "team": "North", "worker": "Ola Ofsted"}],
                             title_rows=guidance)),
        ("List 8", list_rows(8, [], title_rows=[["List 8: Children in care"], []])),
        ("List 9", list_rows(9, [{"ref": "OF3", "team": "Leaving Care", "worker": "Pat Pa"}],
                             title_rows=[["List 9: Care leavers"], []])),
    ]
    result = preview(db, workbook(tmp_path, sheets, "annex.ods"), today)
    assert result.problems == () and len(result.cases) == 3
    apply(db, result, today)
    assert stored_cases(db)["OF2"] == ("CP", date(2025, 2, 1), None, date(2025, 2, 1), None, "North", "Ola Ofsted")


# --- property: any workbook the importer accepts round-trips to the same cases --------------

TEAMS_AND_WORKERS = [("North Team", "Ann Archer"), ("North Team", "Bob Brook"), ("South Team", "Cat Cole"),
                     ("Leaving Care", "Dee Dunn")]


def _render_name(draw: st.DrawFn, name: str) -> str:
    style = draw(st.sampled_from(["plain", "nbsp", "upper", "lower", "padded"]))
    return {"plain": name, "nbsp": name.replace(" ", "\u00a0"), "upper": name.upper(), "lower": name.lower(),
            "padded": f"  {name.replace(' ', '  ')} "}[style]


def _render_date(draw: st.DrawFn, value: date) -> Any:
    style = draw(st.sampled_from(["date", "serial", "uk", "iso"]))
    return {"date": value, "serial": (value - date(1899, 12, 30)).days, "uk": f"{value:%d/%m/%Y}",
            "iso": value.isoformat()}[style]


@st.composite
def annex_workbooks(draw: st.DrawFn) -> tuple[list[tuple[str, list[list[Any]]]], dict[str, tuple[Any, ...]], str]:
    today = date(2026, 11, 24)
    refs = draw(st.lists(st.one_of(st.integers(1, 9_999_999).map(str), st.from_regex(r"[A-Z]{1,3}0[0-9]{2,6}", fullmatch=True)),
                         min_size=1, max_size=12, unique=True))
    children: dict[int, list[dict[str, Any]]] = {6: [], 7: [], 8: [], 9: []}
    wanted: dict[str, dict[str, Any]] = {}
    for ref in refs:
        number = draw(st.sampled_from([6, 7, 8, 9]))
        start = draw(st.dates(date(2000, 1, 1), today)) if number != 9 else None
        end = draw(st.one_of(st.none(), st.dates(start, today))) if start else None
        pair = draw(st.one_of(st.none(), st.sampled_from(TEAMS_AND_WORKERS)))
        team, worker = pair if pair else (draw(st.sampled_from([None, "North Team"])), None)
        as_ref: Any = int(ref) if ref.isdigit() and not ref.startswith("0") and draw(st.booleans()) else ref
        children[number].append({
            "ref": as_ref,
            "start": _render_date(draw, start) if start else None, "end": _render_date(draw, end) if end else None,
            "team": _render_name(draw, team) if team else draw(st.sampled_from([None, "#N/A", "Unallocated"])),
            "worker": _render_name(draw, worker) if worker else draw(st.sampled_from([None, "#N/A", "-", "TBC"])),
        })
        wanted[ref] = {"category": {6: "CIN", 7: "CP", 8: "CLA", 9: "CL"}[number], "start": start, "end": end,
                       "team": team, "worker": worker}
    sheets = []
    for number, rows in children.items():
        if not rows and draw(st.booleans()):
            continue
        name = draw(st.sampled_from([f"List {number}", f"List_{number}", f"List{number}", f"list {number} "]))
        titles = draw(st.sampled_from([[], [["Annex A"]], [[f"List {number}"], []]]))
        headers = {"ref": draw(st.sampled_from(["Child Unique ID", "child unique id ", "CHILD\u00a0UNIQUE ID"]))}
        sheets.append((name, list_rows(number, rows, headers=headers, title_rows=titles)))
    if not any(name for name, _ in sheets if list_number(name) in (6, 7, 8, 9)):
        sheets.append(("List 6", list_rows(6, [])))
    open_teams = {w["team"] for w in wanted.values() if w["end"] is None and w["team"]}
    open_workers = {w["worker"] for w in wanted.values() if w["end"] is None and w["worker"]}
    expected = {}
    for ref, w in wanted.items():
        is_open = w["end"] is None
        team = w["team"] if w["team"] and (is_open or w["team"] in open_teams) else None
        worker = w["worker"] if w["worker"] and (is_open or w["worker"] in open_workers) else None
        cp = (w["start"], w["end"]) if w["category"] == "CP" else (None, None)
        expected[ref] = (w["category"], w["start"], w["end"], *cp, team and team.casefold(),
                         worker and worker.casefold())
    suffix = draw(st.sampled_from([".xlsx", ".ods", ".xls"]))
    return sheets, expected, suffix


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=annex_workbooks())
def test_any_accepted_workbook_round_trips_to_the_same_cases(db: Database, today: date, tmp_path: Path,
                                                              case: Any) -> None:
    sheets, expected, suffix = case
    with db.session() as session:
        for model in (Audit, Case, Person, Team):
            session.execute(delete(model))
    path = write_workbook(tmp_path / f"round{suffix}", sheets)
    result = apply(db, path, today)
    assert result.plan.counts()["new"] == len(expected)
    stored = {ref: (*values[:5], values[5] and values[5].casefold(), values[6] and values[6].casefold())
              for ref, values in stored_cases(db).items()}
    assert stored == expected
    again = preview(db, path, today)
    assert again.plan.counts()["unchanged"] == len(expected) and not again.plan.writes_anything


# --- the command line -----------------------------------------------------------------------


def run_cli(db_url: str, *args: str) -> int:
    from qa_tui.cli import main

    return main(["--db", db_url, "--today", "2026-11-24", "import", "annex-a", *args])


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_cli_imports_with_yes(db: Database, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(db_url, str(SAMPLE), "--yes") == 0
    out = capsys.readouterr().out
    assert "List 7 (CP) from sheet 'List 7': 7 rows, 7 used, 2 open" in out
    assert "List 6, rows 2-6, column N (Allocated Worker): '#N/A' is not a worker's name" in out
    assert "Imported: 23 new" in out
    assert len(stored_cases(db)) == 23


def test_cli_without_yes_and_without_a_terminal_writes_nothing(
        db: Database, db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    assert run_cli(db_url, str(SAMPLE)) == 1
    captured = capsys.readouterr()
    assert "Changes against the database: 23 new" in captured.out
    assert "--yes" in captured.err
    assert stored_cases(db) == {}


@pytest.mark.parametrize(("answer", "code", "written"), [("y\n", 0, 23), ("n\n", 1, 0), ("", 1, 0)])
def test_cli_asks_at_a_terminal(db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str], answer: str, code: int, written: int) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal(answer))
    assert run_cli(db_url, str(SAMPLE)) == code
    assert "Import these changes? [y/N]" in capsys.readouterr().err
    assert len(stored_cases(db)) == written


def test_cli_unreadable_file_exits_2_with_one_clear_line(db: Database, db_url: str, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = _garbage(tmp_path)
    assert run_cli(db_url, str(path), "--yes") == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [
        f"qa-tui: {path}: is not a workbook (expected .xlsx, .xls or .ods; save CSV files as a workbook)"]
    assert "Traceback" not in captured.err + captured.out


def test_cli_json(db: Database, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(db_url, str(SAMPLE), "--json", "--yes") == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["preview"]["counts"]["new"] == 23 and payload["result"]["counts"]["new"] == 23
    assert payload["preview"]["lists"][0] == {"number": 6, "category": "CIN", "sheet": "List 6",
                                              "rows": 5, "used": 5, "open": 5}
    assert run_cli(db_url, str(SAMPLE), "--json") == 0  # nothing left to change
    assert json.loads(capsys.readouterr().out)["result"] is None


def test_cli_is_registered_under_import() -> None:
    from qa_tui.cli import build_parser

    args = build_parser().parse_args(["import", "annex-a", "f.xlsx", "--yes", "--json"])
    assert (args.file, args.yes, args.json) == ("f.xlsx", True, True)
    for verb in ("involvements", "ssda903-sw"):
        assert build_parser().parse_args(["import", verb, "f.csv"]).yes is False

