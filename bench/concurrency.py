"""Many people at once on PostgreSQL: each simulated person is a thread with their own database
login and their own connection, opened as the app opens it (`open_context`, acting as their login
as `qa-tui serve` does), saving their own audit, observation and action through the services as
fast as they can (or `--think` seconds apart), while a few managers, each in a process of their
own, run whole-council triage and the monthly report.

    python -m bench.concurrency                        # 50 people and 5 readers for 60 s, 100k council
    python -m bench.concurrency --think 2                # each person saving every 2 s, as autosave would
    python -m bench.concurrency --people 3 --readers 1 --seconds 2 --size 1k   # the smoke run

Reports saves per second, p50/p95/p99 save latency, every error, and a lost-update check: after
the run, each person's last saved text is what the database holds, and every progress note each
saved is in the action's history.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import SIZES, TODAY, ensure_council  # noqa: E402

ROLE_PREFIX = "qa_bench_"
APP_ROLE = "qa_tui_app"  # the group every person's login is in (migration 0002_security)
WRITER_ROLES = ("TM",)  # team managers audit, observe and own actions
READER_ROLES = ("HOS", "DD", "AD", "TM")  # who runs whole-council triage and reports
CASE_HOLDERS = ("SW", "ASWP")  # whose cases the managers audit


@dataclass
class Person:
    person_id: uuid.UUID
    staff_id: str
    team_id: uuid.UUID
    login: str = ""
    ctx: Any = None
    audit_id: uuid.UUID | None = None
    observation_id: uuid.UUID | None = None
    action_id: uuid.UUID | None = None


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    reads_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    last_text: dict[tuple[str, uuid.UUID], str] = field(default_factory=dict)  # (kind, id) → last saved
    notes: dict[uuid.UUID, list[str]] = field(default_factory=dict)  # action → progress notes saved
    lock: threading.Lock = field(default_factory=threading.Lock)


def login_for(staff_id: str) -> str:
    return ROLE_PREFIX + "".join(ch if ch.isalnum() else "_" for ch in staff_id.lower())


def choose_people(url: str, writers: int, readers: int) -> tuple[list[Person], list[Person]]:
    from sqlalchemy import select
    from sqlalchemy.orm import aliased

    from qa_tui.db.engine import Database
    from qa_tui.db.models import Case, Person as PersonRow

    holder = aliased(PersonRow)
    teams_with_cases = (select(holder.team_id).join(Case, Case.worker_id == holder.id)
                        .where(holder.role.in_(CASE_HOLDERS)))
    db = Database.open(url, actor="bench")
    with db.reader() as s:
        def pick(roles: tuple[str, ...], count: int, skip: set[uuid.UUID], *where: Any) -> list[Person]:
            rows = s.execute(select(PersonRow.id, PersonRow.staff_id, PersonRow.team_id)
                             .where(PersonRow.role.in_(roles), PersonRow.team_id.is_not(None),
                                    PersonRow.active_to.is_(None), PersonRow.id.not_in(skip or {uuid.uuid4()}), *where)
                             .order_by(PersonRow.staff_id).limit(count)).all()
            return [Person(*row) for row in rows]

        chosen = pick(WRITER_ROLES, writers, set(), PersonRow.team_id.in_(teams_with_cases))
        watchers = pick(READER_ROLES, readers, {p.person_id for p in chosen})
    db.dispose()
    if len(chosen) < writers:
        raise SystemExit(f"the council has only {len(chosen)} team managers with cases: choose a larger --size")
    return chosen, watchers


def give_logins(url: str, people: list[Person]) -> None:
    """Each person's own database login (a role in the app's group, as an administrator would make
    one), linked to their staff record; the bench connects as itself and acts as it."""
    from sqlalchemy import create_engine, text

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for person in people:
            person.login = login_for(person.staff_id)
            if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": person.login}).scalar():
                conn.execute(text(f'CREATE ROLE "{person.login}" NOLOGIN IN ROLE {APP_ROLE}'))
            conn.execute(text("UPDATE person SET login = NULL WHERE login = :r AND id <> :id"),
                         {"r": person.login, "id": person.person_id})
            conn.execute(text("UPDATE person SET login = :r WHERE id = :id"), {"r": person.login, "id": person.person_id})
    admin.dispose()


def open_as(url: str, person: Person) -> None:
    """The person's own context, opened as the app opens it for their login."""
    from qa_tui.config import load_config
    from qa_tui.context import open_context

    config = replace(load_config(db_override=url), database_role=person.login)
    person.ctx = open_context(config, migrate=False, today=TODAY)
    if person.ctx.person_id != person.person_id:
        raise SystemExit(f"{person.login} is not linked to {person.staff_id}")


