"""The CIN census import: the shared samples, the schema's variants, generated files of 10,000
children, what is never stored, problems named by child and element, hostile XML, the CP plan
history, cases qa-tui knows more recent things about, and the `qa-tui import cin-census` command."""

from __future__ import annotations

import io
import json
import sys
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from qa_tui.config import CinCensusImport, Config, ConfigError, parse_config
from qa_tui.dates import add_months
from qa_tui.db.base import Base
from qa_tui.db.engine import Database
from qa_tui.db.models import Case, CpPlan, Person, Team
from qa_tui.errors import ValidationError
from qa_tui.services.imports.cin_census import CinCensusPreview, CinCensusResult, apply_cin_census, preview_cin_census
from qa_tui.services.imports.kinds import preview_import, write_import
from qa_tui.services.programme.cp_reviews import cp_review_list
from tests.cin_census_files import (
    BORN_BEFORE,
    SENTINEL,
    Layout,
    synthetic_children,
    write_census,
)

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "cin_census"
SAMPLE_2024, SAMPLE_2026 = SAMPLES / "CIN_Census_2024.xml", SAMPLES / "CIN_Census_2026.xml"
TODAY = date(2026, 11, 24)


# --- helpers --------------------------------------------------------------------------------


def preview(db: Database, path: Path, today: date = TODAY, census: CinCensusImport | None = None) -> CinCensusPreview:
    with db.reader() as session:
        return preview_cin_census(session, path, today, census)


def apply(db: Database, source: CinCensusPreview | Path, today: date = TODAY,
          census: CinCensusImport | None = None) -> CinCensusResult:
    with db.session() as session:
        return apply_cin_census(session, source, today, census)


def stored_cases(db: Database) -> dict[str, tuple[Any, ...]]:
    """reference → (category, opened_on, closed_on, cp_plan_start, cp_plan_end, team, worker)."""
    worker = aliased(Person)
    with db.reader() as session:
        rows = session.execute(select(Case, Team.code, worker.staff_id)
                               .outerjoin(Team, Case.team_id == Team.id).outerjoin(worker, Case.worker_id == worker.id))
        return {case.reference: (case.category, case.opened_on, case.closed_on, case.cp_plan_start, case.cp_plan_end,
                                 team, staff) for case, team, staff in rows}


def stored_plans(db: Database) -> dict[str, list[tuple[date, date | None]]]:
    with db.reader() as session:
        found: dict[str, list[tuple[date, date | None]]] = {}
        for reference, start, end in session.execute(
                select(Case.reference, CpPlan.started_on, CpPlan.ended_on).join(Case, Case.id == CpPlan.case_id)
                .order_by(Case.reference, CpPlan.started_on)):
            found.setdefault(reference, []).append((start, end))
        return found


def table_counts(db: Database) -> dict[str, int]:
    with db.reader() as session:
        return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def everything_stored(db: Database) -> str:
    with db.reader() as session:
        return "\n".join(str(row) for table in Base.metadata.sorted_tables for row in session.execute(select(table)))


def census(tmp_path: Path, children: str, *, header: str | None = None, name: str = "census.xml") -> Path:
    """A census file around hand-written <Child> elements."""
    if header is None:
        header = ("<Header><CollectionDetails><Collection>CIN</Collection><Year>2026</Year>"
                  "<ReferenceDate>2026-03-31</ReferenceDate></CollectionDetails></Header>")
    path = tmp_path / name
    path.write_text(f"<?xml version='1.0'?>\n<Message>{header}<Children>{children}</Children></Message>\n",
                    encoding="utf-8")
    return path


def child_xml(reference: str, *episodes: str, identifiers: str = "") -> str:
    return (f"<Child><ChildIdentifiers><LAchildID>{reference}</LAchildID>{identifiers}</ChildIdentifiers>"
            + "".join(episodes) + "</Child>")


