"""`qa-tui serve` in its default token mode: the key it prints is the only way in (page, static
files, websocket), it is never logged nor passed to the app, network addresses need the sign-in
flag, other sites' pages are refused, and headless Chromium shows the dashboard only with the key."""

from __future__ import annotations

import asyncio
import base64
import itertools
import logging
import os
import re
import secrets
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from qa_tui.cli import main
from qa_tui.commands.serve_door import (
    ENV_SERVE_TOKEN,
    HideSecrets,
    ProxyDoor,
    TokenDoor,
    Visitor,
    allowed_origins,
    is_loopback,
    origin_of,
    serve_token,
)
from qa_tui.db.engine import Database, make_engine
from qa_tui.db.migrate import upgrade
from qa_tui.demo import DEMO_USER_STAFF_ID, build_demo
from tests.conftest import TODAY
from tests.served import AppProcess, Served, app_processes, start_serve
from tests.terminal import ANSI

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")
# Seen on the dashboard of the demo's first team manager: the panel titles and the team.
DASHBOARD_TEXT = ("Live audits this month", "Moderation queue", "Assessment Team 1")
REFUSED_PAGE = "This address needs its key"

# Runs in the page before textual.js: keeps a copy of everything the app sends to the browser,
# because xterm.js draws on a canvas and the text never reaches the DOM.
WEBSOCKET_TAP = r"""
(() => {
  window.__qaReceived = [];
  const Native = window.WebSocket;
  function Tapped(url, protocols) {
    const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    const decoder = new TextDecoder();
    ws.addEventListener('message', (event) => {
      window.__qaReceived.push(typeof event.data === 'string' ? event.data
        : decoder.decode(new Uint8Array(event.data), {stream: true}));
    });
    return ws;
  }
  Tapped.prototype = Native.prototype;
  Object.assign(Tapped, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  window.WebSocket = Tapped;
})();
"""

# Opens the app's websocket from the page it runs in: "opened" or "refused".
TRY_WEBSOCKET = """
new Promise((resolve) => {
  const ws = new WebSocket('ws://127.0.0.1:PORT/ws?width=80&height=24');
  ws.onopen = () => { ws.close(); resolve('opened'); };
  ws.onerror = () => resolve('refused');
  setTimeout(() => resolve('no answer'), 10000);
})
"""


def test_network_addresses_need_the_sign_in_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "refusing to listen on 0.0.0.0" in err and "--i-have-put-this-behind-sign-in" in err
    assert "docs/browser.md" in err and "unencrypted" in err
    assert main(["serve", "--host", "qa.example.gov.uk"]) == 2  # a name may resolve to anything
    assert [is_loopback(h) for h in ("127.0.0.1", "127.8.0.1", "::1", "[::1]", "localhost", "10.0.0.5", "::")] == [
        True, True, True, True, True, False, False]


def test_only_the_apps_own_pages_may_open_its_websocket() -> None:
    assert origin_of("HTTPS://QA.example.gov.uk:443/path") == "https://qa.example.gov.uk"
    assert origin_of("http://[::1]:8000") == "http://[::1]:8000"
    local = allowed_origins("http://127.0.0.1:8000", "127.0.0.1", 8000)
    assert local == {"http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"}
    proxied = allowed_origins("https://qa.example.gov.uk", "10.1.2.3", 8000)
    assert proxied == {"https://qa.example.gov.uk"}


