"""`qa-tui serve`: the same app in a web browser (textual-serve), one app process per browser tab,
behind a door: a secret token it prints (the default), or the council's sign-in proxy naming each
person, who then works as their own PostgreSQL login ([serve] mode = "proxy")."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from qa_tui.commands.common import fail, load, open_ctx, today_of

if TYPE_CHECKING:
    from qa_tui.commands.serve_door import ProxyDoor, TokenDoor
    from qa_tui.config import Config

SIGN_IN_FLAG = "--i-have-put-this-behind-sign-in"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "serve", help="use the app from a web browser: with the key it prints, or behind your council's sign-in",
        description="Serve qa-tui to a web browser with textual-serve; each browser tab runs its own copy of "
                    "the app. By default it prints an address holding a secret key (QA_TUI_SERVE_TOKEN sets it "
                    "for scripts) and refuses anyone without it; it listens on 127.0.0.1, this computer only. "
                    "With [serve] mode = \"proxy\" in the config, your council's reverse proxy signs people in "
                    "and each works as their own database login (docs/browser.md).")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}: this computer only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})")
    parser.add_argument("--public-url", metavar="URL",
                        help="the address people type, when a reverse proxy stands in front "
                             "(e.g. https://qa.example.gov.uk); the browser connects back to it")
    parser.add_argument(SIGN_IN_FLAG, dest="behind_sign_in", action="store_true",
                        help="in token mode, allow a network address: only once a reverse proxy with TLS (and "
                             "your council's sign-in) is the only way to reach it")
    parser.set_defaults(func=run)


def app_command(args: argparse.Namespace) -> str:
    """The command each browser tab runs. The database and config reach it through the
    environment, so a password in a database URL never shows in the process list."""
    command = [sys.executable, "-m", "qa_tui"]
    if args.today:
        command += ["--today", args.today]
    return shlex.join(command)


def run(args: argparse.Namespace) -> int:
    from qa_tui.commands.serve_door import allowed_origins, is_loopback
    from qa_tui.config import ENV_CONFIG_FILE, ENV_DATABASE_URL

    config = load(args)
    proxy = config.serve.mode == "proxy"
    if not proxy and not is_loopback(args.host) and not args.behind_sign_in:
        return fail(f"refusing to listen on {args.host}: it can be reached from the network, where the address "
                    "with its key would travel unencrypted. Put it behind a reverse proxy with TLS and your "
                    f"council's sign-in (docs/browser.md) and then add {SIGN_IN_FLAG}, or leave --host at "
                    f"{DEFAULT_HOST}.")
    if not 1 <= args.port <= 65535:
        return fail(f"--port: expected 1 to 65535, got {args.port}")
    url_host = f"[{args.host}]" if ":" in args.host else args.host
    public_url = (args.public_url or f"http://{url_host}:{args.port}").rstrip("/")
    if proxy:
        if not args.public_url:
            return fail("proxy mode: give --public-url, the address of your sign-in proxy that people type "
                        "(e.g. https://qa.example.gov.uk); the page connects back through it")
        opened = proxy_door(args, config)
        if isinstance(opened, str):
            return fail(opened)
        door: TokenDoor | ProxyDoor = opened
        hidden: tuple[str, ...] = ()
        announcement = (f"qa-tui is ready behind your sign-in proxy at {public_url}\n"
                        f"It takes the user name in {config.serve.user_header} only from "
                        f"{', '.join(config.serve.proxy_addresses)};\nevery other request is refused.\n\n"
                        "Press Ctrl+C to stop.")
    else:
        door, hidden, announcement = token_door(args, config, public_url)
    if args.db:
        os.environ[ENV_DATABASE_URL] = args.db
    if args.config:
        os.environ[ENV_CONFIG_FILE] = str(Path(args.config).resolve())

    from qa_tui.commands.serve_server import QAServer

    server = QAServer(app_command(args), host=args.host, port=args.port, public_url=public_url, door=door,
                      origins=allowed_origins(public_url, args.host, args.port), announcement=announcement,
                      hidden=hidden)
    server.serve()
    return 0


def token_door(args: argparse.Namespace, config: Config, public_url: str) -> tuple[TokenDoor, tuple[str], str]:
    """The token door, its secret (to hide from the logs) and the lines that print the address."""
    from urllib.parse import urlsplit

    from qa_tui.commands.serve_door import TokenDoor, serve_token
    from qa_tui.errors import ValidationError

    try:
        token = serve_token(os.environ)
    except ValueError as exc:
        raise ValidationError("QA_TUI_SERVE_TOKEN", str(exc)) from None
    ctx = open_ctx(args, config)  # fail now, once, if the database cannot be opened; migrate it once
    ctx.db.dispose()
    door = TokenDoor(token, port=args.port, secure=public_url.startswith("https:"),
                     canonical_host=None if args.public_url else urlsplit(public_url).netloc)
    announcement = ("qa-tui is ready for your web browser. Open this address; it holds the key,\n"
                    "so anyone with it can use the app as you. Keep it to yourself:\n\n"
                    f"    {public_url}/?token={token}\n\nPress Ctrl+C to stop.")
    return door, (token,), announcement


def proxy_door(args: argparse.Namespace, config: Config) -> ProxyDoor | str:
    """The proxy door over the authenticator login, or why it cannot be opened."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from qa_tui.commands.serve_door import ProxyDoor
    from qa_tui.config import ENV_DATABASE_ROLE
    from qa_tui.db.engine import describe_url, make_engine
    from qa_tui.db.roles import authenticator_problem, person_login_problem

    if make_url(config.database_url).get_backend_name() != "postgresql":
        return ("proxy mode needs the shared PostgreSQL database, where each person has their own login; a "
                "SQLite file has one owner (use the default token mode for it)")
    if config.database_role:
        return f"proxy mode chooses each person's database login itself: unset {ENV_DATABASE_ROLE}"
    engine = make_engine(config.database_url)
    try:
        problem = authenticator_problem(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        return f"cannot reach {describe_url(config.database_url)}: {detail[0] if detail else exc.__class__.__name__}"
    if problem:
        engine.dispose()
        return f"proxy mode: {problem}"
    fixed_today = today_of(args)

    def login_problem(name: str) -> str:
        from qa_tui.dates import today_local

        return person_login_problem(engine, name, fixed_today or today_local())

    return ProxyDoor(config.serve.user_header, config.serve.proxy_addresses, login_problem)
