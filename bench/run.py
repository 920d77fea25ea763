"""The qa-tui benchmark: synthetic councils of several sizes on SQLite and PostgreSQL, the
timings that matter to a team manager, written as a Markdown table and CSV with machine details.

    python -m bench.run                       # 1k, 10k and 100k cases on both databases
    python -m bench.run --sizes 1k,10k,100k,1m
    python -m bench.run --sizes 1k --runs 1 --databases sqlite   # the smoke run the tests use
    python -m bench.concurrency               # 50 people at once on PostgreSQL (its own module)

Each figure is the median of --runs runs. Start-up runs the real `qa-tui` in a pseudo-terminal
(100x30) and measures, each against a bare Textual "hello world" measured the same way in the same
run: the first frame (the app's own screen drawn, and a key answered at once: help opens), the
dashboard's first figures, and the whole dashboard. Councils are built once with the demo
generator (COPY on PostgreSQL) and kept under bench/.cache (SQLite files) or as databases named
qa_tui_bench_<size>_<schema revision>_<digest of the migrations and the demo generator>; how long
each build took is kept beside it and reported.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TODAY = date(2026, 11, 24)
DRAW_MONTH = "2026-12"  # a month the demo has not drawn
SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}
PG_ADMIN = os.environ.get("QA_TUI_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TARGETS = {
    "first frame ratio to hello world": "≤ 1.25×",
    "first key answered ratio to hello world": "≤ 1.25×",
    "dashboard first figures ratio to hello world": "≤ 1.6×",
    "demo build (s)": "≤ 30 s at 100k",
    "draw one team (ms)": "< 50 ms at 100k",
    "draw every team (ms)": "≤ 1000 ms at 100k, ≤ 5000 ms at 1M",
    "triage, whole council, every kind (ms)": "≤ 300 ms at 100k, ≤ 1000 ms at 1M",
    "first triage page (ms)": "< 100 ms at 1M actions",
    "dashboard growth 1k → largest": "≤ 1.5×",
    "triage ratio to raw SQL": "≤ 2×",
    "sync import 10k records (ms)": "< 2000 ms",
    "sync re-import 10k records (ms)": "< 1000 ms",
    "peak RSS of the app (MB)": "≤ 120 MB at 1M",
}


@dataclass
class Result:
    database: str
    size: str
    metrics: dict[str, float] = field(default_factory=dict)


def median_of(runs: int, fn: Callable[[], float]) -> float:
    return statistics.median(fn() for _ in range(runs))


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


# --- building councils ----------------------------------------------------------------------


def _build_fingerprint() -> str:
    """The schema revision and a digest of the migrations and the demo generator that build a
    council: two checkouts that would build different councils never share one."""
    import hashlib

    from qa_tui.db.migrate import HEAD_REVISION, MIGRATIONS_DIR

    digest = hashlib.sha1()
    for path in sorted([*MIGRATIONS_DIR.rglob("*.py"), *(ROOT / "qa_tui" / "demo").rglob("*.py")]):
        digest.update(path.read_bytes())
    return f"{HEAD_REVISION.split('_')[0]}_{digest.hexdigest()[:10]}"


def council_url(database: str, size: str) -> str:
    """Where a council of this size is kept: one per build fingerprint, so a council built by another
    version of qa-tui (a newer schema, or an older generator) is never reused."""
    schema = _build_fingerprint()
    if database == "sqlite":
        cache = ROOT / "bench" / ".cache"
        cache.mkdir(parents=True, exist_ok=True, mode=0o700)
        return f"sqlite:///{cache / f'council-{size}-{schema}.sqlite3'}"
    return PG_ADMIN.rsplit("/", 1)[0] + f"/qa_tui_bench_{size}_{schema}"


def record_build_seconds(database: str, url: str, seconds: float) -> None:
    """Keep how long the council took to build: beside a SQLite council, as a PostgreSQL council's
    comment (so a council another checkout built still says how long it took)."""
    if database == "sqlite":
        Path(url.removeprefix("sqlite:///") + ".built").write_text(f"{seconds:.3f}\n")
        return
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'COMMENT ON DATABASE "{url.rsplit("/", 1)[1]}" IS \'built in {seconds:.3f} s\''))
    admin.dispose()


def build_seconds(database: str, url: str) -> float | None:
    """The seconds kept by `record_build_seconds`; None for a council built before they were kept."""
    try:
        if database == "sqlite":
            return float(Path(url.removeprefix("sqlite:///") + ".built").read_text())
        from sqlalchemy import create_engine, text

        admin = create_engine(PG_ADMIN)
        with admin.connect() as conn:
            comment = conn.execute(text("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                                        "WHERE datname = :n"), {"n": url.rsplit("/", 1)[1]}).scalar() or ""
        admin.dispose()
        return float(comment.removeprefix("built in ").removesuffix(" s"))
    except (OSError, ValueError):
        return None


def ensure_council(database: str, size: str) -> str:
    """Build the council once; later runs reuse it."""
    from sqlalchemy import create_engine, text

    from qa_tui.db.engine import Database, refresh_planner_statistics
    from qa_tui.db.migrate import ensure_schema
    from qa_tui.demo import build_demo, tables_holding_data

    url = council_url(database, size)
    if database == "postgresql":
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = url.rsplit("/", 1)[1]
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
                for (stale,) in conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                                             {"p": f"qa_tui_bench_{size}_%"}):  # councils of other checkouts
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{stale}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    db = Database.open(url, actor="bench")
    ensure_schema(db.engine)
    with db.reader() as s:
        built = bool(tables_holding_data(s))
    if not built:
        print(f"  building a {size}-case council on {database} …", flush=True)
        start = time.perf_counter()
        build_demo(db, today=TODAY, cases=SIZES[size])
        seconds = time.perf_counter() - start
        record_build_seconds(database, url, seconds)
        print(f"  built in {seconds:.1f} s", flush=True)
    refresh_planner_statistics(db)
    db.dispose()
    from qa_tui.demo import DEMO_USER_STAFF_ID
    from tests.pilot import become

    become(url, DEMO_USER_STAFF_ID)  # the app runs as the demo team manager, as the database knows her
    return url


# --- 1. start-up -----------------------------------------------------------------------------

HELLO = """
from textual.app import App
from textual.widgets import Footer, Static
class Hello(App):
    BINDINGS = [("question_mark", "answer", "Answer")]
    def compose(self):
        yield Static("Hello, world", id="hello")
        yield Footer()
    def action_answer(self):
        self.query_one("#hello", Static).update("Key answered")
