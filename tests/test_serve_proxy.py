"""`qa-tui serve` behind a sign-in proxy ([serve] mode = "proxy") on PostgreSQL: two people open
the app at once through a small signing-in reverse proxy, each as their own database login (SET
ROLE from one authenticator login); each sees their own name, moderates the other's audit and is
refused their own, and the trail names each. A header from anywhere but the proxy is refused, and
so is a user name without a login, and the server will not start on a wrong footing."""

from __future__ import annotations

import asyncio
import base64
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from qa_tui.cli import main
from qa_tui.db.engine import Database
from qa_tui.db.models import Audit, AuditEvent, Moderation, Person
from qa_tui.errors import DatabaseUnavailable
from qa_tui.services.audits import record as audits
from tests.conftest import PG_ADMIN_URL, TODAY
from tests.served import Served, app_processes, start_serve
from tests.terminal import ANSI
from tests.test_audits import CFG, LIVE, Org, grade_everything, seed_org
from tests.test_data_protection import raw_moderation

HEADER = "X-Forwarded-User"
PROXY_CONFIG = '[serve]\nmode = "proxy"\nuser_header = "X-Forwarded-User"\nproxy_addresses = ["127.0.0.1"]\n'
READY = "every other request is refused"
KEYS = {"enter": "\r", "down": "\x1b[B", "escape": "\x1b"}
# Hop-by-hop and per-connection headers a proxy never forwards as they are.
NOT_FORWARDED = {"connection", "upgrade", "keep-alive", "transfer-encoding", "host", "authorization",
                 "content-length", "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions",
                 "sec-websocket-protocol", "sec-websocket-accept"}


def signed_in(user: str) -> dict[str, str]:
    return {"Authorization": aiohttp.encode_basic_auth(user, "password")}


def quoted(role: str) -> str:
    return '"' + role.replace('"', '""') + '"'


@dataclass
class Council:
    """A database with two moderators who each sent an audit of their own for moderation, their
    PostgreSQL logins, and the authenticator login the web server uses."""

    db: Database
    org: Org
    web_url: str
    harper: str  # Harper Head's login (HOS)
    sasha: str  # Sasha Senior's login (SM)
    unlinked: str  # a login with no staff record
    leaver: str  # the login of a staff record that has ended
    ungranted: str  # a login the authenticator was not granted
    outsider: str  # a login linked to a person but not granted the app's role
    harpers_audit: uuid.UUID
    sashas_audit: uuid.UUID


def send_own_audit(db: Database, org: Org, auditor: uuid.UUID, case: uuid.UUID, sent: date) -> uuid.UUID:
    with db.session() as s:
        dto = audits.start_audit(s, kind="live", template=LIVE, case_id=case, worker_id=org.worker_id,
                                 auditor_id=auditor, team_id=org.team_id, audit_date=date(2026, 11, 10),
                                 today=TODAY, cfg=CFG)
    grade_everything(db, dto.id)
    with db.session() as s:
        audits.submit_for_moderation(s, dto.id, sent)
    return dto.id


@pytest.fixture
def council(db_url: str) -> Iterator[Council]:
    suffix = uuid.uuid4().hex[:8]
    # Names as a council's sign-in gives them (an address, an apostrophe, a quote), quoted throughout.
    names = {"web": f"qa_tui_web_{suffix}", "harper": f"harper.head+{suffix}@example.gov.uk",
             "sasha": f"sasha \"o'neil\" {suffix}", "unlinked": f"pat.unlinked.{suffix}",
             "leaver": f"lee.leaver.{suffix}", "ungranted": f"una.ungranted.{suffix}",
             "outsider": f"olly.outsider.{suffix}"}
    people = ("harper", "sasha", "unlinked", "leaver", "ungranted", "outsider")
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {quoted(names['web'])} LOGIN NOINHERIT"))
        for key in people:
            conn.execute(text(f"CREATE ROLE {quoted(names[key])} LOGIN"))
            if key != "outsider":
                conn.execute(text(f"GRANT qa_tui_app TO {quoted(names[key])}"))
            if key != "ungranted":
                conn.execute(text(f"GRANT {quoted(names[key])} TO {quoted(names['web'])}"))
    db = Database.open(db_url, actor="tester")
    org = seed_org(db)
    with db.session() as s:
        s.execute(update(Person).where(Person.id == org.moderator_id).values(login=names["harper"]))
        s.execute(update(Person).where(Person.id == org.senior_id).values(login=names["sasha"]))
        s.execute(update(Person).where(Person.id == org.participant_id).values(
            login=names["leaver"], active_to=TODAY - timedelta(days=30)))
        s.execute(update(Person).where(Person.id == org.worker_id).values(login=names["ungranted"]))
        s.execute(update(Person).where(Person.id == org.auditor_id).values(login=names["outsider"]))
    harpers = send_own_audit(db, org, org.moderator_id, org.case_id, TODAY - timedelta(days=2))
    sashas = send_own_audit(db, org, org.senior_id, org.other_case_id, TODAY - timedelta(days=1))
    web_url = make_url(db_url).set(username=names["web"]).render_as_string(hide_password=False)
    try:
        yield Council(db, org, web_url, names["harper"], names["sasha"], names["unlinked"], names["leaver"],
                      names["ungranted"], names["outsider"], harpers, sashas)
    finally:
        db.dispose()
        with admin.connect() as conn:
            roles = [names["web"], *(names[key] for key in people)]
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ANY(:r)"),
                         {"r": roles})
            for role in roles:
                conn.execute(text(f"DROP ROLE IF EXISTS {quoted(role)}"))
        admin.dispose()


