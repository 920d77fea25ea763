"""Sync import timing for the benchmark: a laptop pulls one team, records 10,000 observations
offline, exports them; the council's database imports the bundle, then imports it again.

Each run imports inside a transaction that is rolled back afterwards, so every run starts from
the same council (the time includes reading and checking the bundle and flushing every row, but
not the final COMMIT)."""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import date
from pathlib import Path

RECORDS = 10_000


def time_sync_import(url: str, runs: int, tmp: Path) -> dict[str, float]:
    from sqlalchemy import insert, select

    from qa_tui.db.engine import Database
    from qa_tui.db.migrate import HEAD_REVISION, ensure_schema
    from qa_tui.db.models import Observation, Person, Team
    from qa_tui.services.sync.bundle import decode_bundle, encode_bundle
    from qa_tui.services.sync.export import export_changes
    from qa_tui.services.sync.importing import import_bundle
    from qa_tui.services.sync.pull import pull_from_database

    shared = Database.open(url, actor="bench")
    laptop_file = tmp / f"laptop-{uuid.uuid4().hex[:6]}.sqlite3"
    laptop = Database.open(f"sqlite:///{laptop_file}", actor="bench-laptop")
    ensure_schema(laptop.engine)
    with laptop.session() as local, shared.reader() as remote:
        pull_from_database(local, remote, source=url, team_codes=["AST1"])
    with laptop.session() as s:
        team_id = s.scalar(select(Team.id).where(Team.code == "AST1"))
        workers = s.scalars(select(Person.id).where(Person.team_id == team_id)).all()
        rows = [{"id": uuid.uuid4(), "version": 1, "worker_id": workers[n % len(workers)],
                 "observed_on": date(2026, 11, 1 + n % 23), "kind": "peer", "went_well": f"Benchmark observation {n}",
                 "themes": ["voice"]} for n in range(RECORDS)]
        for start in range(0, RECORDS, 5000):
            s.execute(insert(Observation.__table__), rows[start:start + 5000])
    with laptop.session() as s:
        data = encode_bundle(export_changes(s, exported_by="bench", device_name="bench-laptop"))
    laptop.dispose()

    first: list[float] = []
    again: list[float] = []
    for _ in range(runs):
        session = shared.factory()
        session.info["actor"] = "bench"
        try:
            start = time.perf_counter()
            receipt = import_bundle(session, decode_bundle(data, schema=HEAD_REVISION, source="bench"))
            session.flush()
            first.append((time.perf_counter() - start) * 1000)
            assert receipt.added == RECORDS, receipt
            start = time.perf_counter()
            again_receipt = import_bundle(session, decode_bundle(data, schema=HEAD_REVISION, source="bench"))
            again.append((time.perf_counter() - start) * 1000)
            assert again_receipt.already_imported
        finally:
            session.rollback()
            session.close()
    shared.dispose()
    return {"sync import 10k records (ms)": statistics.median(first),
            "sync re-import 10k records (ms)": statistics.median(again)}
