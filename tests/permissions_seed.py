"""A small synthetic council for the permission tests: two teams with a line of management
(head of service → team manager → workers), a practice improvement officer, a senior manager of
another service, and a way to act as any of them (as the app does: the person in every session)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from qa_tui.config import parse_config
from qa_tui.db.engine import Database
from qa_tui.db.models import Case, Person, Service, Team
from qa_tui.db.acting import Acting

CFG = parse_config({})


@dataclass(frozen=True)
class Council:
    team: uuid.UUID  # Assessment 1
    other_team: uuid.UUID  # Family support 2
    hos: uuid.UUID  # head of service above the team manager of Assessment 1
    tm: uuid.UUID  # team manager of Assessment 1
    sw: uuid.UUID  # social worker in Assessment 1, managed by tm
    peer: uuid.UUID  # another social worker in Assessment 1, managed by tm
    other_tm: uuid.UUID  # team manager of Family support 2
    other_hos: uuid.UUID  # head of service above no one in Assessment 1
    pi: uuid.UUID  # practice improvement officer
    case: uuid.UUID


def seed_council(db: Database) -> Council:
    with db.session() as s:
        service = Service(code="CS", name="Children's services")
        team, other = Team(code="T1", name="Assessment 1", service=service), Team(code="T2", name="Family support 2",
                                                                                   service=service)
        s.add_all([service, team, other])
        s.flush()

        def person(staff_id: str, name: str, role: str, team_id: uuid.UUID | None,
                   manager: Person | None = None) -> Person:
            p = Person(staff_id=staff_id, name=name, role=role, team_id=team_id,
                       manager_id=manager.id if manager else None)
            s.add(p)
            s.flush()
            return p

        hos = person("H001", "Harper Head", "HOS", None)
        other_hos = person("H002", "Hollis Other", "HOS", None)
        tm = person("M001", "Terry Manager", "TM", team.id, hos)
        other_tm = person("M002", "Toni Elsewhere", "TM", other.id, other_hos)
        sw = person("W001", "Sam Worker", "SW", team.id, tm)
        peer = person("W002", "Pat Peer", "SW", team.id, tm)
        pi = person("P001", "Pip Improvement", "PI", None)
        case = Case(reference="CASE-0001", category="CIN", worker_id=sw.id, team_id=team.id,
                    opened_on=date(2026, 1, 5))
        s.add(case)
        s.flush()
        return Council(team.id, other.id, hos.id, tm.id, sw.id, peer.id, other_tm.id, other_hos.id, pi.id, case.id)


def act_as(db: Database, person_id: uuid.UUID | None, login: str = "tester", cfg: object = CFG) -> Database:
    """Every later session of `db` acts for this person (None: a login linked to no one)."""
    if person_id is None:
        db.acting = Acting(login=login)
    else:
        with db.reader() as s:
            p = s.get(Person, person_id)
            db.acting = Acting(login=login, person_id=p.id, staff_id=p.staff_id, name=p.name, role=p.role,
                               team_id=p.team_id)
    db.config = cfg
    return db


def nobody(db: Database) -> Database:
    db.acting, db.config = None, None
    return db


def person_id(db: Database, staff_id: str) -> uuid.UUID:
    with db.reader() as s:
        return s.scalar(select(Person.id).where(Person.staff_id == staff_id))


def act_with_permissions(db: Database, person_id: uuid.UUID, **permissions: list[str]) -> Database:
    """Act as `person_id` with these [permissions] rows in force where the council keeps them: the
    config on SQLite, the database's rows on PostgreSQL (stored by the set-up)."""
    from qa_tui.services.people.role_permissions import store_role_permissions

    if db.is_sqlite:
        return act_as(db, person_id, cfg=parse_config({"permissions": permissions}))
    nobody(db)
    with db.session() as s:
        store_role_permissions(s, permissions)
    return act_as(db, person_id)


def submitted_live_audit(db: Database, council: Council, auditor_id: uuid.UUID, today: date) -> uuid.UUID:
    """A live audit of Sam's case led by `auditor_id` (acting as them), graded and sent for
    moderation; the database then acts for nobody again."""
    from qa_tui.services.audits import record as audits

    live = CFG.template("live")
    act_as(db, auditor_id)
    with db.session() as s:
        audit = audits.start_audit(s, kind="live", template=live, case_id=council.case, worker_id=council.sw,
                                   auditor_id=auditor_id, team_id=council.team, audit_date=date(2026, 11, 10),
                                   today=today, cfg=CFG)
    with db.session() as s:
        for d in live.domains:
            audits.set_grade(s, audit.id, d.key, 1)
        audits.set_overall_grade(s, audit.id, 1)
    with db.session() as s:
        audits.submit_for_moderation(s, audit.id, today)
    nobody(db)
    return audit.id
