"""Supervision: recording, cadence across month ends, overdue flags, the agenda before and after
a supervision (ticked items leave it, the link stays), the record and the Markdown exports."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from qa_tui.config import parse_config
from qa_tui.db.engine import Database
from qa_tui.db.models import Action, Audit, Case, FollowUp, Person, Supervision, Team
from qa_tui.errors import ChangedElsewhere, NotAllowed, NotFound, ValidationError
from qa_tui.services.practice.feedback import record_feedback
from qa_tui.services.practice.followups import raise_follow_up, tick_discussed
from qa_tui.services.practice.observations import record_observation
from qa_tui.services.practice.supervision import (
    agenda_markdown,
    next_supervision_due,
    record_supervision,
    supervision_agenda,
    supervision_record,
    supervision_record_markdown,
    supervision_status,
)
from qa_tui.services.audits.templates import ensure_template

CFG = parse_config({})


def _org(db: Database) -> dict[str, uuid.UUID]:
    with db.session() as s:
        team = Team(code="T1", name="Assessment 1")
        s.add(team)
        s.flush()
        tm = Person(staff_id="TM1", name="Tess Manager", role="TM", team_id=team.id, active_from=date(2019, 1, 1))
        s.add(tm)
        s.flush()
        people = {
            "tm": tm,
            "sw": Person(staff_id="SW1", name="Sam Worker", role="SW", team_id=team.id, manager_id=tm.id,
                         active_from=date(2020, 1, 6)),
            "nqsw": Person(staff_id="NQ1", name="Nia Newly", role="NQSW", team_id=team.id, manager_id=tm.id,
                           asye_start=date(2026, 9, 1), active_from=date(2026, 9, 1)),
            "new": Person(staff_id="SW2", name="Nat Starter", role="SW", team_id=team.id, manager_id=tm.id,
                          active_from=date(2026, 11, 2)),
            "left": Person(staff_id="SW3", name="Lee Left", role="SW", team_id=team.id, manager_id=tm.id,
                           active_from=date(2020, 1, 1), active_to=date(2026, 6, 30)),
        }
        s.add_all(list(people.values())[1:])
        s.flush()
        case = Case(reference="CASE-0042", category="CP", worker_id=people["sw"].id, team_id=team.id)
        s.add(case)
        s.flush()
        ids = {k: p.id for k, p in people.items()}
        ids["team"], ids["case"] = team.id, case.id
    return ids


def _supervise(db: Database, ids: dict[str, uuid.UUID], worker: str, held_on: date, today: date, notes: str = ""):
    with db.session() as s:
        return record_supervision(s, worker_id=ids[worker], supervisor_id=ids["tm"], held_on=held_on,
                                  kind="casework", notes=notes, today=today)


def test_record_supervision_stores_it_and_refuses_bad_input(db: Database, today: date) -> None:
    ids = _org(db)
    view = _supervise(db, ids, "sw", date(2026, 11, 20), today, notes="Caseload review")
    with db.reader() as s:
        row = s.get(Supervision, view.id)
        assert (row.worker_id, row.supervisor_id, row.held_on, row.kind, row.notes) == (
            ids["sw"], ids["tm"], date(2026, 11, 20), "casework", "Caseload review")
    with pytest.raises(ValidationError, match="future"):
        _supervise(db, ids, "sw", today + timedelta(days=1), today)
    with pytest.raises(ValidationError, match="expected one of"), db.session() as s:
        record_supervision(s, worker_id=ids["sw"], supervisor_id=ids["tm"], held_on=today, kind="group", today=today)
    with pytest.raises(ValidationError, match="themselves"), db.session() as s:
        record_supervision(s, worker_id=ids["sw"], supervisor_id=ids["sw"], held_on=today, today=today)
    with pytest.raises(NotFound), db.session() as s:
        record_supervision(s, worker_id=uuid.uuid4(), supervisor_id=ids["tm"], held_on=today, today=today)
    with db.reader() as s:
        assert len(s.scalars(select(Supervision)).all()) == 1


@pytest.mark.parametrize(("last", "cadence", "due"), [
    (date(2026, 1, 31), "monthly", date(2026, 2, 28)),
    (date(2024, 1, 31), "monthly", date(2024, 2, 29)),
    (date(2026, 3, 31), "monthly", date(2026, 4, 30)),
    (date(2026, 12, 15), "monthly", date(2027, 1, 15)),
    (date(2026, 1, 31), "fortnightly", date(2026, 2, 14)),
    (date(2026, 12, 25), "fortnightly", date(2027, 1, 8)),
    (date(2026, 2, 26), "weekly", date(2026, 3, 5)),
    (date(2026, 11, 30), "quarterly", date(2027, 2, 28)),
    (date(2027, 11, 30), "quarterly", date(2028, 2, 29)),
])
def test_next_supervision_due_across_month_ends(last: date, cadence: str, due: date) -> None:
    assert next_supervision_due(last, cadence) == due


def test_unknown_cadence_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="cadence"):
        next_supervision_due(date(2026, 1, 1), "yearly")


@settings(max_examples=200, deadline=None)
@given(last=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)))
def test_monthly_due_date_is_in_the_next_month_and_never_later_in_it(last: date) -> None:
    due = next_supervision_due(last, "monthly")
    month_index = due.year * 12 + due.month - (last.year * 12 + last.month)
    assert month_index == 1 and due.day <= last.day and 28 <= (due - last).days <= 31


def test_status_uses_cadence_by_role_and_flags_overdue(db: Database, today: date) -> None:
    ids = _org(db)
    _supervise(db, ids, "sw", date(2026, 10, 31), today)     # monthly: due 30 Nov
    _supervise(db, ids, "nqsw", date(2026, 11, 1), today)    # fortnightly: due 15 Nov
    with db.reader() as s:
        rows = {r.staff_id: r for r in supervision_status(s, today, CFG)}
        mine = supervision_status(s, today, CFG, supervisor_id=ids["tm"])
    assert "SW3" not in rows  # left in June
    sw, nq, new, tm = rows["SW1"], rows["NQ1"], rows["SW2"], rows["TM1"]
    assert (sw.cadence, sw.last_held, sw.due_on, sw.overdue, sw.days_overdue) == (
        "monthly", date(2026, 10, 31), date(2026, 11, 30), False, 0)
    assert (nq.cadence, nq.due_on, nq.overdue, nq.days_overdue) == ("fortnightly", date(2026, 11, 15), True, 9)
    assert (new.last_held, new.due_on, new.overdue) == (None, date(2026, 12, 2), False)
    assert "no supervision recorded" in new.reason
    assert tm.due_on == date(2019, 2, 1) and tm.overdue  # never supervised since starting in 2019
    assert {r.staff_id for r in mine} == {"SW1", "NQ1", "SW2"}
    assert [r.staff_id for r in mine] == ["NQ1", "SW1", "SW2"]  # soonest due first

    with db.reader() as s:
        due_on_the_day = {r.staff_id: r for r in supervision_status(s, date(2026, 11, 30), CFG)}
        weekly = parse_config({"supervision": {"cadence": {"SW": "weekly"}}})
        weekly_rows = {r.staff_id: r for r in supervision_status(s, today, weekly)}
    assert due_on_the_day["SW1"].overdue is False
    assert (weekly_rows["SW1"].due_on, weekly_rows["SW1"].days_overdue) == (date(2026, 11, 7), 17)


def test_never_supervised_without_a_start_date_is_flagged(db: Database, today: date) -> None:
    _org(db)
    with db.session() as s:
        s.add(Person(staff_id="SW9", name="No Dates", role="SW"))
    with db.reader() as s:
        row = next(r for r in supervision_status(s, today, CFG) if r.staff_id == "SW9")
    assert (row.due_on, row.overdue, row.reason) == (None, True, "no supervision recorded")


def _seed_agenda(db: Database, ids: dict[str, uuid.UUID], today: date) -> None:
    with db.session() as s:
        template = ensure_template(s, CFG.template("live"))
        audit = Audit(kind="live", template_id=template.id, case_id=ids["case"], worker_id=ids["sw"],
                      auditor_id=ids["tm"], team_id=ids["team"], audit_date=date(2026, 11, 3))
        s.add(audit)
        s.flush()
        raise_follow_up(s, worker_id=ids["sw"], source_kind="audit", source_id=audit.id,
                        summary="Chronology needs updating", today=date(2026, 11, 5))
        record_observation(s, observer_id=ids["tm"], worker_id=ids["sw"], observed_on=date(2026, 11, 6),
                           kind="annual", setting="Core group", went_well="", to_develop="", reflection="",
                           feedback_shared=True, themes=[], today=date(2026, 11, 6))
        record_feedback(s, received_on=date(2026, 11, 8), case_id=ids["case"], giver="parent",
                        channel="qr", rating=4, said="Listened to us", themes=[], today=date(2026, 11, 8))
        raise_follow_up(s, worker_id=ids["nqsw"], source_kind="other", source_id=None,
                        summary="Someone else's item", today=date(2026, 11, 5))
        s.add_all([
            Action(title="Update the chronology", owner_id=ids["sw"], raised_on=date(2026, 11, 5),
                   due_on=date(2026, 11, 20), status="open", case_id=ids["case"]),
            Action(title="Write the closing summary", owner_id=ids["sw"], raised_on=date(2026, 11, 5),
                   due_on=date(2026, 12, 3), status="open"),
            Action(title="Done already", owner_id=ids["sw"], raised_on=date(2026, 11, 1),
                   due_on=date(2026, 11, 2), status="done"),
            Action(title="Not theirs", owner_id=ids["nqsw"], raised_on=date(2026, 11, 1),
                   due_on=date(2026, 11, 2), status="open"),
        ])


def test_agenda_before_and_after_a_supervision(db: Database, today: date) -> None:
    ids = _org(db)
    _seed_agenda(db, ids, today)
    with db.reader() as s:
        before = supervision_agenda(s, ids["sw"], today)
    assert [f.source_kind for f in before.follow_ups] == ["audit", "observation", "feedback"]
    assert [f.raised_on for f in before.follow_ups] == [date(2026, 11, 5), date(2026, 11, 6), date(2026, 11, 8)]
    assert [f.case_reference for f in before.follow_ups] == ["CASE-0042", None, "CASE-0042"]
    assert [(a.title, a.overdue, a.days_overdue) for a in before.actions] == [
        ("Update the chronology", True, 4), ("Write the closing summary", False, 0)]
    assert before.last_held is None

    held = _supervise(db, ids, "sw", date(2026, 11, 22), today, notes="Talked through the audit")
    audit_item, observation_item, feedback_item = before.follow_ups
    with db.session() as s:
        tick_discussed(s, audit_item.id, held.id, "Agreed to update by Friday", expected_version=audit_item.version)
        tick_discussed(s, observation_item.id, held.id)

    with db.reader() as s:
        after = supervision_agenda(s, ids["sw"], today)
        record = supervision_record(s, held.id)
        linked = s.get(FollowUp, audit_item.id)
    assert [f.id for f in after.follow_ups] == [feedback_item.id]
    assert after.last_held == date(2026, 11, 22)
    assert len(after.actions) == 2  # actions stay until done
    assert (linked.supervision_id, linked.discussed_note) == (held.id, "Agreed to update by Friday")
    assert [(f.id, f.discussed_note) for f in record.discussed] == [
        (audit_item.id, "Agreed to update by Friday"), (observation_item.id, "")]
    assert record.worker.staff_id == "SW1" and record.supervisor.staff_id == "TM1"


def test_ticking_is_refused_when_it_cannot_be_true(db: Database, today: date) -> None:
    ids = _org(db)
    _seed_agenda(db, ids, today)
    with db.reader() as s:
        items = supervision_agenda(s, ids["sw"], today).follow_ups
        other = supervision_agenda(s, ids["nqsw"], today).follow_ups[0]
    early = _supervise(db, ids, "sw", date(2026, 11, 4), today)
    held = _supervise(db, ids, "sw", date(2026, 11, 22), today)
    with pytest.raises(NotAllowed, match="after the supervision"), db.session() as s:
        tick_discussed(s, items[0].id, early.id)
    with pytest.raises(NotAllowed, match="another worker"), db.session() as s:
        tick_discussed(s, other.id, held.id)
    with db.session() as s:
        tick_discussed(s, items[0].id, held.id, "done")
    with pytest.raises(NotAllowed, match="already discussed"), db.session() as s:
        tick_discussed(s, items[0].id, held.id)
    with pytest.raises(ChangedElsewhere), db.session() as s:
        tick_discussed(s, items[1].id, held.id, expected_version=items[1].version + 1)
    with pytest.raises(NotFound), db.session() as s:
        tick_discussed(s, uuid.uuid4(), held.id)


def test_markdown_exports_use_case_references(db: Database, today: date) -> None:
    ids = _org(db)
    _seed_agenda(db, ids, today)
    held = _supervise(db, ids, "sw", date(2026, 11, 22), today, notes="Talked through the audit")
    with db.reader() as s:
        agenda = supervision_agenda(s, ids["sw"], today)
    with db.session() as s:
        tick_discussed(s, agenda.follow_ups[0].id, held.id, "Agreed\nto update by Friday")
    with db.reader() as s:
        text = agenda_markdown(agenda)
        record_text = supervision_record_markdown(supervision_record(s, held.id))
    assert text.startswith("# Supervision agenda: Sam Worker (SW1)\n")
    assert "## To discuss (3)" in text and "## Open actions (2)" in text
    assert "- [ ] **Case audit** (from 2026-11-05, case CASE-0042): Chronology needs updating" in text
    assert "Update the chronology (due 2026-11-20, **overdue by 4 days**, case CASE-0042)" in text
    assert "Write the closing summary (due 2026-12-03)" in text
    assert record_text.startswith("# Casework supervision: Sam Worker (SW1)\n")
    assert "- Supervisor: Tess Manager (TM1)" in record_text
    assert "  - Note: Agreed to update by Friday" in record_text
    assert record_text.rstrip().endswith("Talked through the audit")
