"""Triage: every kind of late work listed (and on-time work not), filters, keyset paging that
returns each row once in a stable order for every sort, counts, and the remembered filter."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from qa_tui.config import parse_config
from qa_tui.db.engine import Database
from qa_tui.db.models import Action, Draft, Person
from qa_tui.errors import ValidationError
from qa_tui.services.audits.drafts import save_draft
from qa_tui.services.programme.triage import (
    TRIAGE_SORTS,
    TriageFilters,
    check_filters,
    fuzzy_match,
    fuzzy_pattern,
    load_triage_filter,
    other_rows,
    save_triage_filter,
    triage_counts,
    triage_page,
)
from tests.test_programme import Org, build, utc

CFG = parse_config({})
TODAY = date(2026, 11, 24)


def scenario(db: Database) -> dict[str, uuid.UUID]:
    """build()'s council with one late and one on-time item of each kind."""
    build(db)
    with db.session() as s:
        org = Org.load(s)
        for staff_id in ("DD1", "HOS1", "OPS1", "TM1", "TM2", "TMB", "SWB"):
            s.get(Person, org.people[staff_id]).active_from = date(2026, 11, 1)  # supervision not due yet
        s.get(Person, org.people["SW2"]).asye_start = date(2026, 1, 1)
        ids = {**org.people, **org.teams}

        def action(title: str, due: date, owner: str = "SW1", status: str = "open", team: str | None = "A1",
                   case: str | None = "C-1") -> uuid.UUID:
            return org.add(Action(title=title, owner_id=org.people[owner] if owner else None,
                                  team_id=org.teams[team] if team else None, raised_on=due - timedelta(days=28),
                                  due_on=due, status=status, case_id=org.cases[case] if case else None)).id

        ids["late action"] = action("Update the chronology", date(2026, 11, 10))
        ids["due today"] = action("Record the child's views", TODAY)
        ids["done action"] = action("Hold a core group", date(2026, 10, 1), status="done")
        ids["future action"] = action("Plan direct work", date(2026, 12, 1))
        ids["late draft"] = org.audit("C-1", "TM1", date(2026, 10, 5), status="draft")
        ids["recent draft"] = org.audit("C-2", "TM1", date(2026, 11, 20), status="draft")
        ids["sent, not finalised"] = org.audit("C-2", "TM1", date(2026, 10, 20), submitted_at=utc(date(2026, 10, 21)))
        ids["finalised"] = org.audit("C-B", "TMB", date(2026, 10, 1), status="finalised",
                                     submitted_at=utc(date(2026, 10, 2)), finalised_at=utc(date(2026, 10, 9)))
        ids["dip done"] = org.audit("C-2", "TM1", date(2026, 11, 5), kind="dip_sample", status="finalised",
                                    finalised_at=utc(date(2026, 11, 5)))
        org.supervision("SW1", "TM1", date(2026, 11, 1))  # monthly: next due 1 December
        org.supervision("SW2", "TM1", date(2026, 11, 1))  # NQSW fortnightly: due 15 November
        org.observation("SW1", date(2026, 6, 1), observer="TM1")
    return ids


def all_rows(db: Database, filters: TriageFilters = TriageFilters(), limit: int = 100, others=None):  # noqa: ANN001, ANN201
    rows, cursor = [], None
    with db.reader() as s:
        for _ in range(500):  # a cursor that does not move on would page for ever
            page = triage_page(s, TODAY, CFG, filters, after=cursor, limit=limit, others=others)
            rows += page.rows
            if page.next_cursor is None:
                return rows
            cursor = page.next_cursor
    raise AssertionError("paging did not end")


def test_each_late_kind_is_listed_and_on_time_work_is_not(db: Database) -> None:
    ids = scenario(db)
    rows = all_rows(db)
    found = {(r.kind, r.record_id) for r in rows}
    expected_in = {
        ("action", ids["late action"]), ("moderation", ids["late draft"]), ("finalisation", ids["late draft"]),
        ("finalisation", ids["sent, not finalised"]), ("supervision", ids["SW2"]), ("observation", ids["SW2"]),
        ("dip_sample", ids["TM2"]), ("dip_sample", ids["TMB"]),
    }
    assert expected_in <= found
    for kind, key in [("action", "due today"), ("action", "done action"), ("action", "future action"),
                      ("moderation", "recent draft"), ("finalisation", "recent draft"),
                      ("moderation", "sent, not finalised"), ("finalisation", "finalised"),
                      ("supervision", "SW1"), ("observation", "SW1"), ("dip_sample", "TM1"),
                      ("finalisation", "dip done")]:
        assert (kind, ids[key]) not in found, key
    by_key = {(r.kind, r.record_id): r for r in rows}
    action = by_key[("action", ids["late action"])]
    assert (action.days_overdue, action.late, action.subject, action.owner_name, action.team_name) == (
        14, True, "C-1", "Person SW1", "Team A1")
    moderation = by_key[("moderation", ids["late draft"])]
    assert (moderation.due_on, moderation.days_overdue, moderation.owner_id) == (date(2026, 10, 28), 27, ids["TM1"])
    assert by_key[("finalisation", ids["sent, not finalised"])].due_on == date(2026, 11, 17)
    supervision = by_key[("supervision", ids["SW2"])]
    assert (supervision.due_on, supervision.days_overdue, supervision.owner_id) == (date(2026, 11, 15), 9, ids["TM1"])
    observation = by_key[("observation", ids["SW2"])]
    assert observation.late and observation.due_on == date(2026, 3, 31)
    dip = by_key[("dip_sample", ids["TM2"])]
    assert (dip.late, dip.days_overdue, dip.due_on) == (False, 0, date(2026, 11, 30))
    assert [r.due_on or date.min for r in rows] == sorted(r.due_on or date.min for r in rows)