def episode_xml(referral: str, closure: str = "", *plans: tuple[str, str]) -> str:
    body = f"<CINreferralDate>{referral}</CINreferralDate>"
    if closure:
        body += f"<CINclosureDate>{closure}</CINclosureDate>"
    for start, end in plans:
        body += "<ChildProtectionPlans>" + (f"<CPPstartDate>{start}</CPPstartDate>" if start else "") + (
            f"<CPPendDate>{end}</CPPendDate>" if end else "") + "</ChildProtectionPlans>"
    return f"<CINdetails>{body}</CINdetails>"


def add_case(db: Database, reference: str, category: str, *, opened_on: date | None = date(2025, 1, 1),
             closed_on: date | None = None, cp: tuple[date | None, date | None] = (None, None),
             team_code: str = "", staff_id: str = "") -> None:
    with db.session() as session:
        team = session.scalar(select(Team).where(Team.code == team_code)) if team_code else None
        if team_code and team is None:
            team = Team(code=team_code, name=f"Team {team_code}")
            session.add(team)
            session.flush()
        worker = None
        if staff_id:
            worker = Person(staff_id=staff_id, name=f"Worker {staff_id}", role="SW", team_id=team.id if team else None)
            session.add(worker)
            session.flush()
        session.add(Case(reference=reference, category=category, opened_on=opened_on, closed_on=closed_on,
                         cp_plan_start=cp[0], cp_plan_end=cp[1], team_id=team.id if team else None,
                         worker_id=worker.id if worker else None))


# --- the shared samples ---------------------------------------------------------------------


def test_the_shared_samples_import(db: Database) -> None:
    first = preview(db, SAMPLE_2024)
    assert (first.header.reference_date, first.header.la_code, first.children_in_file, first.children_used) == (
        date(2024, 3, 31), "201", 2, 2)
    assert (first.episodes, first.open_episodes, first.cp_plans, first.running_cp_plans) == (2, 0, 1, 0)
    assert first.problems == ()
    # The stray "PersonBirthDate" text between elements is noted by child, never quoted.
    assert [str(n) for n in first.notes] == [
        "text between elements (outside any value), in child DfEX0000001; ignored"]
    assert first.plan.counts()["new"] == 2 and first.history.added == 1

    result = apply(db, first)
    assert result.matches_preview and result.history.added == 1
    assert stored_cases(db) == {
        "DfEX0000001": ("CP", date(2022, 10, 6), date(2023, 2, 27), date(2022, 2, 17), date(2023, 3, 14), None, None),
        "child_fails_assessments": ("CIN", date(2024, 10, 24), date(2024, 10, 29), None, None, None, None),
    }
    assert stored_plans(db) == {"DfEX0000001": [(date(2022, 2, 17), date(2023, 3, 14))]}

    # The 2026 layout adds <PreProceedingsandFGDM>: known, not used, not reported as unknown.
    later = preview(db, SAMPLE_2026)
    assert later.problems == () and [str(n) for n in later.notes] == [str(n) for n in first.notes]
    assert later.plan.counts()["unchanged"] == 2 and later.history.unchanged == 1
    assert not later.plan.writes_anything and later.history.added == later.history.updated == 0


@pytest.mark.parametrize("layout", [
    Layout(sex_element="GenderCurrent"),
    Layout(pre_proceedings=True),
    Layout(namespace="http://www.dfe.gov.uk/CIN"),
    Layout(stray_text=True),
], ids=["GenderCurrent", "PreProceedingsandFGDM", "namespace", "stray-text"])
def test_every_layout_gives_the_same_cases(db: Database, tmp_path: Path, layout: Layout) -> None:
    children = synthetic_children(60, seed=7)
    plain = preview(db, write_census(tmp_path / "plain.xml", children))
    varied = preview(db, write_census(tmp_path / "varied.xml", children, layout))
    assert varied.cases == plain.cases and varied.plans == plain.plans and varied.problems == ()
    assert not any("not a census element" in n.message for n in varied.notes)


# --- generated files of 10,000 children -----------------------------------------------------


