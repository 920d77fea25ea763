"""Who holds a role-level permission: on PostgreSQL the database's rows, which only an
administrator changes (a person's own config cannot widen their permissions); on SQLite the
config's [permissions]."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError

from qa_tui import cli
from qa_tui.config import parse_config
from qa_tui.context import open_context
from qa_tui.db.engine import Database
from qa_tui.db.models import AuditEvent
from qa_tui.errors import NotAllowed
from qa_tui.services.people.permissions import FINALISE, decide
from qa_tui.services.people.role_permissions import role_permission_rows, store_role_permissions
from tests.conftest import TODAY
from tests.permissions_seed import act_as, seed_council
from tests.test_database_guards import Logins, logins  # noqa: F401 - the fixture: people's own logins

WIDER = {"finalise": ("PI", "TM")}  # a team manager's own config, letting her finalise


def _context(logins: Logins, login: str, **permissions: tuple[str, ...]):  # noqa: ANN202
    ctx = logins.context(login)
    ctx.db.dispose()
    config = replace(ctx.config, permissions={**ctx.config.permissions, **permissions})
    return open_context(config, today=TODAY)


def test_on_postgresql_a_persons_own_config_does_not_widen_their_permissions(logins: Logins, db: Database,
                                                                              capsys: pytest.CaptureFixture) -> None:
    ctx = _context(logins, logins.tm, **WIDER)
    try:
        assert not ctx.may(FINALISE)
        with ctx.db.reader() as s:
            assert "that is for" in decide(s, FINALISE, ctx.config).reason
        with ctx.db.session() as s, pytest.raises(NotAllowed, match="only an administrator"):
            store_role_permissions(s, WIDER)
    finally:
        ctx.db.dispose()
    raw = create_engine(logins.url_as(logins.tm))
    try:
        with pytest.raises(DBAPIError, match="permission denied"), raw.begin() as conn:
            conn.execute(text("INSERT INTO role_permission (id, permission, role, created_at, updated_at, updated_by, "
                              "version) VALUES (gen_random_uuid(), 'finalise', 'TM', now(), now(), '', 1)"))
    finally:
        raw.dispose()

    admin = _context(logins, logins.admin, **WIDER)  # the administrator's config, used at set-up
    try:
        with admin.db.session() as s:
            rows = {r.permission: r.roles for r in store_role_permissions(s, admin.config.permissions)}
    finally:
        admin.db.dispose()
    assert rows["finalise"] == ("PI", "TM") and rows["moderate"] == ("AD", "DD", "HOS", "OPS", "SM")
    ctx = _context(logins, logins.tm)  # her own config is back to the defaults: the database decides
    try:
        assert ctx.may(FINALISE)
    finally:
        ctx.db.dispose()
    with db.reader() as s:
        added = s.scalars(select(AuditEvent).where(AuditEvent.table_name == "role_permission",
                                                   AuditEvent.action == "insert")).all()
    assert {(e.actor, e.person_name) for e in added} == {(logins.admin, "Pip Improvement")}
    assert ("finalise", "TM") in {(e.new["permission"], e.new["role"]) for e in added}

    assert cli.main(["--db", logins.url_as(logins.tm), "db", "permissions"]) == 0
    assert "finalise: Practice improvement team, Team manager" in capsys.readouterr().out


def test_on_sqlite_the_configs_permissions_apply(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("PostgreSQL reads the database's rows: the test above")
    council = seed_council(db)
    act_as(db, council.tm, cfg=parse_config({"permissions": {"finalise": ["PI", "TM"]}}))
    with db.reader() as s:
        assert decide(s, FINALISE).allowed
        assert {r.permission: r.roles for r in role_permission_rows(s)}["finalise"] == ("PI", "TM")
    act_as(db, council.tm)
    with db.reader() as s:
        assert not decide(s, FINALISE).allowed
