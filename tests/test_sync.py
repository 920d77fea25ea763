"""Offline sync: pull, export, import, receipts and acknowledgement, conflicts and their resolution,
damaged bundles, a killed import, concurrent imports, encryption, and the time a 10k import takes."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, insert, select

from qa_tui.cli import main
from qa_tui.db.engine import Database
from qa_tui.db.migrate import HEAD_REVISION
from qa_tui.db.models import (
    EDITABLE_MODELS,
    Action,
    AuditEvent,
    Case,
    FollowUp,
    Observation,
    Person,
    Service,
    Supervision,
    SyncConflict,
    SyncImport,
    Team,
)
from qa_tui.errors import ChangedElsewhere, NotAllowed, ValidationError
from qa_tui.services.sync import importing
from qa_tui.services.sync.bundle import (
    Bundle,
    BundleRefused,
    Receipt,
    content_hash,
    decode_bundle,
    encode_bundle,
    read_bundle,
    read_receipt,
    receipt_path_for,
    write_bundle,
    write_receipt,
)
from qa_tui.services.sync.conflicts import ConflictView, list_conflicts, resolve_conflict
from qa_tui.services.sync.export import export_changes
from qa_tui.services.sync.importing import import_bundle
from qa_tui.services.sync.pull import PullSummary, apply_reference, export_reference, pull_from_database
from qa_tui.services.sync.receipts import AckSummary, acknowledge
from qa_tui.services.sync.state import pending_changes, sync_status
from tests.conftest import TODAY, _truncate_pg

SETTINGS = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# --- helpers ------------------------------------------------------------------------------


def _new_sqlite(template: Path, folder: Path, actor: str) -> Database:
    folder.mkdir(mode=0o700, parents=True)
    target = folder / "qa.sqlite3"
    shutil.copyfile(template, target)
    os.chmod(target, 0o600)
    return Database.open(f"sqlite:///{target}", actor=actor)


@pytest.fixture
def laptop(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    database = _new_sqlite(sqlite_template, tmp_path / "laptop", "jsmith")
    yield database
    database.dispose()


def _seed_shared(db: Database) -> dict[str, uuid.UUID]:
    """A service with two teams, a manager and workers, open and closed cases, an open and a done
    action, and an undiscussed follow-up."""
    with db.session() as s:
        service = Service(code="CS", name="Children's services")
        t1, t2 = Team(code="T1", name="Assessment 1", service=service), Team(code="T2", name="Care")
        s.add_all([service, t1, t2])
        s.flush()
        other_manager = Person(staff_id="M2", name="Other Manager", role="TM", team_id=t2.id)
        s.add(other_manager)
        s.flush()
        manager = Person(staff_id="M1", name="Mo Manager", role="TM", team_id=t1.id, manager_id=other_manager.id)
        s.add(manager)
        s.flush()
        worker = Person(staff_id="W1", name="Wyn Worker", role="SW", team_id=t1.id, manager_id=manager.id)
        elsewhere = Person(staff_id="W2", name="Ed Elsewhere", role="SW", team_id=t2.id)
        s.add_all([worker, elsewhere])
        s.flush()
        open_case = Case(reference="CASE-001", category="CIN", worker_id=worker.id, team_id=t1.id)
        closed_case = Case(reference="CASE-002", category="CP", worker_id=worker.id, team_id=t1.id,
                           closed_on=date(2026, 6, 1))
        other_case = Case(reference="CASE-003", category="CLA", worker_id=elsewhere.id, team_id=t2.id)
        action = Action(title="Update the chronology", owner_id=worker.id, team_id=t1.id,
                        raised_on=date(2026, 11, 2), due_on=date(2026, 11, 30))
        done = Action(title="Done already", owner_id=worker.id, team_id=t1.id, status="done",
                      raised_on=date(2026, 10, 1), due_on=date(2026, 10, 29))
        follow_up = FollowUp(worker_id=worker.id, source_kind="audit", summary="Discuss the child's voice",
                             raised_on=date(2026, 11, 3))
        s.add_all([open_case, closed_case, other_case, action, done, follow_up])
        s.flush()
        return {"t1": t1.id, "t2": t2.id, "service": service.id, "manager": manager.id, "other_manager": other_manager.id,
                "worker": worker.id, "elsewhere": elsewhere.id, "open_case": open_case.id,
                "closed_case": closed_case.id, "other_case": other_case.id, "action": action.id,
                "done": done.id, "follow_up": follow_up.id}


def _pull(laptop: Database, shared: Database, teams: tuple[str, ...] = ()) -> PullSummary:
    with shared.reader() as remote, laptop.session() as local:
        return pull_from_database(local, remote, source="shared", team_codes=teams, today=TODAY)


def _export(laptop: Database) -> Bundle:
    with laptop.session() as s:
        return export_changes(s, exported_by="jsmith", device_name="laptop-1")


def _import(shared: Database, bundle: Bundle, **kwargs) -> Receipt:
    with shared.session() as s:
        return import_bundle(s, bundle, **kwargs)


def _ack(laptop: Database, receipt: Receipt) -> AckSummary:
    with laptop.session() as s:
        return acknowledge(s, receipt)


def _count(db: Database, model: type, *where) -> int:
    with db.reader() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _pending(db: Database) -> dict[str, int]:
    with db.reader() as s:
        return pending_changes(s)


def _offline_team(db: Database, code: str, observations: int = 0, supervisions: int = 0) -> dict[str, uuid.UUID]:
    """A team, a worker and some records made on a laptop that has never synced."""
    with db.session() as s:
        team = Team(code=code, name=f"Team {code}")
        s.add(team)
        s.flush()
        worker = Person(staff_id=f"{code}-W", name=f"Worker {code}", role="SW", team_id=team.id)
        s.add(worker)
        s.flush()
        for n in range(observations):
            s.add(Observation(worker_id=worker.id, observed_on=date(2026, 11, 1 + n), kind="annual"))
        for n in range(supervisions):
            s.add(Supervision(worker_id=worker.id, held_on=date(2026, 11, 1 + n)))
        return {"team": team.id, "worker": worker.id}


def _record_count(db: Database) -> int:
    with db.reader() as s:
        return sum(s.scalar(select(func.count()).select_from(m)) for m in EDITABLE_MODELS)


def _fresh_shared(db_url: str, template: Path, folder: Path) -> Database:
    """An empty shared database for one more round (the audit trail refuses deletes, so no wiping)."""
    if db_url.startswith("sqlite"):
        return _new_sqlite(template, folder / uuid.uuid4().hex, "tester")
    _truncate_pg(db_url)
    return Database.open(db_url, actor="tester")


# --- the whole journey --------------------------------------------------------------------


def test_round_trip_laptop_to_shared_and_back(db: Database, laptop: Database) -> None:
    ids = _seed_shared(db)
    pulled = _pull(laptop, db, teams=("T1",))
    assert pulled.kept_local == () and pulled.skipped == ()
    with laptop.reader() as local, db.reader() as shared:
        # Reference data arrives with its IDs and versions, marked synced; only what T1 needs.
        assert local.get(Case, ids["open_case"]) is not None
        # A case closed this financial year comes (the programme counts audits on closure).
        assert local.get(Case, ids["closed_case"]) is not None and local.get(Case, ids["other_case"]) is None
        assert local.get(Action, ids["done"]) is None
        assert local.get(FollowUp, ids["follow_up"]) is not None
        # The manager's own manager is in another team: pulled so the reference holds.
        assert local.get(Person, ids["other_manager"]) is not None
        assert local.get(Person, ids["elsewhere"]) is None
        for model, key in ((Person, "worker"), (Action, "action"), (Team, "t1"), (Service, "service")):
            mine, theirs = local.get(model, ids[key]), shared.get(model, ids[key])
            assert mine.version == theirs.version == mine.synced_version
    assert _pending(laptop) == {}

    # Offline: an observation, a supervision, and the action marked done.
    with laptop.session() as s:
        s.add(Observation(worker_id=ids["worker"], observer_id=ids["manager"], observed_on=date(2026, 11, 20),
                          kind="annual", went_well="Calm, child-led visit", themes=["voice"]))
        s.add(Supervision(worker_id=ids["worker"], supervisor_id=ids["manager"], held_on=date(2026, 11, 21)))
        action = s.get(Action, ids["action"])
        action.status, action.evidence = "done", "Chronology updated on 20 Nov"
    assert _pending(laptop) == {"observation": 1, "supervision": 1, "action": 1}

    bundle = _export(laptop)
    receipt = _import(db, bundle)
    assert (receipt.added, receipt.updated, receipt.unchanged, receipt.conflicts) == (2, 1, 0, ())
    with db.reader() as s:
        assert s.get(Action, ids["action"]).status == "done"
        assert s.get(Action, ids["action"]).version == 2
        assert s.scalar(select(func.count()).select_from(Observation)) == 1
    # Export is repeatable until acknowledged.
    assert _pending(laptop) == {"observation": 1, "supervision": 1, "action": 1}
    assert _ack(laptop, receipt).marked == 3
    assert _pending(laptop) == {}
    with laptop.reader() as local, db.reader() as shared:
        assert local.get(Action, ids["action"]).version == shared.get(Action, ids["action"]).version == 2

    # Importing again changes nothing and returns the same receipt.
    events = _count(db, AuditEvent)
    again = _import(db, bundle)
    assert again == receipt and again.already_imported and not receipt.already_imported
    assert _count(db, AuditEvent) == events

    # A conflicting edit on both sides: kept aside, the office's edit stands until someone decides.
    with db.session() as s:
        s.get(Action, ids["action"]).evidence = "Office: evidence checked by the service manager"
    with laptop.session() as s:
        s.get(Action, ids["action"]).evidence = "Laptop: evidence added at the family home"
    conflict_receipt = _import(db, _export(laptop))
    assert [(c.table, c.id, c.reason) for c in conflict_receipt.conflicts] == [
        ("action", str(ids["action"]), "edited-elsewhere")]
    with db.reader() as s:
        assert s.get(Action, ids["action"]).evidence.startswith("Office:")
    _ack(laptop, conflict_receipt)
    assert _pending(laptop) == {}

    with db.session() as s:
        [view] = list_conflicts(s)
        assert view.differing == ("evidence",)
        assert view.live["evidence"].startswith("Office:") and view.incoming["evidence"].startswith("Laptop:")
        resolve_conflict(s, view.id, "incoming", by="mo.manager", expected_live_version=view.live_version)
    with db.reader() as s:
        assert s.get(Action, ids["action"]).evidence.startswith("Laptop:")
        resolved = s.scalars(select(AuditEvent).where(AuditEvent.action == "sync-resolve")).one()
        assert resolved.actor == "tester" and "kept the incoming version" in resolved.detail
        assert resolved.old["evidence"].startswith("Office:") and resolved.new["evidence"].startswith("Laptop:")

    # And back: the next pull brings the decision to the laptop.
    again_pulled = _pull(laptop, db, teams=("T1",))
    assert again_pulled.updated >= 1 and again_pulled.kept_local == ()
    with laptop.reader() as local, db.reader() as shared:
        mine, theirs = local.get(Action, ids["action"]), shared.get(Action, ids["action"])
        assert mine.evidence == theirs.evidence and mine.version == theirs.version == mine.synced_version
    assert _pending(laptop) == {}


def test_import_writes_the_audit_trail(db: Database, laptop: Database) -> None:
    ids = _seed_shared(db)
    _pull(laptop, db)
    with laptop.session() as s:
        s.add(Supervision(worker_id=ids["worker"], held_on=date(2026, 11, 21), notes="Reflective"))
        s.get(Case, ids["open_case"]).category = "CP"
    bundle = _export(laptop)
    before = _count(db, AuditEvent)
    _import(db, bundle)
    with db.reader() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.detail != "")).all()
    kinds = sorted((e.action, e.table_name) for e in events)
    assert kinds == [("insert", "supervision"), ("sync", "sync_import"), ("update", "case_file")]
    update = next(e for e in events if e.action == "update")
    assert update.old == {"category": "CIN"} and update.new == {"category": "CP"}
    # Each record is by the laptop's author; the trail's actor is the login that wrote here (the
    # importer, as the database itself records on PostgreSQL) and each event's detail names both.
    author = bundle.owner_staff_id or "jsmith"
    rows = [e for e in events if e.action != "sync"]
    assert all(e.actor == "tester" and e.detail.startswith("by ") and author in e.detail
               and e.detail.endswith("imported by tester") for e in rows)
    assert next(e for e in events if e.action == "sync").actor == "tester"
    with db.reader() as s:
        assert s.get(Case, ids["open_case"]).updated_by == "jsmith"
        assert s.scalars(select(Supervision)).one().updated_by == "jsmith"
    assert _count(db, AuditEvent) == before + 3


# --- the decisions ------------------------------------------------------------------------


def test_same_bundle_imported_100_times_changes_nothing(db: Database, laptop: Database) -> None:
    _offline_team(laptop, "LT", observations=3, supervisions=2)
    bundle = _export(laptop)
    first = _import(db, bundle)
    assert first.added == 7
    rows, events = _record_count(db), _count(db, AuditEvent)
    receipts = [_import(db, bundle) for _ in range(99)]
    assert all(r == first and r.already_imported for r in receipts)
    assert _record_count(db) == rows == 7
    assert _count(db, AuditEvent) == events
    assert _count(db, SyncImport) == 1
    assert _count(db, AuditEvent, AuditEvent.action == "sync") == 1


def test_unchanged_records_are_skipped_and_base_version_decides(db: Database, laptop: Database) -> None:
    ids = _seed_shared(db)
    _pull(laptop, db)
    with laptop.session() as s:
        s.get(Person, ids["worker"]).name = "Wyn Worker-Jones"
    first = _import(db, _export(laptop))
    assert first.updated == 1
    # Not acknowledged: exported again under a new bundle ID, the shared copy already matches.
    second = _import(db, _export(laptop))
    assert (second.added, second.updated, second.unchanged, second.conflicts) == (0, 0, 1, ())
    assert second.records[0].shared_version == 2
    _ack(laptop, second)
    with laptop.reader() as s:
        worker = s.get(Person, ids["worker"])
        assert worker.version == worker.synced_version == 2


def test_same_id_with_different_content_and_no_base_is_a_conflict(db: Database, laptop: Database) -> None:
    ids = _offline_team(laptop, "LT", observations=1)
    first = _import(db, _export(laptop))
    assert first.added == 3
    # Receipt lost; the laptop edits its never-acknowledged record: no base version to trust.
    with laptop.session() as s:
        s.get(Person, ids["worker"]).name = "Renamed offline"
    receipt = _import(db, _export(laptop))
    assert [(c.table, c.reason) for c in receipt.conflicts] == [("person", "no-base")]
    assert receipt.unchanged == 2
    with db.reader() as s:
        assert s.get(Person, ids["worker"]).name == "Worker LT"


def test_dangling_reference_and_duplicate_code_are_conflicts_not_failures(db: Database, laptop: Database) -> None:
    ids = _offline_team(laptop, "T1", observations=2)
    with db.session() as s:
        s.add(Team(code="T1", name="The office's own T1"))
    receipt = _import(db, _export(laptop))
    reasons = sorted((c.table, c.reason) for c in receipt.conflicts)
    # The team's code is taken; the worker and observations then refer to a team that is not here.
    assert reasons == [("observation", "missing-parent"), ("observation", "missing-parent"),
                       ("person", "missing-parent"), ("team", "duplicate-key")]
    assert receipt.added == 0
    assert _count(db, Person) == 0
    # Sending the same records again does not pile up more conflict rows.
    again = _import(db, _export(laptop))
    assert sorted((c.table, c.reason) for c in again.conflicts) == reasons and _count(db, SyncConflict) == 4
    assert {c.conflict_id for c in again.conflicts} == {c.conflict_id for c in receipt.conflicts}
    with db.session() as s:
        team_conflict = next(c for c in list_conflicts(s) if c.table == "team")
        assert team_conflict.live is None and team_conflict.live_version is None
        with pytest.raises(NotAllowed, match="cannot be saved"):
            resolve_conflict(s, team_conflict.id, "incoming", by="office")
    assert _count(db, Team) == 1 and _count(db, Observation) == 0
    with db.reader() as s:
        assert ids["team"] in {c.record_id for c in list_conflicts(s)}


def test_open_conflict_holds_back_later_edits_until_decided(db: Database, laptop: Database) -> None:
    ids = _seed_shared(db)
    _pull(laptop, db)
    with db.session() as s:
        s.get(Action, ids["action"]).title = "Office title"
    with laptop.session() as s:
        s.get(Action, ids["action"]).title = "Laptop title"
    _ack(laptop, _import(db, _export(laptop)))
    with laptop.session() as s:  # based on the shared version now, but the conflict is still open
        s.get(Action, ids["action"]).title = "Laptop title, second go"
    receipt = _import(db, _export(laptop))
    assert [c.reason for c in receipt.conflicts] == ["open-conflict"]
    with db.reader() as s:
        assert s.get(Action, ids["action"]).title == "Office title"


# --- conflicts ----------------------------------------------------------------------------


def _make_conflict(db: Database, laptop: Database) -> tuple[dict[str, uuid.UUID], ConflictView]:
    ids = _seed_shared(db)
    _pull(laptop, db)
    with db.session() as s:
        action = s.get(Action, ids["action"])
        action.title, action.due_on = "Office title", date(2026, 12, 14)
    with laptop.session() as s:
        action = s.get(Action, ids["action"])
        action.title, action.evidence = "Laptop title", "Seen at home"
    _import(db, _export(laptop))
    with db.reader() as s:
        [view] = list_conflicts(s)
    return ids, view


def test_conflict_shows_both_versions_and_keep_shared_changes_nothing(db: Database, laptop: Database) -> None:
    ids, view = _make_conflict(db, laptop)
    assert view.reason == "edited-elsewhere" and view.status == "open"
    assert set(view.differing) == {"title", "due_on", "evidence"}
    assert (view.base_version, view.live_version_at_import, view.live_version) == (1, 2, 2)
    assert view.exported_by == "jsmith"
    with db.session() as s:
        done = resolve_conflict(s, view.id, "shared", by="office")
    assert (done.status, done.resolution, done.resolved_by) == ("resolved", "shared", "office")
    with db.reader() as s:
        assert s.get(Action, ids["action"]).title == "Office title"
        assert s.get(Action, ids["action"]).version == 2
        assert list_conflicts(s) == [] and len(list_conflicts(s, status=None)) == 1
    with db.session() as s, pytest.raises(NotAllowed, match="already resolved"):
        resolve_conflict(s, view.id, "incoming", by="office")


def test_conflict_merged_by_hand(db: Database, laptop: Database) -> None:
    ids, view = _make_conflict(db, laptop)
    with db.session() as s:
        resolve_conflict(s, view.id, "merged", {"title": view.incoming["title"], "evidence": view.incoming["evidence"]},
                         by="office")
    with db.reader() as s:
        action = s.get(Action, ids["action"])
        assert (action.title, action.evidence, action.due_on) == ("Laptop title", "Seen at home", date(2026, 12, 14))
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "sync-resolve")).one()
        assert event.new["due_on"] == "2026-12-14" and "merged" in event.detail


def test_resolving_against_a_changed_live_row_is_refused(db: Database, laptop: Database) -> None:
    ids, view = _make_conflict(db, laptop)
    with db.session() as s:
        s.get(Action, ids["action"]).title = "Changed again in the office"
    with db.session() as s, pytest.raises(ChangedElsewhere):
        resolve_conflict(s, view.id, "incoming", by="office", expected_live_version=view.live_version)


# --- acknowledgement ----------------------------------------------------------------------


def test_ack_keeps_edits_made_after_the_export(db: Database, laptop: Database) -> None:
    ids = _seed_shared(db)
    _pull(laptop, db)
    with laptop.session() as s:
        s.get(Action, ids["action"]).title = "First edit"
    receipt = _import(db, _export(laptop))
    with laptop.session() as s:
        s.get(Action, ids["action"]).title = "Second edit, after the export"
    _ack(laptop, receipt)
    assert _pending(laptop) == {"action": 1}
    again = _import(db, _export(laptop))  # based on the version the first edit made: applies cleanly
    assert again.updated == 1 and again.conflicts == ()
    with db.reader() as s:
        assert s.get(Action, ids["action"]).title == "Second edit, after the export"
    assert _ack(laptop, receipt).already_acknowledged
    _ack(laptop, again)
    assert _pending(laptop) == {}


def test_receipt_for_another_device_is_refused(db: Database, laptop: Database, sqlite_template: Path,
                                               tmp_path: Path) -> None:
    _offline_team(laptop, "LT")
    receipt = _import(db, _export(laptop))
    other = _new_sqlite(sqlite_template, tmp_path / "other", "someone")
    try:
        _offline_team(other, "OT")
        _export(other)
        with pytest.raises(NotAllowed, match="exported by device"):
            _ack(other, receipt)
    finally:
        other.dispose()


def test_pull_leaves_unsynced_local_edits_alone(db: Database, laptop: Database) -> None:
    ids = _seed_shared(db)
    _pull(laptop, db)
    with laptop.session() as s:
        s.get(Case, ids["open_case"]).category = "CP"
    with db.session() as s:
        s.get(Case, ids["open_case"]).category = "CLA"
        s.get(Person, ids["worker"]).name = "Renamed in the office"
    summary = _pull(laptop, db)
    assert summary.kept_local == (("case_file", str(ids["open_case"])),)
    with laptop.reader() as s:
        assert s.get(Case, ids["open_case"]).category == "CP"
        assert s.get(Person, ids["worker"]).name == "Renamed in the office"
    assert _pending(laptop) == {"case_file": 1}


def test_pull_from_a_reference_bundle_file(db: Database, laptop: Database, tmp_path: Path) -> None:
    ids = _seed_shared(db)
    with db.session() as s:
        reference = export_reference(s, team_codes=("T2",), destination="t2.qsb", today=TODAY)
    path = tmp_path / "t2.qsb"
    write_bundle(path, reference, "passphrase for the reference bundle")
    with pytest.raises(BundleRefused, match="reference bundle, for `sync pull --from-bundle`"):
        _import(db, reference)
    bundle = read_bundle(path, schema=HEAD_REVISION, passphrase="passphrase for the reference bundle")
    with laptop.session() as s:
        summary = apply_reference(s, bundle, source=str(path))
    # T2's manager manages T1's manager, so T1's line comes too: T2 and T1, the service, four people,
    # the three cases, the open action and the follow-up; never the done action.
    assert (summary.added, summary.updated, summary.unchanged) == (12, 0, 0)
    with laptop.reader() as s:
        assert s.get(Case, ids["other_case"]) is not None and s.get(Case, ids["open_case"]) is not None
        assert s.get(Action, ids["done"]) is None
        assert sync_status(s).pulled_from == str(path)
    with laptop.session() as s:
        again = apply_reference(s, bundle, source=str(path))
    assert (again.added, again.updated, again.unchanged) == (0, 0, 12)
    _offline_team(laptop, "LT")
    changes = _export(laptop)
    with laptop.session() as s, pytest.raises(BundleRefused, match="holds a laptop's changes"):
        apply_reference(s, changes, source="changes")
    with db.reader() as s:
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "sync-export")).one().detail.endswith(
            "for teams T2 to t2.qsb")


# --- any order, any number of times -------------------------------------------------------


@pytest.fixture(scope="module")
def three_laptops(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Bundle]:
    """Bundles from three laptops: A's team, B's team (twice: the second export also carries a
    record made after the first), and C's observation of A's worker."""
    root = tmp_path_factory.mktemp("laptops")
    a, b, c = (_new_sqlite(sqlite_template, root / name, name) for name in "abc")
    try:
        a_ids = _offline_team(a, "TA", observations=3)
        _offline_team(b, "TB", supervisions=2)
        bundles = {"A": _export(a), "B1": _export(b)}
        with b.session() as s:
            worker = s.scalars(select(Person)).one()
            s.add(Supervision(worker_id=worker.id, held_on=date(2026, 11, 20)))
        bundles["B2"] = _export(b)
        _pull(c, a)
        with c.session() as s:
            s.add(Observation(worker_id=a_ids["worker"], observed_on=date(2026, 11, 23), kind="peer"))
        bundles["C"] = _export(c)
        return bundles
    finally:
        for laptop_db in (a, b, c):
            laptop_db.dispose()


@SETTINGS
@given(order=st.lists(st.sampled_from(["A", "B1", "B2", "C"]), min_size=1, max_size=8))
def test_bundles_in_any_order_and_repeated(db_url: str, sqlite_template: Path, tmp_path: Path,
                                           three_laptops: dict[str, Bundle], order: list[str]) -> None:
    db = _fresh_shared(db_url, sqlite_template, tmp_path)
    try:
        _check_any_order(db, three_laptops, order)
    finally:
        db.dispose()


def _check_any_order(db: Database, three_laptops: dict[str, Bundle], order: list[str]) -> None:
    receipts: dict[str, list[Receipt]] = {}
    for name in order:
        receipts.setdefault(name, []).append(_import(db, three_laptops[name]))
    for name, got in receipts.items():
        assert all(r == got[0] for r in got), name
        assert [r.already_imported for r in got] == [False] + [True] * (len(got) - 1)
    distinct_ids = {(r.table, r.id) for name in receipts for r in three_laptops[name].records}
    added = sum(got[0].added for got in receipts.values())
    conflicts = sum(len(got[0].conflicts) for got in receipts.values())
    assert added == _record_count(db)  # each record added once, never twice
    assert added + conflicts <= len(distinct_ids)
    assert _count(db, SyncImport) == len(receipts)
    assert _count(db, AuditEvent, AuditEvent.action == "sync") == len(receipts)
    c_added = "C" in receipts and "A" in receipts and order.index("A") < order.index("C")
    if "C" in receipts:
        assert [c.reason for c in receipts["C"][0].conflicts] == ([] if c_added else ["missing-parent"])
    assert _count(db, Observation) == 3 * ("A" in receipts) + c_added
    assert _count(db, Supervision) == (3 if "B2" in receipts else 2 if "B1" in receipts else 0)


# --- damaged bundles ----------------------------------------------------------------------


def _bundle_bytes(laptop: Database) -> bytes:
    _offline_team(laptop, "LT", observations=2)
    return encode_bundle(_export(laptop))


def _import_bytes(db: Database, data: bytes) -> Receipt:
    return _import(db, decode_bundle(data, schema=HEAD_REVISION, source="b.qsb"))


DAMAGES: list[tuple[str, Callable[[bytes], bytes], str]] = [
    ("cut in half", lambda d: d[: len(d) // 2], "truncated"),
    ("last byte lost", lambda d: d[:-1], "truncated"),
    ("cut inside the header", lambda d: d[:20], "not a qa-tui sync bundle"),
    ("a byte added", lambda d: d + b" ", "longer than its header says"),
    ("one bit flipped", lambda d: d[:-40] + bytes([d[-40] ^ 0x01]) + d[-39:], "checksum does not match"),
    ("from the future", lambda d: d.replace(b'"format_version":1', b'"format_version":7', 1), "made by a newer qa-tui"),
    ("another kind of file", lambda d: b"PK\x03\x04" + d[4:], "not a qa-tui sync bundle"),
]


def test_damaged_bundle_is_refused_before_anything_is_written(db: Database, laptop: Database) -> None:
    data = _bundle_bytes(laptop)
    for what, damage, reason in DAMAGES:
        with pytest.raises(BundleRefused, match=reason):
            _import_bytes(db, damage(data))
        assert (_count(db, SyncImport), _record_count(db), _count(db, AuditEvent)) == (0, 0, 0), what
    assert _import_bytes(db, data).added == 4


def test_wrong_schema_or_unknown_table_is_refused_before_anything_is_written(db: Database, laptop: Database) -> None:
    _offline_team(laptop, "LT", observations=1)
    bundle = _export(laptop)
    old = Bundle(**{**bundle.__dict__, "schema": "0000_older"})
    with pytest.raises(BundleRefused, match="schema '0000_older'.*same qa-tui version"):
        _import_bytes(db, encode_bundle(old))
    last = bundle.records[-1]
    odd = last.__class__(**{**last.__dict__, "table": "no_such_table"})
    with pytest.raises(BundleRefused, match="no such table"):
        _import_bytes(db, encode_bundle(Bundle(**{**bundle.__dict__, "records": (*bundle.records[:-1], odd)})))
    long_kind = {**last.fields, "kind": "x" * 21}  # SQLite kept it; PostgreSQL would not
    odd = last.__class__(**{**last.__dict__, "fields": long_kind, "hash": content_hash(long_kind)})
    with pytest.raises(ValidationError, match=r"record 3 \(observation .*\), field 'kind': longer than 20 characters"):
        _import_bytes(db, encode_bundle(Bundle(**{**bundle.__dict__, "records": (*bundle.records[:-1], odd)})))
    assert _count(db, SyncImport) == 0 and _record_count(db) == 0 and _count(db, AuditEvent) == 0


# --- a killed import, concurrent imports --------------------------------------------------

KILLED_IMPORT = """
import sys, time
from qa_tui.db.engine import Database
from qa_tui.db.migrate import HEAD_REVISION
from qa_tui.services.sync.bundle import read_bundle
from qa_tui.services.sync.importing import import_bundle

