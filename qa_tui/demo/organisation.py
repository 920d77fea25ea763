"""The demo council's organisation, area by area: services, teams and people with their
managers, and the supervision and observation history of everyone outside the frontline teams."""

from __future__ import annotations

import random
import uuid

from qa_tui.db.models import Person, Service, Team
from qa_tui.demo.phrases import FIRST_NAMES, SURNAME_ENDINGS, SURNAME_STEMS
from qa_tui.demo.practice import observations, supervisions
from qa_tui.demo.shape import FRONTLINE_SERVICES, IRO_TEAM, PI_TEAM, STANDARDS_SERVICE, TEAMS_PER_AREA
from qa_tui.demo.state import Council, Member, TeamPlan, WorkerHistory, days


def new_member(council: Council, rng: random.Random, role: str, manager: Member | None,
               team_id: uuid.UUID | None) -> Member:
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAME_STEMS)}{rng.choice(SURNAME_ENDINGS)}"
    member = Member(council.new_id(rng), role, name, manager, team_id,
                    active_from=council.today - days(rng.randint(400, 5000)),
                    skill=rng.gauss(0, 0.12))
    if role == "NQSW":
        member.asye_start = council.today - days(rng.randint(20, 350))
        member.active_from = member.asye_start
    return member


def build_area(council: Council, area: int) -> list[TeamPlan]:
    """Services, teams and people of one area; returns its case-holding teams."""
    rng = random.Random(f"{council.seed}/area/{area}")
    suffix = "" if area == 0 else f" (Area {area + 1})"
    prefix = "" if area == 0 else f"A{area + 1:03d}-"
    if council.director is None:
        council.director = new_member(council, rng, "DD", None, None)
    assistant = new_member(council, rng, "AD", council.director, None)
    services: list[tuple[uuid.UUID, str, str]] = []
    teams: list[tuple[uuid.UUID, str, str, uuid.UUID]] = []
    seniors: list[Member] = [assistant]
    plans: list[TeamPlan] = []
    staff: list[Member] = []
    for s_code, s_name, team_shapes in FRONTLINE_SERVICES:
        service_id = council.new_id(rng)
        services.append((service_id, prefix + s_code, s_name + suffix))
        hos = new_member(council, rng, "HOS", assistant, None)
        ops = new_member(council, rng, "OPS", hos, None)
        seniors += [hos, ops]
        for t_code, t_name, kind in team_shapes:
            team_id = council.new_id(rng)
            teams.append((team_id, prefix + t_code, t_name + suffix, service_id))
            tm = new_member(council, rng, "TM", ops, team_id)
            holders = [new_member(council, rng, "ASWP", tm, team_id)]
            holders += [new_member(council, rng, "SW", tm, team_id) for _ in range(rng.randint(6, 8))]
            holders += [new_member(council, rng, "NQSW", tm, team_id) for _ in range(rng.randint(1, 2))]
            staff += [tm, *holders]
            plans.append(TeamPlan(area * TEAMS_PER_AREA + len(plans), team_id, prefix + t_code, kind,
                                  tm, holders, ops, hos))
    service_id = council.new_id(rng)
    services.append((service_id, prefix + STANDARDS_SERVICE[0], STANDARDS_SERVICE[1] + suffix))
    standards_head = new_member(council, rng, "HOS", assistant, None)
    seniors.append(standards_head)
    for (t_code, t_name), role, size in ((IRO_TEAM, "IRO", 4), (PI_TEAM, "PI", 3)):
        team_id = council.new_id(rng)
        teams.append((team_id, prefix + t_code, t_name + suffix, service_id))
        lead = new_member(council, rng, "TM", standards_head, team_id)
        staff += [lead, *(new_member(council, rng, role, lead, team_id) for _ in range(size))]

    # Staff numbers follow the teams (so the first team's manager is DEMO-S00001), then the
    # seniors; rows go in management order so every manager row exists before its reports.
    numbered = staff + seniors + ([council.director] if area == 0 else [])
    for member in numbered:
        council.staff_numbers += 1
        member.staff_id = f"DEMO-S{council.staff_numbers:05d}"
    for service_id, code, name in services:
        council.add(Service, rng, council.history_start, id=service_id, code=code, name=name)
    for team_id, code, name, service_id in teams:
        council.add(Team, rng, council.history_start, id=team_id, code=code, name=name, service_id=service_id,
                    active=True)
    rank = {"DD": 0, "AD": 1, "HOS": 2, "OPS": 3, "TM": 4}
    for member in sorted(numbered, key=lambda m: rank.get(m.role, 5)):
        council.add(Person, rng, member.active_from, id=member.id, staff_id=member.staff_id, name=member.name,
                    role=member.role, team_id=member.team_id,
                    manager_id=member.manager.id if member.manager else None, asye_start=member.asye_start,
                    active_from=member.active_from, active_to=None, login=None)
    # Everyone outside the frontline teams: supervised by their manager; IROs and the
    # practice improvement team are observed too, though they hold no cases.
    frontline = {m.id for plan in plans for m in (plan.tm, *plan.case_holders)}
    for member in numbered:
        if member.id not in frontline:
            history = WorkerHistory()
            supervisions(council, rng, member, history)
            if member.role in ("IRO", "PI"):
                observations(council, rng, member, history)
    return plans