def test_a_generated_census_of_10000_children(db: Database, tmp_path: Path) -> None:
    children = synthetic_children(10_000, seed=18, today=date(2026, 3, 31))
    path = write_census(tmp_path / "big.xml", children, Layout(stray_text=True, unknown_elements=True))
    first = preview(db, path)
    assert (first.children_in_file, first.children_used, first.problems) == (10_000, 10_000, ())
    assert first.plan.counts()["new"] == 10_000

    result = apply(db, first)
    assert result.matches_preview
    cases, plans = stored_cases(db), stored_plans(db)
    assert len(cases) == 10_000
    for child in children:
        assert cases[child.reference] == (*child.expected_case(), None, None), child.reference
        assert plans.get(child.reference, []) == [(p.start, p.end) for p in child.plans], child.reference
    assert result.history.added == sum(len(c.plans) for c in children)
    # Every shape the rules need is there: several plans for a child, short ones, long ones, running ones.
    assert sum(len(c.plans) > 1 for c in children) > 500
    assert sum(p.end is not None and p.end < add_months(p.start, 3) for c in children for p in c.plans) > 500
    assert sum(p.end is None and p.start <= add_months(TODAY, -18) for c in children for p in c.plans) > 100

    again = preview(db, path)
    assert again.plan.counts()["unchanged"] == 10_000 and again.history.unchanged == result.history.added
    assert not again.plan.writes_anything and again.history.added == again.history.updated == 0


def test_running_plans_of_18_months_or_more_are_flagged_by_the_cp_review_rule(db: Database, tmp_path: Path) -> None:
    children = synthetic_children(400, seed=3, today=date(2026, 3, 31))
    apply(db, write_census(tmp_path / "census.xml", children))
    with db.reader() as session:
        flagged = {row.case_reference for row in cp_review_list(session, TODAY, Config())}
    long_running = {c.reference for c in children if c.current.closure is None and (plan := c.latest_plan)
                    and plan.end is None and plan.start <= add_months(TODAY, -18)}
    assert long_running and long_running <= flagged


# --- never stored ---------------------------------------------------------------------------


def test_names_dates_of_birth_upns_and_characteristics_never_reach_the_database_or_the_trail(
        db: Database, tmp_path: Path) -> None:
    apply(db, SAMPLE_2024)
    dump = everything_stored(db)
    assert "DfEX0000001" in dump
    for value in ("A123456789123", "X98765432123B", "2015-03-27", "2023-09-25", "WBRI", "HAND", "HEAR", "UN3"):
        assert value not in dump, value

    children = synthetic_children(300, seed=11)
    path = write_census(tmp_path / "census.xml", children, Layout(unknown_elements=True, stray_text=True))
    shown = preview(db, path)
    apply(db, shown)
    dump = everything_stored(db)
    assert "SYN0000001" in dump
    forbidden = [SENTINEL]
    for child in children:
        forbidden += [child.upn, child.birth.isoformat(), repr(child.birth)]
    for value in forbidden:
        assert value not in dump, value
    with db.reader() as session:
        dates = [d for column in (Case.opened_on, Case.closed_on, Case.cp_plan_start, Case.cp_plan_end,
                                  CpPlan.started_on, CpPlan.ended_on) for d in session.scalars(select(column))]
    assert dates and all(d is None or d >= BORN_BEFORE for d in dates)
    # Unknown elements are named with the children carrying them; their contents are never shown.
    notes = "\n".join(str(n) for n in shown.notes)
    assert ("<ChildName>: not a census element qa-tui knows, in 60 children (SYN0000001, SYN0000006, SYN0000011, "
            "SYN0000016, SYN0000021 and 55 more); ignored") in notes
    assert SENTINEL not in notes and "PersonBirthDate" not in notes.replace("text between", "")


# --- existing cases -------------------------------------------------------------------------


