"""The teams under a person in the line management, and the dashboard's figures for them: a head
of service sees every team of their service, an operations lead the teams whose managers report to
them, an assistant director their services; a team manager and a social worker their own team."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta

import pytest

from qa_tui.config import parse_config
from qa_tui.db.engine import Database
from qa_tui.db.models import Action, Person, Service, Team
from qa_tui.services.people.line_teams import dashboard_scope, scope_name, teams_under
from qa_tui.services.programme.dashboard import build_dashboard

TODAY = date(2026, 11, 24)
CFG = parse_config({})

# Two services. A: A1 and A2 (and A3, closed); B: B1, B2, B3. The assistant director leads both
# heads of service. A1's manager reports to OPSA, under HOSA; A2's to OPSX, an operations lead
# outside A's line. B1's and B2's managers report to OPSB, under HOSB; B3's to HOSB directly.
TEAMS = {"A1": "A", "A2": "A", "A3": "A", "B1": "B", "B2": "B", "B3": "B"}
PEOPLE = (  # staff ID, role, team, manager
    ("AD", "AD", None, None), ("HOSA", "HOS", None, "AD"), ("HOSB", "HOS", None, "AD"),
    ("OPSA", "OPS", None, "HOSA"), ("OPSX", "OPS", None, None), ("OPSB", "OPS", None, "HOSB"),
    ("TMA1", "TM", "A1", "OPSA"), ("TMA2", "TM", "A2", "OPSX"), ("TMA3", "TM", "A3", "OPSA"),
    ("TMB1", "TM", "B1", "OPSB"), ("TMB2", "TM", "B2", "OPSB"), ("TMB3", "TM", "B3", "HOSB"),
    ("SWA1", "SW", "A1", "TMA1"), ("SWA2", "SW", "A2", "TMA2"), ("SWB1", "SW", "B1", "TMB1"),
    ("SWB3", "SW", "B3", "TMB3"), ("HOSV", "HOS", None, None),  # a head of service with no one below
)


def seed(db: Database) -> dict[str, uuid.UUID]:
    """The council above, with one open action past its due date in every team."""
    ids: dict[str, uuid.UUID] = {}
    with db.session() as s:
        services = {code: Service(code=code, name=f"Service {code}") for code in ("A", "B")}
        s.add_all(services.values())
        s.flush()
        for code, service in TEAMS.items():
            team = Team(code=code, name=f"Team {code}", service_id=services[service].id, active=code != "A3")
            s.add(team)
            s.flush()
            ids[code] = team.id
        for staff_id, role, team, manager in PEOPLE:
            person = Person(staff_id=staff_id, name=f"Person {staff_id}", role=role,
                            team_id=ids[team] if team else None, manager_id=ids[manager] if manager else None,
                            active_from=date(2020, 1, 1))
            s.add(person)
            s.flush()
            ids[staff_id] = person.id
        for code in TEAMS:
            s.add(Action(title=f"Late in {code}", team_id=ids[code], owner_id=ids[f"TM{code}"],
                         raised_on=TODAY - timedelta(days=60), due_on=TODAY - timedelta(days=30), status="open"))
    return ids


@pytest.fixture
def council(db: Database) -> dict[str, uuid.UUID]:
    return seed(db)


def codes(council: dict[str, uuid.UUID], team_ids: object) -> list[str]:
    names = {v: k for k, v in council.items()}
    return [names[t] for t in team_ids]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("who", "teams"), [
    ("HOSA", ["A1", "A2"]),  # every open team of the service, A2's manager outside their line too
    ("HOSB", ["B1", "B2", "B3"]),
    ("OPSA", ["A1"]),  # the teams whose managers report to them; A3 is closed
    ("OPSB", ["B1", "B2"]),
    ("OPSX", ["A2"]),
    ("AD", ["A1", "A2", "B1", "B2", "B3"]),  # their services
    ("TMA1", ["A1"]), ("TMB3", ["B3"]), ("TMA3", ["A3"]),  # a manager's own team, even a closed one
    ("SWA1", ["A1"]), ("SWB3", ["B3"]),  # a social worker: their own team
    ("HOSV", []),  # no one below: none (their dashboard is the whole council's, as before)
])
def test_the_teams_under_a_person(db: Database, council: dict[str, uuid.UUID], who: str, teams: list[str]) -> None:
    with db.reader() as s:
        assert codes(council, teams_under(s, council[who])) == teams


def test_a_loop_in_the_line_management_ends(db: Database, council: dict[str, uuid.UUID]) -> None:
    """A data error (two people managing each other) neither hangs nor widens the scope."""
    with db.session() as s:
        s.get(Person, council["HOSB"]).manager_id = council["TMB3"]
    with db.reader() as s:
        assert codes(council, teams_under(s, council["HOSB"])) == ["B1", "B2", "B3"]


@pytest.mark.parametrize(("who", "team_code", "name", "teams"), [
    ("HOSA", "", "Service: Service A — 2 teams", ["A1", "A2"]),
    ("AD", "", "2 services — 5 teams", ["A1", "A2", "B1", "B2", "B3"]),
    ("OPSB", "", "2 teams of Service B", ["B1", "B2"]),
    ("TMA1", "", "Team A1", ["A1"]),
    ("HOSA", "B3", "Team B3", ["B3"]),  # a team chosen in the settings is shown instead
    ("HOSV", "", "All teams", None),
    (None, "", "All teams", None),  # nobody
])
def test_the_dashboard_scope_and_its_name(db: Database, council: dict[str, uuid.UUID], who: str | None,
                                          team_code: str, name: str, teams: list[str] | None) -> None:
    with db.reader() as s:
        scope = dashboard_scope(s, council[who] if who else None, team_code)
    assert scope.name == name
    assert (codes(council, scope.team_ids) if scope.team_ids is not None else None) == teams


def test_the_scope_names() -> None:
    assert scope_name(0, None, 0, 0, None, 0) == "All teams"
    assert scope_name(1, "Team X", 1, 0, "S", 4) == "Team X"
    assert scope_name(6, "A", 1, 0, "Children's Safeguarding", 0) == "Service: Children's Safeguarding — 6 teams"
    assert scope_name(3, "A", 1, 0, "S", 2) == "3 teams of S"
    assert scope_name(12, "A", 3, 0, "S", 0) == "3 services — 12 teams"
    assert scope_name(4, "A", 2, 0, "S", 1) == "4 teams"
    assert scope_name(4, "A", 1, 1, "S", 0) == "4 teams"  # one of them in no service


def test_the_dashboard_counts_the_teams_under_the_person(db: Database, council: dict[str, uuid.UUID]) -> None:
    with db.reader() as s:
        def board(who: str | None, config=CFG):  # noqa: ANN001, ANN202
            return build_dashboard(s, today=TODAY, config=config, person_id=council[who] if who else None)

        hos, ops, ad, tm, sw, nobody = (board(w) for w in ("HOSA", "OPSB", "AD", "TMB1", "SWB1", None))
        chosen = board("HOSA", replace(CFG, user_team="B3"))
    assert (hos.team_name, hos.overdue_actions) == ("Service: Service A — 2 teams", 2)
    assert sorted(line.title for line in hos.overdue_action_lines) == ["Late in A1", "Late in A2"]
    assert (ops.team_name, ops.overdue_actions) == ("2 teams of Service B", 2)
    assert ad.overdue_actions == 5  # A3 is closed
    assert (tm.team_name, tm.overdue_actions) == ("Team B1", 1)
    assert (sw.team_name, sw.overdue_actions) == ("Team B1", 1)
    assert (nobody.team_name, nobody.overdue_actions) == ("All teams", 6)
    assert (chosen.team_name, chosen.overdue_actions) == ("Team B3", 1)
    # Supervision: the people of the teams, never supervised since they started in 2020.
    assert hos.supervisions_overdue == 4  # TMA1, SWA1, TMA2, SWA2
    assert {line.worker for line in hos.supervision_lines} == {"Person TMA1", "Person SWA1", "Person TMA2",
                                                               "Person SWA2"}
    assert tm.supervisions_overdue == 2 and ad.supervisions_overdue == 9
