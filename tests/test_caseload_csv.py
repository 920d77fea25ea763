"""Caseload CSV imports: safeguarding-dataset-shaped involvements and SSDA903 social worker
episodes, as services and through `qa-tui import involvements|ssda903-sw`."""

from __future__ import annotations

import io
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qa_tui.db.base import Base
from qa_tui.db.engine import Database
from qa_tui.db.models import Case, Person, Team
from qa_tui.errors import ValidationError
from qa_tui.services.imports.caseload_csv import (
    apply_involvements,
    apply_sw_episodes,
    preview_involvements,
    preview_sw_episodes,
)
from tests.test_annex_a import add_case, add_person, add_team, stored_cases, table_counts

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "docs" / "templates" / "involvements.csv"
SHARED_SW = ROOT.parent / "shared" / "data" / "ssda903" / "sw_episodes.csv"
HEADER = ("case_reference,category,case_opened_on,case_closed_on,cp_plan_start,cp_plan_end,team_code,team_name,"
          "worker_staff_id,worker_name,involvement_start,involvement_end")


def write(tmp_path: Path, text: str, name: str = "file.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# --- involvements ---------------------------------------------------------------------------


def test_the_documented_template_imports(db: Database, today: date) -> None:
    with db.reader() as session:
        preview = preview_involvements(session, TEMPLATE, today)
    assert preview.problems == () and preview.warnings == () and preview.rows == 6
    # Assessment Team 1 and SW1001 appear only on ended involvements: nothing is created for them.
    assert [(t.code, t.name) for t in preview.plan.new_teams] == [
        ("FS2", "Family Support 2"), ("CIC1", "Children in Care 1"), ("LC1", "Leaving Care")]
    assert {w.staff_id for w in preview.plan.new_workers} == {"SW1002", "SW1003", "PA2001"}
    with db.session() as session:
        apply_involvements(session, preview, today)
    cases = stored_cases(db)
    assert cases["EXAMPLE-0001"] == ("CIN", date(2025, 2, 3), None, None, None, "Family Support 2", "Sam Sample")
    assert cases["EXAMPLE-0002"] == ("CP", date(2025, 6, 10), None, date(2025, 7, 12), None, "Family Support 2",
                                     "Sam Sample")
    assert cases["EXAMPLE-0004"] == ("CL", date(2025, 4, 1), None, None, None, "Leaving Care", "Lee Adviser")
    assert cases["EXAMPLE-0005"][2] == date(2025, 9, 30) and cases["EXAMPLE-0005"][-1] is None
    with db.reader() as session:
        assert session.scalar(select(Person.team_id).where(Person.staff_id == "SW1002")) == session.scalar(
            select(Team.id).where(Team.code == "FS2"))
        again = preview_involvements(session, TEMPLATE, today)
    assert not again.plan.writes_anything


def test_the_current_allocation_is_the_open_involvement_with_the_latest_start(
        db: Database, today: date, tmp_path: Path) -> None:
    sam = add_person(db, "sw-77", "Samira Existing", add_team(db, "T7", "Team Seven"))
    path = write(tmp_path, "\n".join([
        HEADER,
        "A1,Child in need,,,,,T7,,SW-77,,01/01/2025,",            # open, older
        "A1,CIN,,,,,T8,Team Eight,SW8,Eve Eight,01/03/2025,",    # open, latest start: current
        "A1,CIN,,,,,T9,Team Nine,SW9,Nia Nine,01/06/2025,01/07/2025",  # later but ended
        "A2,looked after,,,,,t7,,sw-77,,01/02/2025,31/12/2030",  # ends in the future: still open
        "A3,CP,,,,,T7,,SW-77,,01/01/2024,01/02/2024",             # no open involvement
    ]))
    with db.reader() as session:
        preview = preview_involvements(session, path, today)
    assert [str(w) for w in preview.warnings] == [
        "file.csv, row 6: A3 has no open worker involvement; imported as unallocated"]
    assert [w.staff_id for w in preview.plan.new_workers] == ["SW8"]  # Nia Nine only ended: not created
    with db.session() as session:
        apply_involvements(session, path, today)
    cases = stored_cases(db)
    assert cases["A1"] == ("CIN", date(2025, 1, 1), None, None, None, "Team Eight", "Eve Eight")
    assert cases["A2"] == ("CLA", date(2025, 2, 1), None, None, None, "Team Seven", "Samira Existing")
    assert cases["A3"][-2:] == (None, None)
    with db.reader() as session:
        assert session.scalar(select(Case.worker_id).where(Case.reference == "A2")) == sam.id


def test_reimport_reallocates_and_leaves_absent_cases_open(db: Database, today: date, tmp_path: Path) -> None:
    first = write(tmp_path, f"{HEADER}\nB1,CIN,,,,,T1,One,W1,Wen One,01/01/2025,\nB2,CIN,,,,,T1,One,W1,Wen One,01/01/2025,\n",
                  "first.csv")
    second = write(tmp_path, f"{HEADER}\nB1,CIN,,,,,T1,One,W1,Wen One,01/01/2025,01/10/2025\n"
                             f"B1,CIN,,,,,T1,One,W2,Wes Two,02/10/2025,\n", "second.csv")
    with db.session() as session:
        apply_involvements(session, first, today)
    with db.session() as session:
        result = apply_involvements(session, second, today)
    assert {c.reference: c.kind for c in result.plan.changes} == {"B1": "reallocated"}
    cases = stored_cases(db)
    assert cases["B1"][-1] == "Wes Two" and cases["B2"][2] is None and cases["B2"][-1] == "Wen One"


def test_bad_rows_are_reported_and_their_cases_left_alone(db: Database, today: date, tmp_path: Path) -> None:
    add_case(db, "C2", "CIN")
    path = write(tmp_path, "\n".join([
        HEADER,
        "C1,CIN,,,,,T1,One,W1,Wen One,01/01/2025,",
        "C2,ZZ,,,,,T1,One,W1,Wen One,01/01/2025,",
        "C3,CIN,,,,,T1,One,W1,Wen One,13/13/2025,",
        ",CIN,,,,,T1,One,W1,Wen One,01/01/2025,",
        "C4,CIN,,31/12/2099,,,T1,One,W1,Wen One,01/01/2025,",
    ]))
    with db.reader() as session:
        preview = preview_involvements(session, path, today)
    assert [str(p) for p in preview.problems] == [
        "file.csv, row 3, column category: 'ZZ' is not a case category (expected one of EH, CIN, CP, CLA, CL); "
        "C2 left as it is",
        "file.csv, row 4, column involvement_start: '13/13/2025' is not a valid date (day/month/year); C3 left as it is",
        "file.csv, row 5, column case_reference: no child ID; row not used",
        "file.csv, row 6, column case_closed_on: case closing date 31/12/2099 is after today; C4 left as it is",
    ]
    assert preview.held == ("C2", "C3", "C4")
    with db.session() as session:
        apply_involvements(session, preview, today)
    assert set(stored_cases(db)) == {"C1", "C2"} and stored_cases(db)["C2"][-1] is None


UNUSABLE_INVOLVEMENTS = [
    ("", "is empty"),
    ("case_reference,worker_name\nX,Y\n", "line 1: no 'category' column .expected worker involvements"),
    (f"{HEADER}\n", "has a header but no rows"),
    (f"{HEADER}\n,CIN,,,,,,,,,,\n", "has no usable rows; nothing to import .first: file.csv, row 2"),
]


def test_unusable_files_write_nothing(db: Database, today: date, tmp_path: Path) -> None:
    before = table_counts(db)
    for content, message in UNUSABLE_INVOLVEMENTS:
        with pytest.raises(ValidationError, match=message), db.session() as session:
            apply_involvements(session, write(tmp_path, content), today)
    annex_a = ROOT.parent / "shared" / "data" / "annex_a" / "Annex_A_2024_Jan.xlsx"
    with pytest.raises(ValidationError, match="is a workbook, not a CSV file"), db.session() as session:
        apply_involvements(session, annex_a, today)
    episodes = ROOT.parent / "shared" / "data" / "ssda903" / "episodes.csv"
    with pytest.raises(ValidationError, match="line 1: no 'SW_ID', 'SW_DECOM' column"), db.session() as session:
        apply_sw_episodes(session, episodes, today)
    assert table_counts(db) == before


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252"])
def test_encodings_and_extra_columns_that_are_never_stored(db: Database, today: date, tmp_path: Path,
                                                           encoding: str) -> None:
    path = write(tmp_path, "Child Name,Case Reference,Category,Team Name,Worker Name,Involvement Start,Date of Birth,"
                           "Ethnicity\nZZSENTINEL Zoë,D1,CLA,Équipe Nord,Renée Worker,2025-01-01,2011-03-17,ZZSENTINEL\n",
                 encoding=encoding)
    with db.session() as session:
        apply_involvements(session, path, today)
    assert stored_cases(db)["D1"] == ("CLA", date(2025, 1, 1), None, None, None, "Équipe Nord", "Renée Worker")
    with db.reader() as session:
        dump = "\n".join(str(row) for table in Base.metadata.sorted_tables for row in session.execute(select(table)))
    assert "ZZSENTINEL" not in dump and "2011-03-17" not in dump


# --- SSDA903 social worker episodes ---------------------------------------------------------


def test_the_shared_sample_reads_and_reports_the_closed_episode(db: Database, today: date) -> None:
    with db.reader() as session:
        preview = preview_sw_episodes(session, SHARED_SW, today)
    assert (preview.episodes, preview.children, preview.allocations) == (1, 1, ())
    assert [str(w) for w in preview.warnings] == [
        "sw_episodes.csv, row 2: child CHILD10 has no open social worker episode; allocation left as it is"]
    assert not preview.plan.writes_anything


def test_sw_episodes_update_looked_after_allocations_by_staff_id(db: Database, today: date, tmp_path: Path) -> None:
    one, two = add_team(db, "T1", "Team One"), add_team(db, "T2", "Team Two")
    sw1, sw2 = add_person(db, "SW1", "Sol One", one), add_person(db, "SW2", "Sue Two", two)
    add_case(db, "C1", "CLA", worker=sw2)
    add_case(db, "C2", "CLA")
    add_case(db, "C3", "CIN", worker=sw2)
    add_case(db, "C4", "CLA", closed_on=date(2026, 1, 1))
    add_case(db, "C6", "CLA", worker=sw2)
    add_case(db, "C9", "CLA", worker=sw1)
    before = stored_cases(db)
    path = write(tmp_path, "\n".join([
        "CHILD,DOB,SW_ID,SW_DECOM,SW_DEC,SW_REASON",
        "C1,01/01/2012,SW2,01/01/2024,01/06/2026,CHCAS",
        "C1,01/01/2012,sw1,02/06/2026,,",
        "C2,01/01/2012,SW2,2026-02-01,,",
        "C3,01/01/2012,SW1,01/01/2026,,",
        "C4,01/01/2012,SW1,01/01/2026,,",
        "C5,01/01/2012,SW1,01/01/2026,,",
        "C6,01/01/2012,SW404,01/01/2026,,",
        "C7,01/01/2012,SW1,01/01/2025,01/02/2025,",
        "C8,01/01/2012,SW1,31/02/2026,,",
        "C9,01/01/2012,SW1,01/01/2026,,",
    ]), encoding="utf-8-sig")
    with db.reader() as session:
        preview = preview_sw_episodes(session, path, today)
    assert [str(p) for p in preview.problems] == [
        "file.csv, row 10, column SW_DECOM: '31/02/2026' is not a valid date (day/month/year); "
        "child C8 left as it is"]
    assert [str(w) for w in preview.warnings] == [
        "file.csv, row 5: child C3 is recorded as CIN, not looked after; left as it is",
        "file.csv, row 6: child C4's case was closed on 01/01/2026; left as it is",
        "file.csv, row 7: child C5 is not in the caseload (import Annex A first); left out",
        "file.csv, row 8: SW_ID 'SW404' is not the staff ID of anyone in qa-tui (workers are not created "
        "from SSDA903); child C6 left as it is",
        "file.csv, row 9: child C7 has no open social worker episode; allocation left as it is",
    ]
    assert {c.reference: c.kind for c in preview.plan.changes} == {
        "C1": "reallocated", "C2": "reallocated", "C9": "unchanged"}
    with db.session() as session:
        result = apply_sw_episodes(session, preview, today)
    assert result.matches_preview
    after = stored_cases(db)
    assert after["C1"][-2:] == ("Team One", "Sol One") and after["C2"][-2:] == ("Team Two", "Sue Two")
    assert {ref: after[ref] for ref in ("C3", "C4", "C6", "C9")} == {ref: before[ref] for ref in ("C3", "C4", "C6", "C9")}
    with db.reader() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 2
        assert "DOB" not in str(session.execute(select(Case)).all())


# --- the command line -----------------------------------------------------------------------


def test_cli_verbs(db: Database, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                   monkeypatch: pytest.MonkeyPatch) -> None:
    from qa_tui.cli import main

    base = ["--db", db_url, "--today", "2026-11-24", "import"]
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main([*base, "involvements", str(TEMPLATE)]) == 1
    assert "--yes" in capsys.readouterr().err and stored_cases(db) == {}
    assert main([*base, "involvements", str(TEMPLATE), "--yes"]) == 0
    assert "Imported: 5 new" in capsys.readouterr().out
    episodes = write(tmp_path, "\ufeffCHILD,SW_ID,SW_DECOM,SW_DEC\nEXAMPLE-0003,SW1002,01/10/2026,\n")
    assert main([*base, "ssda903-sw", str(episodes), "--yes"]) == 0
    out = capsys.readouterr().out
    assert "EXAMPLE-0003 reallocated: Jo Template (Children in Care 1) -> Sam Sample (Family Support 2)" in out
    assert stored_cases(db)["EXAMPLE-0003"][-1] == "Sam Sample"
    assert main([*base, "ssda903-sw", str(tmp_path / "nope.csv")]) == 2
    assert capsys.readouterr().err.strip() == f"qa-tui: {tmp_path / 'nope.csv'}: no such file"
