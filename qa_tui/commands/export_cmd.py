"""`qa-tui export`: the month's or a financial quarter's report as tables for Power BI, a folder
of CSV files or one XLSX workbook with the same tables and columns."""

from __future__ import annotations

import argparse
from pathlib import Path

from qa_tui.commands.common import open_ctx


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "export", help="report tables for Power BI as CSV files or an XLSX workbook",
        description="Write the report's tables (dimensions and long fact tables, ISO dates; columns in "
                    "docs/programme.md) as CSV files or one XLSX workbook into DIR. Default period: last month.")
    parser.add_argument("--format", choices=("csv", "xlsx"), required=True,
                        help="csv: one file per table; xlsx: qa-report-PERIOD.xlsx, one sheet per table")
    parser.add_argument("--out", metavar="DIR", required=True, help="the folder to write into (made 0700 if new)")
    period = parser.add_mutually_exclusive_group()
    period.add_argument("--month", metavar="YYYY-MM", help="a calendar month (default: last month)")
    period.add_argument("--quarter", metavar="YYYY-Qn",
                        help="a financial quarter: 2026-Q1 is April–June 2026, 2026-Q4 is January–March 2027")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from qa_tui.dates import Month
    from qa_tui.errors import ValidationError
    from qa_tui.services.programme.periods import month_period, parse_financial_quarter
    from qa_tui.services.reports.files import export_report_xlsx
    from qa_tui.services.reports.figures import last_complete_month, period_report
    from qa_tui.services.reports.tables import export_report_csv

    out = Path(args.out).expanduser()
    if out.exists() and not out.is_dir():
        raise ValidationError("--out", f"{out} is a file; give a folder")
    period = parse_financial_quarter(args.quarter) if args.quarter else None
    if args.month:
        try:
            period = month_period(Month.parse(args.month))
        except ValueError as exc:
            raise ValidationError("--month", str(exc)) from None
    ctx = open_ctx(args)
    try:
        today = ctx.today()
        with ctx.db.session() as session:
            report = period_report(session, period or month_period(last_complete_month(today)), today, ctx.config)
            if args.format == "csv":
                paths = export_report_csv(session, report, out)
                print(f"Wrote {len(paths)} CSV files for {report.period_id} to {out}")
            else:
                print(f"Wrote {export_report_xlsx(session, report, out / f'qa-report-{report.period_id}.xlsx')}")
    finally:
        ctx.db.dispose()
    return 0
