"""`qa-tui config init|check|path`: write a starter config, validate one, show where it lives."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qa_tui.commands.common import load
from qa_tui.config import config_path


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("config", help="write, check or locate the config file")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    init = verbs.add_parser("init", help="write a commented starter config file")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(func=run_init)
    verbs.add_parser("check", help="validate the config file").set_defaults(func=run_check)
    verbs.add_parser("path", help="print where the config file is read from").set_defaults(func=run_path)


def _target(args: argparse.Namespace) -> Path:
    return Path(args.config) if args.config else config_path()


def run_init(args: argparse.Namespace) -> int:
    from qa_tui.config_file import write_starter_config

    path = _target(args)
    if path.exists() and not args.force:
        print(f"{path} already exists; use --force to overwrite it.")
        return 1
    write_starter_config(path)
    print(f"Wrote {path}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from qa_tui.db.engine import describe_url

    from qa_tui.config import url_has_password

    config = load(args)
    if url_has_password(config.database_url):  # from --db or QA_TUI_DATABASE_URL (the file's is refused on reading)
        print(f"{config.path or _target(args)}: the database URL given by --db or QA_TUI_DATABASE_URL holds a "
              "password (in the user part or as ?password=); it is not shown here. Give it through PGPASSWORD, "
              "~/.pgpass or a pg_service.conf service instead.", file=sys.stderr)
        return 2
    print(f"{config.path or _target(args)}: OK (database {describe_url(config.database_url)})")
    return 0


def run_path(args: argparse.Namespace) -> int:
    print(_target(args))
    return 0
