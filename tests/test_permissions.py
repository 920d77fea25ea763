"""Each row of docs/permissions.md, allowed and refused, through the services on both databases:
the person acting comes from the session (as the app sets it), never from an argument."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from qa_tui.dates import Month
from qa_tui.db.engine import Database
from qa_tui.db.models import AuditEvent, CaseDraw, Person
from qa_tui.errors import NotAllowed
from qa_tui.services.audits import moderation
from qa_tui.services.audits import record as audits
from qa_tui.services.audits.draw import draw_cases_for_team
from qa_tui.services.imports.people_cases import import_cases, import_people
from qa_tui.services.people.admin import PersonInput, save_person
from qa_tui.services.people.owner import bind_to_puller, set_standalone_owner
from qa_tui.services.practice import observations, supervision
from qa_tui.services.practice.followups import tick_discussed
from qa_tui.services.practice.my_work import my_work
from qa_tui.services.practice.support import add_step, record_support_plan, support_plans_visible_to
from tests.permissions_seed import CFG, Council, act_as, act_with_permissions, nobody, seed_council

MONTH = Month(2026, 11)
LIVE = CFG.template("live")
CASES_CSV = "case_reference,category,worker_staff_id,team_code,opened_on\nNEW-1,CIN,W001,,2026-03-02\n"


@pytest.fixture
def council(db: Database) -> Council:
    return seed_council(db)


def _person_form(db: Database, person: object, **changes: object) -> PersonInput:
    with db.reader() as s:
        p = s.get(Person, person)
        values = dict(staff_id=p.staff_id, name=p.name, role=p.role, team_id=p.team_id, manager_id=p.manager_id,
                      asye_start="", active_from="", login=p.login or "")
    values.update(changes)
    return PersonInput(**values)


# --- people, roles, teams and logins: administrators only -----------------------------------


def test_a_laptop_user_cannot_promote_themselves_by_the_people_screen_or_import(db: Database, council: Council,
                                                                                today: date) -> None:
    if not db.is_sqlite:
        pytest.skip("on PostgreSQL the administrator is a database role: tests/test_database_guards.py")
    with db.session() as s:
        s.get(Person, council.tm).login = "terry"
        bind_to_puller(s, "terry")  # a laptop pulled by the team manager
    act_as(db, council.tm, login="terry")
    form = _person_form(db, council.tm, role="AD")
    with db.session() as s, pytest.raises(NotAllowed, match="only an administrator"):
        save_person(s, form, today, person_id=council.tm)
    csv = "staff_id,name,role,team_code,login\nM001,Terry Manager,AD,T1,terry\nH001,Harper Head,HOS,,\n"
    with db.session() as s, pytest.raises(NotAllowed, match="only an administrator"):
        import_people(s, csv)
    with db.reader() as s:
        assert s.get(Person, council.tm).role == "TM"


def test_the_owner_of_a_standalone_install_administers_it(db: Database, council: Council, today: date) -> None:
    if not db.is_sqlite:
        pytest.skip("on PostgreSQL the administrator is a database role: tests/test_database_guards.py")
    with db.session() as s:
        set_standalone_owner(s, "M001")
    act_as(db, council.tm)
    with db.session() as s:
        save_person(s, _person_form(db, council.peer, role="ASWP"), today, person_id=council.peer)
    with db.reader() as s:
        assert s.get(Person, council.peer).role == "ASWP"


# --- caseload extracts ----------------------------------------------------------------------


def test_importing_caseload_is_for_the_practice_improvement_team(db: Database, council: Council) -> None:
    act_as(db, council.tm)
    with db.session() as s, pytest.raises(NotAllowed, match="may not import caseload extracts"):
        import_cases(s, CASES_CSV)
    with db.session() as s:  # a preview writes nothing and is allowed
        assert import_cases(s, CASES_CSV, dry_run=True).added_keys == ("NEW-1",)
    act_as(db, council.pi)
    with db.session() as s:
        assert import_cases(s, CASES_CSV).added_keys == ("NEW-1",)
    act_with_permissions(db, council.tm, import_caseload=["TM"])
    with db.session() as s:
        import_cases(s, CASES_CSV.replace("NEW-1", "NEW-2"))


# --- drawing and running a live audit --------------------------------------------------------


@pytest.mark.parametrize(("who", "allowed"), [("tm", True), ("hos", True), ("other_tm", False),
                                               ("other_hos", False), ("sw", False), ("pi", False)])
def test_drawing_is_for_the_teams_manager_or_a_senior_manager_above_it(db: Database, council: Council, today: date,
                                                                       who: str, allowed: bool) -> None:
    act_as(db, getattr(council, who))
    if allowed:
        with db.session() as s:
            draw_cases_for_team(s, council.team, MONTH, today, CFG.draw)
    else:
        with db.session() as s, pytest.raises(NotAllowed, match="may not draw cases or run a live audit"):
            draw_cases_for_team(s, council.team, MONTH, today, CFG.draw)
    with db.reader() as s:
        assert s.scalar(select(func.count()).select_from(CaseDraw)) == int(allowed)


def _start(db: Database, council: Council, auditor: object, today: date) -> audits.AuditDTO:
    with db.session() as s:
        return audits.start_audit(s, kind="live", template=LIVE, case_id=council.case, worker_id=council.sw,
                                  auditor_id=auditor, team_id=council.team, audit_date=date(2026, 11, 10),
                                  today=today, cfg=CFG)


def test_a_live_audit_is_led_by_the_teams_manager_as_themselves(db: Database, council: Council, today: date) -> None:
    act_as(db, council.other_tm)
    with pytest.raises(NotAllowed, match="may not draw cases or run a live audit"):
        _start(db, council, council.other_tm, today)
    act_as(db, council.sw)
    with pytest.raises(NotAllowed, match="may not lead an audit as Terry Manager"):
        _start(db, council, council.tm, today)
    act_as(db, council.tm)
    assert _start(db, council, council.tm, today).status == "draft"


# --- moderating and finalising ---------------------------------------------------------------


def _submitted(db: Database, council: Council, today: date) -> object:
    act_as(db, council.tm)
    audit = _start(db, council, council.tm, today)
    with db.session() as s:
        for d in LIVE.domains:
            audits.set_grade(s, audit.id, d.key, 1)
        audits.set_overall_grade(s, audit.id, 1)
    with db.session() as s:
        audits.submit_for_moderation(s, audit.id, today)
    return audit.id


def test_nobody_moderates_as_someone_else_or_without_a_moderator_role(db: Database, council: Council,
                                                                      today: date) -> None:
    audit_id = _submitted(db, council, today)
    act_as(db, council.tm)  # the auditor names the head of service as the moderator
    with db.session() as s, pytest.raises(NotAllowed, match="people act only as themselves"):
        moderation.moderate(s, audit_id, council.hos, outcome="agreed", today=today)
    act_as(db, council.sw)
    with db.session() as s, pytest.raises(NotAllowed):
        moderation.moderate(s, audit_id, council.sw, outcome="agreed", today=today)
    act_as(db, council.pi)
    with db.session() as s, pytest.raises(NotAllowed, match="not a moderator role"):
        moderation.moderate(s, audit_id, council.pi, outcome="agreed", today=today)
    act_as(db, council.hos)
    with db.session() as s:
        assert moderation.moderate(s, audit_id, council.hos, outcome="agreed", today=today).status == "moderated"


def test_finalising_is_for_the_practice_improvement_team_or_a_role_set_in_config(
        db: Database, council: Council, today: date) -> None:
    audit_id = _submitted(db, council, today)
    act_as(db, council.hos)
    with db.session() as s:
        moderation.moderate(s, audit_id, council.hos, outcome="agreed", today=today)
    with db.session() as s, pytest.raises(NotAllowed, match="may not finalise audits: that is for Practice"):
        moderation.finalise(s, audit_id, today)
    act_with_permissions(db, council.hos, finalise=["PI", "HOS"])
    with db.session() as s:
        assert moderation.finalise(s, audit_id, today).status == "finalised"


# --- observations ----------------------------------------------------------------------------


def test_an_observation_is_written_by_its_observer_and_the_worker_adds_a_reflection(
        db: Database, council: Council, today: date) -> None:
    act_as(db, council.tm)
    with db.session() as s:
        obs = observations.record_observation(s, observer_id=council.tm, worker_id=council.sw,
                                              observed_on=today, kind="annual", to_develop="Plan visits [sooner]",
                                              today=today)
    with db.session() as s:
        observations.update_observation_field(s, obs.id, "went_well", "Warm, clear", today=today)
    act_as(db, council.sw)
    with db.session() as s, pytest.raises(NotAllowed, match="the worker adds their reflection only"):
        observations.update_observation_field(s, obs.id, "to_develop", "Nothing", today=today)
    with db.session() as s:
        observations.update_observation_field(s, obs.id, "reflection", "I will plan \"sooner\"", today=today)
    act_as(db, council.peer)
    with db.session() as s, pytest.raises(NotAllowed, match="only its observer may"):
        observations.update_observation_field(s, obs.id, "reflection", "Peer's words", today=today)
    with db.reader() as s:
        stored = observations.get_observation(s, obs.id)
    assert (stored.to_develop, stored.reflection) == ("Plan visits [sooner]", "I will plan \"sooner\"")


# --- supervision and support plans ------------------------------------------------------------


def test_only_the_line_manager_records_supervision_and_ticks_its_agenda(db: Database, council: Council,
                                                                        today: date) -> None:
    act_as(db, council.tm)
    with db.session() as s:
        obs = observations.record_observation(s, observer_id=council.tm, worker_id=council.sw, observed_on=today,
                                              kind="annual", today=today)
    act_as(db, council.peer)
    with db.session() as s, pytest.raises(NotAllowed, match="only the worker's supervisor or line manager"):
        supervision.record_supervision(s, worker_id=council.sw, supervisor_id=council.peer, held_on=today,
                                       today=today)
    with db.session() as s, pytest.raises(NotAllowed, match="people act only as themselves"):
        supervision.record_supervision(s, worker_id=council.sw, supervisor_id=council.tm, held_on=today, today=today)
    for manager in (council.tm, council.hos):  # the line manager, and the manager above them
        act_as(db, manager)
        with db.session() as s:
            held = supervision.record_supervision(s, worker_id=council.sw, supervisor_id=manager, held_on=today,
                                                  today=today)
    with db.reader() as s:
        item = supervision.supervision_agenda(s, council.sw, today).follow_ups[0]
    act_as(db, council.peer)
    with db.session() as s, pytest.raises(NotAllowed, match="only the worker's supervisor or line manager"):
        tick_discussed(s, item.id, held.id)
    act_as(db, council.hos)
    with db.session() as s:
        assert tick_discussed(s, item.id, held.id).supervision_id == held.id
    assert obs.worker_id == council.sw


def test_a_support_plans_steps_on_the_agenda_are_for_the_line_management_only(db: Database, council: Council,
                                                                              today: date) -> None:
    act_as(db, council.tm)
    with db.session() as s:
        plan = record_support_plan(s, worker_id=council.sw, manager_id=council.tm, aim="Confidence in court",
                                   steps=[("Shadow a hearing", today)], today=today)
    with db.session() as s:
        add_step(s, plan.id, step="Write a statement", due_on=today, by_id=council.tm, today=today)

    def agenda_summaries(who: object) -> list[str]:
        act_as(db, who)
        with db.reader() as s:
            return [f.summary for f in supervision.supervision_agenda(s, council.sw, today).follow_ups]

    assert agenda_summaries(council.tm) and agenda_summaries(council.hos) == agenda_summaries(council.tm)
    assert len(agenda_summaries(council.tm)) == 2
    assert agenda_summaries(council.sw) == []  # not the worker herself, though it is her plan
    act_as(db, council.sw)
    with db.reader() as s:
        mine = my_work(s, council.sw, today)
        assert mine.agenda == () and support_plans_visible_to(s, council.sw, today=today) == []
    assert agenda_summaries(council.peer) == []
    assert agenda_summaries(council.other_tm) == []
    act_as(db, council.peer)
    with db.session() as s, pytest.raises(NotAllowed, match="people act only as themselves"):
        record_support_plan(s, worker_id=council.sw, manager_id=council.tm, aim="x", steps=[], today=today)


# --- nobody ------------------------------------------------------------------------------------


def test_a_login_linked_to_no_one_may_look_but_change_nothing(db: Database, council: Council, today: date) -> None:
    act_as(db, None, login="stranger")
    with db.reader() as s:
        assert s.get(Person, council.sw).name == "Sam Worker"
    with pytest.raises(NotAllowed, match="stranger is not linked to a staff record"), db.session() as s:
        s.get(Person, council.sw).name = "Renamed"
    with db.session() as s, pytest.raises(NotAllowed, match="stranger is not linked"):
        draw_cases_for_team(s, council.team, MONTH, today, CFG.draw)
    nobody(db)
    with db.reader() as s:
        assert s.get(Person, council.sw).name == "Sam Worker"


def test_every_trail_event_names_the_person_as_well_as_the_login(db: Database, council: Council, today: date) -> None:
    act_as(db, council.tm, login=db.actor)
    _start(db, council, council.tm, today)
    with db.reader() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.table_name.in_(("audit", "audit_participant")))).all()
    assert events and {(e.person_staff_id, e.person_name) for e in events} == {("M001", "Terry Manager")}
    assert {e.actor for e in events} == {db.actor}
