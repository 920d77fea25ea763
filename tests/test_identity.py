"""Who the user is cannot be set by the user: the config file's and the preferences' staff ID are
ignored, a laptop is bound by its pull, a standalone install by its owner (changed only by
`qa-tui db owner`, recorded). And a password in a database URL is never shown or stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from qa_tui import cli
from qa_tui.config import ConfigError, config_path, load_config, mask_url, url_has_password
from qa_tui.context import open_context
from qa_tui.db.engine import Database, describe_url
from qa_tui.db.models import AuditEvent, Person
from qa_tui.errors import NotAllowed
from qa_tui.preferences import Preferences, preferences_path, write_preferences
from qa_tui.services.people.owner import bind_to_puller, set_standalone_owner
from tests.conftest import TODAY
from tests.permissions_seed import seed_council


def _write_config(text: str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_config_file_and_preferences_cannot_make_you_someone_else(db: Database, db_url: str) -> None:
    """The bypass of issue 15 through the config file: a team manager names an operations lead's
    staff ID in [user] staff_id (or in preferences.toml) and would moderate as her."""
    seed_council(db)
    if db.is_sqlite:
        with db.session() as s:
            set_standalone_owner(s, "M001")
    _write_config('[user]\nstaff_id = "H001"\n')
    config = load_config(db_override=db_url)
    write_preferences(Preferences(staff_id="H002"), preferences_path(config))
    ctx = open_context(load_config(db_override=db_url), today=TODAY)
    try:
        if db.is_sqlite:
            assert ctx.person_name == "Terry Manager"
        else:  # the test's login is linked to no one: set-up, and never the config's person
            assert ctx.person_id is None and ctx.person_name == ""
    finally:
        ctx.db.dispose()


def test_a_laptops_owner_changes_only_by_pulling_again(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("a laptop is a SQLite file")
    seed_council(db)
    with db.session() as s:
        s.get(Person, s.scalar(select(Person.id).where(Person.staff_id == "M001"))).login = "terry"
        bind_to_puller(s, "terry")
    with db.session() as s, pytest.raises(NotAllowed, match="only pulling again"):
        set_standalone_owner(s, "H001")
    assert cli.main(["--db", str(db.engine.url), "db", "owner", "H001"]) != 0
    with db.session() as s:
        bind_to_puller(s, "nobody-in-particular")
    with db.reader() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "owner").order_by(AuditEvent.at)).all()
    assert [e.detail for e in events][-1].startswith("bound to nobody")


def test_a_standalone_owner_is_changed_only_by_the_command_and_recorded(db: Database,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    if not db.is_sqlite:
        pytest.skip("on PostgreSQL the login is the person")
    seed_council(db)
    url = str(db.engine.url)
    assert cli.main(["--db", url, "db", "owner"]) == 0
    assert "No owner is named yet" in capsys.readouterr().out
    assert cli.main(["--db", url, "db", "owner", "m001"]) == 0
    assert cli.main(["--db", url, "db", "owner", "H001"]) == 0
    assert cli.main(["--db", url, "db", "owner"]) == 0
    assert "Harper Head (H001), this database's owner (named at set-up or since" in capsys.readouterr().out
    with db.reader() as s:
        details = [e.detail for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "owner")
                                               .order_by(AuditEvent.at))]
    assert details == ["owner named at set-up: Terry Manager (M001)",
                       "owner changed from Terry Manager (M001) to Harper Head (H001)"]


# --- secrets ----------------------------------------------------------------------------------

SECRET = "Sup3r-S3cret"
URLS = [f"postgresql://me:{SECRET}@db.example/qa", f"postgresql://me@db.example/qa?password={SECRET}",
        f"postgresql+psycopg://me@db.example/qa?sslmode=require&PASSWORD={SECRET}"]


@pytest.mark.parametrize("url", URLS)
def test_a_password_anywhere_in_a_url_is_found_and_masked(url: str) -> None:
    assert url_has_password(url)
    assert SECRET not in mask_url(url) and SECRET not in describe_url(url) and "***" in mask_url(url)
    assert mask_url("sqlite:////tmp/qa data/qa.sqlite3") == "sqlite:////tmp/qa data/qa.sqlite3"


@pytest.mark.parametrize("url", URLS)
def test_config_check_refuses_a_password_without_showing_it(url: str, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write_config(f'[database]\nurl = "{url}"\n')
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert "holds a password" in str(refused.value) and SECRET not in str(refused.value)
    assert cli.main(["config", "check"]) != 0
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err
    path.write_text("", encoding="utf-8")
    monkeypatch.setenv("QA_TUI_DATABASE_URL", url)
    assert cli.main(["config", "check"]) == 2
    captured = capsys.readouterr()
    assert "holds a password" in captured.err and SECRET not in captured.out + captured.err