def give_records(person: Person) -> None:
    """A draft audit, an observation and an action of the person's own, made through the services
    as them: what each of them edits in the run."""
    from sqlalchemy import select

    from qa_tui.db.models import Case, Person as PersonRow
    from qa_tui.services.audits.actions import add_action
    from qa_tui.services.audits.record import start_audit
    from qa_tui.services.practice.observations import record_observation

    ctx = person.ctx
    cfg = ctx.config
    with ctx.db.session() as s:
        case_id, worker_id = s.execute(
            select(Case.id, Case.worker_id).join(PersonRow, PersonRow.id == Case.worker_id)
            .where(PersonRow.team_id == person.team_id, PersonRow.role.in_(CASE_HOLDERS))
            .order_by(Case.reference).limit(1)).one()
        audit = start_audit(s, kind="live", template=cfg.template("live"), case_id=case_id, worker_id=worker_id,
                            auditor_id=person.person_id, team_id=person.team_id, audit_date=TODAY,
                            today=TODAY, cfg=cfg)
        observation = record_observation(s, observer_id=person.person_id, worker_id=worker_id, observed_on=TODAY,
                                         kind="annual", today=TODAY)
        action = add_action(s, title="Benchmark: update the chronology", owner_id=person.person_id,
                            raised_by_id=person.person_id, audit_id=audit.id, today=TODAY, cfg=cfg)
    person.audit_id, person.observation_id, person.action_id = audit.id, observation.id, action.id


