"""The `qa-tui` command: opens the app, or runs one of the subcommands in qa_tui.commands.

Imports stay lazy so that starting the app pays only for what it uses.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each module has `register(subparsers)`, which adds its parser and sets `func(args) -> int`.
COMMAND_MODULES = (
    "qa_tui.commands.config_cmd",
    "qa_tui.commands.db_cmd",
    "qa_tui.commands.demo_cmd",
    "qa_tui.commands.import_cmd",
    "qa_tui.commands.draw_cmd",
    "qa_tui.commands.sync_cmd",
    "qa_tui.commands.report_cmd",
    "qa_tui.commands.programme_cmd",
    "qa_tui.commands.export_cmd",
    "qa_tui.commands.retention_cmd",
    "qa_tui.commands.serve_cmd",
)


def add_global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="URL", help="database URL (overrides QA_TUI_DATABASE_URL and the config file)")
    parser.add_argument("--config", metavar="FILE", help="config file (default: the user config dir's qa-tui/config.toml)")
    parser.add_argument("--today", metavar="YYYY-MM-DD", help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa-tui",
        description="Quality assurance for children's social care teams. With no command, opens the app.",
    )
    add_global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # a command module not written yet
            raise
        module.register(sub)
    return parser


class _QuietParser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]  # noqa: ANN201
        raise ValueError(message)


def app_only_args(argv: Sequence[str] | None) -> argparse.Namespace | None:
    """The arguments when they only open the app (global options, no command, no --help), read
    without building every command's parser (a tenth of a second before the first frame); else None."""
    parser = _QuietParser(prog="qa-tui", add_help=False)
    add_global_options(parser)
    try:
        args, rest = parser.parse_known_args(argv)
    except ValueError:
        return None  # a malformed option: the full parser says what is wrong
    if rest:
        return None
    args.command = None
    return args


def main(argv: Sequence[str] | None = None) -> int:
    from qa_tui.commands.common import fail, printable_output, run_app, user_errors

    with printable_output():  # what is printed shows control characters, never obeys them
        args = app_only_args(argv) or build_parser().parse_args(argv)
        with user_errors() as outcome:
            if args.command is None:
                outcome.code = run_app(args)
            else:
                outcome.code = args.func(args)
        if outcome.message:
            return fail(outcome.message)
        return outcome.code


if __name__ == "__main__":
    sys.exit(main())
