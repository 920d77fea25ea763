"""textual-serve's server with qa-tui's door in front of every route: each browser websocket still
starts its own app process, now with the person the door let in (proxy mode) in its environment,
and logs go to stderr with every secret hidden."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from qa_tui.commands.serve_door import (
    ENV_SERVE_TOKEN,
    VISITOR,
    HideSecrets,
    ProxyDoor,
    TokenDoor,
    Visitor,
    add_security_headers,
    origin_of,
    refusal,
    who_is_asking,
)
from qa_tui.config import ENV_DATABASE_ROLE

log = logging.getLogger("textual-serve")


class PersonAppService(AppService):
    """One app process for one browser tab. In proxy mode its environment names the login the
    door let in, which the app acts as (SET ROLE); the server's own token is never passed on."""

    def __init__(self, command: str, *, login: str | None, **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self.login = login

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width=width, height=height)
        environment.pop(ENV_SERVE_TOKEN, None)
        if self.login is not None:
            environment[ENV_DATABASE_ROLE] = self.login
        return environment


class QAServer(Server):
    def __init__(self, command: str, *, host: str, port: int, public_url: str, door: TokenDoor | ProxyDoor,
                 origins: Iterable[str], announcement: str, hidden: Iterable[str] = ()) -> None:
        super().__init__(command, host=host, port=port, title="qa-tui", public_url=public_url)
        self.door = door
        self.origins = frozenset(origins)
        self.announcement = announcement
        self.hidden = tuple(hidden)

    def initialize_logging(self) -> None:
        """Plain lines on stderr (stdout carries only the announcement), secrets hidden; no
        tracebacks with local variables, which could show a token."""
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(HideSecrets(self.hidden))
        logging.basicConfig(level=logging.DEBUG if self.debug else logging.INFO, handlers=[handler], force=True)

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        door = self.door

        @web.middleware
        async def at_the_door(request: web.Request, handler: Any) -> web.StreamResponse:
            outcome = await door.admit(request)
            if isinstance(outcome, web.StreamResponse):
                return outcome
            request[VISITOR] = outcome
            return await handler(request)

        app.middlewares.append(at_the_door)
        app.on_response_prepare.append(add_security_headers)
        return app

    async def on_startup(self, app: web.Application) -> None:
        print(self.announcement, flush=True)

    async def handle_download(self, request: web.Request) -> web.StreamResponse:
        """A file an app offers is fetched only by the person whose app it is."""
        try:
            download = await self.download_manager.get_download_metadata(request.match_info["key"])
        except KeyError:
            raise web.HTTPNotFound() from None
        if getattr(download.app_service, "login", None) != request[VISITOR].login:
            raise web.HTTPNotFound()
        return await super().handle_download(request)

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        """textual-serve's handler, with an origin check and the person's own app process.
        Browsers always send Origin; a page from another site is refused (cross-site websocket
        hijacking). A client with no Origin got here only by passing the door."""
        origin = request.headers.get("Origin")
        if origin is not None and origin_of(origin) not in self.origins:
            log.warning("Refused a websocket from origin %s", origin)
            return refusal(403, "Refused", f"Pages from {origin} may not open this app.")
        visitor: Visitor = request[VISITOR]
        log.info("Starting the app for %s (%s)", visitor.login or "the holder of the key", who_is_asking(request))
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        app_service: PersonAppService | None = None
        try:
            await websocket.prepare(request)
            app_service = PersonAppService(
                self.command, login=visitor.login, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                close=websocket.close, download_manager=self.download_manager, debug=self.debug)
            await app_service.start(width, height)
            try:
                await self._process_messages(websocket, app_service)
            finally:
                await app_service.stop()
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # noqa: BLE001 - as textual-serve: log it, end this tab only
            log.exception(error)
        finally:
            if app_service is not None:
                await app_service.stop()
        return websocket