def edit_loop(person: Person, until: float, tally: Tally, think: float = 0.0) -> None:
    """Save the three records in turn, each save its own transaction, as the app's autosave does,
    `think` seconds apart (0: as fast as they can, a stress test)."""
    from qa_tui.services.audits.actions import record_progress
    from qa_tui.services.audits.record import set_text
    from qa_tui.services.practice.observations import update_observation_field

    db = person.ctx.db
    n = 0
    while time.perf_counter() < until:
        n += 1
        value = f"{person.staff_id} save {n} {uuid.uuid4().hex[:6]}"
        kind, record_id = (("audit", person.audit_id), ("observation", person.observation_id),
                           ("action", person.action_id))[n % 3]
        start = time.perf_counter()
        try:
            with db.session() as s:
                if kind == "audit":
                    set_text(s, record_id, "strengths", value)
                elif kind == "observation":
                    update_observation_field(s, record_id, "went_well", value)
                else:
                    record_progress(s, record_id, value, person.person_id, TODAY)
        except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
            with tally.lock:
                tally.errors.append(f"{person.login} {kind}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
            continue
        elapsed = (time.perf_counter() - start) * 1000
        with tally.lock:
            tally.latencies_ms.append(elapsed)
            if kind == "action":
                tally.notes.setdefault(record_id, []).append(value)
            else:
                tally.last_text[(kind, record_id)] = value
        if think:
            time.sleep(think)


def read_loop(person: Person, until: float, tally: Tally) -> None:
    """Whole-council triage (every kind) and the monthly report, in turn."""
    from qa_tui.dates import Month
    from qa_tui.services.programme.triage import TriageFilters, triage_page
    from qa_tui.services.reports.figures import monthly_report

    ctx = person.ctx
    n = 0
    while time.perf_counter() < until:
        n += 1
        start = time.perf_counter()
        try:
            with ctx.db.reader() as s:
                if n % 2:
                    triage_page(s, TODAY, ctx.config, TriageFilters(), limit=100)
                else:
                    monthly_report(s, Month.of(TODAY), TODAY, ctx.config)
        except Exception as exc:  # noqa: BLE001
            with tally.lock:
                tally.errors.append(f"{person.login} read: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
            continue
        with tally.lock:
            tally.reads_ms.append((time.perf_counter() - start) * 1000)


def reader_process(url: str, person: Person, seconds: float, results: Any) -> None:
    """A manager's app in a process of its own, as each person's app is: whole-council triage and
    the report are CPU-heavy Python that would otherwise hold the writers' interpreter lock."""
    open_as(url, person)
    tally = Tally()
    read_loop(person, time.perf_counter() + seconds, tally)
    person.ctx.db.dispose()
    results.put((tally.reads_ms, tally.errors))


def lost_updates(url: str, tally: Tally) -> list[str]:
    """Saves the database does not hold: a text whose last saved value is not the stored one, or
    a progress note missing from its action's history."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    lost = []
    with engine.connect() as conn:
        for (kind, record_id), value in tally.last_text.items():
            column, table = ("strengths", "audit") if kind == "audit" else ("went_well", "observation")
            stored = conn.execute(text(f"SELECT {column} FROM {table} WHERE id = :id"), {"id": record_id}).scalar()
            if stored != value:
                lost.append(f"{kind} {record_id}: saved {value!r}, stored {stored!r}")
        for action_id, notes in tally.notes.items():
            stored = set(conn.execute(text("SELECT reason FROM action_change WHERE action_id = :id AND change = 'progress'"),
                                      {"id": action_id}).scalars())
            lost += [f"action {action_id}: progress {note!r} missing" for note in notes if note not in stored]
    engine.dispose()
    return lost


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(url: str, *, people: int, readers: int, seconds: float, think: float = 0.0) -> dict[str, Any]:
    writers, watchers = choose_people(url, people, readers)
    give_logins(url, writers + watchers)
    for person in writers + watchers:
        open_as(url, person)
    for person in writers:
        give_records(person)
    for person in watchers:  # opened again in their own processes
        person.ctx.db.dispose()
        person.ctx = None
    tally = Tally()
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    readers_at_work = [spawn.Process(target=reader_process, args=(url, p, seconds, results)) for p in watchers]
    for process in readers_at_work:
        process.start()
    until = time.perf_counter() + seconds
    threads = [threading.Thread(target=edit_loop, args=(p, until, tally, think)) for p in writers]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for _ in readers_at_work:
        reads, errors = results.get()
        tally.reads_ms += reads
        tally.errors += errors
    for process in readers_at_work:
        process.join()
    elapsed = time.perf_counter() - started
    for person in writers:
        person.ctx.db.dispose()
    lost = lost_updates(url, tally)
    saves = tally.latencies_ms
    return {"people": len(writers), "readers": len(watchers), "think time (s)": think, "seconds": elapsed,
            "saves": len(saves),
            "saves per second": len(saves) / elapsed if elapsed else 0.0,
            "p50 save (ms)": percentile(saves, 50), "p95 save (ms)": percentile(saves, 95),
            "p99 save (ms)": percentile(saves, 99), "mean save (ms)": statistics.fmean(saves) if saves else 0.0,
            "reads": len(tally.reads_ms), "p95 read (ms)": percentile(tally.reads_ms, 95),
            "errors": tally.errors, "lost updates": lost}


def report(result: dict[str, Any]) -> str:
    lines = ["| measure | value | goal |", "|---|---|---|"]
    goals = {"p95 save (ms)": "≤ 50 ms", "errors": "0", "lost updates": "0"}
    for name, value in result.items():
        shown = (len(value) if isinstance(value, list) else f"{value:.1f}" if isinstance(value, float) else value)
        lines.append(f"| {name} | {shown} | {goals.get(name, '')} |")
    for kind in ("errors", "lost updates"):
        lines += [f"- {kind[:-1]}: {item}" for item in result[kind][:20]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.concurrency", description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50, help="people saving their own records")
    parser.add_argument("--readers", type=int, default=5, help="managers running triage and reports")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=0.0,
                        help="seconds each person waits between saves (0: as fast as they can)")
    parser.add_argument("--size", default="100k", choices=list(SIZES),
                        help="the council (built once, as bench.run's; 10k has only 40 team managers)")
    parser.add_argument("--db", default="", help="a PostgreSQL council to use instead (it is written to)")
    parser.add_argument("--out", default="", help="also write the table to this file")
    args = parser.parse_args(argv)
    url = args.db or ensure_council("postgresql", args.size)
    if not url.startswith("postgresql"):
        parser.error("the concurrency benchmark runs on PostgreSQL")
    result = run(url, people=args.people, readers=args.readers, seconds=args.seconds, think=args.think)
    table = report(result)
    print(table)
    if args.out:
        Path(args.out).write_text(table + "\n")
    return 0 if not result["errors"] and not result["lost updates"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
