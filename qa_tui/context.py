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
    person_role: str = ""
    team_id: uuid.UUID | None = None
    today_override: date | None = None

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
    from qa_tui.services.people.directory import resolve_user

    with db.reader() as session:
        user = resolve_user(session, login=login, staff_id=config.user_staff_id, team_code=config.user_team)
    if user is not None:
        ctx.person_id, ctx.person_name, ctx.team_id = user.id, user.name, user.team_id
        ctx.person_role = user.role
    return ctx


def _explain(exc: Exception) -> str:
    orig = getattr(exc, "orig", None) or exc
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else exc.__class__.__name__
    return f"Cannot reach the database: {first}"
