"""Opening a database that cannot be used as it is: a URL qa-tui does not support, a database from
a newer qa-tui, a SQLite path whose folder does not exist, a PostgreSQL login that needs a
password. On the command line: one clear line. In the app: a screen saying what it is, with the
ways on (another database, create it, the password, quit), never a traceback or "Opening…" forever."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from qa_tui.app import QAApp
from qa_tui.cli import main
from qa_tui.config import load_config
from qa_tui.db.engine import Database, make_engine
from tests.fake_pg_auth import PasswordGate
from tests.pilot import SIZE, screen_text

TODAY = date(2026, 11, 24)
SECRET = "s3cret-Pw[x]"
UNSUPPORTED = ["mysql://alex:s3cret-Pw@db.council.local/qa", "postgres://alex:s3cret-Pw@db.council.local/qa",
               "sqlserver://alex:s3cret-Pw@db.council.local/qa", "qa.sqlite3"]


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.out + captured.err, captured.err
    return lines[0]


# --- the command line -----------------------------------------------------------------------


@pytest.mark.parametrize("url", UNSUPPORTED)
@pytest.mark.parametrize("given", ["--db", "environment", "config file"])
def test_an_unsupported_url_is_one_line_naming_the_supported_forms(
        url: str, given: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    args = ["report", "owe"]
    if given == "--db":
        args = ["--db", url, *args]
    elif given == "environment":
        monkeypatch.setenv("QA_TUI_DATABASE_URL", url)
    else:
        config = tmp_path / "qa.toml"
        config.write_text(f'[database]\nurl = "{url}"\n')
        args = ["--config", str(config), *args]
    assert main(args) == 2
    line = one_line(capsys)
    assert line.startswith("qa-tui: ") and "s3cret" not in line
    assert "sqlite:///path/to/qa.sqlite3" in line and "postgresql://login@host/database" in line
    scheme = url.partition("://")[0] if "://" in url else ""
    assert (f"cannot use a {scheme}:// database" if scheme else "The database URL is not one qa-tui can use") in line
    if scheme == "postgres":
        assert "(write postgresql:// instead)" in line


@pytest.mark.parametrize("command", [["report", "owe"], ["db", "current"], ["sync", "status"],
                                     ["import", "cin-census", "census.xml", "--yes"]])
def test_a_missing_folder_is_refused_by_commands_that_expect_a_database(
        command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "typo [dir]" / "qa.sqlite3"
    assert main(["--db", f"sqlite:///{path}", *command]) == 2
    assert one_line(capsys) == (
        f"qa-tui: There is no database at {path}: the folder {path.parent} does not exist. Check the path, "
        "or create a new database there with `qa-tui --db URL db upgrade`.")
    assert not path.parent.exists()


def test_db_upgrade_makes_a_new_database_and_the_default_one_is_made_on_first_use(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "new" / "qa.sqlite3"
    assert main(["--db", f"sqlite:///{path}", "db", "upgrade"]) == 0
    assert path.exists() and main(["--db", f"sqlite:///{path}", "sync", "status"]) == 0
    default = Path(load_config().database_url.removeprefix("sqlite:///"))
    assert not default.parent.exists()  # the test's own data folder, not made yet
    assert main(["sync", "status"]) == 0 and default.exists()
    capsys.readouterr()


def test_a_login_that_needs_a_password_is_told_to_use_pgpass(
        pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PGPASSFILE", "/nonexistent/pgpass")
    monkeypatch.delenv("PGPASSWORD", raising=False)
    with PasswordGate(SECRET) as gate:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{gate.port}/{pg_url.rsplit('/', 1)[1]}"
        for command in (["sync", "status"], ["db", "current"], ["db", "upgrade"]):
            assert main(["--db", url, *command]) == 2
            line = one_line(capsys)
            assert line.startswith("qa-tui: The PostgreSQL login postgres on 127.0.0.1/") and "needs a password" in line
            assert "~/.pgpass (a line host:port:database:login:password, mode 0600)" in line
        monkeypatch.setenv("PGPASSWORD", "wrong")
        assert main(["--db", url, "sync", "status"]) == 2
        assert "was refused: check the one in ~/.pgpass" in one_line(capsys)
        monkeypatch.setenv("PGPASSWORD", SECRET)
        assert main(["--db", url, "sync", "status"]) == 0
        assert "changes waiting" in capsys.readouterr().out
        assert gate.received == ["wrong", SECRET]


# --- the app --------------------------------------------------------------------------------


def start(url: str) -> QAApp:
    return QAApp(load_config(db_override=url), today=TODAY)


async def settle(pilot) -> None:  # noqa: ANN001
    """Wait for the workers and the screen; here opening the database is meant to fail, and a
    worker that failed is reported by the app, so waiting on it must not raise."""
    from textual.worker import WorkerFailed

    for _ in range(4):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerFailed:
            pass
        await pilot.pause()


async def type_and_enter(pilot, value: str) -> None:  # noqa: ANN001
    await pilot.press(*value)
    await pilot.press("enter")
    await settle(pilot)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_app_says_it_cannot_use_the_url_and_opens_another_database(db: Database) -> None:
    app = start("mysql://alex:s3cret-Pw@db.council.local/qa")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.__class__.__name__ == "CannotOpenScreen"
        shown = screen_text(app)
        assert "qa-tui cannot use this database" in shown and "cannot use a mysql:// database" in shown
        assert "sqlite:///path/to/qa.sqlite3" in shown and "s3cret" not in shown and "Traceback" not in shown
        await pilot.press("o")
        await settle(pilot)
        await type_and_enter(pilot, "mysql://elsewhere/qa")  # refused in the dialog, typed text kept
        assert "cannot use a mysql:// database" in str(app.screen.query_one("#other-error").render())
        app.screen.query_one("#other-input").value = ""
        await type_and_enter(pilot, str(db.engine.url.database))
        assert app.screen.__class__.__name__ == "DashboardScreen"
        assert app.config.database_url == f"sqlite:///{db.engine.url.database}"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_newer_schema_says_what_it_is_and_lets_the_user_quit(db: Database, db_url: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    app = start(db_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.__class__.__name__ == "CannotOpenScreen"
        shown = screen_text(app)
        assert "This database is newer than this qa-tui" in shown and "cannot be reached" not in shown
        assert "schema '0099_from_the_future'" in shown and "Upgrade qa-tui before opening it" in shown
        assert "c create it" not in shown  # nothing to create here
        await pilot.press("q")
        await settle(pilot)
    assert app.return_code in (0, None)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_newer_schema_lets_the_user_pick_another_database_and_create_it(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    engine.dispose()
    elsewhere = tmp_path / "other [qa]" / "qa.sqlite3"
    app = start(db_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        await type_and_enter(pilot, str(elsewhere))
        assert app.screen.__class__.__name__ == "CannotOpenScreen"  # that folder does not exist: ask first
        shown = screen_text(app)
        assert "No database there yet" in shown and f"There is no database at {elsewhere}" in shown
        assert not elsewhere.parent.exists()
        await pilot.press("c")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "DashboardScreen"
    assert elsewhere.exists()


async def test_a_configured_path_in_a_missing_folder_asks_before_creating(tmp_path: Path) -> None:
    path = tmp_path / "shared drive" / "qa.sqlite3"
    app = start(f"sqlite:///{path}")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.__class__.__name__ == "CannotOpenScreen"
        assert "c create it   o open another database   q quit" in screen_text(app)
        assert not path.parent.exists()
        await pilot.press("q")
        await settle(pilot)
    assert not path.parent.exists()


async def test_the_default_database_is_made_without_asking() -> None:
    config = load_config()
    app = QAApp(config, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.__class__.__name__ == "DashboardScreen"
    assert Path(config.database_url.removeprefix("sqlite:///")).exists()


async def test_a_login_that_needs_a_password_is_asked_for_it_and_it_is_never_kept(
        pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PGPASSFILE", "/nonexistent/pgpass")
    monkeypatch.delenv("PGPASSWORD", raising=False)
    with PasswordGate(SECRET) as gate:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{gate.port}/{pg_url.rsplit('/', 1)[1]}"
        app = start(url)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.screen.__class__.__name__ == "PasswordDialog"
            assert "needs a password" in screen_text(app)
            await type_and_enter(pilot, "not it")
            assert app.screen.__class__.__name__ == "PasswordDialog"
            assert "did not accept that password: try again" in screen_text(app)
            await type_and_enter(pilot, SECRET)
            assert app.screen.__class__.__name__ == "DashboardScreen"
            assert SECRET not in app.config.database_url and SECRET not in app.sub_title
            assert SECRET not in screen_text(app)
        # the wrong one once, then the right one (once per connection the app opens with it)
        assert gate.received[0] == "not it" and set(gate.received[1:]) == {SECRET}, gate.received
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