def test_stored_cases_keep_their_team_worker_and_looked_after_category(db: Database, tmp_path: Path) -> None:
    add_case(db, "C1", "CLA", team_code="CIC", staff_id="SW1")
    add_case(db, "C2", "CP", team_code="A1", staff_id="SW2", cp=(date(2025, 2, 1), None))
    add_case(db, "C3", "EH", opened_on=date(2025, 6, 1))
    path = census(tmp_path, "".join((
        child_xml("C1", episode_xml("2024-05-01")),
        child_xml("C2", episode_xml("2025-01-10", "", ("2025-02-01", "2026-01-15"))),
        child_xml("C3", episode_xml("2025-06-01", "", ("2026-02-01", ""))),
        child_xml("N1", episode_xml("2026-01-05")),
    )))
    shown = preview(db, path)
    assert shown.plan.counts() == {"new": 1, "reallocated": 0, "closed": 0, "reopened": 0, "updated": 3,
                                   "unchanged": 0}
    assert [(load.team, load.cases) for load in shown.plan.by_team] == [("(no team)", 2), ("Team A1", 1),
                                                                         ("Team CIC", 1)]
    apply(db, shown)
    assert stored_cases(db) == {
        "C1": ("CLA", date(2024, 5, 1), None, None, None, "CIC", "SW1"),  # looked after: kept
        "C2": ("CIN", date(2025, 1, 10), None, date(2025, 2, 1), date(2026, 1, 15), "A1", "SW2"),  # plan ended
        "C3": ("CP", date(2025, 6, 1), None, date(2026, 2, 1), None, None, None),
        "N1": ("CIN", date(2026, 1, 5), None, None, None, None, None),  # new: unallocated
    }


def test_what_qa_tui_learned_after_the_census_date_is_never_undone(db: Database, tmp_path: Path) -> None:
    add_case(db, "R1", "CIN", opened_on=date(2026, 6, 1))  # reopened after the census closed its episode
    add_case(db, "K1", "CIN", opened_on=date(2025, 1, 1), closed_on=date(2026, 7, 1))  # closed after the census
    add_case(db, "K2", "CIN", opened_on=date(2025, 1, 1), closed_on=date(2026, 2, 1))  # closed before: reopened
    add_case(db, "P1", "CP", opened_on=date(2024, 1, 1), cp=(date(2026, 5, 1), None))  # a later plan
    before = stored_cases(db)
    path = census(tmp_path, "".join((
        child_xml("R1", episode_xml("2025-01-01", "2025-12-01")),
        child_xml("K1", episode_xml("2025-01-01")),
        child_xml("K2", episode_xml("2025-01-01")),
        child_xml("P1", episode_xml("2024-01-01", "", ("2024-02-01", "2025-03-01"))),
    )))
    shown = preview(db, path)
    notes = [str(n) for n in shown.notes]
    assert "child R1: reopened in qa-tui after the episode the census shows closed; the cases are left open" in notes
    assert "child K1: closed in qa-tui after the census date (31/03/2026); the cases are left closed" in notes
    assert "child P1: qa-tui has a later CP plan than the census shows; it is kept on the case" in notes
    apply(db, shown)
    after = stored_cases(db)
    assert after["R1"] == before["R1"] and after["K1"] == before["K1"]
    assert after["K2"][2] is None  # the census is newer than its closure
    assert after["P1"][:5] == ("CP", date(2024, 1, 1), None, date(2026, 5, 1), None)
    assert stored_plans(db)["P1"] == [(date(2024, 2, 1), date(2025, 3, 1))]  # the older plan joins the history


def test_the_plan_history_keeps_every_plan_and_never_loses_an_end_date(db: Database, tmp_path: Path) -> None:
    short_then_new = child_xml("H1", episode_xml("2025-01-01", "2025-05-01", ("2025-02-01", "2025-03-20")),
                               episode_xml("2025-09-01", "", ("2025-10-01", "")))
    apply(db, census(tmp_path, short_then_new, name="one.xml"))
    assert stored_cases(db)["H1"][:5] == ("CP", date(2025, 9, 1), None, date(2025, 10, 1), None)
    assert stored_plans(db)["H1"] == [(date(2025, 2, 1), date(2025, 3, 20)), (date(2025, 10, 1), None)]

    ended = child_xml("H1", episode_xml("2025-09-01", "", ("2025-10-01", "2026-02-01")))
    result = apply(db, census(tmp_path, ended, name="two.xml"))
    assert (result.history.added, result.history.updated) == (0, 1)
    assert stored_cases(db)["H1"][:5] == ("CIN", date(2025, 9, 1), None, date(2025, 10, 1), date(2026, 2, 1))

    older = apply(db, census(tmp_path, short_then_new, name="three.xml"))  # an older file: the plan "running"
    assert older.history.updated == 0
    assert stored_plans(db)["H1"] == [(date(2025, 2, 1), date(2025, 3, 20)), (date(2025, 10, 1), date(2026, 2, 1))]


