"""`qa-tui serve`: network addresses are refused without the sign-in flag; the page is served on
localhost, websockets from other sites are refused, and headless Chromium shows the dashboard."""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from qa_tui.cli import main
from qa_tui.commands.serve_cmd import allowed_origins, is_loopback, origin_of
from qa_tui.db.engine import Database, make_engine
from qa_tui.db.migrate import upgrade
from qa_tui.demo import DEMO_USER_STAFF_ID, build_demo
from tests.conftest import TODAY
from tests.terminal import ANSI

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")
# Seen on the dashboard of the demo's first team manager: the panel titles and the team.
DASHBOARD_TEXT = ("Live audits this month", "Moderation queue", "Assessment Team 1")

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


def test_network_addresses_need_the_sign_in_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "refusing to listen on 0.0.0.0" in err and "--i-have-put-this-behind-sign-in" in err
    assert "docs/browser.md" in err
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


# --- a real server on a small demo database ---------------------------------------------------


@dataclass
class Served:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    port = free_port()
    log = root / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "qa_tui", "--db", url, "--today", TODAY.isoformat(), "serve", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    served = Served(f"http://127.0.0.1:{port}/", port, process, log)
    try:
        wait_until_listening(served)
        yield served
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until_listening(served: Served, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if served.process.poll() is not None:
            pytest.fail(f"qa-tui serve exited with {served.process.returncode}:\n{served.log_text()}")
        try:
            socket.create_connection(("127.0.0.1", served.port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"qa-tui serve did not listen within {timeout} s:\n{served.log_text()}")


async def test_the_page_is_served_and_other_sites_are_refused(served: Served) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(served.url) as response:
            assert response.status == 200
            page = await response.text()
        assert f'data-session-websocket-url="ws://127.0.0.1:{served.port}/ws"' in page
        assert "textual.js" in page and "<div>qa-tui</div>" in page
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(f"ws://127.0.0.1:{served.port}/ws", headers={"Origin": "http://evil.example"})
        assert refused.value.status == 403
    assert "Refused a websocket from origin http://evil.example" in served.log_text()


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
        result = await self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result["result"].get("value")


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


def app_processes(group: int) -> list[str]:
    """Command lines of the app processes the server started (its process group, not itself)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            stat = (proc / "stat").read_text()
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        pgid = int(stat.rsplit(")", 1)[1].split()[2])
        if pgid == group and int(proc.name) != group and b"qa_tui" in args:
            found.append(b" ".join(args).decode(errors="replace"))
    return found


async def test_the_dashboard_appears_in_headless_chromium(served: Served, tmp_path: Path) -> None:
    browser, devtools_url = start_chromium(tmp_path / "profile")
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(devtools_url, max_msg_size=0) as ws:
            page = DevTools(ws)
            await page.open_page(1280, 800)
            await page.call("Page.addScriptToEvaluateOnNewDocument", {"source": WEBSOCKET_TAP})
            await page.call("Page.navigate", {"url": served.url})
            shown, spawned = await wait_for_dashboard(page, served.process.pid)
            shot = base64.b64decode((await page.call("Page.captureScreenshot", {"format": "png"}))["data"])
            first_byte = await page.evaluate("document.body.classList.contains('-first-byte')")
    finally:
        os.killpg(browser.pid, signal.SIGTERM)
        browser.wait(timeout=10)
    (tmp_path / "dashboard.png").write_bytes(shot)
    missing = [text for text in DASHBOARD_TEXT if text not in shown]
    assert not missing, f"{missing} never reached the browser; it received:\n{shown[-2000:]}\n{served.log_text()}"
    assert first_byte, "textual.js never marked the first byte of the app's output as received"
    assert any(f"--today {TODAY.isoformat()}" in p for p in spawned), spawned  # the browser's own app process
    assert distinct_colours(shot) >= 6, f"the screenshot looks blank: {tmp_path / 'dashboard.png'}"


async def wait_for_dashboard(page: DevTools, server_group: int, timeout: float = 45) -> tuple[str, list[str]]:
    """The text the app has sent to the browser (once the dashboard is in it), and the app
    processes running meanwhile."""
    end, shown, spawned = time.monotonic() + timeout, "", []
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
