"""A laptop's bundle is held to the same rules as work on the shared database, applied to the
person the laptop is bound to (whoever pulled it): a moderation of their own audit or a change
to their own role is a refused item in the receipt, never a write; what they may do goes in."""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qa_tui.db.engine import Database
from qa_tui.db.models import Moderation, Observation, Person, SyncState
from qa_tui.services.people.owner import laptop_owner, owner_bound_by
from qa_tui.services.sync.bundle import BundleRecord, content_hash
from qa_tui.services.sync.export import export_changes
from qa_tui.services.sync.importing import import_bundle
from qa_tui.services.sync.pull import pull_from_database
from tests.permissions_seed import Council, seed_council, submitted_live_audit



@pytest.fixture
def laptop(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    folder = tmp_path / "laptop"
    folder.mkdir(mode=0o700)
    shutil.copyfile(sqlite_template, folder / "qa.sqlite3")
    os.chmod(folder / "qa.sqlite3", 0o600)
    database = Database.open(f"sqlite:///{folder / 'qa.sqlite3'}", actor="terry-laptop")
    yield database
    database.dispose()


def _own_audit_sent_for_moderation(db: Database, council: Council, today: date) -> uuid.UUID:
    return submitted_live_audit(db, council, council.hos, today)  # the head of service leads this one herself


def test_a_laptop_bundle_cannot_moderate_its_owners_audit_or_promote_them(db: Database, laptop: Database,
                                                                          today: date) -> None:
    council = seed_council(db)
    with db.session() as s:
        s.get(Person, council.hos).login = "harper"
    audit_id = _own_audit_sent_for_moderation(db, council, today)
    shared_as_harper = Database(db.engine, "harper", db.factory)  # her login reads the shared database
    with laptop.session() as local, shared_as_harper.session() as shared:
        pull_from_database(local, shared, source="postgresql://harper:pw@db/qa?password=pw")
    with laptop.reader() as s:
        assert owner_bound_by(s) == "pull" and laptop_owner(s).staff_id == "H001"
        assert s.scalar(select(SyncState.value).where(SyncState.key == "pulled_from")) == \
            "postgresql://harper:***@db/qa?password=***"  # the password is never stored

    # Offline: a new observation (allowed) and her own role raised (never allowed from a laptop).
    with laptop.session() as s:
        s.add(Observation(worker_id=council.tm, observer_id=council.hos, observed_on=today, kind="annual",
                          went_well="Calm [and] \"clear\""))
        s.get(Person, council.hos).role = "DD"
    with laptop.session() as s:
        bundle = export_changes(s, exported_by="terry-laptop")
    assert bundle.owner_staff_id == "H001"
    # A crafted record: her moderation of the audit she led (the laptop's own triggers would refuse it).
    fields = {"audit_id": str(audit_id), "moderator_id": str(council.hos), "outcome": "agreed",
              "overall_grade": 1, "comment": "", "moderated_on": today.isoformat(), "grades": {}}
    forged = BundleRecord(table="moderation", id=str(uuid.uuid4()), version=1, base_version=None,
                          created_at="2026-11-24T10:00:00+00:00", hash=content_hash(fields), fields=fields)
    bundle = dataclasses.replace(bundle, records=(*bundle.records, forged))

    with db.session() as s:
        receipt = import_bundle(s, bundle)
    refused = {(r.table, r.id): r.reason for r in receipt.refused}
    assert "only an administrator" in refused[("person", str(council.hos))]
    assert "took part in this audit" in refused[("moderation", forged.id)]
    assert receipt.added == 1 and len(receipt.refused) == 2
    assert receipt.author.endswith("(H001)") and receipt.exported_by == "terry-laptop"  # the person, and the login
    assert type(receipt).from_document(receipt.to_document()).author == receipt.author
    assert {r.outcome for r in receipt.records if r.table in ("person", "moderation")} == {"refused"}
    with db.reader() as s:
        assert s.get(Person, council.hos).role == "HOS"
        assert s.scalar(select(func.count()).select_from(Moderation)) == 0
        assert s.scalar(select(Observation.went_well)) == "Calm [and] \"clear\""


def test_a_bundle_naming_an_owner_the_shared_database_does_not_know_writes_nothing(db: Database, laptop: Database,
                                                                                  today: date) -> None:
    seed_council(db)
    with laptop.session() as s:
        worker = Person(staff_id="L1", name="Lee Laptop", role="SW")
        s.add(worker)
        s.flush()
        s.add(Observation(worker_id=worker.id, observer_id=None, observed_on=today, kind="annual"))
    with laptop.session() as s:
        bundle = dataclasses.replace(export_changes(s, exported_by="x"), owner_staff_id="GHOST")
    with db.session() as s:
        receipt = import_bundle(s, bundle)
    assert receipt.added == 0 and len(receipt.refused) == 2
    assert all("GHOST has no staff record here" in r.reason for r in receipt.refused)
    with db.reader() as s:
        assert s.scalar(select(func.count()).select_from(Observation)) == 0
        assert s.scalar(select(func.count()).select_from(Person)) == 7  # the council as seeded


def test_an_audit_marked_moderated_or_finalised_on_a_laptop_is_refused_with_its_moderation(
        db: Database, laptop: Database, today: date) -> None:
    """A team manager's laptop (its own config may widen who moderates) marks an audit she did not
    lead as moderated, with its moderation record: on the shared database the moderation is refused,
    and so is the audit's new status; it never reads as moderated without a moderation. Finalising
    is for those who finalise, and a finalised audit is not changed from a laptop."""
    from qa_tui.db.models import Audit

    council = seed_council(db)
    with db.session() as s:
        s.get(Person, council.tm).login = "terry"
    audit_id = submitted_live_audit(db, council, council.hos, today)  # led by the head of service
    other_id = submitted_live_audit(db, council, council.hos, today)
    shared_as_terry = Database(db.engine, "terry", db.factory)
    with laptop.session() as local, shared_as_terry.session() as shared:
        pull_from_database(local, shared, source="postgresql://terry@db/qa")
    with laptop.session() as s:  # what a laptop whose config let a team manager moderate would write
        s.get(Audit, audit_id).status = "moderated"
        s.add(Moderation(audit_id=audit_id, moderator_id=council.tm, outcome="agreed", overall_grade=2,
                         comment="Agreed [/] \"fine\"", moderated_on=today))
        s.get(Audit, other_id).status = "finalised"
    with laptop.session() as s:
        bundle = export_changes(s, exported_by="terry-laptop")
    with db.session() as s:
        receipt = import_bundle(s, bundle)
    refused = {(r.table, r.id): r.reason for r in receipt.refused}
    assert "not a moderator role" in refused[("audit", str(audit_id))], refused
    assert "may not finalise" in refused[("audit", str(other_id))], refused
    assert any(table == "moderation" for table, _ in refused)
    with db.reader() as s:
        assert s.get(Audit, audit_id).status == "submitted" and s.get(Audit, other_id).status == "submitted"
        assert s.scalar(select(func.count()).select_from(Moderation)) == 0