def test_children_not_in_qa_tui_can_be_skipped_and_the_reference_can_carry_a_prefix(
        db: Database, tmp_path: Path) -> None:
    add_case(db, "LCS-7", "CIN")
    path = census(tmp_path, child_xml("7", episode_xml("2025-03-01")) + child_xml("8", episode_xml("2025-03-02")))
    settings = CinCensusImport(reference_prefix="LCS-", new_children="skip")
    shown = preview(db, path, census=settings)
    assert shown.skipped_new == 1 and [c.reference for c in shown.cases] == ["LCS-7"]
    apply(db, shown)
    assert set(stored_cases(db)) == {"LCS-7"} and stored_cases(db)["LCS-7"][1] == date(2025, 3, 1)


def test_another_identifier_can_be_the_reference_but_never_a_personal_one(db: Database, tmp_path: Path) -> None:
    config = parse_config({"import": {"cin_census": {"child_id": "CaseSystemID"}}})
    path = census(tmp_path, child_xml("IGNORED", episode_xml("2025-03-01"),
                                      identifiers="<CaseSystemID>M-55</CaseSystemID>"))
    with db.reader() as session:
        shown = preview_import(session, "cin-census", path, TODAY, config)
    assert shown.added == ("M-55",) and "Case reference: <CaseSystemID>" in "\n".join(shown.contents)
    for personal in ("UPN", "PersonBirthDate", "formerupn", "Sex"):
        with pytest.raises(ConfigError, match="identifies a child personally"):
            parse_config({"import": {"cin_census": {"child_id": personal}}})
    with pytest.raises(ConfigError, match="import.cin_census.new_children"):
        parse_config({"import": {"cin_census": {"new_children": "maybe"}}})
    with pytest.raises(ConfigError, match="import.cin_census.colour"):
        parse_config({"import": {"cin_census": {"colour": "red"}}})


# --- problems, by child and element ---------------------------------------------------------


