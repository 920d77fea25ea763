"""Teams, people and cases by hand: every rule names its field, nothing is ever deleted, role
changes reach the audit trail, lists page in SQL, and a stale form is refused."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from qa_tui.db.engine import Database
from qa_tui.db.models import AuditEvent, Case, Person, Team
from qa_tui.errors import ChangedElsewhere, NotAllowed, ValidationError
from qa_tui.services.people import admin
from qa_tui.services.people.admin import CaseInput, PersonInput, TeamInput
from qa_tui.services.people.settings import check_settings


def add_team(db: Database, today: date, code: str = "A1", name: str = "Assessment 1") -> uuid.UUID:
    with db.session() as s:
        return admin.save_team(s, TeamInput(code, name), today).id


def add_person(db: Database, today: date, staff_id: str, role: str = "SW", team_id: uuid.UUID | None = None,
               **changes: object) -> uuid.UUID:
    with db.session() as s:
        return admin.save_person(s, PersonInput(staff_id, f"Person {staff_id}", role, team_id, **changes), today).id


def refused(db: Database, fn, field: str) -> str:  # noqa: ANN001
    with pytest.raises(ValidationError) as caught, db.session() as s:
        fn(s)
    assert caught.value.field == field, str(caught.value)
    return caught.value.problem


def test_teams_are_added_edited_and_unique_by_code_and_name(db: Database, today: date) -> None:
    team_id = add_team(db, today)
    assert "already has the code" in refused(db, lambda s: admin.save_team(s, TeamInput("a1", "Other"), today),
                                              "Team code")
    assert "already called" in refused(db, lambda s: admin.save_team(s, TeamInput("B2", "assessment 1"), today),
                                       "Team name")
    assert "spaces" in refused(db, lambda s: admin.save_team(s, TeamInput("A 1", "Other"), today), "Team code")
    assert "blank" in refused(db, lambda s: admin.save_team(s, TeamInput("B2", "  "), today), "Team name")
    with db.session() as s:
        row = admin.save_team(s, TeamInput(" A1 ", "Assessment One"), today, team_id=team_id, expected_version=1)
    assert (row.code, row.name, row.version) == ("A1", "Assessment One", 2)
    with db.reader() as s:
        assert s.scalar(select(func.count()).select_from(Team)) == 1


def test_people_rules_name_their_field(db: Database, today: date) -> None:
    team_id = add_team(db, today)
    add_person(db, today, "SW1", team_id=team_id, login="robin")

    def person(**values: object):  # noqa: ANN202
        fields = dict(staff_id="SW2", name="Sam Lee", role="SW", team_id=team_id) | values
        return lambda s: admin.save_person(s, PersonInput(**fields), today)  # type: ignore[arg-type]

    assert "someone else's staff ID" in refused(db, person(staff_id="sw1"), "Staff ID")
    assert "blank" in refused(db, person(name=""), "Name")
    assert "choose one of" in refused(db, person(role="Boss"), "Role")
    assert "holds cases" in refused(db, person(team_id=None), "Team")
    assert "not a date" in refused(db, person(asye_start="next week"), "ASYE start")
    assert "not a real date" in refused(db, person(active_from="31/02/2026"), "Active from")
    assert "someone else's login" in refused(db, person(login="Robin"), "Login")
    assert "no longer exists" in refused(db, person(manager_id=uuid.uuid4()), "Manager")
    with db.reader() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 1


def test_a_role_change_is_in_the_audit_trail_and_only_real_changes_are_written(db: Database, today: date) -> None:
    team_id = add_team(db, today)
    person_id = add_person(db, today, "NQ1", role="NQSW", team_id=team_id, asye_start="01/09/2026")
    with db.session() as s:
        row = admin.save_person(s, PersonInput("NQ1", "Person NQ1", "SW", team_id, asye_start="2026-09-01"),
                                today, person_id=person_id, expected_version=1)
    assert row.role == "SW" and row.asye_start == date(2026, 9, 1)
    with db.reader() as s:
        updates = s.scalars(select(AuditEvent).where(AuditEvent.record_id == str(person_id),
                                                     AuditEvent.action == "update")).all()
    assert [(e.old, e.new) for e in updates] == [({"role": "NQSW"}, {"role": "SW"})]
    assert updates[0].actor == "tester"


def test_a_manager_loop_is_refused(db: Database, today: date) -> None:
    team_id = add_team(db, today)
    hos = add_person(db, today, "HOS1", role="HOS")
    tm = add_person(db, today, "TM1", role="TM", team_id=team_id, manager_id=hos)
    problem = refused(db, lambda s: admin.save_person(s, PersonInput("HOS1", "Person HOS1", "HOS", manager_id=tm),
                                                      today, person_id=hos), "Manager")
    assert "loop" in problem and "Person TM1" in problem
    assert "loop" in refused(db, lambda s: admin.save_person(s, PersonInput("HOS1", "Person HOS1", "HOS",
                                                                            manager_id=hos), today, person_id=hos),
                             "Manager")


def test_case_rules_name_their_field(db: Database, today: date) -> None:
    team_id = add_team(db, today)
    worker_id = add_person(db, today, "SW1", team_id=team_id)
    with db.session() as s:
        row = admin.save_case(s, CaseInput("C100", "CP", worker_id=worker_id, opened_on="01/10/2026",
                                           cp_plan_start="02/10/2026"), today)
    assert (row.team_id, row.worker_name, row.opened_on) == (team_id, "Person SW1", date(2026, 10, 1))

    def case(**values: object):  # noqa: ANN202
        fields = dict(reference="C200", category="CIN", team_id=team_id) | values
        return lambda s: admin.save_case(s, CaseInput(**fields), today)  # type: ignore[arg-type]

    assert "already recorded" in refused(db, case(reference="c100"), "Case reference")
    assert "name is never recorded" in refused(db, case(reference="Jane Smith"), "Case reference")
    assert "choose one of" in refused(db, case(category="XX"), "Category")
    assert "choose a team" in refused(db, case(team_id=None), "Team")
    assert "after today" in refused(db, case(opened_on=(today + timedelta(days=1)).isoformat()), "Opened on")
    assert "must not be blank" in refused(db, case(cp_plan_end="01/12/2026"), "CP plan start")
    assert "before the plan started" in refused(db, case(cp_plan_start="01/12/2026", cp_plan_end="01/11/2026"),
                                                "CP plan end")


def test_deactivating_never_deletes_and_can_be_undone(db: Database, today: date) -> None:
    team_id = add_team(db, today)
    worker_id = add_person(db, today, "SW1", team_id=team_id)
    with db.session() as s:
        case_id = admin.save_case(s, CaseInput("C1", "CIN", team_id, worker_id), today).id

    with pytest.raises(NotAllowed, match="1 active person and 1 open case"), db.session() as s:
        admin.deactivate(s, "team", team_id, today)
    with db.session() as s:
        assert "1 open case still allocated" in admin.deactivate(s, "person", worker_id, today)
        assert "closed on 24/11/2026" in admin.deactivate(s, "case", case_id, today)
        assert "no longer active" in admin.deactivate(s, "team", team_id, today)
    with db.reader() as s:
        assert s.get(Person, worker_id).active_to == today
        assert s.get(Case, case_id).closed_on == today
        assert s.get(Team, team_id).active is False
        assert admin.list_teams(s, today) == []
        assert [t.code for t in admin.list_teams(s, today, include_inactive=True)] == ["A1"]
        assert admin.list_cases(s).rows == ()
        tomorrow = today + timedelta(days=1)
        assert admin.list_people(s, tomorrow).rows == ()
        assert [p.staff_id for p in admin.list_people(s, tomorrow, include_inactive=True).rows] == ["SW1"]

    with db.session() as s:
        assert "open again" in admin.reactivate(s, "case", case_id)
        assert "active again" in admin.reactivate(s, "person", worker_id)
        assert "active again" in admin.reactivate(s, "team", team_id)
    with db.reader() as s:
        assert s.get(Case, case_id).closed_on is None and s.get(Person, worker_id).active_to is None
        assert s.get(Team, team_id).active is True
        deletes = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "delete"))
    assert deletes == 0


def test_a_form_saved_after_someone_else_changed_the_record_is_refused(db: Database, today: date) -> None:
    team_id = add_team(db, today)
    with db.session() as s:
        admin.save_team(s, TeamInput("A1", "Renamed elsewhere"), today, team_id=team_id, expected_version=1)
    with pytest.raises(ChangedElsewhere), db.session() as s:
        admin.save_team(s, TeamInput("A1", "My rename"), today, team_id=team_id, expected_version=1)
    with pytest.raises(ChangedElsewhere), db.session() as s:
        admin.deactivate(s, "team", team_id, today, expected_version=1)
    with db.reader() as s:
        assert s.get(Team, team_id).name == "Renamed elsewhere"


def test_people_and_cases_page_in_order_and_search(db: Database, today: date) -> None:
    team_id = add_team(db, today)
    with db.session() as s:
        s.add_all(Person(staff_id=f"S{i:03}", name=f"Worker {i % 7}", role="SW", team_id=team_id) for i in range(25))
        s.add_all(Case(reference=f"REF{i:04}", category="CIN", team_id=team_id) for i in range(23))
    with db.reader() as s:
        seen, after = [], None
        while True:
            page = admin.list_people(s, today, after=after, limit=10)
            seen += [(p.name, p.staff_id) for p in page.rows]
            if page.after is None:
                break
            after = page.after
        assert seen == sorted(seen) and len(seen) == len(set(seen)) == 25
        cases, after = [], None
        while True:
            case_page = admin.list_cases(s, after=after, limit=10)
            cases += [c.reference for c in case_page.rows]
            if case_page.after is None:
                break
            after = case_page.after
        assert cases == [f"REF{i:04}" for i in range(23)]
        assert [c.reference for c in admin.list_cases(s, search="ref 0012").rows] == ["REF0012"]
        assert {p.staff_id for p in admin.list_people(s, today, search="worker 3").rows} == {
            f"S{i:03}" for i in range(25) if i % 7 == 3}
        assert [t.people for t in admin.list_teams(s, today)] == [25]


def test_form_choices_and_settings_check(db: Database, today: date) -> None:
    team_id = add_team(db, today)
    add_person(db, today, "SW1", team_id=team_id)
    add_person(db, today, "TM1", role="TM", team_id=team_id)
    with db.reader() as s:
        choices = admin.form_choices(s, today)
        assert [c.label for c in choices.workers] == ["Person SW1 (SW1, SW, A1)"]
        assert [c.label for c in choices.managers] == ["Person TM1 (TM1, TM, A1)"]
        assert [c.id for c in choices.teams] == [team_id]
        check = check_settings(s, " tm1 ", "A1")
        assert (check.staff_id, check.person_name, check.team_name) == ("TM1", "Person TM1", "Assessment 1")
        with pytest.raises(ValidationError, match="Staff ID: no person"):
            check_settings(s, "NOPE", "")
        with pytest.raises(ValidationError, match="Default team: no team"):
            check_settings(s, "", "ZZ")
