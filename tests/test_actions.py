"""Actions: default due dates, completing, extending and reassigning with history, all-or-nothing
bulk changes, and keyset paging that returns every row exactly once and uses the indexes."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from qa_tui.db.engine import Database
from qa_tui.db.models import Action, Team
from qa_tui.errors import NotAllowed, ValidationError
from qa_tui.services.audits import actions
from tests.test_audits import CFG, Org, seed_org, start


def raise_action(db: Database, org: Org, today: date, title: str = "Update the plan", **kwargs) -> actions.ActionRow:
    kwargs.setdefault("owner_id", org.worker_id)
    with db.session() as s:
        return actions.add_action(s, title=title, raised_by_id=org.auditor_id, today=today, cfg=CFG, **kwargs)


def test_a_new_action_is_due_four_weeks_after_the_audit_and_takes_the_audits_team_and_case(
        db: Database, today: date) -> None:
    org = seed_org(db)
    audit = start(db, org, today)  # held on 10 November, the action written down on the 24th
    row = raise_action(db, org, today, audit_id=audit.id)
    assert row.due_on == date(2026, 12, 8) and row.status == "open" and row.days_overdue == 0
    # From no audit: four weeks from today; an audit long past: due today, never in the past.
    assert actions.default_action_due(None, today, CFG) == date(2026, 12, 22)
    assert actions.default_action_due(date(2026, 9, 1), today, CFG) == today
    assert (row.owner_name, row.team_name, row.case_reference) == ("Sam Worker", "Assessment 1", "CASE-0001")
    assert row.source == "Case audit, case CASE-0001"
    chosen = raise_action(db, org, today, "Book a joint visit", due_on=date(2026, 12, 1), source_kind="observation")
    assert chosen.due_on == date(2026, 12, 1) and chosen.source == "Practice observation"
    with db.session() as s:
        with pytest.raises(ValidationError, match="title"):
            actions.add_action(s, title="  ", owner_id=org.worker_id, raised_by_id=None, today=today, cfg=CFG)
        with pytest.raises(ValidationError, match="owner"):
            actions.add_action(s, title="x", owner_id=None, raised_by_id=None, today=today, cfg=CFG)
        with pytest.raises(ValidationError, match="due date"):
            actions.add_action(s, title="x", owner_id=org.worker_id, raised_by_id=None,
                               due_on=today - timedelta(days=1), today=today, cfg=CFG)
        with pytest.raises(ValidationError, match="source"):
            actions.add_action(s, title="x", owner_id=org.worker_id, raised_by_id=None, source_kind="rumour",
                               today=today, cfg=CFG)


def test_complete_extend_and_reassign_keep_history(db: Database, today: date) -> None:
    org = seed_org(db)
    first = raise_action(db, org, today, "Update the chronology")
    second = raise_action(db, org, today, "Add the school's views")
    with db.session() as s:
        with pytest.raises(ValidationError, match="reason"):
            actions.extend_action(s, first.id, date(2027, 1, 15), "", org.auditor_id, today)
        with pytest.raises(ValidationError, match="not after the current due date 2026-12-22"):
            actions.extend_action(s, first.id, date(2026, 12, 22), "More time", org.auditor_id, today)
        extended = actions.extend_action(s, first.id, date(2027, 1, 15), "Worker on leave", org.auditor_id, today)
        reassigned = actions.reassign_action(s, first.id, org.participant_id, "Case transferred", org.auditor_id,
                                             date(2026, 11, 25))
        with pytest.raises(ValidationError, match="evidence"):
            actions.complete_action(s, second.id, " ", org.worker_id, today)
        done = actions.complete_action(s, second.id, "Views recorded in the plan of 20/11", org.worker_id, today)
    assert extended.due_on == date(2027, 1, 15)
    assert reassigned.owner_name == "Pat Advanced"
    assert (done.status, done.completed_on, done.evidence) == ("done", today, "Views recorded in the plan of 20/11")
    with db.session() as s:
        with pytest.raises(NotAllowed, match="is done; only open actions can change"):
            actions.complete_action(s, second.id, "again", org.worker_id, today)
        history = actions.action_history(s, first.id)
        assert [(h.change, h.old_value, h.new_value, h.reason, h.changed_by_name)
                for h in actions.action_history(s, second.id)] == [
            ("done", "open", "done", "Views recorded in the plan of 20/11", "Sam Worker")]
    assert [(h.change, h.old_value, h.new_value, h.reason, h.changed_on) for h in history] == [
        ("extended", "2026-12-22", "2027-01-15", "Worker on leave", today),
        ("reassigned", "W001", "A001", "Case transferred", date(2026, 11, 25))]


@pytest.mark.parametrize("bulk", ["complete", "extend", "reassign"])
def test_bulk_changes_apply_to_all_or_none(db: Database, today: date, bulk: str) -> None:
    org = seed_org(db)
    rows = [raise_action(db, org, today, f"Action {n}", due_on=date(2026, 12, n)) for n in range(1, 4)]
    blocker = rows[2].id
    with db.session() as s:
        if bulk == "reassign":  # already owned by the new owner: refused
            actions.reassign_action(s, blocker, org.participant_id, "set up", org.auditor_id, today)
        elif bulk == "extend":  # already due after the new date: refused
            actions.extend_action(s, blocker, date(2027, 2, 1), "set up", org.auditor_id, today)
        else:
            actions.complete_action(s, blocker, "set up", org.worker_id, today)
    ids = [r.id for r in rows]
    with db.session() as s:  # the caller carries on and commits after the refusal
        with pytest.raises((ValidationError, NotAllowed), match="Action 3"):
            if bulk == "complete":
                actions.complete_actions(s, ids, "All done", org.worker_id, today)
            elif bulk == "extend":
                actions.extend_actions(s, ids, date(2027, 1, 10), "Leave", org.auditor_id, today)
            else:
                actions.reassign_actions(s, ids, org.participant_id, "Moved", org.auditor_id, today)
    with db.reader() as s:
        untouched = [s.get(Action, i) for i in ids[:2]]
        assert [(a.status, a.owner_id, a.due_on) for a in untouched] == [
            ("open", org.worker_id, date(2026, 12, 1)), ("open", org.worker_id, date(2026, 12, 2))]
        assert all(actions.action_history(s, i) == [] for i in ids[:2])
    with db.session() as s:
        changed = actions.complete_actions(s, ids[:2], "Both done", org.worker_id, today)
    assert [c.status for c in changed] == ["done", "done"]


def test_lists_filter_by_team_owner_status_and_overdue(db: Database, today: date) -> None:
    org = seed_org(db)
    late = raise_action(db, org, today - timedelta(days=40), "Late one")  # due 12 days ago
    raise_action(db, org, today, "Other team's", team_id=org.other_team_id, owner_id=org.participant_id)
    done = raise_action(db, org, today, "Finished")
    with db.session() as s:
        actions.complete_action(s, done.id, "evidence", org.worker_id, today)
        page = actions.list_actions(s, today=today)
        overdue = actions.list_actions(s, today=today, overdue_only=True)
        by_team = actions.list_actions(s, today=today, team_id=org.other_team_id)
        by_owner = actions.list_actions(s, today=today, owner_id=org.worker_id)
        all_statuses = actions.list_actions(s, today=today, status=None)
        with pytest.raises(ValidationError, match="status"):
            actions.list_actions(s, today=today, status="late")
        with pytest.raises(ValidationError, match="limit"):
            actions.list_actions(s, today=today, limit=0)
    assert [r.title for r in page.rows] == ["Late one", "Other team's"] and page.next_after is None
    assert [(r.id, r.days_overdue) for r in overdue.rows] == [(late.id, 12)]
    assert [r.title for r in by_team.rows] == ["Other team's"]
    assert [r.title for r in by_owner.rows] == ["Late one"]
    assert len(all_statuses.rows) == 3


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offsets=st.lists(st.integers(min_value=-30, max_value=30), min_size=0, max_size=25),
       limit=st.integers(min_value=1, max_value=7))
def test_keyset_pages_return_every_row_exactly_once(db: Database, today: date, offsets: list[int], limit: int) -> None:
    # Each example gets its own team, so earlier examples' rows never enter this one's pages.
    with db.session() as s:
        team = Team(code=f"K{uuid.uuid4().hex[:8]}", name="Keyset")
        s.add(team)
        s.flush()
        expected = []
        for n, offset in enumerate(offsets):  # many share a due date, so the id breaks ties
            action = Action(title=f"a{n}", team_id=team.id, raised_on=today, due_on=today + timedelta(days=offset),
                            status="open")
            s.add(action)
            s.flush()
            expected.append((action.due_on, action.id))
        team_id = team.id
    seen: list[tuple[date, uuid.UUID]] = []
    after = None
    with db.reader() as s:
        while True:
            page = actions.list_actions(s, today=today, team_id=team_id, after=after, limit=limit)
            assert len(page.rows) <= limit
            seen += [(r.due_on, r.id) for r in page.rows]
            if page.next_after is None:
                break
            after = page.next_after
    assert seen == sorted(expected)


def test_the_open_actions_page_reads_the_index_in_order(db: Database, today: date) -> None:
    """No sort and no table scan: what keeps the triage list fast with a million actions."""
    org = seed_org(db)
    raise_action(db, org, today)
    statements: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if "FROM action" in statement and "LIMIT" in statement:
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    with db.reader() as s:
        first = actions.list_actions(s, today=today, limit=1)
        actions.list_actions(s, today=today, after=first.rows[0].cursor, limit=1)
    event.remove(db.engine, "before_cursor_execute", keep)
    assert len(statements) == 2
    with db.engine.connect() as conn:
        for statement, parameters in statements:
            if db.is_sqlite:
                plan = " ".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
                assert "USING INDEX ix_action_open_due" in plan and "TEMP B-TREE" not in plan, plan
            else:
                conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
                conn.exec_driver_sql("SET LOCAL enable_sort = off")
                plan = " ".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
                assert "ix_action_open_due" in plan and "Sort" not in plan, plan
            conn.rollback()


def test_rows_carry_what_the_triage_list_shows(db: Database, today: date) -> None:
    org = seed_org(db)
    row = raise_action(db, org, today - timedelta(days=30), "Chase the health visitor", team_id=org.team_id)
    with db.reader() as s:
        listed = actions.list_actions(s, today=today).rows[0]
        stored = s.scalar(select(Action).where(Action.id == row.id))
    assert listed.id == stored.id and listed.version == stored.version
    assert (listed.owner_name, listed.team_name, listed.due_on, listed.days_overdue) == (
        "Sam Worker", "Assessment 1", date(2026, 11, 22), 2)
