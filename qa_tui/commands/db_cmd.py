"""`qa-tui db upgrade|current|verify|owner|permissions`: apply migrations, show the schema
revision, check the audit trail's hash chain, name a standalone SQLite install's owner, show or set
(an administrator, on PostgreSQL) which roles hold each role-level permission."""

from __future__ import annotations

import argparse

from qa_tui.commands.common import load, open_ctx


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("db", help="database schema: upgrade or show the revision")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    verbs.add_parser("upgrade", help="apply migrations up to this version's schema (making a new database if none is "
                     "there)").set_defaults(func=run_upgrade)
    verbs.add_parser("current", help="print the database's schema revision").set_defaults(func=run_current)
    verbs.add_parser("verify", help="check the audit trail: report the first broken link of its hash chain "
                     "(SQLite)").set_defaults(func=run_verify)
    owner = verbs.add_parser("owner", help="show or name the owner of a standalone SQLite install (recorded in the "
                             "audit trail); a laptop's owner is whoever pulled it")
    owner.add_argument("staff_id", nargs="?", metavar="STAFF_ID", help="the owner's staff ID (omit to show)")
    owner.set_defaults(func=run_owner)
    permissions = verbs.add_parser("permissions", help="show which roles hold each role-level permission; on "
                                   "PostgreSQL an administrator stores them from this config's [permissions]")
    permissions.add_argument("--from-config", action="store_true",
                             help="store this config's [permissions] in the shared database (administrators)")
    permissions.set_defaults(func=run_permissions)


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


def run_verify(args: argparse.Namespace) -> int:
    """Exit 0 when the trail's chain holds, 1 (with the first broken link) when it does not."""
    from qa_tui.db.chain import verify_chain

    ctx = open_ctx(args)
    try:
        with ctx.db.engine.connect() as conn:
            report = verify_chain(conn)
    finally:
        ctx.db.dispose()
    if not ctx.db.is_sqlite:
        print("On PostgreSQL the trail is kept by the database itself (grants and triggers); nothing to verify here.")
        return 0
    if report.ok:
        redacted = f", {report.redacted} emptied by the retention purge" if report.redacted else ""
        print(f"The audit trail holds: {report.events} events, every link intact{redacted}.")
        return 0
    print(f"The audit trail is broken: {report.problem}. {report.sealed} events before it are intact.")
    return 1


def run_owner(args: argparse.Namespace) -> int:
    from qa_tui.services.people.owner import laptop_owner, owner_bound_by, pulled_by, set_standalone_owner

    ctx = open_ctx(args)
    try:
        if args.staff_id:
            with ctx.db.session() as session:
                person = set_standalone_owner(session, args.staff_id)
            print(f"This database's owner is now {person.name} ({person.staff_id}); the change is in the audit trail.")
            return 0
        with ctx.db.reader() as session:
            person, how, puller = laptop_owner(session), owner_bound_by(session), pulled_by(session)
    finally:
        ctx.db.dispose()
    if not ctx.db.is_sqlite:
        print(f"On the shared database you are your login, {ctx.login}"
              + (f": {ctx.person_name}." if ctx.person_name else ", which is linked to no staff record."))
    elif how is None:
        print("No owner is named yet: qa-tui db owner STAFF_ID (or start the app and answer its question).")
    elif person is None:
        print(f"This laptop was pulled by {puller}, whose login is linked to no staff record: it may look, not change.")
    else:
        print(f"{person.name} ({person.staff_id}), " + (f"bound when {puller} pulled this laptop."
                                                        if how == "pull" else "this database's owner (named at "
                                                        "set-up or since with qa-tui db owner; each change is in "
                                                        "the audit trail)."))
    return 0


def run_permissions(args: argparse.Namespace) -> int:
    from qa_tui.config import ROLE_NAMES
    from qa_tui.services.people.role_permissions import role_permission_rows, store_role_permissions

    ctx = open_ctx(args)
    try:
        if args.from_config and ctx.db.is_sqlite:
            print("A SQLite database reads [permissions] from its own config; there is nothing to store.")
            return 1
        with ctx.db.session() as session:
            rows = (store_role_permissions(session, ctx.config.permissions) if args.from_config
                    else role_permission_rows(session))
    finally:
        ctx.db.dispose()
    source = "this config's [permissions]" if ctx.db.is_sqlite else "the shared database (an administrator's to change)"
    print(f"Who holds each role-level permission, from {source}:")
    for row in rows:
        print(f"  {row.permission}: {', '.join(ROLE_NAMES.get(r, r) for r in row.roles) or 'nobody'}")
    return 0
