"""Who is acting in a unit of work: the login and, when it is linked to one, the staff record.
`Acting` travels in each session's info (set by `qa_tui.db.engine.Database` from the context),
so every service and every audit-trail event knows who is acting."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

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
