"""Control characters other than tab and newline never get in: refused (table and column named)
on every text written, in sync bundles and in config files; refused (line and column named) in
the people and cases CSV; taken out, and named, by the caseload imports. Searches drop them and
refuse a search too long to run, on both databases, with a clear message."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qa_tui.config import ConfigError, load_config, parse_config
from qa_tui.db.engine import Database
from qa_tui.db.migrate import HEAD_REVISION
from qa_tui.db.models import Case, Observation, Person
from qa_tui.errors import ValidationError
from qa_tui.services.imports.caseload_csv import preview_involvements
from qa_tui.services.imports.csv_rows import ImportRejected
from qa_tui.services.imports.people_cases import import_people
from qa_tui.services.imports.workbook import clean_text
from qa_tui.services.people import admin
from qa_tui.services.people.admin import PersonInput, TeamInput
from qa_tui.services.practice.observations import record_observation
from qa_tui.services.programme.triage import MAX_SEARCH_CHARS, TriageFilters, triage_page
from qa_tui.services.sync.bundle import Bundle, BundleRecord, content_hash, decode_bundle, encode_bundle
from qa_tui.services.sync.importing import import_bundle
from tests.test_hostile_input import bundle_bytes  # noqa: F401 - a fixture: a real laptop bundle

ESC_TITLE = "\x1b]0;title\x07"


def count(db: Database, model: type) -> int:
    with db.reader() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_every_text_written_is_refused_with_its_table_and_column(db: Database, today: date) -> None:
    with db.session() as s:
        team_id = admin.save_team(s, TeamInput("T1", "Team one"), today).id
    for name, named in ((f"Alex {ESC_TITLE}", "ESC (U+001B)"), ("Alex\x00Worker", "NUL (U+0000)"),
                        ("Alex\x9b2J", "CSI (U+009B)")):
        with pytest.raises(ValidationError) as caught, db.session() as s:
            admin.save_person(s, PersonInput("S1", name, "SW", team_id), today)
        assert caught.value.field == "person.name"
        assert named in caught.value.problem and "only tab and new line are allowed" in caught.value.problem
    assert count(db, Person) == 0
    with db.session() as s:  # tab and newline are text, and so are brackets and marks
        person_id = admin.save_person(s, PersonInput("S1", "Alex [/] \u200fWorker", "SW", team_id), today).id
        record_observation(s, observer_id=None, worker_id=person_id, observed_on=today, kind="annual",
                           went_well="Line one\n\tindented", themes=["voice of the child"], today=today)
    with pytest.raises(ValidationError) as caught, db.session() as s:  # a string inside a JSON column
        record_observation(s, observer_id=None, worker_id=person_id, observed_on=today, kind="annual",
                           themes=["fine", "bell\x07"], today=today)
    assert caught.value.field == "observation.themes" and "BEL (U+0007)" in caught.value.problem
    assert count(db, Observation) == 1


def test_a_bundle_carrying_a_control_character_is_refused_whole(db: Database, bundle_bytes: bytes) -> None:  # noqa: F811
    bundle = decode_bundle(bundle_bytes, schema=HEAD_REVISION)
    records = list(bundle.records)
    index = next(i for i, r in enumerate(records) if r.table == "person")
    fields = {**records[index].fields, "name": f"Lee {ESC_TITLE}"}
    records[index] = BundleRecord(**{**records[index].__dict__, "fields": fields, "hash": content_hash(fields)})
    hostile = Bundle(**{**bundle.__dict__, "bundle_id": str(uuid.uuid4()), "records": tuple(records)})
    with pytest.raises(ValidationError) as caught, db.session() as s:
        import_bundle(s, decode_bundle(encode_bundle(hostile), schema=HEAD_REVISION, source="b.qsb"))
    assert "'name'" in str(caught.value) and "ESC (U+001B)" in str(caught.value)
    assert count(db, Person) == 0


def test_a_nul_in_the_people_csv_is_refused_with_its_line_and_column(db: Database, today: date) -> None:
    text = ("staff_id,name,role,team_code,team_name\n"
            "S1,Alex Worker,SW,T1,Team one\n"
            "S2,Bo\x00Newly,SW,T1,\n"
            f"S3,Cam {ESC_TITLE},SW,T1,\n")
    with pytest.raises(ImportRejected) as caught, db.session() as s:
        import_people(s, text, source="people.csv")
    where = [(p.line, p.column) for p in caught.value.problems]
    assert where == [(3, "name"), (4, "name")]
    assert "NUL (U+0000)" in caught.value.problems[0].message
    assert "line 3, column name: contains a control character, NUL" in str(caught.value)
    assert count(db, Person) == 0


def test_caseload_imports_take_control_characters_out_and_say_where(db: Database, today: date,
                                                                     tmp_path: Path) -> None:
    path = tmp_path / "involvements.csv"
    path.write_text("case_reference,category,case_opened_on,team_code,team_name,worker_staff_id,worker_name,"
                    "involvement_start\n"
                    f"REF-1,CIN,01/02/2025,FS1,Family Support 1,SW1,Sam {ESC_TITLE}Sample,01/02/2025\n",
                    encoding="utf-8")
    with db.reader() as s:
        preview = preview_involvements(s, path, today)
    notes = [str(w) for w in preview.warnings]
    assert notes == ["involvements.csv, row 2, column worker_name: control characters ESC (U+001B), "
                     "BEL (U+0007) removed"]
    assert [w.name for w in preview.plan.new_workers] == ["Sam ]0;titleSample"]
    assert clean_text("a\x00b\x1b[2J c") == "ab[2J c"


@pytest.mark.parametrize(("text", "found"), [("a\x00b", ["AB-1"]), ("\x00", ["AB-1"]), ("zz\x1b[2J", [])])
def test_a_nul_in_a_search_is_dropped(db: Database, today: date, text: str, found: list[str]) -> None:
    with db.session() as s:
        team_id = admin.save_team(s, TeamInput("T1", "Team one"), today).id
        s.add(Case(reference="AB-1", category="CIN", team_id=team_id))
    with db.reader() as s:  # on PostgreSQL a NUL in the query would be refused by the server
        assert triage_page(s, today, parse_config({}), TriageFilters(text=text)).rows == ()
        assert [c.reference for c in admin.list_cases(s, search=text).rows] == found
        assert admin.list_people(s, today, search=text).rows == ()


def test_a_search_far_too_long_gives_a_clear_message(db: Database, today: date) -> None:
    text = "x" * 30000  # SQLite refuses a LIKE pattern this long (over 50,000 bytes) with a raw error
    for search in (lambda s: triage_page(s, today, parse_config({}), TriageFilters(text=text)),
                   lambda s: admin.list_cases(s, search=text), lambda s: admin.list_people(s, today, search=text),
                   lambda s: admin.list_teams(s, today, search=text)):
        with pytest.raises(ValidationError) as caught, db.reader() as s:
            search(s)
        assert caught.value.field == "search"
        assert caught.value.problem == f"at most {MAX_SEARCH_CHARS} characters, spaces aside; got 30000"
    with db.reader() as s:  # the longest search allowed runs
        assert admin.list_cases(s, search="x" * MAX_SEARCH_CHARS).rows == ()


def test_config_nested_too_deeply_or_holding_a_control_character_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: cannot be used: its arrays or tables are nested too deeply"
    with pytest.raises(ConfigError) as caught:
        parse_config({"user": {"name": "Alex\x1b[2J"}}, path)
    assert str(caught.value).startswith(f"{path}: user.name: contains a control character, ESC (U+001B)")
    with pytest.raises(ConfigError) as caught:
        parse_config({"templates": [{"key": "live", "domains": [{"key": "a", "label": "bell\x07"}]}]}, path)
    assert "templates[1].domains[1].label" in str(caught.value)


def test_an_annex_a_workbook_has_control_characters_taken_out_and_named(db: Database, today: date,
                                                                         tmp_path: Path) -> None:
    from qa_tui.services.imports.annex_a import preview_annex_a
    from tests.fixtures_workbooks import list_rows, write_workbook

    six = list_rows(6, [{"ref": "C\x00-1", "start": date(2025, 3, 1), "team": "Team\x07 one",
                         "worker": f"Sam {ESC_TITLE}Sample"}])
    path = write_workbook(tmp_path / "annex.xls", [("List 6", six)])  # .xlsx and .ods cannot hold them
    with db.reader() as s:
        preview = preview_annex_a(s, path, today)
    notes = [str(w) for w in preview.warnings if "removed" in str(w)]
    assert notes == ["List 6, row 2, column A (Child Unique ID): control character NUL (U+0000) removed",
                     "List 6, row 2, column I (Allocated Team): control character BEL (U+0007) removed",
                     "List 6, row 2, column J (Allocated Worker): control characters ESC (U+001B), BEL (U+0007) "
                     "removed"]
    assert [(c.reference, c.team.name, c.worker.name) for c in preview.cases] == [
        ("C-1", "Team one", "Sam ]0;titleSample")]
