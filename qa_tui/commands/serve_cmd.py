"""`qa-tui serve`: the same app in a web browser (textual-serve), one app process per browser tab.
It listens on this computer only unless told the council has put it behind its own sign-in."""

from __future__ import annotations

import argparse
import ipaddress
import os
import shlex
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from qa_tui.commands.common import fail, load, open_ctx

SIGN_IN_FLAG = "--i-have-put-this-behind-sign-in"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_PORTS = {"http": 80, "https": 443}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "serve", help="use the app from a web browser (this computer only, unless behind your sign-in)",
        description="Serve qa-tui to a web browser with textual-serve. Each browser tab runs its own copy "
                    "of the app, as the account running this command. It listens on 127.0.0.1 (this "
                    "computer only) by default; qa-tui has no sign-in of its own, so before listening on a "
                    "network address put it behind your council's sign-in (docs/browser.md).")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}: this computer only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})")
    parser.add_argument("--public-url", metavar="URL",
                        help="the address people type, when a reverse proxy stands in front "
                             "(e.g. https://qa.example.gov.uk); the browser connects back to it")
    parser.add_argument(SIGN_IN_FLAG, dest="behind_sign_in", action="store_true",
                        help="allow a network address: only once a reverse proxy with your council's "
                             "sign-in and TLS is the only way to reach it")
    parser.set_defaults(func=run)


def is_loopback(host: str) -> bool:
    """True for addresses only this computer can reach. A name other than localhost may resolve
    anywhere, so it counts as a network address."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def origin_of(url: str) -> str:
    """A URL's origin as a browser sends it: scheme://host[:port], default ports left out."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    return f"{scheme}://{host}" + (f":{port}" if port and port != DEFAULT_PORTS.get(scheme) else "")


def allowed_origins(public_url: str, host: str, port: int) -> frozenset[str]:
    """Pages allowed to open the app's websocket: the public address, and on this computer the
    usual names for it. Any other page a user has open (another site) is refused."""
    origins = {origin_of(public_url)}
    if is_loopback(host):
        origins |= {origin_of(f"http://{name}:{port}") for name in ("localhost", "127.0.0.1", "[::1]")}
    return frozenset(origins)


def origin_guard(handler: Callable[[Any], Awaitable[Any]], origins: Iterable[str]) -> Callable[[Any], Awaitable[Any]]:
    """Wrap the websocket handler so a page from another site cannot drive the app in the user's
    name (cross-site websocket hijacking, DNS rebinding). Browsers always send Origin."""
    allowed = frozenset(origins)

    async def guarded(request: Any) -> Any:
        from aiohttp import web

        origin = request.headers.get("Origin")
        if origin is not None and origin_of(origin) not in allowed:
            import logging

            logging.getLogger("textual-serve").warning("Refused a websocket from origin %s", origin)
            raise web.HTTPForbidden(text=f"qa-tui: pages from {origin} may not open this app.")
        return await handler(request)

    return guarded


def app_command(args: argparse.Namespace) -> str:
    """The command each browser tab runs. The database and config reach it through the
    environment, so a password in a database URL never shows in the process list."""
    command = [sys.executable, "-m", "qa_tui"]
    if args.today:
        command += ["--today", args.today]
    return shlex.join(command)


def run(args: argparse.Namespace) -> int:
    from qa_tui.config import ENV_CONFIG_FILE, ENV_DATABASE_URL

    if not is_loopback(args.host) and not args.behind_sign_in:
        return fail(f"refusing to listen on {args.host}: it can be reached from the network, and qa-tui has no "
                    "sign-in of its own, so anyone who reached it would use the app as you. Put it behind your "
                    f"council's sign-in (docs/browser.md) and then add {SIGN_IN_FLAG}, or leave --host at "
                    f"{DEFAULT_HOST}.")
    if not 1 <= args.port <= 65535:
        return fail(f"--port: expected 1 to 65535, got {args.port}")
    config = load(args)
    ctx = open_ctx(args, config)  # fail now, once, if the database cannot be opened; migrate it once
    ctx.db.dispose()
    if args.db:
        os.environ[ENV_DATABASE_URL] = args.db
    if args.config:
        os.environ[ENV_CONFIG_FILE] = str(Path(args.config).resolve())

    from textual_serve.server import Server

    url_host = f"[{args.host}]" if ":" in args.host else args.host
    public_url = args.public_url or f"http://{url_host}:{args.port}"
    server = Server(app_command(args), host=args.host, port=args.port, title="qa-tui", public_url=public_url)
    server.handle_websocket = origin_guard(  # type: ignore[method-assign]
        server.handle_websocket, allowed_origins(public_url, args.host, args.port))
    if not is_loopback(args.host):
        print(f"qa-tui: listening on {args.host}:{args.port}; it must be reachable only through your sign-in.",
              file=sys.stderr)
    server.serve()
    return 0
