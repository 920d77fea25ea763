"""Hostile input, property-based: CSV and Annex A imports, sync bundles (byte-level mutation and
well-formed bundles with hostile fields), config files and the service calls behind every form.
Any input gives a valid record or a clear error (a QAError or ConfigError with a message), never
another exception, and a refused input leaves nothing written even when the caller commits."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import PendingRollbackError
from sqlalchemy.orm import Session

from qa_tui.config import ConfigError, load_config, parse_config
from qa_tui.db.base import Base
from qa_tui.db.engine import Database
from qa_tui.db.migrate import HEAD_REVISION
from qa_tui.db.models import Case, Person, Team
from qa_tui.errors import QAError
from qa_tui.services.audits import actions
from qa_tui.services.audits import record as audits
from qa_tui.services.practice import feedback
from qa_tui.services.practice import observations
from qa_tui.services.imports.annex_a import apply_annex_a, preview_annex_a
from qa_tui.services.imports.people_cases import (
    CASES_OPTIONAL,
    CASES_REQUIRED,
    PEOPLE_OPTIONAL,
    PEOPLE_REQUIRED,
    import_cases,
    import_people,
)
from qa_tui.services.sync.export import export_changes
from qa_tui.services.sync.importing import import_bundle
from qa_tui.services.sync.bundle import (
    Bundle,
    BundleRecord,
    content_hash,
    decode_bundle,
    encode_bundle,
)
from tests.fixtures_workbooks import list_rows, write_workbook
from tests.test_audits import CFG, Org, seed_org, start

TODAY = date(2026, 11, 24)
CLEAR_ERRORS = (QAError, ConfigError)
SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Text a user or a file could hold: control characters and NUL, quotes and separators, formula
# starters, right-to-left marks, very long strings.
NASTY = ["", " ", "\x00", "\t", "\r\n", '"', "'", ",", ";", "=cmd|' /C calc'!A0", "+1", "@SUM(A1)",
         "\u202e", "\ufeff", "Robert'); DROP TABLE person;--", "😀", "x" * 5000]
text_values = st.one_of(st.text(max_size=40), st.sampled_from(NASTY),
                        st.text(alphabet=st.characters(max_codepoint=0x7F), min_size=200, max_size=2000))


def snapshot(db: Database) -> dict[str, int]:
    with db.reader() as s:
        return {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def attempt(db: Database, call: Callable[[Session], Any]) -> tuple[Any, BaseException | None]:
    """Run `call` the way a careless caller would: catch a clear error and commit anyway. Any
    other exception fails the test; a clear error must leave the database exactly as it was."""
    before = snapshot(db)
    result, error = None, None
    try:
        with db.session() as session:
            try:
                result = call(session)
            except CLEAR_ERRORS as exc:
                error = exc
    except (PendingRollbackError, *CLEAR_ERRORS) as exc:
        # Refused inside a flush, so the commit could only fail too and roll everything back.
        assert error is not None and (isinstance(exc, PendingRollbackError) or type(exc) is type(error)), exc
    if error is not None:
        assert str(error).strip(), f"{error.__class__.__name__} without a message"
        assert snapshot(db) == before, f"refused ({error}) but something was written"
    return result, error


# --- CSV imports ----------------------------------------------------------------------------


def csv_files(required: tuple[str, ...], optional: tuple[str, ...], known: dict[str, list[str]]) -> st.SearchStrategy[str]:
    """CSV text with (mostly) the right headers and hostile cells, or any text at all."""
    columns = st.lists(st.sampled_from([*required, *optional, "surname", "date_of_birth", ""]), max_size=4).map(
        lambda extra: [*required, *extra])
    cell = st.one_of(text_values, *(st.sampled_from(v) for v in known.values()))

    @st.composite
    def table(draw: st.DrawFn) -> str:
        header = draw(st.one_of(columns, st.permutations(required).map(list)))
        rows = draw(st.lists(st.lists(cell, min_size=0, max_size=len(header) + 2), max_size=5))
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
        return out.getvalue()

    return st.one_of(table(), st.text(max_size=300))


PEOPLE_VALUES = {"role": ["SW", "TM", "Social worker", "XX"], "team_code": ["T1", "T2", "NEW"],
                 "date": ["2026-01-05", "05/01/2026", "31/02/2026", "1899-01-01"], "staff_id": ["W001", "M001", "NEW1"]}
CASE_VALUES = {"category": ["CIN", "CP", "child protection", "??"], "staff": ["W001", "NOBODY"],
               "team_code": ["T1", "T9"], "date": ["2026-01-05", "2025-13-01", "05/01/2026"]}


@SETTINGS
@given(people=csv_files(PEOPLE_REQUIRED, PEOPLE_OPTIONAL, PEOPLE_VALUES),
       cases=csv_files(CASES_REQUIRED, CASES_OPTIONAL, CASE_VALUES))
def test_csv_imports_take_any_text(db: Database, people: str, cases: str) -> None:
    ensure_org(db)
    for importer, text in ((import_people, people), (import_cases, cases)):
        report, error = attempt(db, lambda s, i=importer, t=text: i(s, t, source="upload.csv"))
        if error is not None:
            assert "upload.csv" in str(error) or "line" in str(error) or ":" in str(error)
        else:
            assert report.source == "upload.csv"


# --- Annex A workbooks ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_workbooks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("annex")
    six = list_rows(6, [{"ref": "A1", "start": date(2024, 1, 2), "team": "Team A", "worker": "Ann Able"},
                        {"ref": "A2", "start": date(2024, 3, 2), "team": "Team B", "worker": "Bo Bright"}])
    seven = list_rows(7, [{"ref": "B1", "start": date(2024, 2, 3), "team": "Team A", "worker": "Ann Able"}])
    return {suffix: write_workbook(folder / f"good{suffix}", [("List 6", six), ("List 7", seven)]).read_bytes()
            for suffix in (".xlsx", ".ods", ".xls")}


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` with a few bytes flipped, cut, inserted or a block repeated."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, max(len(data) - 1, 0)))
        how = draw(st.sampled_from(["flip", "cut", "insert", "truncate", "repeat"]))
        if how == "flip" and data:
            data[where] ^= draw(st.integers(1, 255))
        elif how == "cut":
            del data[where:where + draw(st.integers(1, 64))]
        elif how == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=16))
        elif how == "truncate":
            del data[where:]
        else:
            data[where:where] = data[where:where + draw(st.integers(1, 256))]
    return bytes(data)


@SETTINGS
@given(choice=st.data())
def test_annex_a_takes_any_damaged_workbook(db: Database, tmp_path: Path, good_workbooks: dict[str, bytes],
                                            choice: st.DataObject) -> None:
    suffix = choice.draw(st.sampled_from(sorted(good_workbooks)))
    data = choice.draw(st.one_of(mutated(good_workbooks[suffix]), st.binary(max_size=2000)))
    path = tmp_path / f"annex{suffix}"
    path.write_bytes(data)
    preview, error = attempt(db, lambda s: preview_annex_a(s, path, TODAY))
    if error is None:
        attempt(db, lambda s: apply_annex_a(s, preview, TODAY))


def test_a_zip_whose_entries_point_before_the_file_is_refused(db: Database, tmp_path: Path,
                                                             good_workbooks: dict[str, bytes]) -> None:
    """Found by the test above: the end record's directory offset is too large, so every entry's
    offset lands before the start of the file and reading one seeks there (an OSError, which
    zipfile does not turn into BadZipFile)."""
    data = bytearray(good_workbooks[".ods"])
    end = data.rindex(b"PK\x05\x06")
    offset = int.from_bytes(data[end + 16:end + 20], "little")
    data[end + 16:end + 20] = (offset + 1000).to_bytes(4, "little")
    path = tmp_path / "annex.ods"
    path.write_bytes(bytes(data))
    _, error = attempt(db, lambda s: preview_annex_a(s, path, TODAY))
    assert error is not None and str(path) in str(error)


# --- sync bundles -----------------------------------------------------------------------------


@pytest.fixture
def bundle_bytes(db: Database, sqlite_template: Path, tmp_path: Path) -> bytes:
    """A real laptop bundle: a team, a worker and an observation made offline."""
    import os
    import shutil

    folder = tmp_path / "laptop"
    folder.mkdir(mode=0o700)
    shutil.copyfile(sqlite_template, folder / "qa.sqlite3")
    os.chmod(folder / "qa.sqlite3", 0o600)
    laptop = Database.open(f"sqlite:///{folder / 'qa.sqlite3'}", actor="laptop-user")
    try:
        with laptop.session() as s:
            team = Team(code="LT", name="Laptop team")
            s.add(team)
            s.flush()
            worker = Person(staff_id="LW1", name="Lee Worker", role="SW", team_id=team.id)
            s.add(worker)
            s.flush()
            observations.record_observation(s, observer_id=None, worker_id=worker.id, observed_on=TODAY,
                                            kind="annual", went_well="Calm and clear", today=TODAY)
        with laptop.session() as s:
            return encode_bundle(export_changes(s, exported_by="laptop-user", device_name="laptop-1"))
    finally:
        laptop.dispose()


def import_data(data: bytes) -> Callable[[Session], Any]:
    return lambda s: import_bundle(s, decode_bundle(data, schema=HEAD_REVISION, source="b.qsb"))


@SETTINGS
@given(choice=st.data())
def test_sync_import_takes_any_damaged_bundle(db: Database, bundle_bytes: bytes, choice: st.DataObject) -> None:
    data = choice.draw(st.one_of(mutated(bundle_bytes), st.binary(max_size=500)))
    assume(data != bundle_bytes)
    _, error = attempt(db, import_data(data))
    if error is None:  # only a change that leaves the meaning intact (say, a header key repeated)
        assert decode_bundle(data, schema=HEAD_REVISION) == decode_bundle(bundle_bytes, schema=HEAD_REVISION)


field_values = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                         text_values,
                         st.lists(st.text(max_size=5), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


@SETTINGS
@given(choice=st.data())
def test_sync_import_takes_well_formed_bundles_with_hostile_fields(db: Database, bundle_bytes: bytes,
                                                                   choice: st.DataObject) -> None:
    """Someone who can compute the checksum: any field of any record replaced with any JSON value."""
    bundle = decode_bundle(bundle_bytes, schema=HEAD_REVISION)
    records = list(bundle.records)
    index = choice.draw(st.integers(0, len(records) - 1))
    record = records[index]
    fields = dict(record.fields)
    for key in choice.draw(st.lists(st.sampled_from(sorted(fields)), min_size=1, max_size=3, unique=True)):
        fields[key] = choice.draw(field_values)
    identity = choice.draw(st.sampled_from(["keep", "random", "bad"]))
    record_id = {"keep": record.id, "random": str(uuid.uuid4()), "bad": "not-a-uuid"}[identity]
    records[index] = BundleRecord(record.table, record_id, choice.draw(st.integers(-2, 5)),
                                  choice.draw(st.one_of(st.none(), st.integers(-2, 5))), record.created_at,
                                  content_hash(fields), fields)
    hostile = Bundle(**{**bundle.__dict__, "bundle_id": str(uuid.uuid4()), "records": tuple(records)})
    attempt(db, import_data(encode_bundle(hostile)))


def test_a_bundle_holding_infinity_is_refused(db: Database, bundle_bytes: bytes) -> None:
    """Python's JSON reader accepts NaN and Infinity, which no bundle holds (the canonical form
    cannot write them): such a file is refused like any other damaged bundle."""
    import hashlib
    import json

    header_line, body = bundle_bytes.split(b"\n", 1)
    body = body.replace(b'"active":true', b'"active":Infinity', 1)
    header = json.loads(header_line) | {"body_bytes": len(body), "body_sha256": hashlib.sha256(body).hexdigest()}
    _, error = attempt(db, import_data(json.dumps(header).encode() + b"\n" + body))
    assert error is not None and "b.qsb" in str(error)


# --- config files -----------------------------------------------------------------------------

KNOWN_TABLES = {"database": ["url"], "user": ["staff_id", "name", "team"], "grading": ["scale"],
                "deadlines": ["moderation_day", "action_due_weeks", "finalise_within_weeks", "reaudit_months"],
                "draw": ["roles", "require_open", "exclude_audited_within_months"], "observation": ["nqsw_per_year"],
                "feedback": ["form_url"], "retention": ["years_after_closure"], "supervision": ["cadence"]}
toml_values = st.recursive(
    st.one_of(st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
              st.text(max_size=20), st.dates()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)


@st.composite
def raw_configs(draw: st.DrawFn) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for table in draw(st.lists(st.sampled_from([*KNOWN_TABLES, "templates", "programme", "bogus"]), max_size=4)):
        if table in ("templates", "programme"):
            raw[table] = draw(st.lists(st.dictionaries(st.sampled_from(
                ["key", "name", "version", "kind", "scale", "domains", "roles", "task", "frequency", "count",
                 "within_days", "purpose"]), toml_values, max_size=6), max_size=2) | toml_values)
        else:
            keys = st.sampled_from([*KNOWN_TABLES.get(table, []), "unknown"])
            raw[table] = draw(st.dictionaries(keys, toml_values, max_size=4) | toml_values)
    return raw


@SETTINGS
@given(raw=raw_configs())
def test_config_values_give_a_config_or_a_config_error(raw: dict[str, Any]) -> None:
    try:
        parse_config(raw, Path("config.toml"))
    except ConfigError as exc:
        assert str(exc).startswith("config.toml"), exc


@SETTINGS
@given(text=st.one_of(st.text(max_size=300), st.sampled_from([
    "[deadlines]\nmoderation_day = 99\n", "[database]\nurl = 5\n", "[[templates]]\nkey = 'x'\n",
    "retention = 3\n", "[retention]\nyears_after_closure = -1\n", "\x00", "[a]\n[a]\n", "x = 1979-05-27T07:32:00Z\n"])))
def test_config_files_give_a_config_or_a_config_error(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("cfg") / "config.toml"
    path.write_text(text, encoding="utf-8")
    try:
        load_config(path)
    except ConfigError as exc:
        assert str(path) in str(exc)


def test_undecodable_config_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"[user]\nname = \"\xff\xfe\"\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


# --- form fields ------------------------------------------------------------------------------


def ensure_org(db: Database) -> Org:
    """The organisation of tests/test_audits.py, made once per test (examples share the database)."""
    with db.reader() as s:
        found = s.scalar(select(Team.id).where(Team.code == "T1"))
    if found is None:
        return seed_org(db)
    with db.reader() as s:
        ids = {p.staff_id: p.id for p in s.scalars(select(Person))}
        teams = {t.code: t.id for t in s.scalars(select(Team))}
        cases = {c.reference: c.id for c in s.scalars(select(Case))}
    return Org(teams["T1"], teams["T2"], ids["W001"], ids["M001"], ids["A001"], ids["H001"], ids["S001"],
               cases["CASE-0001"], cases["CASE-0002"])


any_ints = st.one_of(st.none(), st.integers(-3, 8), st.integers(), st.booleans())
any_dates = st.one_of(st.dates(date(1, 1, 1), date(9999, 12, 31)), st.dates(TODAY - timedelta(days=400), TODAY + timedelta(days=60)))


@SETTINGS
@given(field=st.one_of(st.sampled_from(sorted(audits.TEXT_FIELDS)), st.text(max_size=10)), value=text_values,
       domain=st.one_of(st.sampled_from([d.key for d in CFG.template("live").domains]), st.text(max_size=10)),
       grade=any_ints, version_offset=st.sampled_from([0, 0, 0, -1, 1]))
def test_audit_form_fields(db: Database, field: str, value: str, domain: str, grade: Any, version_offset: int) -> None:
    org = ensure_org(db)
    dto = start(db, org, TODAY)
    _, error = attempt(db, lambda s: audits.set_text(s, dto.id, field, value,
                                                         expected_version=dto.version + version_offset))
    if error is None:
        with db.reader() as s:
            assert getattr(audits.get_audit(s, dto.id, today=TODAY, cfg=CFG), field) == value
    attempt(db, lambda s: audits.set_grade(s, dto.id, domain, grade))
    attempt(db, lambda s: audits.set_overall_grade(s, dto.id, grade))


@SETTINGS
@given(observed_on=any_dates, kind=st.one_of(st.sampled_from(["annual", "asye", "peer"]), st.text(max_size=8)),
       texts=st.lists(text_values, min_size=4, max_size=4),
       themes=st.one_of(st.lists(text_values, max_size=4), text_values, st.integers()),
       shared=st.one_of(st.booleans(), st.integers(), st.text(max_size=3)))
def test_observation_form(db: Database, observed_on: date, kind: str, texts: list[str], themes: Any, shared: Any) -> None:
    org = ensure_org(db)
    setting, went_well, to_develop, reflection = texts
    attempt(db, lambda s: observations.record_observation(
        s, observer_id=org.auditor_id, worker_id=org.worker_id, observed_on=observed_on, kind=kind,
        setting=setting, went_well=went_well, to_develop=to_develop, reflection=reflection,
        feedback_shared=shared, themes=themes, today=TODAY))


@SETTINGS
@given(received_on=any_dates, giver=st.one_of(st.sampled_from(["child", "parent"]), st.text(max_size=8)),
       channel=st.one_of(st.sampled_from(["form", "qr"]), st.text(max_size=8)), rating=any_ints,
       said=text_values, themes=st.one_of(st.lists(text_values, max_size=3), st.integers()),
       on_case=st.booleans())
def test_feedback_form(db: Database, received_on: date, giver: str, channel: str, rating: Any, said: str,
                       themes: Any, on_case: bool) -> None:
    org = ensure_org(db)
    attempt(db, lambda s: feedback.record_feedback(
        s, received_on=received_on, case_id=org.case_id if on_case else None, worker_id=None if on_case else org.worker_id,
        giver=giver, channel=channel, rating=rating, said=said, themes=themes, today=TODAY))


@SETTINGS
@given(title=text_values, due_on=st.one_of(st.none(), any_dates), reason=text_values, new_due=any_dates,
       source=st.one_of(st.sampled_from(["audit", "other"]), st.text(max_size=8)))
def test_action_forms(db: Database, title: str, due_on: date | None, reason: str, new_due: date, source: str) -> None:
    org = ensure_org(db)
    row, error = attempt(db, lambda s: actions.add_action(
        s, title=title, owner_id=org.worker_id, due_on=due_on, raised_by_id=org.auditor_id, source_kind=source,
        today=TODAY, cfg=CFG))
    if error is None:
        assert row.title == title.strip()
        attempt(db, lambda s: actions.extend_action(s, row.id, new_due, reason, org.auditor_id, TODAY))
        attempt(db, lambda s: actions.complete_action(s, row.id, reason, org.auditor_id, TODAY))
