"""The door of `qa-tui serve`: who may open the app in a browser, decided for every request (page,
static file, websocket, download) before textual-serve sees it.

Token mode (the default): a secret printed once at start, in the address or in the cookie the
first visit with it sets; anyone else, including other accounts on the same computer, gets a
refusal page. Proxy mode: a reverse proxy that has signed the person in names them in a header,
believed only from the proxy's own addresses; every other request is refused."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode, urlsplit

from aiohttp import web

ENV_SERVE_TOKEN = "QA_TUI_SERVE_TOKEN"
TOKEN_PARAMETER = "token"
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,}")
DEFAULT_PORTS = {"http": 80, "https": 443}
INDEX, WEBSOCKET = "/", "/ws"


log = logging.getLogger("qa_tui.serve")


@dataclass(frozen=True)
class Visitor:
    """Who a request comes from: in proxy mode the database login the proxy named; in token mode
    None, and the app runs as the account and database login of `qa-tui serve` itself."""

    login: str | None = None


VISITOR = web.RequestKey("qa_tui_visitor", Visitor)  # set on every request the door lets in


# --- addresses and origins --------------------------------------------------------------------


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


def peer_address(request: web.Request) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The TCP peer of the request (never X-Forwarded-For, which anyone can write)."""
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if not isinstance(peer, tuple) or not peer:
        return None
    try:
        address = ipaddress.ip_address(str(peer[0]).split("%", 1)[0])
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


# --- pages and log lines ----------------------------------------------------------------------


def refusal(status: int, heading: str, detail: str) -> web.Response:
    """A short page saying why; never the app, and nothing the visitor sent read as HTML."""
    body = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>qa-tui</title></head>"
            "<body style=\"font-family: sans-serif; max-width: 40em; margin: 4em auto; line-height: 1.5\">"
            f"<h1>{escape(heading)}</h1><p>{escape(detail)}</p></body></html>")
    return web.Response(status=status, text=body, content_type="text/html", headers={"Cache-Control": "no-store"})


def redirect(status: int, location: str) -> web.Response:
    return web.Response(status=status, headers={"Location": location, "Cache-Control": "no-store"})


async def add_security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """On every response: no page of another site may frame the app, and no address (which may
    hold the token) is sent on as a Referer, not even to the font server the page uses."""
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")


class HideSecrets(logging.Filter):
    """Every log line (aiohttp's access log with its request line and Referer, textual-serve's,
    tracebacks) passes through here: a token parameter and the token itself are hidden."""

    PARAMETER = re.compile(rf"({TOKEN_PARAMETER}=)[^&\s\"']*")

    def __init__(self, hidden: Iterable[str]) -> None:
        super().__init__()
        self.hidden = tuple(h for h in hidden if h)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, None
        message = self.PARAMETER.sub(r"\1[hidden]", message)
        for secret in self.hidden:
            message = message.replace(secret, "[hidden]")
        record.msg, record.args = message, None
        return True


def who_is_asking(request: web.Request) -> str:
    return f"{request.method} {request.path} from {peer_address(request) or 'an unknown address'}"


# --- token mode -------------------------------------------------------------------------------


def serve_token(environ: Mapping[str, str]) -> str:
    """The token from QA_TUI_SERVE_TOKEN (for scripted use), else a new random one."""
    given = environ.get(ENV_SERVE_TOKEN)
    if given is None:
        return secrets.token_urlsafe(32)
    if not TOKEN_SHAPE.fullmatch(given):
        raise ValueError(f"{ENV_SERVE_TOKEN} must be at least 32 letters, digits, '-' or '_' (make one with: "
                         "python3 -c 'import secrets; print(secrets.token_urlsafe(32))')")
    return given


class TokenDoor:
    """Lets in a request carrying the token (in the address or the cookie); anyone else is refused.
    The first page visit with the token in its address sets the cookie and is sent on to the same
    address without it, so the token does not stay in the address bar, the history or a Referer."""

    def __init__(self, token: str, *, port: int, secure: bool, canonical_host: str | None) -> None:
        self._token = token.encode()
        # Cookies ignore ports: each server on this computer needs a name of its own.
        self.cookie = f"qa-tui-{port}"
        self.secure = secure
        # Without --public-url the page connects back to the address qa-tui printed; a page opened
        # by another name for it (localhost) is sent there first, so its cookie is the one sent.
        self.canonical_host = canonical_host

    def matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self._token)

    async def admit(self, request: web.Request) -> Visitor | web.StreamResponse:
        in_address = request.query.get(TOKEN_PARAMETER)
        if request.path == INDEX and self.canonical_host and request.host != self.canonical_host:
            scheme = "https" if self.secure else "http"
            return redirect(307, f"{scheme}://{self.canonical_host}{request.path_qs}")
        if not (self.matches(in_address) or self.matches(request.cookies.get(self.cookie))):
            log.warning("Refused %s: %s", who_is_asking(request),
                        "a wrong token" if in_address is not None else "no token")
            return refusal(401, "This address needs its key",
                           "Open qa-tui with the whole address that qa-tui serve printed when it started "
                           "(it ends with ?token=…). Ask the person who started it if it was not you.")
        if request.path == INDEX and in_address is not None:
            rest = [(k, v) for k, v in request.query.items() if k != TOKEN_PARAMETER]
            response = redirect(303, request.path + (f"?{urlencode(rest)}" if rest else ""))
            response.set_cookie(self.cookie, in_address, httponly=True, samesite="Strict", secure=self.secure,
                                path="/")
            return response
        return Visitor()


# --- proxy mode -------------------------------------------------------------------------------


class ProxyDoor:
    """Lets in a request only from the proxy's addresses, naming its person in `header`; the page
    and the websocket also only when `login_problem(name)` finds nothing wrong with that login."""

    def __init__(self, header: str, addresses: Iterable[str], login_problem: Callable[[str], str]) -> None:
        self.header = header
        self.networks = tuple(ipaddress.ip_network(a, strict=False) for a in addresses)
        self.login_problem = login_problem

    def from_proxy(self, request: web.Request) -> bool:
        peer = peer_address(request)
        return peer is not None and any(peer in network for network in self.networks)

    async def admit(self, request: web.Request) -> Visitor | web.StreamResponse:
        if not self.from_proxy(request):
            log.warning("Refused %s: not the sign-in proxy", who_is_asking(request))
            return refusal(403, "Sign in first",
                           "qa-tui is reached only through your council's sign-in page. Use the address your "
                           "IT team gave you for it.")
        names = request.headers.getall(self.header, [])
        if len(names) != 1 or not names[0].strip():
            log.warning("Refused %s: the proxy sent %d %s headers", who_is_asking(request), len(names), self.header)
            return refusal(401, "The sign-in did not say who you are",
                           f"The sign-in proxy must pass your user name in one {self.header} header. "
                           "Ask your IT team to check its settings.")
        name = names[0]
        if request.path in (INDEX, WEBSOCKET):
            try:
                problem = await asyncio.to_thread(self.login_problem, name)
            except Exception as exc:  # noqa: BLE001 - the database is down: say so, never the app
                log.error("Could not check %s for %s: %s", name, who_is_asking(request), exc.__class__.__name__)
                return refusal(503, "The qa-tui database cannot be reached",
                               "Try again in a few minutes; if it goes on, tell your IT team.")
            if problem:
                log.warning("Refused %s for %s: %s", who_is_asking(request), name, problem)
                return refusal(403, f"{name} cannot use qa-tui yet", f"{problem} Ask your qa-tui administrator "
                                                                     "to link your sign-in to your staff record.")
        return Visitor(login=name)
