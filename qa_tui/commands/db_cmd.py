"""`qa-tui db upgrade|current`: apply migrations, show the schema revision."""

from __future__ import annotations

import argparse

from qa_tui.commands.common import load


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("db", help="database schema: upgrade or show the revision")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    verbs.add_parser("upgrade", help="apply migrations up to this version's schema (making a new database if none is "
                     "there)").set_defaults(func=run_upgrade)
    verbs.add_parser("current", help="print the database's schema revision").set_defaults(func=run_current)


def run_upgrade(args: argparse.Namespace) -> int:
    from qa_tui.db.engine import describe_url, make_engine
    from qa_tui.db.migrate import HEAD_REVISION, ensure_schema

    config = load(args)
    engine = make_engine(config.database_url)
    try:
        ran = ensure_schema(engine)
    finally:
        engine.dispose()
    state = "upgraded to" if ran else "already at"
    print(f"{describe_url(config.database_url)}: {state} {HEAD_REVISION}")
    return 0


def run_current(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from qa_tui.config import default_database_url
    from qa_tui.db.engine import make_engine, password_needed
    from qa_tui.db.migrate import HEAD_REVISION, current_revision

    url = load(args).database_url
    engine = make_engine(url, create_folder=url == default_database_url())  # reading never makes a folder
    try:
        revision = current_revision(engine)
    except SQLAlchemyError as exc:
        raise password_needed(exc, url) or exc from None
    finally:
        engine.dispose()
    print(f"{revision or '(empty)'} (this version's head: {HEAD_REVISION})")
    return 0