def test_filters_by_team_owner_kind_days_and_fuzzy_text(db: Database) -> None:
    ids = scenario(db)
    with db.session() as s:
        org = Org.load(s)
        for title, owner, team, case in [("Chase the 50% plan_review", "SWB", "B1", "C-B"),
                                         ("Share the assessment", "SWB", "B1", None)]:
            org.add(Action(title=title, owner_id=org.people[owner], team_id=org.teams[team], raised_on=date(2026, 9, 1),
                           due_on=date(2026, 10, 1), status="open", case_id=org.cases[case] if case else None))
    kinds = lambda f: {(r.kind, r.record_id) for r in all_rows(db, f)}  # noqa: E731

    b1 = all_rows(db, TriageFilters(team_id=ids["B1"]))
    assert b1 and {r.team_name for r in b1} == {"Team B1"}
    assert {r.kind for r in b1} == {"action", "dip_sample", "observation"}  # SWB not observed yet
    mine = all_rows(db, TriageFilters(owner_id=ids["TM1"]))
    assert {r.kind for r in mine} == {"moderation", "finalisation", "supervision", "observation"}
    assert {r.owner_id for r in mine} == {ids["TM1"]}
    assert kinds(TriageFilters(kinds=("supervision",))) == {("supervision", ids["SW2"])}
    assert {k for k, _ in kinds(TriageFilters(kinds=("action", "dip_sample")))} == {"action", "dip_sample"}
    at_least_20 = all_rows(db, TriageFilters(min_days_overdue=20))
    assert at_least_20 and all(r.late and r.days_overdue >= 20 for r in at_least_20)
    assert ("action", ids["late action"]) not in {(r.kind, r.record_id) for r in at_least_20}  # 14 days
    assert ("dip_sample", ids["TM2"]) not in {(r.kind, r.record_id) for r in all_rows(db, TriageFilters(min_days_overdue=1))}

    titles = lambda f: sorted(r.title for r in all_rows(db, f) if r.kind == "action")  # noqa: E731
    assert titles(TriageFilters(text="upd chrn")) == ["Update the chronology"]  # letters in order
    assert titles(TriageFilters(text="CHRONOLOGY")) == ["Update the chronology"]  # any case
    assert titles(TriageFilters(text="ygolonorhc")) == []  # not in order
    assert titles(TriageFilters(text="50%")) == ["Chase the 50% plan_review"]  # % is literal
    assert titles(TriageFilters(text="n_r")) == ["Chase the 50% plan_review"]  # _ is literal
    assert titles(TriageFilters(text="c-b")) == ["Chase the 50% plan_review"]  # the case reference
    assert titles(TriageFilters(text="person swb")) == ["Chase the 50% plan_review", "Share the assessment"]
    small = all_rows(db, TriageFilters(text="sw2"))  # the worker in small kinds
    assert {r.kind for r in small} == {"supervision", "observation"}


def test_fuzzy_pattern_and_match_agree() -> None:
    assert fuzzy_pattern("a b%") == "%a%b%\\%%"
    assert fuzzy_pattern("x_\\") == "%x%\\_%\\\\%"
    assert fuzzy_match("cfr", "Case file review") and not fuzzy_match("rfc", "Case file review")
    assert fuzzy_match("", "anything") and fuzzy_match("RE", "", "fire")


