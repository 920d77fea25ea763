"""What every service call needs, opened once per process: config, database, the acting person."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from qa_tui.config import Config
from qa_tui.db.engine import Database


@dataclass
class AppContext:
    config: Config
    db: Database
    login: str
    person_id: uuid.UUID | None = None
    person_name: str = ""
    team_id: uuid.UUID | None = None
    today_override: date | None = None
    # A standalone SQLite file with people but no owner named yet: the app asks at first run.
    owner_needed: bool = False
    # What the person may do by their role (qa_tui.services.people.permissions.ROLE_LEVEL): the
    # screens grey out the rest; the services decide in any case.
    permissions: frozenset[str] = frozenset()

    def may(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def person_role(self) -> str:
        """The acting person's role code ("" for nobody), as read with who they are."""
        acting = self.db.acting
        return acting.role if acting is not None else ""

    def today(self) -> date:
        from qa_tui.dates import today_local

        return self.today_override or today_local()


def open_context(config: Config, *, migrate: bool = True, today: date | None = None, create: bool = False,
                 password: str | None = None) -> AppContext:
    """Open the database named by the config, migrate it when behind, and resolve the user.

    A SQLite file in a folder that does not exist is refused (NoDatabaseFolder) unless `create`
    or it is the default file in qa-tui's own data folder. `password`: one typed for this session
    for a PostgreSQL login; a login that needs one raises PasswordNeeded."""
    from qa_tui.config import default_database_url
    from qa_tui.db.engine import Database, password_needed
    from qa_tui.errors import DatabaseUnavailable
    from qa_tui.db.migrate import ensure_schema
    from qa_tui.identity import login_name
    from sqlalchemy.exc import SQLAlchemyError

    create = create or config.database_url == default_database_url()
    db = Database.open(config.database_url, actor="unknown", create_folder=create, password=password,
                       role=config.database_role)
    try:
        login = login_name(db.engine)
        if migrate:
            ensure_schema(db.engine)
    except SQLAlchemyError as exc:
        db.dispose()
        raise password_needed(exc, config.database_url) or DatabaseUnavailable(_explain(exc)) from None
    except DatabaseUnavailable:
        db.dispose()
        raise
    db.actor = login
    ctx = AppContext(config=config, db=db, login=login, today_override=today)
    refresh_identity(ctx)
    return ctx


def refresh_identity(ctx: AppContext) -> None:
    """Work out who acts for this context from the database (the login on PostgreSQL, the file's
    owner on SQLite; never the config's staff ID) and label every later session with it. The
    config's team is only the default team shown."""
    from qa_tui.services.people.directory import team_by_code
    from qa_tui.services.people.owner import acting_person, has_people, owner_bound_by
    from qa_tui.services.people.permissions import role_permissions

    ctx.db.config = ctx.config
    with ctx.db.reader() as session:
        acting = acting_person(session, ctx.login)
        team = team_by_code(session, ctx.config.user_team) if ctx.config.user_team else None
        ctx.owner_needed = ctx.db.is_sqlite and owner_bound_by(session) is None and has_people(session)
    ctx.db.acting = acting
    with ctx.db.reader() as session:
        ctx.permissions = role_permissions(session, ctx.config)
    ctx.person_id, ctx.person_name = (acting.person_id, acting.name) if acting else (None, "")
    ctx.team_id = team.id if team is not None else acting.team_id if acting else None


def _explain(exc: Exception) -> str:
    orig = getattr(exc, "orig", None) or exc
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else exc.__class__.__name__
    return f"Cannot reach the database: {first}"
