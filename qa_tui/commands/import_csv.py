"""`qa-tui import people|cases FILE.csv [--dry-run]`: upsert staff or caseloads from CSV files
laid out as docs/import-formats.md describes."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from qa_tui.commands.common import fail, open_ctx

if TYPE_CHECKING:
    from qa_tui.services.imports.preview import ImportPreview

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
    from qa_tui.services.imports.kinds import preview_import, write_import

    ctx = open_ctx(args)
    try:
        today = ctx.today()
        with ctx.db.reader() if args.dry_run else ctx.db.session() as session:
            preview = preview_import(session, args.import_kind, args.file, today, ctx.config)
            written = None if args.dry_run or preview.rejected else write_import(session, preview, today)
    finally:
        ctx.db.dispose()
    if preview.rejected:
        return fail(describe_rejection(preview))
    print("\n".join(describe_records(written.written if written else preview, dry_run=args.dry_run)))
    return 0


def describe_records(preview: ImportPreview, *, dry_run: bool) -> list[str]:
    """What a people or cases file adds and changes (or added and changed), as lines."""
    counts = ", ".join(f"{n} {kind}" for kind, n in preview.counts)
    lines = [f"{preview.source}: {counts}" + (" (dry run: nothing was written)" if dry_run else "")]
    if preview.added:
        lines.append("Added: " + _listed(preview.added))
    if preview.changes:
        lines.append("Changed: " + _listed(tuple(change.text for change in preview.changes)))
    lines.extend(f"Organisation: {change}" for change in preview.organisation)
    if preview.ignored_columns:
        lines.append("Ignored columns (not imported): " + ", ".join(preview.ignored_columns))
    lines.extend(f"Warning: {note}" for note in preview.notes)
    return lines


def describe_rejection(preview: ImportPreview) -> str:
    count = len(preview.problems)
    listed = "\n".join(f"  {problem}" for problem in preview.problems)
    return (f"{preview.source} was rejected and nothing was imported; "
            f"{count} problem{'s' if count != 1 else ''}:\n{listed}")


def _listed(items: tuple[str, ...]) -> str:
    shown = ", ".join(items[:LISTED_KEYS])
    rest = len(items) - LISTED_KEYS
    return f"{shown} and {rest} more" if rest > 0 else shown