def pause_halfway(done, total):
    if done >= total // 2:
        print("writing", flush=True)
        time.sleep(60)

db = Database.open(sys.argv[1], actor="killed")
bundle = read_bundle(sys.argv[2], schema=HEAD_REVISION)
with db.session() as s:
    import_bundle(s, bundle, progress=pause_halfway)
"""


def _bulk_observations(laptop: Database, count: int) -> None:
    """`count` observations made offline for one new worker, written in bulk."""
    ids = _offline_team(laptop, "BULK")
    rows = [{"id": uuid.uuid4(), "version": 1, "worker_id": ids["worker"], "observed_on": date(2026, 11, 1 + n % 28),
             "kind": "annual", "went_well": f"Observation {n}", "themes": ["voice", "planning"]} for n in range(count)]
    with laptop.session() as s:
        for start in range(0, count, 5000):
            s.execute(insert(Observation.__table__), rows[start:start + 5000])


def test_import_killed_halfway_leaves_nothing_and_runs_again(db: Database, laptop: Database, db_url: str,
                                                             tmp_path: Path) -> None:
    _bulk_observations(laptop, 1200)
    bundle = _export(laptop)
    path = tmp_path / "bundle.qsb"
    write_bundle(path, bundle)
    child = subprocess.Popen([sys.executable, "-c", KILLED_IMPORT, db_url, str(path)], stdout=subprocess.PIPE,
                             cwd=Path(__file__).parent.parent)
    try:
        assert child.stdout.readline().strip() == b"writing"  # more than half the rows are written by now
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert _count(db, SyncImport) == 0 and _record_count(db) == 0 and _count(db, AuditEvent) == 0
    receipt = _import(db, read_bundle(path, schema=HEAD_REVISION))
    assert (receipt.added, receipt.conflicts, receipt.already_imported) == (1202, (), False)
    assert _count(db, Observation) == 1200


def test_two_imports_of_one_bundle_at_once_on_postgresql(pg_url: str, laptop: Database,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _truncate_pg(pg_url)
    shared = Database.open(pg_url, actor="tester")
    _bulk_observations(laptop, 300)
    bundle = _export(laptop)
    lookups = []
    real_lookup = importing._stored_receipt

    def counted_lookup(session, bundle_id):
        found = real_lookup(session, bundle_id)
        lookups.append(found is not None)
        return found

    monkeypatch.setattr(importing, "_stored_receipt", counted_lookup)
    barrier = threading.Barrier(2)
    receipts: list[Receipt] = []
    errors: list[BaseException] = []

    def run(slow: bool) -> None:
        try:
            barrier.wait()
            if not slow:
                time.sleep(0.1)  # the slow one holds the import log row, mid-import, by now
            receipts.append(_import(shared, bundle, progress=(lambda d, t: time.sleep(0.3)) if slow else None))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(slow,)) for slow in (True, False)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert len(receipts) == 2 and receipts[0] == receipts[1]
        assert sorted(r.already_imported for r in receipts) == [False, True]
        # The second import waited on the import log's key, then read the first one's receipt.
        assert lookups == [False, False, True]
        assert _count(shared, Observation) == 300
        assert _count(shared, AuditEvent, AuditEvent.action == "sync") == 1
    finally:
        shared.dispose()


# --- files: private, atomic, encrypted ----------------------------------------------------


def _tiny_bundle() -> Bundle:
    return Bundle(bundle_id=str(uuid.uuid4()), kind="changes", schema=HEAD_REVISION, device="d", device_name="",
                  exported_by="jsmith", created_at="2026-11-24T10:00:00+00:00", records=())


def test_bundle_file_is_private_and_replaced_atomically(tmp_path: Path) -> None:
    path = tmp_path / "out.qsb"
    path.write_bytes(b"an older bundle")
    os.chmod(path, 0o644)
    write_bundle(path, _tiny_bundle())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.qsb"]  # no temporary file left behind
    receipt_file = receipt_path_for(path)
    receipt = Receipt(bundle_id=str(uuid.uuid4()), device="d", exported_by="j", imported_at="t", imported_by="o",
                           added=1, updated=0, unchanged=0, conflicts=(), records=())
    write_receipt(receipt_file, receipt)
    assert receipt_file.name == "out.qsb.receipt.json" and stat.S_IMODE(receipt_file.stat().st_mode) == 0o600
    assert read_receipt(receipt_file) == receipt


def test_encrypted_bundle_round_trip_and_wrong_passphrase(tmp_path: Path) -> None:
    bundle = _tiny_bundle()
    data = encode_bundle(bundle, "correct horse battery staple")
    header = data.split(b"\n", 1)[0]
    assert b'"encrypted":true' in header and b"jsmith" not in data
    assert decode_bundle(data, schema=HEAD_REVISION, passphrase="correct horse battery staple") == bundle
    with pytest.raises(BundleRefused, match="wrong passphrase"):
        decode_bundle(data, schema=HEAD_REVISION, passphrase="wrong")
    with pytest.raises(BundleRefused, match="is encrypted: set QA_TUI_SYNC_PASSPHRASE"):
        decode_bundle(data, schema=HEAD_REVISION)
    with pytest.raises(BundleRefused, match="altered or damaged"):
        decode_bundle(data[:-5] + bytes([data[-5] ^ 0xFF]) + data[-4:], schema=HEAD_REVISION,
                      passphrase="correct horse battery staple")
    with pytest.raises(BundleRefused, match="truncated"):
        decode_bundle(data[:-3], schema=HEAD_REVISION, passphrase="correct horse battery staple")


# --- the command line ---------------------------------------------------------------------


def test_cli_export_import_ack_and_one_step_sync(db: Database, db_url: str, laptop: Database, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_TUI_SYNC_PASSPHRASE", "a long offline passphrase")
    laptop_url = str(laptop.engine.url)
    _seed_shared(db)
    assert main(["--db", laptop_url, "sync", "pull", "--from", db_url, "--team", "T1"]) == 0
    assert "added" in capsys.readouterr().out
    with laptop.reader() as s:
        worker = s.scalar(select(Person).where(Person.staff_id == "W1"))
    with laptop.session() as s:
        s.add(Observation(worker_id=worker.id, observed_on=date(2026, 11, 22), kind="annual"))
    bundle_file = tmp_path / "out" / "monday.qsb"
    bundle_file.parent.mkdir()
    assert main(["--db", laptop_url, "sync", "export", "--out", str(bundle_file)]) == 0
    assert "Wrote 1 changed records" in capsys.readouterr().out and stat.S_IMODE(bundle_file.stat().st_mode) == 0o600
    assert main(["--db", db_url, "sync", "import", str(bundle_file)]) == 0
    out = capsys.readouterr().out
    assert "1 added, 0 updated, 0 unchanged, 0 conflicts" in out
    assert main(["--db", db_url, "sync", "import", str(bundle_file)]) == 0
    assert "already imported" in capsys.readouterr().out
    assert main(["--db", laptop_url, "sync", "ack", str(receipt_path_for(bundle_file))]) == 0
    assert "1 record marked as synced" in capsys.readouterr().out
    assert _pending(laptop) == {}

    monkeypatch.setenv("QA_TUI_SYNC_PASSPHRASE", "not the passphrase")
    assert main(["--db", db_url, "sync", "import", str(bundle_file)]) == 2
    assert "wrong passphrase" in capsys.readouterr().err

    with laptop.session() as s:
        s.add(Supervision(worker_id=worker.id, held_on=date(2026, 11, 23)))
    assert main(["--db", laptop_url, "sync", "--to", db_url]) == 0
    assert "1 added" in capsys.readouterr().out
    assert _pending(laptop) == {} and _count(db, Supervision) == 1
    assert main(["--db", laptop_url, "sync", "status"]) == 0
    assert "changes waiting: 0" in capsys.readouterr().out


def test_cli_conflicts_and_resolve(db: Database, db_url: str, laptop: Database, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    ids, view = _make_conflict(db, laptop)
    assert main(["--db", db_url, "sync", "conflicts"]) == 0
    out = capsys.readouterr().out
    assert str(view.id)[:8] in out and "edited-elsewhere" in out and '"Office title"' in out
    merged = tmp_path / "merged.json"
    merged.write_text('{"title": "Agreed title"')
    assert main(["--db", db_url, "sync", "resolve", str(view.id)[:8], "--keep", "merged", "--fields", str(merged)]) == 2
    assert "line 1, column" in capsys.readouterr().err
    merged.write_text('{"title": "Agreed title"}')
    assert main(["--db", db_url, "sync", "resolve", str(view.id)[:8], "--keep", "merged", "--fields", str(merged)]) == 0
    assert "kept the merged version" in capsys.readouterr().out
    with db.reader() as s:
        assert s.get(Action, ids["action"]).title == "Agreed title"


# --- bulk work, and how long a big bundle takes -------------------------------------------


class _StatementCounter:
    def __init__(self, db: Database) -> None:
        self.engine, self.count = db.engine, 0

    def __enter__(self) -> _StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: object) -> None:
        self.count += 1


def test_import_works_in_bulk_not_row_by_row(db: Database, laptop: Database) -> None:
    _bulk_observations(laptop, 1498)
    bundle, again = _export(laptop), _export(laptop)
    with _StatementCounter(db) as fresh:
        assert _import(db, bundle).added == 1500
    with _StatementCounter(db) as repeat:
        _import(db, bundle)
    with _StatementCounter(db) as unchanged:
        assert _import(db, again).unchanged == 1500
    # Per table: a lookup of existing rows, of parents, one executemany per 500 rows and per 500 events.
    assert fresh.count <= 40 and repeat.count <= 4 and unchanged.count <= 20
