"""`qa-tui sync ...`: pull reference data onto a laptop, export its changes, import a bundle into the
shared database, acknowledge the receipt, and list or resolve conflicts."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from qa_tui.commands.common import open_ctx, terminal
from qa_tui.text import plural

if TYPE_CHECKING:
    from qa_tui.db.engine import Database
    from qa_tui.services.sync.bundle import Receipt
    from qa_tui.services.sync.conflicts import ConflictView
    from qa_tui.services.sync.receipts import AckSummary


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "sync", help="offline laptops: pull, export, import, acknowledge, resolve conflicts",
        description="Move work recorded offline on a laptop into the shared database, with nothing lost "
                    "or doubled. Bundles are encrypted when QA_TUI_SYNC_PASSPHRASE is set.")
    parser.add_argument("--to", metavar="URL", help="export this laptop's changes, import them into the shared "
                        "database at URL and acknowledge the receipt, in one step")
    parser.set_defaults(func=run_to, parser=parser)
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")

    verbs.add_parser("status", help="device ID, changes waiting, last sync, open conflicts").set_defaults(func=run_status)

    pull = verbs.add_parser("pull", help="bring teams, people, open cases, actions and follow-ups onto this laptop")
    source = pull.add_mutually_exclusive_group(required=True)
    source.add_argument("--from", dest="from_url", metavar="URL", help="the shared database")
    source.add_argument("--from-bundle", metavar="FILE", help="a reference bundle made by `sync export --reference`")
    pull.add_argument("--team", action="append", default=[], metavar="CODE",
                      help="only this team (repeatable; with --from)")
    pull.set_defaults(func=run_pull)

    export = verbs.add_parser("export", help="write everything changed here since the last acknowledged sync")
    export.add_argument("--out", required=True, metavar="FILE", help="the bundle file to write")
    export.add_argument("--reference", action="store_true",
                        help="on the shared database: write reference data for `sync pull --from-bundle` instead")
    export.add_argument("--team", action="append", default=[], metavar="CODE",
                        help="with --reference: only this team (repeatable)")
    export.set_defaults(func=run_export)

    imp = verbs.add_parser("import", help="on the shared database: merge a laptop's bundle and write its receipt")
    imp.add_argument("file", metavar="FILE", help="the bundle")
    imp.add_argument("--receipt", metavar="RECEIPT_FILE", help="where to write the receipt (default: FILE.receipt.json)")
    imp.set_defaults(func=run_import)

    ack = verbs.add_parser("ack", help="on the laptop: mark what a receipt accounts for as synced")
    ack.add_argument("receipt", metavar="RECEIPT_FILE")
    ack.set_defaults(func=run_ack)

    conflicts = verbs.add_parser("conflicts", help="on the shared database: list edits kept aside as conflicts")
    conflicts.add_argument("--all", action="store_true", help="include resolved conflicts")
    conflicts.set_defaults(func=run_conflicts)

    resolve = verbs.add_parser("resolve", help="on the shared database: decide which version of a conflict stands")
    resolve.add_argument("conflict", metavar="CONFLICT_ID", help="the conflict's ID or the start of it")
    resolve.add_argument("--keep", required=True, choices=("shared", "incoming", "merged"))
    resolve.add_argument("--fields", metavar="FILE", help="with --keep merged: a JSON object of the field values to keep")
    resolve.set_defaults(func=run_resolve)


def run_to(args: argparse.Namespace) -> int:
    from qa_tui.services.sync.export import export_changes
    from qa_tui.services.sync.importing import import_bundle
    from qa_tui.services.sync.receipts import acknowledge

    if not args.to:
        args.parser.print_usage(sys.stderr)
        print("qa-tui sync: give a VERB, or --to URL to sync with the shared database in one step", file=sys.stderr)
        return 2
    ctx = open_ctx(args)
    shared = open_shared(args.to)
    try:
        with ctx.db.session() as session:
            bundle = export_changes(session, exported_by=ctx.login, device_name=_host(),
                                    destination=_describe(args.to), progress=_progress("exporting"))
        if not bundle.records:
            print("Nothing has changed here since the last acknowledged sync.")
            return 0
        with shared.session() as session:
            receipt = import_bundle(session, bundle, progress=_progress("importing"))
        with ctx.db.session() as session:
            ack = acknowledge(session, receipt)
    finally:
        shared.dispose()
    _print_receipt(receipt)
    _print_ack(ack)
    return 0


def run_status(args: argparse.Namespace) -> int:
    from qa_tui.services.sync.state import sync_status

    ctx = open_ctx(args)
    with ctx.db.reader() as session:
        status = sync_status(session)
    print(f"device:          {status.device_id or '(none yet: made at the first export)'}")
    waiting = ", ".join(f"{n} {table}" for table, n in status.pending_by_table.items())
    print(f"changes waiting: {status.pending}" + (f" ({waiting})" if waiting else ""))
    print(f"last receipt:    {status.last_ack_bundle or '(none)'}" + (f" at {status.last_ack_at}" if status.last_ack_at else ""))
    print(f"pulled from:     {status.pulled_from or '(never)'}" + (f" at {status.pulled_at}" if status.pulled_at else ""))
    print(f"open conflicts:  {status.open_conflicts} (kept in the database that imported the bundle)")
    return 0


def run_pull(args: argparse.Namespace) -> int:
    from qa_tui.db.migrate import HEAD_REVISION
    from qa_tui.errors import ValidationError
    from qa_tui.services.sync.bundle import passphrase_from_env, read_bundle
    from qa_tui.services.sync.pull import apply_reference, pull_from_database

    ctx = open_ctx(args, create=True)  # a pull makes a laptop's database
    if args.from_bundle:
        if args.team:
            raise ValidationError("--team", "choose the teams when the reference bundle is made "
                                            "(`sync export --reference --team CODE`)")
        path = Path(args.from_bundle)
        bundle = read_bundle(path, schema=HEAD_REVISION, passphrase=passphrase_from_env())
        with ctx.db.session() as session:
            summary = apply_reference(session, bundle, source=str(path), progress=_progress("pulling"))
    else:
        shared = open_shared(args.from_url)
        try:
            with shared.reader() as remote, ctx.db.session() as local:
                summary = pull_from_database(local, remote, source=_describe(args.from_url),
                                             team_codes=args.team, today=ctx.today(),
                                             progress=_progress("pulling"))
        finally:
            shared.dispose()
    print(f"Pulled from {summary.source}: {summary.added} added, {summary.updated} updated, "
          f"{summary.unchanged} unchanged.")
    if summary.removed:
        print(f"{summary.removed} records deleted in the shared database were removed here.")
    if summary.kept_local:
        print(f"{len(summary.kept_local)} records edited here and not yet synced were left as they are; "
              f"they go up with the next export.")
    for table, record_id, reason in summary.skipped:
        print(f"  not stored here: {table} {record_id} ({reason})")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from qa_tui.errors import ValidationError
    from qa_tui.services.sync.bundle import PASSPHRASE_ENV, passphrase_from_env, write_bundle
    from qa_tui.services.sync.export import export_changes
    from qa_tui.services.sync.pull import export_reference

    out = Path(args.out)
    if args.team and not args.reference:
        raise ValidationError("--team", "only with --reference; a laptop exports all of its own changes")
    passphrase = passphrase_from_env()
    ctx = open_ctx(args)
    with ctx.db.session() as session:
        if args.reference:
            bundle = export_reference(session, team_codes=args.team, destination=str(out), today=ctx.today())
        else:
            bundle = export_changes(session, exported_by=ctx.login, device_name=_host(), destination=str(out),
                                    progress=_progress("exporting"))
            if not bundle.records:
                print("Nothing has changed here since the last acknowledged sync; no bundle written.")
                return 0
        write_bundle(out, bundle, passphrase)
    what = "reference records" if args.reference else "changed records"
    lock = "encrypted" if passphrase else f"not encrypted (set {PASSPHRASE_ENV} to encrypt bundles)"
    print(f"Wrote {len(bundle.records)} {what} to {out} (bundle {bundle.bundle_id}, {lock}).")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from qa_tui.db.migrate import HEAD_REVISION
    from qa_tui.services.sync.bundle import passphrase_from_env, read_bundle, receipt_path_for, write_receipt
    from qa_tui.services.sync.importing import import_bundle

    path = Path(args.file)
    bundle = read_bundle(path, schema=HEAD_REVISION, passphrase=passphrase_from_env())
    ctx = open_ctx(args)
    with ctx.db.session() as session:
        receipt = import_bundle(session, bundle, progress=_progress("importing"))
    receipt_file = Path(args.receipt) if args.receipt else receipt_path_for(path)
    write_receipt(receipt_file, receipt)
    _print_receipt(receipt)
    print(f"Receipt written to {receipt_file}: on the laptop, run `qa-tui sync ack {receipt_file.name}`.")
    return 0


def run_ack(args: argparse.Namespace) -> int:
    from qa_tui.services.sync.bundle import read_receipt
    from qa_tui.services.sync.receipts import acknowledge

    receipt = read_receipt(Path(args.receipt))
    ctx = open_ctx(args)
    with ctx.db.session() as session:
        ack = acknowledge(session, receipt)
    _print_ack(ack)
    return 0


def run_conflicts(args: argparse.Namespace) -> int:
    from qa_tui.services.sync.conflicts import list_conflicts

    ctx = open_ctx(args)
    with ctx.db.reader() as session:
        conflicts = list_conflicts(session, status=None if args.all else "open")
    if not conflicts:
        print("No open conflicts." if not args.all else "No conflicts.")
        return 0
    for conflict in conflicts:
        _print_conflict(conflict)
    return 0


def run_resolve(args: argparse.Namespace) -> int:
    from qa_tui.errors import NotFound, ValidationError
    from qa_tui.services.sync.conflicts import list_conflicts, resolve_conflict

    merged = None
    if args.keep == "merged":
        if not args.fields:
            raise ValidationError("--fields", "--keep merged needs a JSON file of the field values to keep")
        try:
            merged = json.loads(Path(args.fields).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValidationError(args.fields, f"cannot be read ({exc.strerror})") from None
        except json.JSONDecodeError as exc:
            raise ValidationError(args.fields, f"line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})") from None
        if not isinstance(merged, dict):
            raise ValidationError(args.fields, "expected a JSON object of field names and values")
    elif args.fields:
        raise ValidationError("--fields", "only with --keep merged")
    ctx = open_ctx(args)
    with ctx.db.session() as session:
        prefix = args.conflict.lower()
        matches = [c for c in list_conflicts(session, status=None) if str(c.id).startswith(prefix)]
        if len(matches) != 1:
            raise NotFound(f"{'No' if not matches else 'More than one'} conflict has an ID starting {args.conflict!r}; "
                           f"see `qa-tui sync conflicts --all`.")
        view = resolve_conflict(session, matches[0].id, args.keep, merged, by=ctx.login)
    print(f"Conflict {view.id} resolved: kept the {view.resolution} version of {view.table} {view.record_id}.")
    return 0


def open_shared(url: str) -> Database:
    """The shared database named on the command line, acting as this database login."""
    from qa_tui.services.sync.views import open_shared_database

    return open_shared_database(url)


def _describe(url: str) -> str:
    from qa_tui.db.engine import describe_url

    return describe_url(url)


def _host() -> str:
    import socket

    return socket.gethostname()


def _progress(label: str) -> Callable[[int, int], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        print(f"\r{label}: {done}/{total}", end=end, file=terminal(sys.stderr), flush=True)

    return show


def _print_receipt(receipt: Receipt) -> None:
    if receipt.already_imported:
        print(f"Bundle {receipt.bundle_id} was already imported at {receipt.imported_at} by "
              f"{receipt.imported_by}; nothing changed. Its receipt:")
    print(f"Bundle {receipt.bundle_id} from {receipt.sent_by}: {receipt.added} added, {receipt.updated} "
          f"updated, {receipt.unchanged} unchanged, {len(receipt.conflicts)} conflicts, {receipt.deleted} deleted, "
          f"{len(receipt.refused)} refused.")
    for refused in receipt.refused:
        print(f"  refused, not written: {refused.table} {refused.id} ({refused.reason})")
    for note in receipt.conflicts:
        print(f"  conflict {note.conflict_id[:8]}: {note.table} {note.id} ({note.reason})")
    if receipt.conflicts:
        print("See them with `qa-tui sync conflicts`; decide with `qa-tui sync resolve ID --keep ...`.")
    if receipt.refused:
        print(f"{len(receipt.refused)} changes were refused and not written: each breaks a rule of this database "
              "or is one the laptop's person may not make.")


def _print_ack(ack: AckSummary) -> None:
    if ack.already_acknowledged:
        print(f"The receipt for bundle {ack.bundle_id} was already acknowledged; nothing changed.")
    else:
        print(f"Acknowledged bundle {ack.bundle_id}: {plural(ack.marked, 'record')} marked as synced"
              + (f"; {ack.conflicts} conflicts are now for the shared database to decide (the next pull "
                 f"brings the decision here)." if ack.conflicts else "."))


def _print_conflict(c: ConflictView) -> None:
    state = "open" if c.status == "open" else f"resolved ({c.resolution}) by {c.resolved_by}"
    print(f"{str(c.id)[:8]}  {c.table} {c.record_id}  {c.reason}: {c.explanation}  [{state}]")
    live = "not here" if c.live_version is None else f"v{c.live_version}"
    print(f"          from {c.exported_by} (device {c.device[:8]}), imported {c.imported_at:%Y-%m-%d %H:%M}; "
          f"laptop based on v{c.base_version if c.base_version is not None else '-'}, shared {live}")
    if c.deletion:
        print("          deleted on the laptop: --keep incoming deletes it here, --keep shared keeps it")
    if c.held:
        print(f"          {c.held} history rows held with it: applied with --keep incoming or merged, dropped with shared")
    for key in c.differing:
        shared = "-" if c.live is None else json.dumps(c.live.get(key))
        print(f"          {key}: shared {_clip(shared)} | incoming {_clip(json.dumps(c.incoming.get(key)))}")


def _clip(text: str, width: int = 50) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"

