"""Who the user is. On PostgreSQL the database login is the identity and the person is the staff
record linked to it; on SQLite the person is the one the file is bound to (by a pull, or named at
set-up). The config's name is only a display default. `Acting` travels in each session's info so
every service and every audit-trail event knows who is acting."""

from __future__ import annotations

import getpass
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

ACTING_KEY = "acting"
CONFIG_KEY = "config"


@dataclass(frozen=True)
class Acting:
    """The person behind a unit of work: their login and, when it is linked to one, their staff
    record. `person_id` None: nobody (an unlinked login), who may look but change nothing."""

    login: str
    person_id: uuid.UUID | None = None
    staff_id: str = ""
    name: str = ""
    role: str = ""
    team_id: uuid.UUID | None = None

    @property
    def label(self) -> str:
        if self.person_id is None:
            return f"{self.login} (not linked to a staff record)"
        return f"{self.name} ({self.staff_id})"


def acting_of(session: Session) -> Acting | None:
    """Who is acting in `session`; None only for the app's own bookkeeping (building the demo,
    migrations, tests of the rules themselves), which never runs on a person's behalf."""
    value = session.info.get(ACTING_KEY)
    return value if isinstance(value, Acting) else None


def login_name(engine: Engine) -> str:
    """The identity that decides what this user may do, recorded on every audit-trail event."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT current_user")).scalar())
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
