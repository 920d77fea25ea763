"""Closing the loop with the worker (services, both databases): agenda items carry the finding's
substance, follow-ups are dated by their event, actions are handled in supervision and listed in
its record, dip samples raise actions, and the worker sees only their own shared work and responds."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import select

from qa_tui.config import parse_config
from qa_tui.db.engine import Database
from qa_tui.db.models import ActionChange, Audit, Case, Observation, Person, RecordSeen, Team
from qa_tui.services.audits.templates import ensure_template
from qa_tui.errors import NotAllowed, NotFound, ValidationError
from qa_tui.services.audits.actions import action_history, add_action
from qa_tui.services.practice.dip_sample import close_loop_with_worker, rate_area, start_dip_sample
from qa_tui.services.practice.feedback import record_feedback
from qa_tui.services.practice.followups import tick_discussed
from qa_tui.services.practice.my_work import my_work, open_my_record
from qa_tui.services.practice.observations import record_observation, update_observation_field
from qa_tui.services.practice.responses import respond
from qa_tui.services.practice.supervision import (
    agenda_markdown,
    record_supervision,
    supervision_agenda,
    supervision_record,
    supervision_record_markdown,
    supervision_status,
)
from qa_tui.services.practice.supervision_actions import (
    complete_action_in_supervision,
    extend_action_in_supervision,
    note_action_progress,
)
from qa_tui.services.practice.worker_rules import may_respond, may_see
from qa_tui.services.programme.dashboard_figures import lands_on_my_work

CFG = parse_config({})
TODAY = date(2026, 11, 24)


def _org(db: Database) -> dict[str, uuid.UUID]:
    with db.session() as s:
        team = Team(code="T1", name="Assessment 1")
        s.add(team)
        s.flush()
        tm = Person(staff_id="TM1", name="Tess Manager", role="TM", team_id=team.id, active_from=date(2019, 1, 1))
        s.add(tm)
        s.flush()
        sw = Person(staff_id="SW1", name="Sam Worker", role="SW", team_id=team.id, manager_id=tm.id,
                    active_from=date(2020, 1, 6))
        other = Person(staff_id="SW2", name="Cal Colleague", role="SW", team_id=team.id, manager_id=tm.id,
                       active_from=date(2020, 1, 6))
        s.add_all([sw, other])
        s.flush()
        case = Case(reference="CASE-0042", category="CP", worker_id=sw.id, team_id=team.id)
        other_case = Case(reference="CASE-0077", category="CIN", worker_id=other.id, team_id=team.id)
        s.add_all([case, other_case])
        s.flush()
        return {"team": team.id, "tm": tm.id, "sw": sw.id, "other": other.id, "case": case.id,
                "other_case": other_case.id}


def _observe(db: Database, ids: dict, worker: str = "sw", *, on: date, setting: str, to_develop: str,
             went_well: str = "", shared: bool = True, today: date = TODAY):
    with db.session() as s:
        return record_observation(s, observer_id=ids["tm"], worker_id=ids[worker], observed_on=on, kind="annual",
                                  setting=setting, went_well=went_well, to_develop=to_develop,
                                  feedback_shared=shared, today=today)


def _dip(db: Database, ids: dict, case: str = "case"):
    with db.session() as s:
        dip = start_dip_sample(s, case_id=ids[case], manager_id=ids["tm"], today=TODAY, cfg=CFG)
        rate_area(s, dip.id, dip.areas[0].key, 0, "Up to date")
        rate_area(s, dip.id, dip.areas[1].key, 2, "No chronology since [June]")
        close_loop_with_worker(s, dip.id, "Chronology missing; agree a date", TODAY)
        return dip


def test_agenda_items_carry_the_findings_substance(db: Database) -> None:
    ids = _org(db)
    _observe(db, ids, on=date(2026, 11, 20), setting="Home visit", to_develop="Explain the plan to the child",
             went_well="Warm [bold]rapport[/]")
    _observe(db, ids, on=date(2026, 11, 20), setting="Core group", to_develop="Chair the agenda firmly")
    dip = _dip(db, ids)
    with db.session() as s:
        record_feedback(s, received_on=date(2026, 11, 21), case_id=ids["case"], giver="young_person",
                        channel="form", rating=5, said="She listened to me", today=TODAY)
        agenda = supervision_agenda(s, ids["sw"], TODAY)
    found = [agenda.findings[f.id] for f in agenda.follow_ups]
    headings = [f.heading for f in found]
    assert headings[0] != headings[1], "two observations on one day are told apart"
    home = next(f for f in found if "Home visit" in f.heading)
    assert home.heading == "Annual practice observation on 20 Nov 2026 · Home visit · observed by Tess Manager"
    assert ("To develop", "Explain the plan to the child") in home.lines
    assert ("Went well", "Warm [bold]rapport[/]") in home.lines
    assert ("Shared", "shared, not yet opened by the worker") in home.lines
    assert home.record_kind == "observation"
    dip_finding = next(f for f in found if f.record_id == dip.id)
    assert dip_finding.heading.startswith("Dip sample on 24 Nov 2026 · case CASE-0042")
    assert dip_finding.lines == ((f"Not met: {dip.areas[1].label}", "No chronology since [June]"),)
    feedback = next(f for f in found if f.record_kind == "feedback")
    assert feedback.heading == "Feedback from a young person on 21 Nov 2026 · case CASE-0042 · rated 5/5"
    assert feedback.lines == (("They said", "She listened to me"),)
    text = agenda_markdown(agenda)
    assert "  - To develop: Explain the plan to the child" in text
    assert "  - They said: She listened to me" in text
    assert f"  - Not met: {dip.areas[1].label}: No chronology since [June]" in text


def test_follow_ups_are_dated_by_their_event_and_ticked_at_a_later_supervision(db: Database) -> None:
    ids = _org(db)
    obs = _observe(db, ids, on=date(2026, 11, 6), setting="Home visit", to_develop="x", today=TODAY)
    with db.session() as s:
        held_after = record_supervision(s, worker_id=ids["sw"], supervisor_id=ids["tm"], held_on=date(2026, 11, 10),
                                        notes="Line one\nLine two", today=TODAY)
        held_before = record_supervision(s, worker_id=ids["sw"], supervisor_id=ids["tm"], held_on=date(2026, 11, 5),
                                         today=TODAY)
        item = supervision_agenda(s, ids["sw"], TODAY).follow_ups[0]
    assert (item.raised_on, item.event_on) == (TODAY, date(2026, 11, 6))  # entered late, dated by the observation
    with pytest.raises(NotAllowed, match="comes from 2026-11-06"), db.session() as s:
        tick_discussed(s, item.id, held_before.id)
    with db.session() as s:
        tick_discussed(s, item.id, held_after.id, "Talked it through")
        record = supervision_record(s, held_after.id)
    assert [f.id for f in record.discussed] == [item.id]
    assert supervision_record_markdown(record).rstrip().endswith("## Notes\n\nLine one\nLine two")
    with db.session() as s:  # moving the observation's date moves the follow-up's
        update_observation_field(s, obs.id, "observed_on", date(2026, 11, 4), today=TODAY)
        assert s.get(Observation, obs.id).observed_on == date(2026, 11, 4)


def test_due_this_week_and_imported_last_supervision(db: Database) -> None:
    ids = _org(db)
    with db.session() as s:
        s.get(Person, ids["sw"]).last_supervised_on = date(2026, 10, 28)  # monthly: due 28 Nov
        s.get(Person, ids["other"]).last_supervised_on = date(2026, 10, 1)
        rows = {r.staff_id: r for r in supervision_status(s, TODAY, CFG)}
    assert (rows["SW1"].last_held, rows["SW1"].due_on, rows["SW1"].due_this_week, rows["SW1"].overdue) == (
        date(2026, 10, 28), date(2026, 11, 28), True, False)
    assert (rows["SW2"].overdue, rows["SW2"].days_overdue, rows["SW2"].due_this_week) == (True, 23, False)
    with db.session() as s:  # a recorded supervision after the imported date counts
        record_supervision(s, worker_id=ids["sw"], supervisor_id=ids["tm"], held_on=date(2026, 11, 20), today=TODAY)
        row = next(r for r in supervision_status(s, TODAY, CFG) if r.staff_id == "SW1")
        assert (row.last_held, row.due_this_week) == (date(2026, 11, 20), False)
        assert supervision_agenda(s, ids["other"], TODAY).last_held == date(2026, 10, 1)


def test_actions_are_handled_in_supervision_and_kept_in_history(db: Database) -> None:
    ids = _org(db)
    dip = _dip(db, ids)
    with db.session() as s:  # a dip sample raises an action with the audit rules: its case and team
        action = add_action(s, title="Update the chronology", owner_id=ids["sw"], raised_by_id=ids["tm"],
                            source_kind="dip_sample", audit_id=dip.id, today=TODAY, cfg=CFG)
        other = add_action(s, title="Not theirs", owner_id=ids["other"], raised_by_id=ids["tm"],
                           today=TODAY, cfg=CFG)
        held = record_supervision(s, worker_id=ids["sw"], supervisor_id=ids["tm"], held_on=TODAY, today=TODAY)
        agenda = supervision_agenda(s, ids["sw"], TODAY)
    assert action.case_reference == "CASE-0042" and action.source_kind == "dip_sample"
    assert [(a.id, a.source) for a in agenda.actions] == [(action.id, "Dip sample, raised 24 Nov 2026")]
    with db.session() as s:
        note_action_progress(s, action_id=action.id, supervision_id=held.id, note="Half written",
                             by_id=ids["tm"], today=TODAY, expected_version=agenda.actions[0].version)
        extend_action_in_supervision(s, action_id=action.id, supervision_id=held.id, new_due=date(2027, 1, 8),
                                     reason="Court work", by_id=ids["tm"], today=TODAY)
        with pytest.raises(ValidationError, match="evidence"):
            complete_action_in_supervision(s, action_id=action.id, supervision_id=held.id, evidence=" ",
                                           by_id=ids["tm"], today=TODAY)
        with pytest.raises(NotAllowed, match="someone else"):
            note_action_progress(s, action_id=other.id, supervision_id=held.id, note="x", by_id=ids["tm"], today=TODAY)
        complete_action_in_supervision(s, action_id=action.id, supervision_id=held.id,
                                       evidence="Chronology on file 24/11", by_id=ids["tm"], today=TODAY)
        history = action_history(s, action.id)
        record = supervision_record(s, held.id)
        assert s.scalar(select(ActionChange.supervision_id).where(ActionChange.action_id == other.id)) is None
        assert supervision_agenda(s, ids["sw"], TODAY).actions == ()
    assert [(h.change, h.reason) for h in history] == [
        ("progress", "Half written"), ("extended", "Court work"), ("done", "Chronology on file 24/11")]
    assert [a.line for a in record.actions] == [
        "Progress: Half written", f"Extended from {action.due_on.isoformat()} to 2027-01-08: Court work",
        "Done; evidence: Chronology on file 24/11"]
    text = supervision_record_markdown(record)
    assert "## Actions (3)" in text
    assert "- Update the chronology (case CASE-0042): Done; evidence: Chronology on file 24/11" in text


def test_the_worker_sees_only_their_own_shared_work_and_responds(db: Database) -> None:
    ids = _org(db)
    shared = _observe(db, ids, on=date(2026, 11, 20), setting="Home visit", to_develop="Explain the plan")
    unshared = _observe(db, ids, on=date(2026, 11, 21), setting="Office", to_develop="y", shared=False)
    colleagues = _observe(db, ids, "other", on=date(2026, 11, 20), setting="Home visit", to_develop="z")
    dip = _dip(db, ids)
    _dip(db, ids, "other_case")
    with db.session() as s:
        template = ensure_template(s, CFG.template("live"))
        draft = Audit(kind="live", template_id=template.id, case_id=ids["case"], worker_id=ids["sw"],
                      auditor_id=ids["tm"], team_id=ids["team"], audit_date=date(2026, 11, 2), to_improve="Draft")
        submitted = Audit(kind="live", template_id=template.id, case_id=ids["case"], worker_id=ids["sw"],
                          auditor_id=ids["tm"], team_id=ids["team"], audit_date=date(2026, 11, 3),
                          status="submitted", to_improve="Record the child's [views]")
        s.add_all([draft, submitted])
        s.flush()
        assert not may_see(s, ids["sw"], "audit", draft.id) and may_respond(s, ids["sw"], "audit", submitted.id)
        respond(s, person_id=ids["sw"], source_kind="audit", source_id=submitted.id, stance="agree", today=TODAY)
        # Responding from the list, without opening it first, is seeing it.
        assert s.scalars(select(RecordSeen.seen_on).where(RecordSeen.source_id == submitted.id)).all() == [TODAY]
        work = my_work(s, ids["sw"], TODAY)
        assert [(r.kind, r.id) for r in work.records] == [
            ("dip_sample", dip.id), ("observation", shared.id), ("audit", submitted.id)]
        assert work.records[2].finding.lines[0] == ("To improve", "Record the child's [views]")
        assert work.records[2].finding.response.line == "The worker agrees"
        assert all(r.may_respond for r in work.records)
        assert len(work.agenda) == 3  # two observations' reviews and the dip sample, shared or not
        assert not may_see(s, ids["sw"], "observation", colleagues.id)
        assert not may_see(s, ids["sw"], "observation", unshared.id)
        assert not may_respond(s, ids["other"], "observation", shared.id)
        with pytest.raises(NotFound):
            open_my_record(s, ids["sw"], "observation", colleagues.id, TODAY)
        opened = open_my_record(s, ids["sw"], "observation", shared.id, TODAY)
        assert ("Shared", "seen by the worker on 24 Nov 2026") in opened.finding.lines
        open_my_record(s, ids["sw"], "observation", shared.id, date(2026, 11, 25))  # the first open is kept
        assert s.scalars(select(RecordSeen.seen_on).where(RecordSeen.source_id == shared.id)).all() == [TODAY]
        assert s.get(Observation, shared.id).version == shared.version  # the record itself is untouched
        with pytest.raises(ValidationError, match="disagree"):
            respond(s, person_id=ids["sw"], source_kind="observation", source_id=shared.id, stance="disagree",
                    comment="", today=TODAY)
        with pytest.raises(NotAllowed):
            respond(s, person_id=ids["sw"], source_kind="observation", source_id=colleagues.id, stance="agree",
                    today=TODAY)
        respond(s, person_id=ids["sw"], source_kind="observation", source_id=shared.id, stance="disagree",
                comment="The plan was explained [twice]", reflection="I will write it down next time", today=TODAY)
        agenda = supervision_agenda(s, ids["sw"], TODAY)
    review = next(f for f in agenda.follow_ups if f.source_id == shared.id)
    response = agenda.findings[review.id].response
    assert response is not None and response.line == "The worker disagrees: The plan was explained [twice]"
    text = agenda_markdown(agenda)
    assert "  - The worker disagrees: The plan was explained [twice] (2026-11-24)" in text
    assert "  - Their reflection: I will write it down next time" in text
    with db.session() as s, pytest.raises(NotAllowed, match="not linked"):
        my_work(s, None, TODAY)


def test_only_the_worker_sees_and_responds_and_only_their_manager_handles_their_actions(db: Database) -> None:
    from tests.permissions_seed import act_as

    ids = _org(db)
    shared = _observe(db, ids, on=date(2026, 11, 20), setting="Home visit", to_develop="Explain the plan")
    with db.session() as s:
        action = add_action(s, title="Update the chronology", owner_id=ids["sw"], raised_by_id=ids["tm"],
                            today=TODAY, cfg=CFG)
        held = record_supervision(s, worker_id=ids["sw"], supervisor_id=ids["tm"], held_on=TODAY, today=TODAY)
    act_as(db, ids["tm"])  # the manager, not the worker: no view of the worker's own and no response for them
    with db.session() as s:
        assert not may_see(s, ids["sw"], "observation", shared.id)
        assert not may_respond(s, ids["sw"], "observation", shared.id)
        with pytest.raises(NotAllowed, match="Tess Manager .TM1. may not see or respond"):
            my_work(s, ids["sw"], TODAY)
        with pytest.raises(NotAllowed, match="only the worker whose work it is"):
            respond(s, person_id=ids["sw"], source_kind="observation", source_id=shared.id, stance="agree",
                    today=TODAY)
    act_as(db, ids["other"])  # a colleague: not the worker's supervisor
    with db.session() as s:
        with pytest.raises(NotAllowed, match="only the worker's supervisor or line manager"):
            note_action_progress(s, action_id=action.id, supervision_id=held.id, note="x", by_id=ids["other"],
                                 today=TODAY)
        with pytest.raises(NotAllowed, match="people act only as themselves"):
            note_action_progress(s, action_id=action.id, supervision_id=held.id, note="x", by_id=ids["tm"],
                                 today=TODAY)
    act_as(db, ids["sw"])  # the worker themselves
    with db.session() as s:
        assert [r.id for r in my_work(s, ids["sw"], TODAY).records] == [shared.id]
        respond(s, person_id=ids["sw"], source_kind="observation", source_id=shared.id, stance="agree", today=TODAY)
    act_as(db, ids["tm"])  # the manager handles the action in the supervision
    with db.session() as s:
        note_action_progress(s, action_id=action.id, supervision_id=held.id, note="Half written", by_id=ids["tm"],
                             today=TODAY)
    assert [h.change for h in _history(db, action.id)] == ["progress"]


def _history(db: Database, action_id: uuid.UUID) -> list:
    with db.reader() as s:
        return action_history(s, action_id)


def test_a_plain_social_worker_lands_on_their_own_work() -> None:
    assert lands_on_my_work("SW") and lands_on_my_work("NQSW")
    assert not lands_on_my_work("TM") and not lands_on_my_work("")


def test_people_import_carries_the_last_supervision(db: Database) -> None:
    from qa_tui.services.imports.csv_rows import ImportRejected
    from qa_tui.services.imports.people_cases import import_people

    text = ("staff_id,name,role,team_code,team_name,manager_staff_id,active_from,last_supervised_on\n"
            "M1,Cam Manager,TM,T9,Team Nine,,2019-01-01,\n"
            "S1,Ali Worker,SW,T9,,M1,2020-01-06,28/10/2026\n"
            "S2,Bo Worker,SW,T9,,M1,2020-01-06,\n")
    with db.session() as s:
        report = import_people(s, text)
        assert report.added == 3
        rows = {r.staff_id: r for r in supervision_status(s, TODAY, CFG)}
    assert (rows["S1"].last_held, rows["S1"].due_on, rows["S1"].due_this_week) == (
        date(2026, 10, 28), date(2026, 11, 28), True)
    assert rows["S2"].last_held is None and rows["S2"].overdue  # no date given: counted from their start
    bad = text.replace("28/10/2026", "31/02/2026")
    with pytest.raises(ImportRejected) as refused, db.session() as s:
        import_people(s, bad)
    assert [(p.line, p.column) for p in refused.value.problems] == [(3, "last_supervised_on")]