Hello().run()
"""
FIRST_FRAME = "Quality assurance"  # the header of the app's first screen, before anything is read
FIRST_FIGURES = "Waiting for moderation"  # the dashboard with its first figures
WHOLE_DASHBOARD = "due within 7 days"  # the supervisions panel: the dashboard read in full


def wait_for_text(term: Any, needle: str, start: float, timeout: float = 120) -> float:
    """Milliseconds since `start` until `needle` is in what the terminal has shown (polled every
    few milliseconds: the tests' own wait reads in 0.1 s steps, too coarse for a 0.3 s figure)."""
    end = time.perf_counter() + timeout
    checked = -1
    while time.perf_counter() < end:
        term.read_for(0.002)
        if len(term.seen) != checked:  # only when something new was drawn
            checked = len(term.seen)
            if needle in term.text():
                return (time.perf_counter() - start) * 1000
    raise AssertionError(f"{needle!r} did not appear; last screen text: {term.text()[-800:]!r}")


def first_frame_and_key(command: list[str], env: dict[str, str], frame: str, answer: str) -> tuple[float, float]:
    """Milliseconds until the first frame is on screen, and until `?` pressed at that moment is
    answered (`answer` shown)."""
    from tests.terminal import Terminal

    start = time.perf_counter()
    term = Terminal(command, env)
    try:
        shown = wait_for_text(term, frame, start)
        term.forget()
        os.write(term.master, b"?")
        answered = wait_for_text(term, answer, start, timeout=30)
    finally:
        term.kill()
    return shown, answered


def dashboard_times(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Milliseconds until the dashboard shows its first figures, and until it is whole."""
    from tests.terminal import Terminal

    start = time.perf_counter()
    term = Terminal(command, env)
    try:
        return wait_for_text(term, FIRST_FIGURES, start), wait_for_text(term, WHOLE_DASHBOARD, start)
    finally:
        term.kill()


def peak_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def app_env(tmp: Path) -> dict[str, str]:
    from qa_tui.demo import DEMO_USER_STAFF_ID
    from tests.terminal import app_env as terminal_env

    config = tmp / "config.toml"
    config.write_text(f'[user]\nstaff_id = "{DEMO_USER_STAFF_ID}"\n')
    return terminal_env(config, tmp / "data")


def start_up(url: str, runs: int, tmp: Path) -> dict[str, float]:
    """Hello world and the app, run after run in turn (so a busy moment hits both alike)."""
    env = app_env(tmp)
    hello_file = tmp / "hello.py"
    hello_file.write_text(HELLO)
    hello = [sys.executable, str(hello_file)]
    app = [sys.executable, "-m", "qa_tui", "--db", url, "--today", TODAY.isoformat()]
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        for name, value in (
                *zip(("hello world first frame (ms)", "hello world key answered (ms)"),
                     first_frame_and_key(hello, env, "Hello, world", "Key answered"), strict=True),
                *zip(("first frame (ms)", "first key answered (ms)"),
                     first_frame_and_key(app, env, FIRST_FRAME, "Areas"), strict=True),
                *zip(("dashboard first figures (ms)", "whole dashboard (ms)"), dashboard_times(app, env), strict=True)):
            samples.setdefault(name, []).append(value)
    out = {name: statistics.median(values) for name, values in samples.items()}
    frame, key = out["hello world first frame (ms)"], out["hello world key answered (ms)"]
    out["first frame ratio to hello world"] = out["first frame (ms)"] / frame
    out["first key answered ratio to hello world"] = out["first key answered (ms)"] / key
    out["dashboard first figures ratio to hello world"] = out["dashboard first figures (ms)"] / frame
    out["whole dashboard ratio to hello world"] = out["whole dashboard (ms)"] / frame
    return out


def peak_rss(url: str, tmp: Path) -> float:
    """Peak RSS of the app after the dashboard, triage, live audit and moderation screens."""
    from tests.terminal import Terminal

    env = app_env(tmp)
    term = Terminal([sys.executable, "-m", "qa_tui", "--db", url, "--today", TODAY.isoformat()], env)
    try:
        term.wait_for(WHOLE_DASHBOARD, timeout=120)  # every area key works from here
        for key, marker in (("t", "Late work"), ("l", "Role"), ("m", "moderation"),
                            ("d", "Live audits this month")):
            term.forget()
            term.press(key)
            term.wait_for(marker, timeout=60)
        term.read_for(1.0)
        return peak_rss_kb(term.proc.pid) / 1024
    finally:
        term.kill()


# --- 2-4. services in process -------------------------------------------------------------------


def in_process(url: str, runs: int) -> dict[str, float]:
    from sqlalchemy import select, text, update

    from qa_tui.config import load_config
    from qa_tui.dates import Month
    from qa_tui.db.engine import Database
    from qa_tui.db.models import CaseDraw, Person, Team
    from qa_tui.demo import DEMO_USER_STAFF_ID
    from qa_tui.services.audits.draw import draw_all_teams, draw_cases_for_team
    from qa_tui.services.audits.meeting import MeetingCase, open_case
    from qa_tui.services.audits.record import set_text
    from qa_tui.services.programme.triage import TriageFilters, triage_page

    cfg = load_config(db_override=url)
    db = Database.open(url, actor="bench")
    month = Month.parse(DRAW_MONTH)
    with db.reader() as s:
        team_id = s.scalar(select(Team.id).where(Team.code == "AST1"))
        auditor_id = s.scalar(select(Person.id).where(Person.staff_id == DEMO_USER_STAFF_ID))
    with db.session() as s:  # a team has one current draw a month: an earlier run's are set aside
        s.execute(update(CaseDraw).where(CaseDraw.month == str(month)).values(is_current=False))

    def rolled_back(fn: Callable[[Any], Any]) -> float:
        session = db.factory()
        session.info["actor"] = "bench"
        try:
            return timed(lambda: fn(session))
        finally:
            session.rollback()
            session.close()

    out: dict[str, float] = {}
    out["draw one team (ms)"] = median_of(runs, lambda: rolled_back(
        lambda s: draw_cases_for_team(s, team_id, month, TODAY, cfg.draw, drawn_by="bench")))
    out["draw every team (ms)"] = median_of(max(1, runs // 2), lambda: rolled_back(
        lambda s: draw_all_teams(s, month, TODAY, cfg.draw, drawn_by="bench")))

    # Triage: the list over every late action in the council (the query the raw SQL repeats),
    # the page a team manager sees on opening it (their team, every kind of late work), and the
    # whole council with every kind (a senior manager's first look; later pages and filter
    # changes reuse the slow kinds).
    actions_only = TriageFilters(kinds=("action",))
    out["first triage page (ms)"] = median_of(runs, lambda: rolled_back(
        lambda s: triage_page(s, TODAY, cfg, actions_only, limit=100)))
    raw = text(
        "SELECT a.id, a.title, a.owner_id, p.name, a.team_id, t.name, a.due_on, c.reference, a.source_kind "
        "FROM action a LEFT JOIN person p ON p.id = a.owner_id LEFT JOIN team t ON t.id = a.team_id "
        "LEFT JOIN case_file c ON c.id = a.case_id "
        "WHERE a.status = 'open' AND a.due_on < :today ORDER BY a.due_on, a.id LIMIT 101")
    out["same page as raw SQL (ms)"] = median_of(runs, lambda: rolled_back(
        lambda s: s.execute(raw, {"today": TODAY}).all()))
    out["triage ratio to raw SQL"] = out["first triage page (ms)"] / max(out["same page as raw SQL (ms)"], 0.001)
    out["triage, my team, every kind (ms)"] = median_of(runs, lambda: rolled_back(
        lambda s: triage_page(s, TODAY, cfg, TriageFilters(team_id=team_id), limit=100)))
    out["triage, whole council, every kind (ms)"] = median_of(1, lambda: rolled_back(
        lambda s: triage_page(s, TODAY, cfg, TriageFilters(), limit=100)))
    with db.reader() as s:
        out["open actions in the council"] = float(s.execute(text(
            "SELECT count(*) FROM action WHERE status = 'open'")).scalar() or 0)

    # A live audit on a drawn case: draw once (kept), then open and save, each committed. The
    # council is reused between benchmark runs, so this draw leaves out the "audited lately" and
    # "drawn this month" rules that earlier runs' draws and audits would otherwise exhaust.
    from dataclasses import replace

    every_open_case = replace(cfg.draw, exclude_audited_within_months=0, exclude_drawn_this_month=False)
    with db.session() as s:
        plan = draw_cases_for_team(s, team_id, month, TODAY, every_open_case, drawn_by="bench")
    picks = [p for p in plan.picks if p.pick_id is not None]
    opened: list[uuid.UUID] = []

    def open_one() -> float:
        pick = picks[len(opened) % len(picks)]
        with db.session() as s:
            start = time.perf_counter()
            audit = open_case(s, MeetingCase(pick, None, None), draw=plan, auditor_id=auditor_id,
                              participants=[], today=TODAY, cfg=cfg)
        opened.append(audit.id)
        return (time.perf_counter() - start) * 1000

    out["open a live audit (ms)"] = median_of(min(runs, len(picks)), open_one)

    def save_one() -> float:
        audit_id = opened[0]
        start = time.perf_counter()
        with db.session() as s:
            set_text(s, audit_id, "strengths", f"Benchmark text {uuid.uuid4().hex[:8]}")
        return (time.perf_counter() - start) * 1000

    out["save a field (ms)"] = median_of(runs, save_one)
    db.dispose()
    return out


# --- 5. sync import -------------------------------------------------------------------------------


def sync_import(url: str, runs: int, tmp: Path) -> dict[str, float]:
    from bench.sync_bench import time_sync_import

    return time_sync_import(url, runs, tmp)


# --- reporting -------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    import sqlite3

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    pg = ""
    try:
        pg = subprocess.run(["psql", "--version"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    import textual

    return {"date": time.strftime("%Y-%m-%d %H:%M"), "cpu": cpu, "cores": str(os.cpu_count()), "memory": mem,
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "postgresql": pg,
            "textual": textual.__version__, "platform": platform.platform()}


def write_results(results: list[Result], out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    for r in results:
        names += [n for n in r.metrics if n not in names]
    columns = [f"{r.database} {r.size}" for r in results]
    lines = ["| measure | " + " | ".join(columns) + " | target |", "|---|" + "---|" * len(columns) + "---|"]
    for name in names:
        cells = [_fmt(name, r.metrics.get(name)) for r in results]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {TARGETS.get(name, '')} |")
    info = machine()
    header = ["# qa-tui benchmark", "", "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()), "",
              "Start-up: the real app in a pseudo-terminal (100x30): its first frame, a key pressed then "
              "answered, the dashboard's first figures and the whole dashboard, each against a bare Textual "
              "hello world (first frame; its key answered) in the same run; medians of the runs. "
              "Demo build: the seconds the council took to build (kept from when it was built).", ""]
    markdown = out_dir / "latest.md"
    markdown.write_text("\n".join(header + lines) + "\n")
    with (out_dir / "latest.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["database", "size", "measure", "value", *info.keys()])
        for r in results:
            for name, value in r.metrics.items():
                writer.writerow([r.database, r.size, name, f"{value:.3f}", *info.values()])
    return markdown


def _fmt(name: str, value: float | None) -> str:
    if value is None:
        return "—"
    if "ratio" in name:
        return f"{value:.2f}×"
    if name.startswith("open actions"):
        return f"{value:,.0f}"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1k,10k,100k", help="comma-separated: 1k,10k,100k,1m")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--skip", default="", help="comma-separated parts to leave out: cold,services,sync,rss")
    args = parser.parse_args(argv)
    sizes = [s for s in args.sizes.split(",") if s]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size {unknown[0]!r}; choose from {', '.join(SIZES)}")
    skip = set(filter(None, args.skip.split(",")))
    import tempfile

    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for database in [d for d in args.databases.split(",") if d]:
            for size in sizes:
                print(f"{database} {size}", flush=True)
                url = ensure_council(database, size)
                result = Result(database, size)
                built = build_seconds(database, url)
                if built is not None:
                    result.metrics["demo build (s)"] = built
                if "cold" not in skip:
                    result.metrics.update(start_up(url, args.runs, tmp))
                if "services" not in skip:
                    result.metrics.update(in_process(url, args.runs))
                if "sync" not in skip:
                    result.metrics.update(sync_import(url, args.runs, tmp))
                if "rss" not in skip and size == sizes[-1]:
                    result.metrics["peak RSS of the app (MB)"] = peak_rss(url, tmp)
                results.append(result)
                for name, value in result.metrics.items():
                    print(f"  {name}: {_fmt(name, value)}", flush=True)
    path = write_results(results, Path(args.out))
    print(f"wrote {path} and {path.with_suffix('.csv')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