def test_the_token_is_made_fresh_or_given_for_scripts_and_a_weak_one_is_refused(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    made = {serve_token({}) for _ in range(3)}
    assert len(made) == 3 and all(len(t) >= 43 for t in made)
    chosen = "k" * 20 + "-_" + "9" * 20
    assert serve_token({ENV_SERVE_TOKEN: chosen}) == chosen
    for weak in ("", "letmein", "a" * 31, "a+b/c=" * 8):
        with pytest.raises(ValueError, match="at least 32"):
            serve_token({ENV_SERVE_TOKEN: weak})
    monkeypatch.setenv(ENV_SERVE_TOKEN, "letmein")
    assert main(["serve"]) == 2
    assert "QA_TUI_SERVE_TOKEN" in capsys.readouterr().err


async def test_the_cookie_is_secure_behind_https_and_the_proxy_is_known_by_its_address() -> None:
    token = "t" * 43
    door = TokenDoor(token, port=8000, secure=True, canonical_host=None)
    first = await door.admit(make_mocked_request("GET", f"/?token={token}"))
    assert isinstance(first, web.Response) and first.status == 303
    cookie = first.cookies["qa-tui-8000"]
    assert (cookie.value, cookie["secure"], cookie["httponly"], cookie["samesite"]) == (token, True, True, "Strict")
    again = await door.admit(make_mocked_request("GET", "/ws", headers={"Cookie": f"qa-tui-8000={token}"}))
    assert again == Visitor()

    def peer(address: object) -> web.Request:
        transport = mock.Mock()
        transport.get_extra_info.return_value = address
        return make_mocked_request("GET", "/static/x", headers={"X-Forwarded-User": "alex"}, transport=transport)

    proxy = ProxyDoor("X-Forwarded-User", ["10.20.0.0/24", "::1"], lambda name: "")
    assert proxy.from_proxy(peer(("10.20.0.5", 51000)))
    assert proxy.from_proxy(peer(("::ffff:10.20.0.9", 51000, 0, 0)))  # IPv4 seen on an IPv6 socket
    assert proxy.from_proxy(peer(("::1", 51000, 0, 0)))
    for elsewhere in [("10.20.1.5", 51000), ("127.0.0.1", 51000), "/run/qa-tui.sock", None]:
        assert not proxy.from_proxy(peer(elsewhere)), elsewhere
    assert await proxy.admit(peer(("10.20.0.5", 51000))) == Visitor(login="alex")


def test_log_lines_hide_the_token_wherever_it_appears() -> None:
    secret = "S3cr3t-t0ken-value_that-is-long-enough-0123"
    record = logging.LogRecord("aiohttp.access", logging.INFO, __file__, 1, '%s "GET /?token=%s&x=1" "%s"',
                               ("127.0.0.1", "anything-at-all", f"http://127.0.0.1:8000/?token={secret}"), None)
    try:
        raise RuntimeError(f"failed with {secret}")
    except RuntimeError:
        failed = logging.LogRecord("textual-serve", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    hide = HideSecrets([secret])
    assert hide.filter(record) and hide.filter(failed)
    assert record.getMessage() == '127.0.0.1 "GET /?token=[hidden]&x=1" "http://127.0.0.1:8000/?token=[hidden]"'
    assert secret not in failed.getMessage() and "failed with [hidden]" in failed.getMessage()
    assert failed.exc_info is None


# --- a real server on a small demo database ---------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("serve")
    url = f"sqlite:///{root / 'demo.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    db = Database.open(url, actor="tester")
    build_demo(db, today=TODAY, cases=60)
    db.dispose()
    (root / "config").mkdir()
    (root / "config" / "config.toml").write_text(f'[user]\nstaff_id = "{DEMO_USER_STAFF_ID}"\n', encoding="utf-8")
    env = {**os.environ, "QA_TUI_CONFIG": str(root / "config" / "config.toml"), "QA_TUI_DATA_DIR": str(root / "data"),
           "TEXTUAL_ANIMATIONS": "none"}
    # Given as a script would give it, so the test can see that it is never passed on to the app.
    env[ENV_SERVE_TOKEN] = secrets.token_urlsafe(32)
    served = start_serve(root, ["--db", url, "--today", TODAY.isoformat()], [], env, ready_text="?token=")
    try:
        yield served
    finally:
        served.stop()


def token_of(served: Served) -> str:
    found = re.findall(rf"{re.escape(served.url)}\?token=([A-Za-z0-9_-]+)", served.printed())
    assert len(found) == 1, f"the address with its key should be printed once:\n{served.printed()}"
    return found[0]


def assert_the_token_is_never_logged(served: Served, token: str) -> None:
    log = served.log()
    assert "aiohttp.access" in log, "the access log is on, so there is something to check"
    assert token not in log, "the token reached the server's log"
    assert "?token=[hidden]" in log
    assert served.printed().count(token) == 1


async def test_nothing_is_served_without_the_token(served: Served) -> None:
    token, base, ws = token_of(served), served.url, f"ws://127.0.0.1:{served.port}/ws"
    async with aiohttp.ClientSession() as http:
        for path in ("", "static/js/textual.js", "static/css/xterm.css", "static/", "download/anything"):
            async with http.get(base + path) as response:
                assert response.status == 401, path
                assert REFUSED_PAGE in await response.text() and "textual" not in await response.text()
        async with http.get(f"{base}?token={token[:-1]}x") as response:
            assert response.status == 401
        for headers in ({}, {"Origin": f"http://127.0.0.1:{served.port}"}):  # no Origin is no way in
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(ws, headers=headers)
            assert refused.value.status == 401
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(f"{ws}?token={token}", headers={"Origin": "http://evil.example"})
        assert refused.value.status == 403
        # Opened by another name for this computer: sent to the printed address, key and all.
        async with http.get(f"http://localhost:{served.port}/?token={token}", allow_redirects=False) as response:
            assert response.status == 307
            assert response.headers["Location"] == f"{base}?token={token}"
        assert app_processes(served.process.pid) == {}, "a refused request started the app"
        async with http.get(f"{base}?token={token}&fontsize=14", allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == "/?fontsize=14"
            cookie = response.headers["Set-Cookie"]
            assert response.headers["Referrer-Policy"] == "no-referrer"
    assert cookie.startswith(f"qa-tui-{served.port}={token};")
    assert {"HttpOnly", "Path=/", "SameSite=Strict"} <= {p.strip() for p in cookie.split(";")}
    assert "Secure" not in cookie  # plain http on this computer; https public addresses get Secure
    async with aiohttp.ClientSession(cookies={f"qa-tui-{served.port}": token}) as http:
        async with http.get(base) as response:
            assert response.status == 200
            page = await response.text()
        async with http.get(base + "static/js/textual.js") as response:
            assert response.status == 200
    assert f'data-session-websocket-url="ws://127.0.0.1:{served.port}/ws"' in page and "textual.js" in page
    assert "Refused a websocket from origin http://evil.example" in served.log()
    assert "Refused GET / from 127.0.0.1: no token" in served.log()
    assert_the_token_is_never_logged(served, token)


# --- headless Chromium, driven over the DevTools protocol -------------------------------------


class DevTools:
    """Just enough of the Chrome DevTools protocol: one page, commands and their replies."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws, self.ids, self.session = ws, itertools.count(1), ""

    async def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        ident = next(self.ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if self.session:
            message["sessionId"] = self.session
        await self.ws.send_json(message)
        while True:
            reply = await self.ws.receive_json(timeout=30)
            if reply.get("id") == ident:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return dict(reply["result"])

    async def open_page(self, width: int, height: int) -> None:
        target = (await self.call("Target.createTarget", {"url": "about:blank"}))["targetId"]
        self.session = (await self.call("Target.attachToTarget", {"targetId": target, "flatten": True}))["sessionId"]
        await self.call("Page.enable")
        await self.call("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate",
                                 {"expression": expression, "returnByValue": True, "awaitPromise": True})
        return result["result"].get("value")

    async def go(self, url: str, timeout: float = 30) -> None:
        """Navigate and wait until the new page (not the one before it) has loaded."""
        await self.evaluate("window.__qaLeaving = true")
        await self.call("Page.navigate", {"url": url})
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if await self.evaluate("!window.__qaLeaving && document.readyState === 'complete'"):
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{url} did not load within {timeout} s")


def start_chromium(profile: Path, timeout: float = 30) -> tuple[subprocess.Popen[bytes], str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("Chromium is not installed, so the browser page cannot be tested: "
                    "install it (apt-get install -y chromium); .ci/run should do this.")
    log = profile.with_suffix(".log")  # a file, not a pipe: Chromium keeps writing and must never block
    with log.open("wb") as out:
        process = subprocess.Popen([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                                    "--remote-debugging-port=0", "about:blank"],
                                   stdout=subprocess.DEVNULL, stderr=out, start_new_session=True)
    end = time.monotonic() + timeout
    while time.monotonic() < end and process.poll() is None:
        if found := re.search(r"DevTools listening on (ws://\S+)", log.read_text(errors="replace")):
            return process, found.group(1)
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    pytest.fail("Chromium did not start:\n" + log.read_text(errors="replace")[-3000:])


async def test_headless_chromium_shows_nothing_without_the_token_and_the_dashboard_with_it(
        served: Served, tmp_path: Path) -> None:
    token = token_of(served)
    browser, devtools_url = start_chromium(tmp_path / "profile")
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(devtools_url, max_msg_size=0) as ws:
            page = DevTools(ws)
            await page.open_page(1280, 800)
            await page.call("Page.addScriptToEvaluateOnNewDocument", {"source": WEBSOCKET_TAP})
            await page.go(served.url)
            refused_text = await page.evaluate("document.body.innerText")
            terminal = await page.evaluate("document.getElementById('terminal') !== null")
            from_refused_page = await page.evaluate(TRY_WEBSOCKET.replace("PORT", str(served.port)))
            received_before = await page.evaluate("window.__qaReceived.length")
            spawned_before = app_processes(served.process.pid)

            await page.go(f"{served.url}?token={token}")
            shown, spawned = await wait_for_dashboard(page, served.process.pid)
            address = await page.evaluate("location.href")
            script_cookies = await page.evaluate("document.cookie")
            shot = base64.b64decode((await page.call("Page.captureScreenshot", {"format": "png"}))["data"])
            first_byte = await page.evaluate("document.body.classList.contains('-first-byte')")
    finally:
        os.killpg(browser.pid, signal.SIGTERM)
        browser.wait(timeout=10)
    assert REFUSED_PAGE in refused_text and not terminal
    assert from_refused_page == "refused" and received_before == 0 and spawned_before == {}
    (tmp_path / "dashboard.png").write_bytes(shot)
    missing = [text for text in DASHBOARD_TEXT if text not in shown]
    assert not missing, f"{missing} never reached the browser; it received:\n{shown[-2000:]}\n{served.log()}"
    assert first_byte, "textual.js never marked the first byte of the app's output as received"
    assert address == served.url, "the key should not stay in the address bar"
    assert script_cookies == "", "the cookie must be HttpOnly, out of reach of scripts"
    assert distinct_colours(shot) >= 6, f"the screenshot looks blank: {tmp_path / 'dashboard.png'}"
    assert spawned, "no app process was seen"
    for app in spawned.values():
        assert f"--today {TODAY.isoformat()}" in app.command
        assert ENV_SERVE_TOKEN not in app.environment and token not in "\0".join(app.environment.values())
    assert_the_token_is_never_logged(served, token)


async def wait_for_dashboard(page: DevTools, server_group: int, timeout: float = 45) -> tuple[str, dict[int, AppProcess]]:
    """The text the app has sent to the browser (once the dashboard is in it), and the app
    processes (with their environment read) running meanwhile."""
    end, shown, spawned = time.monotonic() + timeout, "", {}
    while time.monotonic() < end:
        received = await page.evaluate("(window.__qaReceived || []).join('')") or ""
        shown = ANSI.sub(b"", received.encode("utf-8")).decode("utf-8", "replace")
        spawned = spawned or app_processes(server_group)
        if all(text in shown for text in DASHBOARD_TEXT):
            await asyncio.sleep(0.5)  # let xterm.js draw the last frame before the screenshot
            break
        await asyncio.sleep(0.3)
    return shown, spawned


def distinct_colours(png: bytes) -> int:
    """How many different colours an 8-bit RGB(A) PNG holds (a blank page has one or two)."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n"), "not a PNG"
    width = height = 0
    channels, data, at = 4, b"", 8
    while at < len(png):
        length, kind = struct.unpack(">I4s", png[at:at + 8])
        chunk = png[at + 8:at + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour_type in (2, 6), f"unexpected PNG format {depth}/{colour_type}"
            channels = 3 if colour_type == 2 else 4
        elif kind == b"IDAT":
            data += chunk
        at += 12 + length
    raw, stride = zlib.decompress(data), width * channels
    previous, colours = bytearray(stride), set()
    for y in range(height):
        filter_type, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up, corner = previous[x], previous[x - channels] if x >= channels else 0
            if filter_type == 1:
                line[x] = (line[x] + left) & 0xFF
            elif filter_type == 2:
                line[x] = (line[x] + up) & 0xFF
            elif filter_type == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif filter_type == 4:
                p = left + up - corner
                nearest = min((abs(p - left), 0, left), (abs(p - up), 1, up), (abs(p - corner), 2, corner))[2]
                line[x] = (line[x] + nearest) & 0xFF
        colours.update(bytes(line[i:i + 3]) for i in range(0, stride, channels * 7))  # every 7th pixel
        previous = line
    return len(colours)
