"""Who the user is. On PostgreSQL the database login is the identity and the person is the staff
record linked to it; on SQLite the person is the one the file is bound to (by a pull, or named at
set-up: qa_tui.services.people.owner). The config's name is only a display default."""

from __future__ import annotations

import getpass

from sqlalchemy import Engine, text


def login_name(engine: Engine) -> str:
    """The identity that decides what this user may do, recorded on every audit-trail event."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT current_user")).scalar())
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
