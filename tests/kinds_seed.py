"""A small synthetic council for the other kinds of audit: two services, three teams, a management
line from the deputy director down, and cases on CP plans ending soon, running long, and closed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from qa_tui.dates import add_months
from qa_tui.db.engine import Database
from qa_tui.db.models import Case, Person, Service, Team


@dataclass(frozen=True)
class Org:
    today: date
    people: dict[str, uuid.UUID]  # key → person id
    teams: dict[str, uuid.UUID]  # code → team id
    services: dict[str, uuid.UUID]  # code → service id
    cases: dict[str, uuid.UUID]  # reference → case id


# key, staff ID, name, role, team code, manager key
PEOPLE = (
    ("dd", "DD1", "Dana Director", "DD", None, None),
    ("opsn", "OPS1", "Nia North", "OPS", "N1", "dd"),
    ("opss", "OPS2", "Sol South", "OPS", "S1", "dd"),
    ("hos", "HOS1", "Hari Head", "HOS", "N1", "dd"),
    ("tmn1", "TM1", "Tam One", "TM", "N1", "opsn"),
    ("tmn2", "TM2", "Tam Two", "TM", "N2", "opsn"),
    ("swa", "SW1", "Robin Ash", "SW", "N1", "tmn1"),
    ("swb", "SW2", "Sam Birch", "SW", "N2", "tmn2"),
    ("swc", "SW3", "Cam Cedar", "SW", "S1", "opss"),
)


def seed_org(db: Database, today: date) -> Org:
    """C-001: CP in N1 ending in 2 months. C-002: CP in N1 since 20 months ago. C-003: CP in N2
    ending in 5 months. C-004: CIN in N2 opened last month. C-005: CLA in S1. C-006: CP in S1
    ending next month. C-007: CP in N1, closed 10 days ago."""
    with db.session() as s:
        services = {code: Service(code=code, name=name) for code, name in (("N", "North"), ("S", "South"))}
        s.add_all(services.values())
        s.flush()
        teams = {code: Team(code=code, name=name, service_id=services[svc].id)
                 for code, name, svc in (("N1", "North One", "N"), ("N2", "North Two", "N"), ("S1", "South One", "S"))}
        s.add_all(teams.values())
        s.flush()
        people: dict[str, Person] = {}
        for key, staff_id, name, role, team, manager in PEOPLE:
            people[key] = Person(staff_id=staff_id, name=name, role=role, team_id=teams[team].id if team else None,
                                 manager_id=people[manager].id if manager else None, active_from=date(2020, 1, 1))
            s.add(people[key])
            s.flush()
        month = add_months
        specs = [
            ("C-001", "CP", "N1", "swa", month(today, -6), month(today, 2), None),
            ("C-002", "CP", "N1", "swa", month(today, -20), None, None),
            ("C-003", "CP", "N2", "swb", month(today, -2), month(today, 5), None),
            ("C-004", "CIN", "N2", "swb", None, None, None),
            ("C-005", "CLA", "S1", "swc", None, None, None),
            ("C-006", "CP", "S1", "swc", month(today, -11), month(today, 1), None),
            ("C-007", "CP", "N1", "swa", month(today, -8), month(today, 1), today - timedelta(days=10)),
        ]
        cases = {}
        for ref, category, team, worker, cp_start, cp_end, closed in specs:
            opened = month(today, -1) if ref == "C-004" else date(2024, 6, 1)
            case = Case(reference=ref, category=category, team_id=teams[team].id, worker_id=people[worker].id,
                        opened_on=opened, closed_on=closed, cp_plan_start=cp_start, cp_plan_end=cp_end)
            s.add(case)
            cases[ref] = case
        s.flush()
        return Org(today, {k: p.id for k, p in people.items()}, {k: t.id for k, t in teams.items()},
                   {k: v.id for k, v in services.items()}, {k: c.id for k, c in cases.items()})