def test_keyset_pages_return_each_row_once_in_a_stable_order_for_every_sort(db: Database) -> None:
    ids = scenario(db)
    with db.session() as s:
        org = Org.load(s)
        twin_a = org.person("TWA", "SW", "A2", name="Alex Same")
        twin_b = org.person("TWB", "SW", "B1", name="Alex Same")
        owners = [twin_a, twin_b, ids["SW1"], None]
        teams = [org.teams["A1"], org.teams["A2"], None]
        for n in range(45):  # many ties: five due dates, same-named owners, no owner, no team
            org.add(Action(title=f"Tie {n:02d}", owner_id=owners[n % 4], team_id=teams[n % 3],
                           raised_on=date(2026, 9, 1), due_on=date(2026, 11, 10) - timedelta(days=n % 5),
                           status="open"))
    with db.reader() as s:
        others = other_rows(s, TODAY, CFG)
    for sort in TRIAGE_SORTS:
        filters = TriageFilters(sort=sort)
        whole = all_rows(db, filters, limit=500)
        assert len(whole) > 50
        for size in (1, 7, 50):
            assert all_rows(db, filters, limit=size, others=others) == whole, (sort, size)
        keys = [(r.kind, r.record_id) for r in whole]
        assert len(keys) == len(set(keys))
        name = {"owner": lambda r: r.owner_name, "team": lambda r: r.team_name}.get(sort, lambda r: "")
        order = [(name(r), r.due_on or date.min) for r in whole]
        assert order == sorted(order, reverse=sort == "recent"), sort
    # Rows added between two page requests after the cursor appear; nothing is repeated.
    with db.reader() as s:
        first = triage_page(s, TODAY, CFG, TriageFilters(), limit=10)
    with db.session() as s:
        s.add(Action(title="Newly late", owner_id=ids["SW1"], raised_on=date(2026, 10, 1), due_on=date(2026, 11, 20),
                     status="open"))
    with db.reader() as s:
        rest = triage_page(s, TODAY, CFG, TriageFilters(), after=first.next_cursor, limit=500)
    assert "Newly late" in {r.title for r in rest.rows}
    assert not {(r.kind, r.record_id) for r in first.rows} & {(r.kind, r.record_id) for r in rest.rows}


def test_precomputed_other_rows_give_the_same_pages_and_counts(db: Database) -> None:
    scenario(db)
    with db.reader() as s:
        others = other_rows(s, TODAY, CFG)
        for filters in (TriageFilters(), TriageFilters(sort="team", text="person"), TriageFilters(min_days_overdue=5)):
            assert triage_page(s, TODAY, CFG, filters, others=others) == triage_page(s, TODAY, CFG, filters)
        counts = triage_counts(s, TODAY, CFG, TriageFilters(kinds=("action",)))
        assert counts == triage_counts(s, TODAY, CFG, TriageFilters(), others=others)
    rows = all_rows(db)
    assert counts == {kind: sum(r.kind == kind for r in rows) for kind in counts}


def test_bad_filters_and_a_cursor_from_another_sort_are_refused(db: Database) -> None:
    scenario(db)
    for bad, field in [(TriageFilters(sort="colour"), "sort"), (TriageFilters(kinds=("party",)), "kind"),
                       (TriageFilters(min_days_overdue=-1), "days overdue")]:
        with pytest.raises(ValidationError, match=field):
            check_filters(bad)
    assert check_filters(TriageFilters(kinds=("dip_sample", "action"), text="  a   b ")) == TriageFilters(
        kinds=("action", "dip_sample"), text="a b")
    with db.reader() as s:
        page = triage_page(s, TODAY, CFG, TriageFilters(), limit=2)
        with pytest.raises(ValidationError, match="sort changed"):
            triage_page(s, TODAY, CFG, TriageFilters(sort="owner"), after=page.next_cursor)
        with pytest.raises(ValidationError, match="limit"):
            triage_page(s, TODAY, CFG, TriageFilters(), limit=0)


def test_last_filter_round_trip_per_login(db: Database) -> None:
    ids = scenario(db)
    chosen = TriageFilters(team_id=ids["A1"], owner_id=ids["SW1"], kinds=("action", "supervision"),
                           min_days_overdue=3, text="chron", sort="team")
    with db.session() as s:
        assert load_triage_filter(s, "alex") == TriageFilters()
        save_triage_filter(s, "alex", chosen)
        save_triage_filter(s, "sam", TriageFilters(sort="recent"))
    with db.session() as s:
        assert load_triage_filter(s, "alex") == chosen
        assert load_triage_filter(s, "sam") == TriageFilters(sort="recent")
        assert s.get(Draft, "triage-filter:alex").owner == "alex"
        save_triage_filter(s, "alex", TriageFilters(text="again"))
    with db.session() as s:
        assert load_triage_filter(s, "alex") == TriageFilters(text="again")
        save_draft(s, "triage-filter:alex", {"sort": "sideways", "team_id": "not-a-uuid"}, owner="alex")
    with db.reader() as s:
        assert load_triage_filter(s, "alex") == TriageFilters()
    with pytest.raises(ValidationError), db.session() as s:
        save_triage_filter(s, "alex", TriageFilters(sort="sideways"))