def start_proxy_mode(council: Council, tmp_path: Path, public_url: str) -> Served:
    config = tmp_path / "config.toml"
    config.write_text(PROXY_CONFIG, encoding="utf-8")
    env = {**os.environ, "QA_TUI_CONFIG": str(config), "QA_TUI_DATA_DIR": str(tmp_path / "data"),
           "TEXTUAL_ANIMATIONS": "none"}
    return start_serve(tmp_path, ["--db", council.web_url, "--today", TODAY.isoformat()],
                       ["--public-url", public_url], env, ready_text=READY)


# --- a small signing-in reverse proxy, as nginx with auth_basic -------------------------------


class SignInProxy:
    """Signs people in with HTTP basic authentication and names them to qa-tui in the user
    header, which it always sets itself: a user header sent by the browser is dropped."""

    def __init__(self) -> None:
        self.upstream = ""
        self.port = 0
        self.runner: web.AppRunner | None = None
        self.http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SignInProxy:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]
        self.http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *_: Any) -> None:
        assert self.http is not None and self.runner is not None
        await self.http.close()
        await self.runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        assert self.http is not None
        if "Authorization" not in request.headers:
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="council"'})
        user = base64.b64decode(request.headers["Authorization"].split(" ", 1)[1]).decode().split(":", 1)[0]
        headers = {k: v for k, v in request.headers.items() if k.lower() not in NOT_FORWARDED | {HEADER.lower()}}
        headers[HEADER] = user
        url = self.upstream + request.path_qs
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self.websocket(request, url, headers)
        async with self.http.request(request.method, url, headers=headers, data=await request.read(),
                                     allow_redirects=False) as answer:
            body = await answer.read()
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in NOT_FORWARDED | {"content-encoding"}}
            return web.Response(status=answer.status, body=body, headers=kept)

    async def websocket(self, request: web.Request, url: str, headers: dict[str, str]) -> web.StreamResponse:
        assert self.http is not None
        try:
            upstream = await self.http.ws_connect(url, headers=headers, max_msg_size=0)
        except aiohttp.WSServerHandshakeError as refused:
            return web.Response(status=refused.status, text="refused by qa-tui")
        downstream = web.WebSocketResponse(max_msg_size=0)
        await downstream.prepare(request)

        async def pump(source: Any, sink: Any) -> None:
            async for message in source:
                if message.type == aiohttp.WSMsgType.TEXT:
                    await sink.send_str(message.data)
                elif message.type == aiohttp.WSMsgType.BINARY:
                    await sink.send_bytes(message.data)
            await sink.close()

        await asyncio.gather(pump(downstream, upstream), pump(upstream, downstream), return_exceptions=True)
        return downstream


