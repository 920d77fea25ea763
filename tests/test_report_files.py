"""The report as XLSX (read back with openpyxl and compared with the CSV tables, 0600) and as an
HTML page (sections and tables present, every text escaped), and the `qa-tui export` command."""

from __future__ import annotations

import csv
import stat
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from qa_tui.dates import Month
from qa_tui.services.reports.trends import trends

from qa_tui.cli import main
from qa_tui.db.engine import Database
from qa_tui.db.models import AuditEvent
from qa_tui.services.reports.files import (
    DECIMAL_COLUMNS,
    export_report_html,
    export_report_xlsx,
    report_html,
    sheet_name,
)
from qa_tui.services.reports.figures import ThemeRow, monthly_report
from qa_tui.services.reports.tables import CSV_SCHEMA, export_report_csv
from tests.test_reports import CFG, OCTOBER, TODAY, seed


def as_csv_text(value: object) -> str:
    """A workbook cell as the CSV export writes the same value (a date cell reads back as a
    datetime at midnight; the CSV holds the ISO date)."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    return "" if value is None else str(value)


def test_xlsx_reads_back_with_the_csv_tables(db: Database, tmp_path: Path) -> None:
    seed(db)
    with db.session() as s:
        report = monthly_report(s, OCTOBER, TODAY, CFG)
        export_report_csv(s, report, tmp_path / "csv")
        path = export_report_xlsx(s, report, tmp_path / "new" / "report.xlsx")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == [sheet_name(name) for name in CSV_SCHEMA]
    compared = 0
    for name, columns in CSV_SCHEMA.items():
        with (tmp_path / "csv" / name).open(encoding="utf-8", newline="") as f:
            expected = list(csv.reader(f))
        # Read-only reading drops trailing empty cells: pad each row back to the columns.
        got = [[*row, *[None] * (len(columns) - len(row))]
               for row in book[sheet_name(name)].iter_rows(values_only=True)]
        assert got[0] == list(columns)
        assert len(got) == len(expected), name
        for want_row, got_row in zip(expected[1:], got[1:], strict=True):
            for column, want, cell in zip(columns, want_row, got_row, strict=True):
                if column in DECIMAL_COLUMNS and cell is not None:  # numbers in the workbook, text in CSV
                    assert cell == pytest.approx(float(want)), (name, column)
                else:
                    assert as_csv_text(cell) == want, (name, column)
                compared += 1
    assert compared > 100  # the seeded month fills the tables
    grades = {tuple(r) for r in book["fact_audit_grades"].iter_rows(min_row=2, values_only=True)}
    assert grades == {("2026-10", "A1", 1, "Good", "agreed", 1, "grades"),
                      ("2026-10", "A1", 1, "Good", "moderated", 2, "grades"),
                      ("2026-10", "A1", 2, "Requires improvement to be good", "agreed", 1, "grades"),
                      ("2026-10", "A1", 2, "Requires improvement to be good", "moderated", 0, "grades")}
    calibration = next(book["fact_calibration"].iter_rows(min_row=2, values_only=True))
    assert calibration[:8] == ("2026-10", "council", None, 2, 6, 4, 1, 1)
    assert calibration[8] == pytest.approx(5 / 11, abs=1e-4)  # kappa, a number in the workbook
    period = list(book["dim_period"].iter_rows(min_row=2, values_only=True))
    day = lambda iso: datetime.combine(date.fromisoformat(iso), datetime.min.time())  # noqa: E731 - a date cell
    assert period == [("2026-10", "monthly", day("2026-10-01"), day("2026-10-31"), "FY 2026/27", day("2026-10-31"),
                       day("2026-11-24"))]
    assert book["dim_period"]["C2"].is_date and book["dim_period"]["C2"].number_format == "yyyy-mm-dd"
    with db.reader() as s:
        details = s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "export")).all()
    assert any("as XLSX" in d for d in details)


def test_html_is_a_page_with_every_text_escaped(db: Database, tmp_path: Path) -> None:
    seed(db)
    with db.session() as s:
        report = monthly_report(s, OCTOBER, TODAY, CFG)
        hostile = replace(report, themes=(ThemeRow("observation", "<script>alert('x')</script> & | pipes", 2),))
        page = report_html(hostile)
        path = export_report_html(s, report, tmp_path / "out")
        with_trends = report_html(report, trends(s, Month.of(report.period.end), report.made_on,
                                                 report.grading_scale))
    assert page.startswith("<!DOCTYPE html>") and "<title>Monthly QA report: 2026-10</title>" in page
    assert "<script" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; | pipes" in page
    assert "<h2>Calibration</h2>" in page and page.count("<table>") >= 8
    assert "src=" not in page and "href=" not in page  # self-contained
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text(encoding="utf-8") == with_trends  # the page, then the trend charts as SVG
    assert with_trends.count("<svg") == 4 and "<script" not in with_trends and "href=" not in with_trends


def test_export_command_writes_csv_or_xlsx(db_url: str, db: Database, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    seed(db)
    base = ["--db", db_url, "--today", TODAY.isoformat()]
    assert main([*base, "export", "--format", "xlsx", "--out", str(tmp_path / "x"), "--month", "2026-10"]) == 0
    workbook = tmp_path / "x" / "qa-report-2026-10.xlsx"
    assert load_workbook(workbook, read_only=True).sheetnames[0] == "dim_period"
    assert main([*base, "export", "--format", "csv", "--out", str(tmp_path / "c"), "--quarter", "2026-Q3"]) == 0
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == sorted(CSV_SCHEMA)
    with (tmp_path / "c" / "dim_period.csv").open(encoding="utf-8") as f:
        assert list(csv.reader(f))[1][:4] == ["2026-Q3", "quarterly", "2026-10-01", "2026-12-31"]
    assert main([*base, "report", "monthly", "--month", "2026-10", "--format", "html",
                 "--out", str(tmp_path / "h")]) == 0
    assert (tmp_path / "h" / "qa-report-2026-10.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main([*base, "export", "--format", "xlsx", "--out", str(tmp_path / "y"), "--month", "10/2026"]) != 0
    assert "--month" in capsys.readouterr().err


# --- the cell rule: formula-like text, control characters, numbers and dates -------------------

FORMULAS = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(1)", "\tTabbed", "\rReturned"]


def test_the_cell_rule_neutralises_formulas_and_keeps_numbers_and_dates() -> None:
    from qa_tui.services.reports.cells import csv_value, starts_like_a_formula

    assert [csv_value(v) for v in FORMULAS] == ['\'=HYPERLINK("http://x","y")', "'+1", "'-2+3", "'@SUM(1)",
                                                "'\tTabbed", "␍Returned"]
    assert [csv_value(v) for v in ("-2", "-0.4545", -2, 0.5, "Plain [b]text[/b]", None)] == [
        "-2", "-0.4545", -2, 0.5, "Plain [b]text[/b]", ""]
    assert csv_value(date(2026, 10, 31)) == "2026-10-31"
    assert csv_value("bell\x07 \x1b[2J nul\x00") == "bell␇ ␛[2J nul␀"
    assert not starts_like_a_formula("Ordinary text") and starts_like_a_formula("-")


def test_hostile_text_exports_as_data_never_as_formulas(db: Database, tmp_path: Path) -> None:
    from qa_tui.services.reports.figures import PersonDim, TeamDim

    seed(db)
    with db.session() as s:
        report = monthly_report(s, OCTOBER, TODAY, CFG)
        hostile = replace(
            report,
            teams=tuple(TeamDim(f"T{i}", name, "S", "Service \x1b]0;title\x07") for i, name in enumerate(FORMULAS)),
            people=(PersonDim("S1", "=cmd|' /C calc'!A0", "SW", "T0"), PersonDim("S2", "Nul\x00 and \x9b", "SW", "T1")),
            themes=(ThemeRow("feedback", "-2+3", 1), ThemeRow("observation", "@SUM(1)", -2)))
        export_report_csv(s, hostile, tmp_path / "csv")
        path = export_report_xlsx(s, hostile, tmp_path / "report.xlsx")  # no IllegalCharacterError
    with (tmp_path / "csv" / "dim_team.csv").open(encoding="utf-8", newline="") as f:
        names = [row[1] for row in list(csv.reader(f))[1:]]
    assert names == ["'" + v if not v.startswith("\r") else "␍Returned" for v in FORMULAS]
    with (tmp_path / "csv" / "fact_themes.csv").open(encoding="utf-8", newline="") as f:
        assert [row[2:] for row in list(csv.reader(f))[1:]] == [["'-2+3", "1"], ["'@SUM(1)", "-2"]]
    book = load_workbook(path)  # not read-only: every cell's type is seen
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    teams = [row[1] for row in book["dim_team"].iter_rows(min_row=2, values_only=True)]
    assert teams == [v if not v.startswith("\r") else "␍Returned" for v in FORMULAS]  # the text itself, as text
    assert all(c.quotePrefix for c in book["dim_team"]["B"][1:6])
    assert [row[1] for row in book["dim_person"].iter_rows(min_row=2, values_only=True)] == [
        "=cmd|' /C calc'!A0", "Nul␀ and <U+009B>"]
    assert book["dim_team"]["D2"].value == "Service ␛]0;title␇"
    assert [row[3] for row in book["fact_themes"].iter_rows(min_row=2, values_only=True)] == [1, -2]  # numbers
