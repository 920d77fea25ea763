"""The one preview every import gives: what a file would add, change and leave alone, every problem
located by file or sheet, row or line, and column; nothing written until the write step, which
reports what it wrote in the same terms."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from qa_tui.db.engine import Database
from qa_tui.services.imports.kinds import IMPORT_KINDS, guess_kind, preview_import, write_import
from qa_tui.services.imports.preview import Finding, ImportPreview, grouped
from tests.fixtures_workbooks import list_rows, write_workbook
from tests.test_annex_a import add_case, add_person, add_team, stored_cases, table_counts

PEOPLE = "staff_id,name,role,team_code,team_name,extra\nSW1,Robin [b]Ash[/b],SW,A1,Assessment 1,x\n"


def preview(db: Database, kind: str, path: Path, today: date) -> ImportPreview:
    with db.reader() as session:
        return preview_import(session, kind, path, today)


def test_a_workbook_preview_says_what_it_adds_changes_and_leaves_and_where_its_problems_are(
        db: Database, today: date, tmp_path: Path) -> None:
    team = add_team(db, "A1", "Assessment 1")
    worker = add_person(db, "SW1", "Sam Worker", team)
    add_case(db, "C1", "CIN", worker=worker)
    add_case(db, "C2", "CIN", worker=worker)
    path = write_workbook(tmp_path / "annex.xlsx", [("List 6", list_rows(6, [
        {"ref": "C1", "start": date(2025, 1, 1), "team": "Duty", "worker": "Kit Jones"},
        {"ref": "C3", "start": date(2026, 1, 1), "team": "Assessment 1", "worker": "#N/A"},
        {"ref": "C4", "start": date(2026, 1, 1), "team": "Assessment 1", "worker": "#N/A"},
        {"ref": "C5", "start": "31/13/2026", "team": "Assessment 1", "worker": "Sam Worker"},
    ]))])
    before = table_counts(db)
    found = preview(db, "annex-a", path, today)
    assert table_counts(db) == before  # a preview writes nothing
    assert (found.kind, found.source, found.contents_title) == ("annex-a", str(path), "Lists")
    assert found.contents[0] == "List 6 (CIN) from sheet 'List 6': 4 rows, 3 used, 3 open"
    assert dict(found.counts) == {"new": 2, "reallocated": 1, "closed": 1, "reopened": 0, "updated": 0,
                                  "unchanged": 0}
    assert found.added == ("C3", "C4")
    assert [(c.key, c.kind) for c in found.changes] == [("C1", "reallocated"), ("C2", "closed")]
    assert found.changes[0].text == "C1 reallocated: Sam Worker (Assessment 1) -> Kit Jones (Duty)"
    assert [(t.name, w.name) for t, w in zip(found.new_teams, found.new_workers)] == [("Duty", "Kit Jones")]
    problem, = found.problems
    assert (problem.place, problem.rows, problem.column[:1]) == ("List 6", (5,), "F")
    assert str(problem).startswith("List 6, row 5, column F (CIN Start Date): '31/13/2026' is not a valid date")
    unallocated = [note for note in found.notes if "#N/A" in note.message]
    assert [(n.rows, str(n)[:30]) for n in unallocated] == [((3, 4), "List 6, rows 3-4, column J (Al")]
    assert found.writes_anything and not found.rejected

    with db.session() as session:
        result = write_import(session, found, today)
    assert result.matches_preview and dict(result.written.counts)["new"] == 2
    assert set(stored_cases(db)) == {"C1", "C2", "C3", "C4"}
    again = preview(db, "annex-a", path, today)
    assert dict(again.counts)["unchanged"] == 3 and not again.writes_anything


def test_a_caseload_csv_preview_names_the_file_and_row(db: Database, today: date, tmp_path: Path) -> None:
    path = tmp_path / "episodes.csv"
    path.write_text("CHILD,SW_ID,SW_DECOM,SW_DEC\nC9,SW1,01/01/2026,\n", encoding="utf-8")
    found = preview(db, "ssda903-sw", path, today)
    assert found.contents == ("Episodes: 1, children: 1, current allocations: 1",)
    assert [str(n) for n in found.notes] == [
        "episodes.csv, row 2: child C9 is not in the caseload (import Annex A first); left out"]
    assert not found.writes_anything


def test_a_people_file_preview_then_write(db: Database, today: date, tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(PEOPLE, encoding="utf-8")
    found = preview(db, "people", path, today)
    assert table_counts(db)["person"] == 0
    assert (found.source, found.counts) == ("staff.csv", (("added", 1), ("changed", 0), ("unchanged", 0)))
    assert found.added == ("SW1",) and found.organisation == ("added team A1 (Assessment 1)",)
    assert found.ignored_columns == ("extra",) and found.writes_anything
    with db.session() as session:
        result = write_import(session, found, today)
    assert result.matches_preview and result.written.added == ("SW1",)
    renamed = tmp_path / "renamed.csv"
    renamed.write_text(PEOPLE.replace("Assessment 1", "Assessment One"), encoding="utf-8")
    only_the_team = preview(db, "people", renamed, today)
    assert dict(only_the_team.counts) == {"added": 0, "changed": 0, "unchanged": 1}
    assert only_the_team.writes_anything  # renaming the team is a change to write


def test_a_refused_people_file_is_a_preview_of_its_problems_and_cannot_be_written(
        db: Database, today: date, tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_text("staff_id,name,role,team_code\nSW1,Robin Ash,Wizard,A1\n", encoding="utf-8")
    found = preview(db, "people", path, today)
    assert found.rejected and not found.writes_anything
    assert [(p.rows, p.column, p.unit) for p in found.problems] == [((2,), "role", "line"), ((2,), "team_code", "line")]
    assert str(found.problems[0]).startswith("line 2, column role: unknown role 'Wizard'")
    with pytest.raises(ValueError), db.session() as session:
        write_import(session, found, today)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("staff_id,name,role,team_code\nS1,Zo\xeb,SW,A1\n".encode("latin-1"))
    assert [str(p) for p in preview(db, "people", latin, today).problems] == [
        "line 2: not UTF-8 text; in Excel use Save As > CSV UTF-8 (Comma delimited)"]


def test_findings_read_as_places_and_group_by_row() -> None:
    assert str(Finding("List 6", (4,), "F (Start)", "bad date")) == "List 6, row 4, column F (Start): bad date"
    assert str(Finding("", (2,), "role", "unknown", "line")) == "line 2, column role: unknown"
    assert str(Finding("List 8", (), "", "not in the file")) == "List 8: not in the file"
    assert str(Finding("", (), "", "a note")) == "a note"
    same = [Finding("List 6", (row,), "N", "#N/A") for row in (2, 3, 4, 7)]
    whole = Finding("List 6", (), "N", "#N/A")
    assert [str(f) for f in grouped([*same, whole])] == [  # a whole-sheet finding keeps its group apart
        *(f"List 6, row {row}, column N: #N/A" for row in (2, 3, 4, 7)), "List 6, column N: #N/A"]
    assert [str(f) for f in grouped(same)] == ["List 6, rows 2-4, 7, column N: #N/A"]


def test_kinds_are_guessed_from_the_file_name() -> None:
    assert [guess_kind(name) for name in ("A.XLSX", "a.ods", "a.xls", "people.csv", "x", "CIN_Census_2026.XML")] == [
        "annex-a", "annex-a", "annex-a", "people", "people", "cin-census"]
    assert list(IMPORT_KINDS) == ["annex-a", "people", "cases", "involvements", "ssda903-sw", "cin-census"]