class Tab:
    """One browser tab's websocket to the app, as textual.js uses it: keys in, the screen out."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws, self.seen = ws, b""
        self.reader = asyncio.create_task(self.read())

    async def read(self) -> None:
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.BINARY:
                self.seen += message.data

    def text(self) -> str:
        return ANSI.sub(b"", self.seen).decode("utf-8", "replace")

    async def wait_for(self, needle: str, timeout: float = 30) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if needle in self.text():
                return self.text()
            await asyncio.sleep(0.1)
        raise AssertionError(f"{needle!r} did not appear; the tab shows: {self.text()[-2000:]!r}")

    async def press(self, *keys: str) -> None:
        self.seen = b""
        for key in keys:
            await self.ws.send_json(["stdin", KEYS.get(key, key)])
            await asyncio.sleep(0.15)

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()


async def open_tab(http: aiohttp.ClientSession, proxy: SignInProxy) -> Tab:
    ws = await http.ws_connect(f"ws://127.0.0.1:{proxy.port}/ws?width=100&height=30", max_msg_size=0)
    return Tab(ws)


async def agree_with(tab: Tab, *, auditor: str, comment: str, then: str) -> str:
    """On the highlighted audit of the moderation list: open it, agree with a comment, and wait
    for `then` (the app's answer)."""
    await tab.press("enter")
    await tab.wait_for(f"audited by {auditor}")
    await tab.press("a")
    await tab.wait_for("Agree the auditor's grades")
    await tab.press(*comment, "enter")
    return await tab.wait_for(then)


def events(db: Database, action: str, table: str, record: uuid.UUID | None = None) -> list[AuditEvent]:
    with db.reader() as s:
        stmt = select(AuditEvent).where(AuditEvent.action == action, AuditEvent.table_name == table)
        if record is not None:
            stmt = stmt.where(AuditEvent.record_id == str(record))
        return list(s.scalars(stmt))


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_two_people_work_at_once_each_as_themselves(council: Council, tmp_path: Path) -> None:
    harpers_note, sashas_note = 'Agreed [b]fully[/b] - "fair"', "Agreed; [/] well evidenced"
    async with SignInProxy() as proxy:
        served = start_proxy_mode(council, tmp_path, proxy.url.rstrip("/"))
        proxy.upstream = f"http://127.0.0.1:{served.port}"
        try:
            async with aiohttp.ClientSession(headers=signed_in(council.harper)) as as_harper, \
                    aiohttp.ClientSession(
                        headers={**signed_in(council.sasha), HEADER: council.harper}) as as_sasha:  # a forged header
                async with as_harper.get(proxy.url) as page:
                    assert page.status == 200 and "textual.js" in await page.text()
                harper, sasha = await asyncio.gather(open_tab(as_harper, proxy), open_tab(as_sasha, proxy))
                # Both at once, each named in the header line with their own record.
                await asyncio.gather(harper.wait_for("Harper Head · postgresql"),
                                     sasha.wait_for("Sasha Senior · postgresql"))
                assert "Sasha Senior · postgresql" not in harper.text()
                assert "Harper Head · postgresql" not in sasha.text()
                roles = {app.environment.get("QA_TUI_DATABASE_ROLE")
                         for app in app_processes(served.process.pid).values()}
                assert roles == {council.harper, council.sasha}

                await harper.press("m")
                await harper.wait_for("2 audits")
                await agree_with(harper, auditor="Harper Head", comment="mine", then="who was not involved")
                await sasha.press("m")
                await sasha.wait_for("2 audits")
                await sasha.press("down")
                await agree_with(sasha, auditor="Sasha Senior", comment="mine", then="who was not involved")

                await harper.press("escape")
                await harper.wait_for("2 audits")
                await harper.press("down")
                await agree_with(harper, auditor="Sasha Senior", comment=harpers_note, then="Grades agreed.")
                await sasha.press("escape", "d", "m")  # back to the list, read again
                await sasha.wait_for("1 audits")
                await agree_with(sasha, auditor="Harper Head", comment=sashas_note, then="Grades agreed.")
                await asyncio.gather(harper.close(), sasha.close())
        finally:
            served.stop()
    assert "Refused" not in served.log(), served.log()

    db, org = council.db, council.org
    with db.reader() as s:
        moderations = {(m.audit_id, m.moderator_id, m.outcome, m.comment) for m in s.scalars(select(Moderation))}
        statuses = {a.id: (a.status, a.updated_by) for a in s.scalars(select(Audit))}
    assert moderations == {(council.sashas_audit, org.moderator_id, "agreed", harpers_note),
                           (council.harpers_audit, org.senior_id, "agreed", sashas_note)}
    assert statuses == {council.sashas_audit: ("moderated", council.harper),
                        council.harpers_audit: ("moderated", council.sasha)}
    # The trail names each person by their own login: refusals and moderations alike.
    refusals = {(e.actor, e.record_id, "as the auditor" in (e.detail or "")) for e in events(db, "refused", "audit")}
    assert refusals == {(council.harper, str(council.harpers_audit), True),
                        (council.sasha, str(council.sashas_audit), True)}
    assert {e.actor for e in events(db, "insert", "moderation")} == {council.harper, council.sasha}
    assert council.harper in {e.actor for e in events(db, "update", "audit", council.sashas_audit)}

    # Acting as Harper, the database itself refuses her moderation of her own audit.
    as_harper_db = Database.open(council.web_url, actor=council.harper, role=council.harper)
    try:
        with pytest.raises(IntegrityError, match="separation of duties"):
            with as_harper_db.session() as s:
                assert s.scalar(text("SELECT current_user")) == council.harper
                s.execute(raw_moderation(council.harpers_audit, org.moderator_id))
    finally:
        as_harper_db.dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_only_the_proxy_is_believed_and_only_people_with_a_login_get_in(
        council: Council, tmp_path: Path) -> None:
    async with SignInProxy() as proxy:
        served = start_proxy_mode(council, tmp_path, proxy.url.rstrip("/"))
        proxy.upstream = f"http://127.0.0.1:{served.port}"
        base, ws = served.url, f"ws://127.0.0.1:{served.port}/ws"
        try:
            # From an address not in proxy_addresses (this computer, but not the proxy): refused.
            elsewhere = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
            async with aiohttp.ClientSession(connector=elsewhere, headers={HEADER: council.harper}) as http:
                for path in ("", "static/js/textual.js"):
                    async with http.get(base + path) as response:
                        assert response.status == 403 and "Sign in first" in await response.text()
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(ws)
                assert refused.value.status == 403
            async with aiohttp.ClientSession() as http:  # from the proxy's address, but naming nobody
                async with http.get(base) as response:
                    assert response.status == 401 and "did not say who you are" in await response.text()
                async with http.get(base, headers=[(HEADER, council.harper), (HEADER, council.sasha)]) as response:
                    assert response.status == 401
            for who, expected in [(council.unlinked, "is not linked to anyone's staff record"),
                                  (f"nobody.{council.harper}", "has no login to the qa-tui database"),
                                  (council.leaver, "ended on"),
                                  (council.ungranted, "has not been granted it"),
                                  (council.outsider, "needs GRANT qa_tui_app"),
                                  ("<script>alert(1)</script>", "has no login")]:
                async with aiohttp.ClientSession(headers=signed_in(who)) as http:
                    async with http.get(proxy.url) as response:
                        page = await response.text()
                        assert response.status == 403, who
                        assert expected in page.replace("&#x27;", "'") and "textual.js" not in page, page
                    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                        await http.ws_connect(f"ws://127.0.0.1:{proxy.port}/ws")
                    assert refused.value.status == 403
            assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
            assert app_processes(served.process.pid) == {}, "a refused request started the app"
        finally:
            served.stop()
    log = served.log()
    assert "Refused GET / from 127.0.0.2: not the sign-in proxy" in log
    assert f"for {council.unlinked}: The login {council.unlinked} is not linked" in log


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_proxy_mode_refuses_to_start_on_a_wrong_footing(db_url: str, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "proxy.toml"
    config.write_text(PROXY_CONFIG, encoding="utf-8")

    def serve(url: str, *extra: str) -> str:
        assert main(["--db", url, "--config", str(config), "serve", *extra]) == 2
        return capsys.readouterr().err

    if db_url.startswith("sqlite"):
        assert "needs the shared PostgreSQL database" in serve(db_url, "--public-url", "https://qa.example")
        return
    assert "give --public-url" in serve(db_url)
    assert "is a superuser" in serve(db_url, "--public-url", "https://qa.example")  # the test login, postgres
    role = f"qa_tui_inherits_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN INHERIT"))
    try:
        inherits = make_url(db_url).set(username=role).render_as_string(hide_password=False)
        assert f"ALTER ROLE {role} NOINHERIT" in serve(inherits, "--public-url", "https://qa.example")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP ROLE {role}"))
        admin.dispose()


def test_acting_as_a_login_needs_postgresql_and_a_name_that_can_be_one(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnavailable, match="needs PostgreSQL"):
        Database.open(f"sqlite:///{tmp_path / 'laptop.sqlite3'}", actor="x", role="alex")
    for name, problem in [("a" * 64, "longer than PostgreSQL's 63 bytes"), ("alex\nsmith", "control characters")]:
        with pytest.raises(DatabaseUnavailable, match=problem):
            Database.open(PG_ADMIN_URL, actor="x", role=name)
