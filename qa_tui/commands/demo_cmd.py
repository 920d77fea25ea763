"""`qa-tui demo`: build the fictional demo council (once) and open the app on it as its first
team manager; `--build-only` builds a database of any size for benchmarks and prints the counts."""

from __future__ import annotations

import argparse
from dataclasses import replace

from qa_tui.commands.common import load, run_app, today_of

DEMO_DATABASE_FILE = "demo.sqlite3"
HOSTILE_DATABASE_FILE = "demo-hostile.sqlite3"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "demo", help="open the app on a fictional demo council (built on first use)",
        description="Build a deterministic, entirely fictional council and open the app on it as the "
                    "first team's manager. Without --db the demo lives in its own SQLite file in the "
                    "data directory, built on first use and reused after that.")
    # Its own dest: a subparser's default would overwrite the top-level --db.
    parser.add_argument("--db", dest="demo_db", metavar="URL",
                        help="an empty database to build into (default: demo.sqlite3 in the data directory)")
    # Defaults are resolved in run(): importing the generator here would slow down `--help`.
    parser.add_argument("--cases", type=int, metavar="N",
                        help="number of cases (default: the standard demo); staff, teams and QA history "
                             "scale with it")
    parser.add_argument("--seed", type=int, metavar="S",
                        help="random seed (default: the standard demo's); the same seed, cases and date "
                             "give the same data")
    parser.add_argument("--build-only", action="store_true", help="build, print the counts and timing, and exit")
    parser.add_argument("--hostile", action="store_true",
                        help="the hostile council: every name, title, theme and free text carries markup, terminal "
                             "escapes, spreadsheet formulas, right-to-left marks, emoji and very long words "
                             "(its own file, demo-hostile.sqlite3)")
    parser.add_argument("--rebuild", action="store_true",
                        help="delete an existing demo SQLite file and build it again")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from qa_tui.config import data_dir
    from qa_tui.dates import today_local
    from qa_tui.db.engine import Database, describe_url, sqlite_path
    from qa_tui.db.migrate import ensure_schema
    from qa_tui.demo import (
        DEFAULT_CASES,
        DEFAULT_SEED,
        DEMO_USER_STAFF_ID,
        build_demo,
        built_by_demo,
        tables_holding_data,
    )
    from qa_tui.errors import NotAllowed
    from qa_tui.identity import login_name

    config = load(args)
    today = today_of(args) or today_local()
    default_file = HOSTILE_DATABASE_FILE if args.hostile else DEMO_DATABASE_FILE
    url = args.demo_db or args.db or f"sqlite:///{data_dir() / default_file}"
    where = describe_url(url)

    def open_migrated() -> Database:
        db = Database.open(url, actor="unknown")
        try:
            db.actor = login_name(db.engine)
            ensure_schema(db.engine)
        except BaseException:
            db.dispose()
            raise
        return db

    db = open_migrated()
    try:
        with db.reader() as session:
            occupied = tables_holding_data(session)
            is_demo = built_by_demo(session)
        if occupied and args.rebuild:
            path = sqlite_path(url)
            if path is None:
                raise NotAllowed(f"--rebuild deletes a SQLite file; {where} is not one. Empty it yourself, "
                                 f"or build into another database.")
            if not is_demo:
                raise NotAllowed(f"{path} holds data the demo did not build; --rebuild deletes only demo databases.")
            db.dispose()
            for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                stale.unlink(missing_ok=True)
            db = open_migrated()
            occupied = []
        if occupied and (args.build_only or not is_demo):
            raise NotAllowed(f"{where} already holds data ({', '.join(occupied)}); the demo builds only into an "
                             f"empty database. Name another with --db, or use --rebuild on a demo SQLite file.")
        if occupied:
            print(f"Using the demo council already in {where} (--rebuild builds it again).")
        else:
            print(f"Building the demo council in {where} …", flush=True)
            summary = build_demo(db, today=today, config=config,
                                 cases=DEFAULT_CASES if args.cases is None else args.cases,
                                 seed=DEFAULT_SEED if args.seed is None else args.seed, hostile=args.hostile)
            print("\n".join(summary.lines()) if args.build_only else f"Built in {summary.seconds:.1f} s.")
    finally:
        db.dispose()
    if args.build_only:
        return 0
    return run_app(args, replace(config, database_url=url, user_staff_id=DEMO_USER_STAFF_ID))