def test_what_cannot_be_used_is_named_by_child_and_element_and_left_alone(db: Database, tmp_path: Path) -> None:
    add_case(db, "B2", "CIN", opened_on=date(2024, 1, 1))
    before = stored_cases(db)["B2"]
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    path = census(tmp_path, "".join((
        child_xml("B1", episode_xml("2025-13-40")),
        child_xml("B2", episode_xml("2025-05-01", "2025-04-01")),
        child_xml("B3", episode_xml("2025-05-01", "", ("2025-06-01", "2025-05-01"))),
        child_xml("B4", episode_xml("", "2025-01-01")),
        child_xml("B5", episode_xml(tomorrow)),
        child_xml("B6", episode_xml("2025-05-01", "", ("", "2025-07-01"), ("2025-08-01", ""))),
        child_xml("B7", episode_xml("2025-05-01", "2025-09-01", ("2025-06-01", ""))),
        "<Child><ChildIdentifiers><UPN>A1</UPN></ChildIdentifiers>" + episode_xml("2025-01-01") + "</Child>",
        child_xml("X" * 61, episode_xml("2025-01-01")),
    )))
    shown = preview(db, path)
    assert [str(p) for p in shown.problems] == [
        "child B1, <CINdetails 1/CINreferralDate>: '2025-13-40' is not a valid date (day/month/year); "
        "the child is left as it is",
        "child B2, <CINdetails 1/CINclosureDate>: closed on 01/04/2025, before the referral on 01/05/2025; "
        "the child is left as it is",
        "child B3, <CINdetails 1/ChildProtectionPlans 1/CPPendDate>: ended on 01/05/2025, before it started on "
        "01/06/2025; the child is left as it is",
        "child B4, <CINdetails 1/CINreferralDate>: no referral date; this CIN episode is not used",
        "child B4, <CINdetails>: no CIN episode with a referral date; the child is not used",
        f"child B5, <CINdetails 1/CINreferralDate>: {TODAY + timedelta(days=1):%d/%m/%Y} is after today; "
        "the child is left as it is",
        "child B6, <CINdetails 1/ChildProtectionPlans 1/CPPstartDate>: no start date; this CP plan is not used",
        "child 8 in the file, <ChildIdentifiers/LAchildID>: no child ID; the child is not used",
        f"child {'X' * 60}, <ChildIdentifiers/LAchildID>: the child ID is longer than 60 characters; "
        "the child is not used",
    ]
    assert "child B7, <CINdetails 1/ChildProtectionPlans 1/CPPendDate>: no end date, but the CIN episode closed " \
           "on 01/09/2025: the plan is taken to have ended then" in [str(n) for n in shown.notes]
    assert [c.reference for c in shown.cases] == ["B6", "B7"]
    apply(db, shown)
    assert stored_cases(db)["B2"] == before
    assert stored_plans(db) == {"B6": [(date(2025, 8, 1), None)], "B7": [(date(2025, 6, 1), date(2025, 9, 1))]}
    assert "A1" not in everything_stored(db)


SECRET = "ZZSECRET-FROM-OUTSIDE-THE-FILE"


def _xxe(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    path = tmp_path / "xxe.xml"
    path.write_text(f'<?xml version="1.0"?><!DOCTYPE Message [<!ENTITY x SYSTEM "file://{secret}">]>'
                    "<Message><Children><Child><ChildIdentifiers><LAchildID>&x;</LAchildID></ChildIdentifiers>"
                    "<CINdetails><CINreferralDate>2025-01-01</CINreferralDate></CINdetails></Child></Children>"
                    "</Message>")
    return path


def _laughs(tmp_path: Path) -> Path:
    entities = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10))
    path = tmp_path / "laughs.xml"
    path.write_text(f"<?xml version='1.0'?><!DOCTYPE Message [{entities}]><Message>&a9;</Message>")
    return path


def _doctype_only(tmp_path: Path) -> Path:
    path = tmp_path / "doctype.xml"
    path.write_text(SAMPLE_2024.read_text().replace("<Message>", '<!DOCTYPE Message SYSTEM "census.dtd"><Message>', 1))
    return path


def _written(name: str, text: str | bytes) -> Any:
    def make(tmp_path: Path) -> Path:
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return path
    return make


HOSTILE = [
    (_xxe, "declares a DOCTYPE or entities"),
    (_laughs, "declares a DOCTYPE or entities"),
    (_doctype_only, "declares a DOCTYPE or entities"),
    (_written("cut.xml", SAMPLE_2024.read_text()[:1500]), r"is not well-formed XML \(line \d+, column \d+\)"),
    (_written("empty.xml", b""), "is not well-formed XML"),
    (_written("book.xml", b"PK\x03\x04" + bytes(range(256))), "is not well-formed XML"),
    (_written("other.xml", "<Workbook><Sheet/></Workbook>"), "its first element is <Workbook>, not <Message>"),
    (_written("none.xml", "<Message><Header/><Children/></Message>"), "has no <Child> elements"),
    (_written("school.xml", "<Message><Header><CollectionDetails><Collection>SCHOOL</Collection>"
                            "</CollectionDetails></Header><Children/></Message>"), "is a 'SCHOOL' collection"),
    (lambda tmp_path: tmp_path / "missing.xml", "no such file"),
    (lambda tmp_path: tmp_path, "is a folder, not a file"),
]


