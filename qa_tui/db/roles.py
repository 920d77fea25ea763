"""Acting as a person's own PostgreSQL login through one authenticator login (the pattern PostgREST
uses): `qa-tui serve` in proxy mode connects as the authenticator and each person's app runs
`SET ROLE <their login>` on every connection, so `current_user` — and with it the audit trail, the
permission rules and the database's grants — is that person. Also the checks made before that."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine, event, select, text
from sqlalchemy.exc import DBAPIError

from qa_tui.db.models import Person
from qa_tui.errors import DatabaseUnavailable

# PostgreSQL truncates identifiers to 63 bytes (NAMEDATALEN - 1): a longer name is another role.
MAX_ROLE_BYTES = 63
PERMISSION_DENIED = "42501"  # insufficient_privilege


def act_as(engine: Engine, role: str) -> None:
    """Make every new connection of `engine` act as `role` before anything else runs on it.
    The session-level SET survives the pool's rollback on return; a failure to SET fails the
    connection, so nothing ever runs as the authenticator itself."""
    if engine.dialect.name != "postgresql":
        raise DatabaseUnavailable("Acting as another database login needs PostgreSQL; a SQLite file has one owner.")
    problem = role_name_problem(role)
    if problem:
        raise DatabaseUnavailable(problem)
    statement = f"SET ROLE {engine.dialect.identifier_preparer.quote_identifier(role)}"

    def set_role(dbapi_connection: Any, _record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # outside a transaction, so no rollback undoes it
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(statement)
        finally:
            dbapi_connection.autocommit = autocommit

    event.listen(engine, "connect", set_role, insert=True)


def is_permission_denied(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == PERMISSION_DENIED


def role_name_problem(name: str) -> str:
    """Why `name` cannot be a login's name, or "" when it can be."""
    if not name:
        return "No user name was given."
    if len(name.encode("utf-8")) > MAX_ROLE_BYTES:
        return f"The user name is longer than PostgreSQL's {MAX_ROLE_BYTES} bytes, so it cannot be a login."
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "The user name holds control characters."
    return ""


def authenticator_problem(engine: Engine) -> str:
    """Why the login of `engine` must not be the web server's authenticator, or "" when it may.
    A superuser could become anyone and keeps its powers after RESET ROLE; a login that inherits
    holds every person's privileges at once. The documented set-up is LOGIN NOINHERIT."""
    with engine.connect() as conn:
        login, superuser, inherits = conn.execute(text(
            "SELECT rolname, rolsuper, rolinherit FROM pg_roles WHERE rolname = current_user")).one()
    if superuser:
        return (f"the database login {login} is a superuser: connect qa-tui serve as a login made for it "
                "(CREATE ROLE qa_tui_web LOGIN NOINHERIT; see docs/browser.md)")
    if inherits:
        return (f"the database login {login} inherits the privileges of the roles granted to it, so it would "
                f"hold every person's at once: ALTER ROLE {engine.dialect.identifier_preparer.quote(login)} "
                "NOINHERIT (see docs/browser.md)")
    return ""


def person_login_problem(engine: Engine, name: str, today: date) -> str:
    """Why the person signed in as `name` may not use qa-tui through this authenticator, or ""
    when they may: `name` must be a PostgreSQL role (not a superuser) granted to the
    authenticator and, acting as it, a person record still in post must be linked to it."""
    problem = role_name_problem(name)
    if problem:
        return problem
    quoted = engine.dialect.identifier_preparer.quote_identifier(name)
    # One transaction, never committed: SET LOCAL ROLE ends with it.
    with engine.connect() as conn:
        role = conn.execute(text("SELECT rolsuper, pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles "
                                 "WHERE rolname = :name"), {"name": name}).one_or_none()
        if role is None:
            return f"{name} has no login to the qa-tui database."
        superuser, granted = role
        if superuser:
            return f"{name} is a database superuser; qa-tui does not act as a superuser from a browser."
        if not granted:
            return (f"{name} has a database login, but the web server's login has not been granted it "
                    "(see docs/browser.md).")
        try:
            conn.execute(text(f"SET LOCAL ROLE {quoted}"))
        except DBAPIError as exc:
            if not is_permission_denied(exc):
                raise
            return f"{name} has a database login, but the web server's login may not act as it (see docs/browser.md)."
        try:
            person = conn.execute(select(Person.name, Person.active_to).where(Person.login == name)).one_or_none()
        except DBAPIError as exc:
            if not is_permission_denied(exc):
                raise
            return f"The login {name} may not read the qa-tui database (it needs GRANT qa_tui_app)."
    if person is None:
        return f"The login {name} is not linked to anyone's staff record in qa-tui."
    if person.active_to is not None and person.active_to < today:
        return f"The staff record linked to {name} ended on {person.active_to:%-d %B %Y}."
    return ""
