"""A one-size run of the benchmark so it does not rot: it must build a council, measure every
part and write its table. No time is asserted here; the figures live in the README."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bench.run import main


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_benchmark_smoke_run_writes_every_measure(database: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if database == "postgresql":
        request.getfixturevalue("pg_url")  # reachable, or skipped / failed exactly as the other PG tests
    out = tmp_path / "results"
    assert main(["--sizes", "1k", "--databases", database, "--runs", "1", "--out", str(out)]) == 0
    table = (out / "latest.md").read_text()
    for measure in ("first frame ratio to hello world", "first key answered ratio to hello world",
                    "dashboard first figures ratio to hello world", "whole dashboard ratio to hello world", "demo build (s)",
                    "draw every team (ms)", "triage ratio to raw SQL",
                    "open a live audit (ms)", "sync import 10k records (ms)", "peak RSS of the app (MB)"):
        assert measure in table, measure
    with (out / "latest.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert {r["database"] for r in rows} == {database}
    assert all(float(r["value"]) > 0 for r in rows)
