"""A deterministic, entirely fictional council for demos and benchmarks: organisation, caseload and
a year of QA history up to `today`, streamed into an empty database in batches of bulk inserts.

`build_demo` is the entry point; the modules beside this one generate each part (organisation,
teams and their cases, audits, practice records) from generators seeded per area and per team.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, inspect, select
from sqlalchemy.orm import Session

from qa_tui.config import Config, parse_config
from qa_tui.db import trail
from qa_tui.db.engine import Database, describe_url, refresh_planner_statistics
from qa_tui.db.models import EDITABLE_MODELS, AuditEvent, AuditTemplate
from qa_tui.demo.hostile import add_hostile_records
from qa_tui.demo.organisation import build_area
from qa_tui.demo.programme import add_programme_records
from qa_tui.demo.state import Council
from qa_tui.demo.teams import build_team
from qa_tui.demo.writer import BATCH_ROWS, BulkWriter, large_sqlite_cache
from qa_tui.errors import NotAllowed, ValidationError
from qa_tui.services.people.owner import set_standalone_owner

DEMO_USER_STAFF_ID = "DEMO-S00001"  # the team manager of the first team: numbered first
DEFAULT_CASES = 2000
DEFAULT_SEED = 1
MAX_CASES = 5_000_000
DEMO_EVENT = "demo"


@dataclass(frozen=True)
class DemoSummary:
    cases: int
    seed: int
    today: date
    counts: dict[str, int]  # table name → rows inserted
    seconds: float

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    def lines(self) -> list[str]:
        width = max(len(table) for table in self.counts)
        lines = [f"Demo council: {self.cases} cases, seed {self.seed}, up to {self.today.isoformat()}"]
        lines += [f"  {table:<{width}}  {count:>10,}" for table, count in self.counts.items()]
        rate = self.rows / self.seconds if self.seconds else 0.0
        lines.append(f"  {'total':<{width}}  {self.rows:>10,} rows in {self.seconds:.1f} s ({rate:,.0f} rows/s)")
        return lines


# --- checks on the target database --------------------------------------------------------


def tables_holding_data(session: Session) -> list[str]:
    """Tables that already hold rows (stored templates alone do not count: the app makes them).
    A table a later migration adds is not there yet in an older schema, and holds nothing."""
    present = set(inspect(session.connection()).get_table_names())
    return [model.__tablename__ for model in EDITABLE_MODELS
            if model is not AuditTemplate and model.__tablename__ in present
            and session.scalar(select(exists().select_from(model)))]


def built_by_demo(session: Session) -> bool:
    """Whether the demo generator built this database (it leaves one trail event saying so)."""
    return bool(session.scalar(select(exists().where(AuditEvent.action == DEMO_EVENT))))


def build_demo(db: Database, *, today: date, cases: int = DEFAULT_CASES, seed: int = DEFAULT_SEED,
               config: Config | None = None, batch_rows: int = BATCH_ROWS, hostile: bool = False) -> DemoSummary:
    """Build the fictional council into `db`, which must be empty, in one transaction; `hostile`
    dresses every person's text in markup, escapes and formulas (see `hostile.py`).

    The same seed, case count, `today` and `hostile` give identical data."""
    if isinstance(cases, bool) or not isinstance(cases, int) or not 1 <= cases <= MAX_CASES:
        raise ValidationError("--cases", f"expected a whole number from 1 to {MAX_CASES:,}, got {cases!r}")
    config = config or parse_config({})
    started = time.perf_counter()
    with db.session() as session:
        occupied = tables_holding_data(session)
        if occupied:
            raise NotAllowed(
                f"The database {describe_url(str(db.engine.url))} already holds data "
                f"({', '.join(occupied)}); the demo council is built only into an empty database.")
        trail.leave_untrailed(session)  # one summary event below, not one per row
        writer = BulkWriter(session, batch_rows)
        with large_sqlite_cache(session):
            council = Council(session, writer, config, today, cases, seed, hostile=hostile)
            _build_council(council)
            writer.flush()
            add_programme_records(council, session)
            writer.flush()
            if hostile:
                add_hostile_records(council, session, DEMO_USER_STAFF_ID)
        trail.record_event(session, DEMO_EVENT, "*", None,
                           detail=f"built {'hostile ' if hostile else ''}demo council: {cases} cases, seed {seed}, "
                                  f"today {today.isoformat()}, {sum(writer.counts.values())} rows")
        if db.is_sqlite:  # a demo file is a standalone install of the demo user's
            set_standalone_owner(session, DEMO_USER_STAFF_ID)
    refresh_planner_statistics(db)
    counts = {m.__tablename__: writer.counts[m.__tablename__] for m in EDITABLE_MODELS
              if writer.counts[m.__tablename__]}
    return DemoSummary(cases, seed, today, counts, time.perf_counter() - started)


def _build_council(council: Council) -> None:
    """Area by area and team by team, each from its own generator seeded with (seed, area or
    team), so only one area's people and one team's cases are ever held in memory and every row
    streams straight to the writer."""
    for area in range(council.areas):
        for plan in build_area(council, area):
            build_team(council, plan)
