"""The period report as files for reading or for Power BI beyond Markdown and CSV: a small
self-contained HTML page, and an XLSX workbook with one sheet per CSV table (same columns, each
cell by the rule in `cells`: numbers as numbers, dates as dates, formula-like text as text)."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from qa_tui.dates import Month
from qa_tui.db import trail
from qa_tui.files import make_private_dirs, write_export, write_private
from qa_tui.services.reports.cells import xlsx_row
from qa_tui.services.reports.figures import PeriodReport
from qa_tui.services.reports.markdown import report_markdown
from qa_tui.services.reports.tables import CSV_SCHEMA, report_tables
from qa_tui.services.reports.trend_svg import trends_html
from qa_tui.services.reports.trends import Trends, trends

# Columns whose values report_tables gives as formatted decimal text (empty when undefined); in a
# workbook they are numbers, so Power BI reads them as such.
DECIMAL_COLUMNS = frozenset({"kappa", "value"})

HTML_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em; color: #1b1b1b; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.6em; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #eef1f5; }
"""
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?%?$")


def sheet_name(csv_name: str) -> str:
    """The workbook sheet holding a CSV file's table: its name without `.csv`."""
    return csv_name.removesuffix(".csv")


def _cell_value(column: str, value: Any) -> Any:
    if value == "" or value is None:
        return None
    if column in DECIMAL_COLUMNS and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def report_xlsx_bytes(report: PeriodReport) -> bytes:
    """The workbook: one sheet per CSV table, named after the file, a header row of the CSV's
    column names, then the same rows (empty cells where the CSV is empty)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for name, rows in report_tables(report).items():
        columns = CSV_SCHEMA[name]
        sheet = book.create_sheet(sheet_name(name))
        sheet.append(list(columns))
        for row in rows:
            typed = [_cell_value(column, value) for column, value in zip(columns, row, strict=True)]
            sheet.append(xlsx_row(sheet, typed))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_report_xlsx(session: Session, report: PeriodReport, out_path: Path) -> Path:
    """Write the workbook to `out_path` (0600; its folder made 0700 if new) and record the export."""
    out_path = Path(out_path)
    make_private_dirs(out_path.parent)
    write_private(out_path, report_xlsx_bytes(report))
    trail.record_event(session, "export", "report", None, detail=f"report {report.period_id} as XLSX to {out_path}")
    return out_path


def report_html(report: PeriodReport, trends: Trends | None = None) -> str:
    """The report as one HTML page with its own style and no scripts or outside links. Built from
    the Markdown, so both carry the same sections; every text is escaped. With `trends`, the
    twelve months' trend charts follow, as inline SVG."""
    title = report_markdown(report).splitlines()[0].removeprefix("# ")
    body: list[str] = []
    table: list[list[str]] = []

    def close_table() -> None:
        if not table:
            return
        head, *rows = table
        body.append("<table><thead><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in head) + "</tr></thead>")
        body.append("<tbody>" + "".join(
            "<tr>" + "".join(f'<td class="n">{html.escape(c)}</td>' if _NUMBER.match(c) else f"<td>{html.escape(c)}</td>"
                             for c in row) + "</tr>" for row in rows) + "</tbody></table>")
        table.clear()

    for line in report_markdown(report).splitlines():
        if line.startswith("|"):
            cells = [c.strip().replace("\\|", "|") for c in _UNESCAPED_PIPE.split(line.strip())[1:-1]]
            if not all(set(c) <= {"-"} and c for c in cells):  # the |---|---| rule under the header
                table.append(cells)
            continue
        close_table()
        if line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line == "_None._":
            body.append("<p><em>None.</em></p>")
        elif line.strip():
            body.append(f"<p>{html.escape(line)}</p>")
    close_table()
    if trends is not None:
        body.append(trends_html(trends))
    return ("<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{HTML_STYLE}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def export_report_html(session: Session, report: PeriodReport, out_dir: Path) -> Path:
    """Write the HTML page (0600) into `out_dir` (made 0700 if new) and record the export."""
    path = Path(out_dir) / f"qa-report-{report.period_id}.html"
    trend_figures = trends(session, Month.of(report.period.end), report.made_on, report.grading_scale)
    write_export(path, report_html(report, trend_figures))
    trail.record_event(session, "export", "report", None, detail=f"report {report.period_id} as HTML to {path}")
    return path