@pytest.mark.parametrize(("make", "message"), HOSTILE, ids=[m.__name__ if hasattr(m, "__name__") else str(i)
                                                            for i, (m, _) in enumerate(HOSTILE)])
def test_hostile_or_wrong_files_are_refused_whole_with_one_clear_line(db: Database, tmp_path: Path,
                                                                      make: Any, message: str) -> None:
    apply(db, SAMPLE_2024)
    before = table_counts(db)
    path = make(tmp_path)
    with pytest.raises(ValidationError, match=message) as caught:
        apply(db, path)
    assert str(caught.value).startswith(f"{path}: ") and SECRET not in str(caught.value)
    assert table_counts(db) == before and SECRET not in everything_stored(db)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damaged_census_gives_a_preview_or_a_clear_error(db: Database, tmp_path: Path, data: st.DataObject) -> None:
    raw = bytearray(SAMPLE_2026.read_bytes())
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            raw[at] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del raw[at:at + data.draw(st.integers(1, 200))]
        else:
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=40))
    path = tmp_path / "damaged.xml"
    path.write_bytes(bytes(raw))
    before = table_counts(db)
    try:
        shown = preview(db, path)
    except ValidationError as exc:
        assert str(exc).startswith(f"{path}: ")
        assert table_counts(db) == before
        return
    apply(db, shown)
    for reference, row in stored_cases(db).items():
        assert len(reference) <= 60 and row[0] in ("CIN", "CP")


# --- the command line and the import kind ---------------------------------------------------


def run_cli(db_url: str, *args: str) -> int:
    from qa_tui.cli import main

    return main(["--db", db_url, "--today", TODAY.isoformat(), "import", "cin-census", *args])


def test_cli_previews_then_imports_with_yes(db: Database, db_url: str, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    assert run_cli(db_url, str(SAMPLE_2026)) == 1
    captured = capsys.readouterr()
    assert "CIN census: " in captured.out and "as at 31/03/2024 from local authority 201" in captured.out
    assert "Changes against the database: 2 new, 0 reallocated, 0 closed, 0 reopened, 0 updated, 0 unchanged, " \
           "1 CP plans added, 0 CP plans updated" in captured.out
    assert "--yes" in captured.err and stored_cases(db) == {}

    assert run_cli(db_url, str(SAMPLE_2026), "--yes") == 0
    assert "Imported: 2 new, 1 CP plans added" in capsys.readouterr().out
    assert run_cli(db_url, str(SAMPLE_2024), "--yes") == 0
    assert "Nothing to change" in capsys.readouterr().err


def test_cli_json_and_a_refused_file(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(db_url, str(SAMPLE_2024), "--json", "--yes") == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["preview"]["counts"]["new"] == 2 and payload["result"]["history"]["added"] == 1
    assert payload["preview"]["header"]["reference_date"] == "2024-03-31"
    path = _xxe(tmp_path)
    assert run_cli(db_url, str(path), "--yes") == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [
        f"qa-tui: {path}: declares a DOCTYPE or entities, which a CIN census never has; refused so that nothing "
        "outside the file is read"]
    assert "Traceback" not in captured.err + captured.out and SECRET not in captured.err + captured.out


def test_the_import_kind_previews_and_writes_through_the_shared_preview(db: Database) -> None:
    with db.reader() as session:
        shown = preview_import(session, "cin-census", SAMPLE_2024, TODAY)
    assert shown.kind == "cin-census" and shown.contents_title == "Census" and shown.problems_title == "Not used"
    assert dict(shown.counts)["CP plans added"] == 1 and shown.added == ("DfEX0000001", "child_fails_assessments")
    assert shown.writes_anything
    with db.session() as session:
        written = write_import(session, shown, TODAY)
    assert written.matches_preview and dict(written.written.counts)["new"] == 2
    with db.reader() as session:
        again = preview_import(session, "cin-census", SAMPLE_2024, TODAY)
    assert not again.writes_anything
    assert replace(again, detail=None).counts[-2:] == (("CP plans added", 0), ("CP plans updated", 0))

