"""`qa-tui retention purge [--dry-run] [--yes]`: purge the QA records of cases closed longer ago
than the configured retention period ([retention] years_after_closure)."""

from __future__ import annotations

import argparse
import sys

from qa_tui.commands.common import open_ctx


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "retention", help="purge QA records of cases closed longer ago than the retention period",
        description="Deletes the audits, dip samples, moderations, actions, feedback and follow-ups of cases "
                    "closed more than [retention] years_after_closure years ago (0: never). The case rows "
                    "stay; the purge is recorded in the audit trail and the trail's copies of the purged "
                    "values are redacted. On PostgreSQL run it as the database owner.")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    purge = verbs.add_parser("purge", help="purge what is past the retention period")
    purge.add_argument("--dry-run", action="store_true", help="say what would be purged; change nothing")
    purge.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    purge.set_defaults(func=run_purge)


def run_purge(args: argparse.Namespace) -> int:
    from qa_tui.errors import NotAllowed
    from qa_tui.services.people.retention import purge_closed_cases

    ctx = open_ctx(args)
    try:
        years, today = ctx.config.retention_years_after_closure, ctx.today()
        with ctx.db.reader() as session:
            planned = purge_closed_cases(session, years=years, today=today, dry_run=True)
        print(planned.summary)
        if args.dry_run or not planned.total:
            return 0
        if not args.yes:
            if not sys.stdin.isatty():
                raise NotAllowed("Purging cannot be undone: add --yes to purge without being asked.")
            if input("Purge these records? This cannot be undone. [y/N] ").strip().lower() not in ("y", "yes"):
                print("Nothing purged.")
                return 1
        with ctx.db.session() as session:
            done = purge_closed_cases(session, years=years, today=today)
        print(done.summary)
        print(f"Redacted the old and new values of {done.redacted_events} audit-trail events; "
              "the purge itself is recorded in the audit trail.")
        return 0
    finally:
        ctx.db.dispose()
