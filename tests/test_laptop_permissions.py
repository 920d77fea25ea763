"""A laptop goes by the council's role → permission rows as its last pull copied them from the
shared database, not by the defaults or its own config: a permission restricted centrally is
restricted offline too, and the shared database still re-checks the laptop's bundle on import."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qa_tui.config import parse_config
from qa_tui.db.engine import Database
from qa_tui.db.models import Moderation, Person
from qa_tui.errors import NotAllowed
from qa_tui.services.audits.moderation import moderate
from qa_tui.services.people.permissions import MODERATE, decide, role_permissions
from qa_tui.services.people.role_permissions import role_permission_rows, store_role_permissions
from qa_tui.services.sync.bundle import decode_bundle, encode_bundle
from qa_tui.services.sync.export import export_changes
from qa_tui.services.sync.importing import import_bundle
from qa_tui.services.sync.pull import apply_reference, export_reference, pull_from_database
from tests.permissions_seed import Council, act_as, nobody, seed_council, submitted_live_audit
from tests.test_sync import _new_sqlite

WIDE = parse_config({"permissions": {"moderate": ["HOS", "OPS", "AD", "DD", "SM"]}})  # the laptop's own config


@pytest.fixture
def laptop(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    database = _new_sqlite(sqlite_template, tmp_path / "laptop", "harper-laptop")
    yield database
    database.dispose()


def _shared_without_hos_moderating(db: Database, today: date) -> tuple[Council, uuid.UUID]:
    """The council's shared database: Harper (head of service) pulls as `harper`; the council
    has taken moderation away from heads of service; Terry's audit waits for moderation."""
    if db.is_sqlite:
        pytest.skip("the council's rows are the shared PostgreSQL database's")
    council = seed_council(db)
    with db.session() as s:
        s.get(Person, council.hos).login = "harper"
    audit_id = submitted_live_audit(db, council, council.tm, today)
    nobody(db)
    with db.session() as s:  # the set-up's administrator
        store_role_permissions(s, {"moderate": ["AD", "DD"]})
    return council, audit_id


def _pull_as_harper(db: Database, laptop: Database) -> None:
    with laptop.session() as local, Database(db.engine, "harper", db.factory).session() as shared:
        pull_from_database(local, shared, source="postgresql://harper@db/qa")


def test_a_permission_restricted_on_the_shared_database_is_refused_on_the_pulled_laptop(
        db: Database, laptop: Database, today: date) -> None:
    council, audit_id = _shared_without_hos_moderating(db, today)
    _pull_as_harper(db, laptop)

    act_as(laptop, council.hos, cfg=WIDE)  # her laptop's config would let her moderate
    with laptop.reader() as s:
        assert {r.permission: r.roles for r in role_permission_rows(s)}["moderate"] == ("AD", "DD")
        assert MODERATE not in role_permissions(s, WIDE)  # the footer greys moderation out
    with laptop.session() as s, pytest.raises(NotAllowed, match="is not a moderator role"):
        moderate(s, audit_id, council.hos, outcome="agreed", today=today)
    with laptop.reader() as s:
        assert s.scalar(select(func.count()).select_from(Moderation)) == 0

    # Written past the laptop's services, the moderation is still refused on import, there.
    nobody(laptop)
    with laptop.session() as s:
        s.add(Moderation(audit_id=audit_id, moderator_id=council.hos, outcome="agreed", overall_grade=1,
                         comment="", moderated_on=today))
    with laptop.session() as s:
        bundle = export_changes(s, exported_by="harper-laptop")
    with db.session() as s:
        receipt = import_bundle(s, bundle)
    assert any(r.table == "moderation" and "not a moderator role" in r.reason for r in receipt.refused)
    with db.reader() as s:
        assert s.scalar(select(func.count()).select_from(Moderation)) == 0

    # The council gives it back: the next pull brings that too.
    with db.session() as s:
        store_role_permissions(s, {"moderate": ["AD", "DD", "HOS"]})
    _pull_as_harper(db, laptop)
    act_as(laptop, council.hos, cfg=parse_config({}))
    with laptop.reader() as s:
        assert decide(s, MODERATE).allowed
    nobody(laptop)


def test_a_reference_bundle_carries_the_rows_to_a_laptop_that_cannot_reach_the_shared_database(
        db: Database, laptop: Database, today: date) -> None:
    from qa_tui.db.migrate import HEAD_REVISION
    from qa_tui.db.models import RolePermission

    council, _ = _shared_without_hos_moderating(db, today)
    with laptop.reader() as s:  # the rows a new file starts with (the defaults): replaced, not added to
        assert s.scalar(select(RolePermission.id).where(RolePermission.permission == "moderate",
                                                        RolePermission.role == "HOS")) is not None
    with Database(db.engine, "harper", db.factory).session() as s:
        data = encode_bundle(export_reference(s, today=today))
    bundle = decode_bundle(data, schema=HEAD_REVISION)
    assert bundle.role_permissions is not None and ("moderate", "HOS") not in bundle.role_permissions
    with laptop.session() as s:
        apply_reference(s, bundle, source="reference file")
    act_as(laptop, council.hos, cfg=WIDE)
    with laptop.reader() as s:
        assert not decide(s, MODERATE).allowed
        assert {r.permission: r.roles for r in role_permission_rows(s)}["moderate"] == ("AD", "DD")
    nobody(laptop)
