"""`qa-tui import annex-a|involvements|ssda903-sw|cin-census FILE`: preview a caseload import,
confirm, write.

Nothing is written without confirmation: `--yes`, or answering "y" at a terminal. The preview is
the import service's own preview object, printed here as text.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import date
from typing import TYPE_CHECKING, Any

from qa_tui.commands.common import open_ctx

if TYPE_CHECKING:
    from qa_tui.services.imports.preview import ImportPreview, ImportWritten


def register_verb(verbs: argparse._SubParsersAction) -> None:
    annex = verbs.add_parser("annex-a", help="the caseload from an Ofsted Annex A workbook (.xlsx, .xls, .ods)",
                             description="Import lists 6-9 of an Annex A workbook: open cases, categories, "
                                         "dates and allocations. Shows a preview first.")
    annex.add_argument("file", metavar="FILE", help="the Annex A workbook")
    annex.add_argument("--json", action="store_true", help="print the preview (and the result) as JSON")
    annex.set_defaults(func=run_annex_a)
    involvements = verbs.add_parser("involvements", help="cases and dated worker involvements from a CSV file",
                                    description="Import the safeguarding-dataset-shaped CSV layout "
                                                "(see docs/templates/involvements.csv).")
    involvements.add_argument("file", metavar="FILE", help="the involvements CSV file")
    involvements.set_defaults(func=run_involvements)
    sw = verbs.add_parser("ssda903-sw", help="looked-after children's social workers from SSDA903 SW episodes",
                          description="Update allocations of looked-after children from the SSDA903 social "
                                      "worker episodes table (CHILD, SW_ID, SW_DECOM, SW_DEC).")
    sw.add_argument("file", metavar="FILE", help="the SW episodes CSV file")
    sw.set_defaults(func=run_sw_episodes)
    census = verbs.add_parser("cin-census", help="CIN episodes and CP plans from the DfE Children in Need census XML",
                              description="Import each child's CIN episode dates and CP plans (start and end "
                                          "dates) from the CIN census XML, matched to cases by the child's ID "
                                          "([import.cin_census] in the config). Shows a preview first. Never "
                                          "stores UPNs, dates of birth or anything else about the child "
                                          "(see docs/cin-census.md).")
    census.add_argument("file", metavar="FILE", help="the CIN census XML file")
    census.add_argument("--json", action="store_true", help="print the preview (and the result) as JSON")
    census.set_defaults(func=run_cin_census)
    for parser in (annex, involvements, sw, census):
        parser.add_argument("--yes", action="store_true", help="write without asking for confirmation")


def run_annex_a(args: argparse.Namespace) -> int:
    return _run(args, "annex-a")


def run_involvements(args: argparse.Namespace) -> int:
    return _run(args, "involvements")


def run_sw_episodes(args: argparse.Namespace) -> int:
    return _run(args, "ssda903-sw")


def run_cin_census(args: argparse.Namespace) -> int:
    return _run(args, "cin-census")


def _run(args: argparse.Namespace, kind: str) -> int:
    from qa_tui.services.imports.kinds import IMPORT_KINDS, preview_import, write_import

    as_json = getattr(args, "json", False)
    ctx = open_ctx(args)
    try:
        today = ctx.today()
        with ctx.db.reader() as session:
            preview = preview_import(session, kind, args.file, today, ctx.config)
        if not as_json:
            print("\n".join([f"{IMPORT_KINDS[kind].what}: {preview.source}", *describe_preview(preview)]))
        if not preview.writes_anything:
            _emit_json(as_json, preview, None)
            print("Nothing to change: the database already matches the file.", file=sys.stderr)
            return 0
        if not (args.yes or _confirmed()):
            _emit_json(as_json, preview, None)
            print("Nothing written. Run again with --yes to import"
                  + ("." if sys.stdin.isatty() else " (no terminal to ask for confirmation)."), file=sys.stderr)
            return 1
        with ctx.db.session() as session:
            written = write_import(session, preview, today)
        if as_json:
            _emit_json(True, preview, written)
        else:
            print("\n".join(describe_written(written)))
        return 0
    finally:
        ctx.db.dispose()


def _confirmed() -> bool:
    if not sys.stdin.isatty():
        return False
    print("Import these changes? [y/N] ", end="", file=sys.stderr, flush=True)
    try:
        answer = input()
    except EOFError:
        return False
    return answer.strip().casefold() in ("y", "yes")


# --- text output ----------------------------------------------------------------------------


def describe_preview(preview: ImportPreview) -> list[str]:
    """What the file holds, the changes, creations, loads, unusable rows and notes, as lines."""
    from qa_tui.services.imports.caseload import NEW_WORKER_ROLE

    if preview.contents_title:
        lines = [f"{preview.contents_title}:", *(f"  {line}" for line in preview.contents)]
    else:
        lines = list(preview.contents)
    lines.append("Changes against the database: " + ", ".join(f"{n} {kind}" for kind, n in preview.counts))
    lines += [f"  {change.text}" for change in preview.changes]
    if preview.new_teams:
        lines.append(f"Teams to create ({len(preview.new_teams)}):")
        lines += [f"  {team.name} [{team.code}]" for team in preview.new_teams]
    if preview.new_workers:
        lines.append(f"Workers to create ({len(preview.new_workers)}), role {NEW_WORKER_ROLE}:")
        lines += [f"  {w.name} [{w.staff_id}]" + (f", {w.team}" if w.team else "") for w in preview.new_workers]
    if preview.loads:
        lines.append("Open cases in the file per team and worker:")
        for load in preview.loads:
            lines.append(f"  {load.team}: {load.cases}")
            lines += [f"    {worker}: {count}" for worker, count in load.workers]
    if preview.problems:
        lines.append(f"{preview.problems_title} ({len(preview.problems)}):")
        lines += [f"  {problem}" for problem in preview.problems]
    if preview.notes:
        lines.append(f"Notes ({len(preview.notes)}):")
        lines += [f"  {note}" for note in preview.notes]
    return lines


def describe_written(result: ImportWritten) -> list[str]:
    written = result.written
    lines = ["Imported: " + ", ".join(f"{n} {kind}" for kind, n in written.counts if n)]
    if written.new_teams or written.new_workers:
        lines.append(f"Created {len(written.new_teams)} teams and {len(written.new_workers)} workers.")
    if not result.matches_preview:
        lines.append("The database changed after the preview; the counts above are what was written.")
    return lines


# --- JSON output ----------------------------------------------------------------------------


def _emit_json(enabled: bool, preview: ImportPreview, result: ImportWritten | None) -> None:
    """The kind's own preview and result as JSON, each with its counts."""
    if not enabled:
        return
    payload = {"preview": _plain(preview.detail), "result": _plain(result.written.detail) if result else None}
    if result is not None:
        payload["result"]["counts"] = dict(result.written.counts)
    payload["preview"]["counts"] = dict(preview.counts)
    json.dump(payload, sys.stdout, indent=2)
    sys.stdout.write("\n")


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, date):
        return value.isoformat()
    return value
