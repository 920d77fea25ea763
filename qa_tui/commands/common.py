"""What every subcommand shares: loading config, opening the database, user-facing errors, and
output that never carries a control character from the data to the terminal."""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from qa_tui.config import Config, ConfigError, load_config
from qa_tui.text import printable

if TYPE_CHECKING:
    from qa_tui.context import AppContext


@dataclass
class Outcome:
    code: int = 0
    message: str = ""


class PrintableStream(io.TextIOBase):
    """Standard output or error for a command: everything written reaches `terminal` with its
    control characters (an ESC from a name in a file, a BEL) made visible, so printing a record
    can never clear the screen or retitle the window. The command's own control output (a
    progress line's carriage return) is written to `terminal` directly."""

    def __init__(self, terminal: TextIO) -> None:
        super().__init__()
        self.terminal = terminal

    def write(self, text: str) -> int:
        self.terminal.write(printable(text))
        return len(text)

    def flush(self) -> None:
        self.terminal.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.terminal.isatty()

    def fileno(self) -> int:
        return self.terminal.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.terminal, "encoding", "utf-8")


@contextmanager
def printable_output() -> Iterator[None]:
    """While a command runs, what it prints goes through `PrintableStream` (the app's own screen
    is drawn on the real terminal, which Textual opens itself)."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = PrintableStream(sys.stdout), PrintableStream(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def terminal(stream: TextIO) -> TextIO:
    """The stream under a `PrintableStream`, for the command's own control characters."""
    return stream.terminal if isinstance(stream, PrintableStream) else stream


def fail(message: str, code: int = 2) -> int:
    print(f"qa-tui: {message}", file=sys.stderr)
    return code


@contextmanager
def user_errors() -> Iterator[Outcome]:
    """Turn the errors a user can cause into one clear line and exit code 2; no traceback."""
    from qa_tui.errors import QAError

    outcome = Outcome()
    try:
        yield outcome
    except (ConfigError, QAError) as exc:
        outcome.message, outcome.code = str(exc), 2
    except KeyboardInterrupt:
        outcome.message, outcome.code = "interrupted", 130
    except BrokenPipeError:
        outcome.code = 0
    except Exception as exc:  # noqa: BLE001 - last resort: a database driver error, a full disk
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, (SQLAlchemyError, OSError)):
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            outcome.message = f"{exc.__class__.__name__}: {detail[0] if detail else ''}"
            outcome.code = 2
        else:
            raise


def load(args: argparse.Namespace) -> Config:
    """The config file with the user's saved preferences applied; a bad preferences file is
    reported and ignored, so every command (and the app) still runs."""
    from qa_tui.preferences import apply_preferences, saved_preferences

    config = load_config(Path(args.config) if args.config else None, db_override=args.db)
    saved = saved_preferences(config)
    if saved.problem:
        print(f"qa-tui: warning: {saved.problem}", file=sys.stderr)
    return apply_preferences(config, saved.preferences)


def today_of(args: argparse.Namespace) -> date | None:
    if not getattr(args, "today", None):
        return None
    try:
        return date.fromisoformat(args.today)
    except ValueError:
        from qa_tui.errors import ValidationError

        raise ValidationError("--today", f"expected YYYY-MM-DD, got {args.today!r}") from None


def ask_key_if_encrypted(config: Config) -> None:
    """An encrypted SQLite file may need its key typed before anything takes the terminal.
    The URL is checked as text first so ordinary start-ups import nothing more."""
    if config.database_url.startswith("sqlite+pysqlcipher"):
        from qa_tui.db.engine import ask_for_key

        ask_for_key(config.database_url)


def open_ctx(args: argparse.Namespace, config: Config | None = None, *, create: bool = False) -> AppContext:
    """The database for a command. Commands expect an existing database: a SQLite file in a folder
    that does not exist is refused with one line, unless `create` (a command that makes one)."""
    from qa_tui.context import open_context

    config = config or load(args)
    ask_key_if_encrypted(config)
    return open_context(config, today=today_of(args), create=create)


def run_app(args: argparse.Namespace, config: Config | None = None) -> int:
    """Open the Textual app. The database opens inside the app, after the first frame."""
    config = config or load(args)
    ask_key_if_encrypted(config)
    from qa_tui.app import QAApp

    app = QAApp(config, today=today_of(args))
    app.run()
    return app.return_code or 0
