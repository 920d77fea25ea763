"""`qa-tui import people|cases FILE.csv [--dry-run]`: upsert staff or caseloads from CSV files
laid out as docs/import-formats.md describes."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from qa_tui.commands.common import open_ctx

if TYPE_CHECKING:
    from qa_tui.services.imports.csv_rows import ImportReport

LISTED_KEYS = 20  # longer lists are cut short with a count of the rest

VERBS = {
    "people": ("staff: roles, teams, managers", "staff ID"),
    "cases": ("cases: category, worker, team, dates", "case reference"),
}


def register_verb(verbs: argparse._SubParsersAction) -> None:
    for kind, (what, key) in VERBS.items():
        parser = verbs.add_parser(
            kind, help=f"{what} from a CSV file, matched by {key}",
            description=f"Import {what}. A row whose {key} is already stored updates that record; "
                        "any other row adds one. Any problem rejects the whole file and nothing is "
                        "written. Column layout: docs/import-formats.md.")
        parser.add_argument("file", metavar="FILE", help="a UTF-8 CSV file with a header row")
        parser.add_argument("--dry-run", action="store_true",
                            help="check the file and show what would change, writing nothing")
        parser.set_defaults(func=run, import_kind=kind)


def run(args: argparse.Namespace) -> int:
    from qa_tui.services.imports.csv_rows import read_import_file
    from qa_tui.services.imports.people_cases import import_cases, import_people

    path = Path(args.file)
    text = read_import_file(path)
    importer = import_people if args.import_kind == "people" else import_cases
    ctx = open_ctx(args)
    try:
        unit_of_work = ctx.db.reader() if args.dry_run else ctx.db.session()
        with unit_of_work as session:
            report = importer(session, text, source=path.name, dry_run=args.dry_run)
    finally:
        ctx.db.dispose()
    print("\n".join(describe_report(report)))
    return 0


def describe_report(report: ImportReport) -> list[str]:
    """The report as lines for a terminal."""
    lines = [report.summary + (" (dry run: nothing was written)" if report.dry_run else "")]
    if report.added_keys:
        lines.append("Added: " + _listed(report.added_keys))
    if report.changes:
        lines.append("Changed: " + _listed(tuple(f"{c.key} ({', '.join(c.columns)})" for c in report.changes)))
    lines.extend(f"Organisation: {change}" for change in report.organisation)
    if report.ignored_columns:
        lines.append("Ignored columns (not imported): " + ", ".join(report.ignored_columns))
    lines.extend(f"Warning: {warning}" for warning in report.warnings)
    return lines


def _listed(items: tuple[str, ...]) -> str:
    shown = ", ".join(items[:LISTED_KEYS])
    rest = len(items) - LISTED_KEYS
    return f"{shown} and {rest} more" if rest > 0 else shown
