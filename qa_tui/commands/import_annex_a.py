"""`qa-tui import annex-a|involvements|ssda903-sw FILE`: preview a caseload import, confirm, write.

Nothing is written without confirmation: `--yes`, or answering "y" at a terminal.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from qa_tui.commands.common import open_ctx

CHANGES_LISTED = ("reallocated", "closed", "reopened")


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
    for parser in (annex, involvements, sw):
        parser.add_argument("--yes", action="store_true", help="write without asking for confirmation")


def run_annex_a(args: argparse.Namespace) -> int:
    from qa_tui.services.imports.annex_a import apply_annex_a, preview_annex_a

    return _run(args, "Annex A", preview_annex_a, apply_annex_a, _list_lines)


def run_involvements(args: argparse.Namespace) -> int:
    from qa_tui.services.imports.caseload_csv import apply_involvements, preview_involvements

    return _run(args, "Involvements", preview_involvements, apply_involvements,
                lambda p: [f"Rows: {p.rows}, cases: {len(p.cases)}"])


def run_sw_episodes(args: argparse.Namespace) -> int:
    from qa_tui.services.imports.caseload_csv import apply_sw_episodes, preview_sw_episodes

    return _run(args, "SSDA903 social worker episodes", preview_sw_episodes, apply_sw_episodes,
                lambda p: [f"Episodes: {p.episodes}, children: {p.children}, "
                           f"current allocations: {len(p.allocations)}"])


def _run(args: argparse.Namespace, what: str, preview_fn: Callable[..., Any], apply_fn: Callable[..., Any],
         summary: Callable[[Any], list[str]]) -> int:
    as_json = getattr(args, "json", False)
    ctx = open_ctx(args)
    try:
        today = ctx.today()
        with ctx.db.reader() as session:
            preview = preview_fn(session, Path(args.file), today)
        if not as_json:
            print("\n".join([f"{what}: {preview.source}", *summary(preview), *describe_plan(preview)]))
        if not preview.plan.writes_anything:
            _emit_json(as_json, preview, None)
            print("Nothing to change: the database already matches the file.", file=sys.stderr)
            return 0
        if not (args.yes or _confirmed()):
            _emit_json(as_json, preview, None)
            print("Nothing written. Run again with --yes to import"
                  + ("." if sys.stdin.isatty() else " (no terminal to ask for confirmation)."), file=sys.stderr)
            return 1
        with ctx.db.session() as session:
            result = apply_fn(session, preview, today)
        if as_json:
            _emit_json(True, preview, result)
        else:
            print("\n".join(describe_result(result)))
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


def _list_lines(preview: Any) -> list[str]:
    lines = ["Lists:"]
    for summary in preview.lists:
        if summary.sheet is None:
            lines.append(f"  List {summary.number} ({summary.category}): not used")
        else:
            lines.append(f"  List {summary.number} ({summary.category}) from sheet {summary.sheet!r}: "
                         f"{summary.rows} rows, {summary.used} used, {summary.open} open")
    return lines


def describe_plan(preview: Any) -> list[str]:
    """The preview's changes, creations, loads, unusable rows and notes, as lines of text."""
    plan = preview.plan
    lines = ["Changes against the database: " + ", ".join(f"{n} {kind}" for kind, n in plan.counts().items()),
             *_changes(plan)]
    if plan.new_teams:
        lines.append(f"Teams to create ({len(plan.new_teams)}):")
        lines += [f"  {team.name} [{team.code}]" for team in plan.new_teams]
    if plan.new_workers:
        lines.append(f"Workers to create ({len(plan.new_workers)}), role SW:")
        lines += [f"  {w.name} [{w.staff_id}]" + (f", {w.team}" if w.team else "") for w in plan.new_workers]
    if plan.by_team:
        lines.append("Open cases in the file per team and worker:")
        for load in plan.by_team:
            lines.append(f"  {load.team}: {load.cases}")
            lines += [f"    {worker}: {count}" for worker, count in load.workers]
    if preview.problems:
        lines.append(f"Rows not used ({len(preview.problems)}):")
        lines += [f"  {note}" for note in preview.problems]
    notes = grouped_notes(preview.warnings) + list(plan.notes)
    if notes:
        lines.append(f"Notes ({len(notes)}):")
        lines += [f"  {note}" for note in notes]
    return lines


def _changes(plan: Any) -> list[str]:
    lines = []
    for change in plan.of_kind(*CHANGES_LISTED):
        if change.kind == "reallocated":
            lines.append(f"  {change.reference} reallocated: {change.old_worker or '(unallocated)'}"
                         f" ({change.old_team or 'no team'}) -> {change.worker or '(unallocated)'}"
                         f" ({change.team or 'no team'})")
        elif change.kind == "closed":
            lines.append(f"  {change.reference} closed on {change.closed_on:%d/%m/%Y} ({change.category})")
        else:
            lines.append(f"  {change.reference} reopened as {change.category}")
    return lines


def grouped_notes(notes: Any) -> list[str]:
    """Notes that differ only by row, as one line: "List 6, rows 2-6, column N (...): ..."."""
    groups: dict[tuple[str, str, str], list[Any]] = {}
    for note in notes:
        groups.setdefault((note.sheet, note.column, note.message), []).append(note)
    out = []
    for (sheet, column, message), group in groups.items():
        if len(group) == 1 or not all(n.row for n in group):
            out.extend(str(n) for n in group)
            continue
        where = [sheet, f"rows {_spans([n.row for n in group])}", f"column {column}" if column else ""]
        out.append(f"{', '.join(p for p in where if p)}: {message}")
    return out


def _spans(rows: list[int]) -> str:
    """2, 3, 4, 7 → "2-4, 7"."""
    spans: list[str] = []
    start = previous = rows[0]
    for row in [*rows[1:], None]:
        if row is not None and row == previous + 1:
            previous = row
            continue
        spans.append(f"{start}-{previous}" if previous != start else str(start))
        if row is not None:
            start = previous = row
    return ", ".join(spans)


def describe_result(result: Any) -> list[str]:
    plan = result.plan
    lines = ["Imported: " + ", ".join(f"{n} {kind}" for kind, n in plan.counts().items() if n)]
    if plan.new_teams or plan.new_workers:
        lines.append(f"Created {len(plan.new_teams)} teams and {len(plan.new_workers)} workers.")
    if not result.matches_preview:
        lines.append("The database changed after the preview; the counts above are what was written.")
    return lines


# --- JSON output ----------------------------------------------------------------------------


def _emit_json(enabled: bool, preview: Any, result: Any) -> None:
    if not enabled:
        return
    payload = {"preview": _plain(preview), "result": _plain(result) if result is not None else None}
    if result is not None:
        payload["result"]["counts"] = result.plan.counts()
    payload["preview"]["counts"] = preview.plan.counts()
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
