"""The teams under a person in the line management, which a manager's dashboard covers: a head
of service (or an assistant or deputy director) every team of their services, an operations lead
the teams of the people who report to them, anyone else their own team. The rule is one piece of
SQL, read here and by the dashboard's first figures (before SQLAlchemy loads), so both agree."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

SERVICE_LEADERS = ("HOS", "AD", "DD")  # every team of the services of the teams below them
LINE_LEADERS = ("OPS", "SM", *SERVICE_LEADERS)  # the teams of everyone below them in the line


def _roles(roles: Sequence[str]) -> str:
    return ", ".join(f"'{role}'" for role in roles)


# After a CTE `me (id, team_id, role)` (the person, or no row): `under (id)` the teams under them,
# `scope (id)` the dashboard's teams (the team `:team_code` names, else `under`; none: the whole
# council) and `scoped (id, name, service_id)` those teams. Set-based: one recursive walk down the
# line, whatever the council's size. Active teams only, apart from the person's own.
_SCOPE_CTES = """
below (id, team_id) AS (
    SELECT id, team_id FROM person WHERE manager_id IN (SELECT id FROM me WHERE role IN ({line_leaders}))
    UNION
    SELECT p.id, p.team_id FROM person p JOIN below b ON p.manager_id = b.id),
under (id) AS (
    SELECT team_id FROM me WHERE team_id IS NOT NULL
    UNION
    SELECT t.id FROM team t WHERE t.active AND t.id IN (SELECT team_id FROM below)
    UNION
    SELECT t.id FROM team t WHERE t.active AND (SELECT role FROM me) IN ({service_leaders})
        AND t.service_id IN (SELECT service_id FROM team
                             WHERE id IN (SELECT team_id FROM below UNION SELECT team_id FROM me))),
scope (id) AS (
    SELECT id FROM team WHERE code = :team_code
    UNION
    SELECT id FROM under WHERE NOT EXISTS (SELECT 1 FROM team WHERE code = :team_code)),
scoped (id, name, service_id) AS (SELECT id, name, service_id FROM team WHERE id IN (SELECT id FROM scope))"""

# What the scope is called (scope_name's arguments), as one row of columns.
SCOPE_COLUMNS = """(SELECT count(*) FROM scoped), (SELECT min(name) FROM scoped),
       (SELECT count(DISTINCT service_id) FROM scoped), (SELECT count(*) FROM scoped WHERE service_id IS NULL),
       (SELECT min(name) FROM service WHERE id IN (SELECT service_id FROM scoped)),
       (SELECT count(*) FROM team WHERE active AND service_id IN (SELECT service_id FROM scoped)
            AND id NOT IN (SELECT id FROM scope))"""
SCOPE_NAME_COLUMNS = 6

# Who `:person` is, for the CTEs above.
_ME_BY_ID = "SELECT id, team_id, role FROM person WHERE id = :person"


def scope_ctes(me: str) -> str:
    """The CTEs (to follow `WITH RECURSIVE`) of the dashboard's scope, `me` selecting the person."""
    return f"me AS ({me}),\n" + _SCOPE_CTES.format(line_leaders=_roles(LINE_LEADERS),
                                                   service_leaders=_roles(SERVICE_LEADERS))


def scope_name(teams: int, team_name: str | None, services: int, without_service: int,
               service_name: str | None, left_out: int) -> str:
    """The dashboard's title for its teams: one team's name; "Service: … — 6 teams" for every
    team of one service; "3 services — 12 teams" for several whole services; otherwise the count."""
    if teams == 0:
        return "All teams"
    if teams == 1:
        return team_name or "Unknown team"
    if without_service == 0 and services == 1:
        return f"Service: {service_name} — {teams} teams" if left_out == 0 else f"{teams} teams of {service_name}"
    if without_service == 0 and left_out == 0:
        return f"{services} services — {teams} teams"
    return f"{teams} teams"


@dataclass(frozen=True)
class TeamScope:
    team_ids: tuple[uuid.UUID, ...] | None  # None: the whole council
    name: str  # as scope_name says it


def teams_under(session: Session, person_id: uuid.UUID) -> list[uuid.UUID]:
    """The teams under the person in the line management (their own among them), by name."""
    rows = _run(session, f"WITH RECURSIVE {scope_ctes(_ME_BY_ID)}\n"
                         "SELECT t.id AS team_id FROM team t WHERE t.id IN (SELECT id FROM under) ORDER BY t.name, t.id",
                person_id, None)
    return [row.team_id for row in rows]


def dashboard_scope(session: Session, person_id: uuid.UUID | None, team_code: str = "") -> TeamScope:
    """The teams a person's dashboard covers: the team `team_code` names (a team chosen in the
    settings), else the teams under the person, else (nobody, or no one under them) the council."""
    rows = _run(session, f"WITH RECURSIVE {scope_ctes(_ME_BY_ID)}\n"
                         f"SELECT {SCOPE_COLUMNS}, s.id AS team_id FROM (SELECT 1 AS one) o "
                         "LEFT JOIN scoped s ON 1 = 1 ORDER BY s.name, s.id",
                person_id, team_code or None)
    ids = tuple(row.team_id for row in rows if row.team_id is not None)
    return TeamScope(ids or None, scope_name(*rows[0][:SCOPE_NAME_COLUMNS]))


def _run(session: Session, sql: str, person_id: uuid.UUID | None, team_code: str | None) -> Sequence[Any]:
    from sqlalchemy import String, Uuid, bindparam, text

    statement = text(sql).bindparams(bindparam("person", person_id, type_=Uuid()),
                                     bindparam("team_code", team_code, type_=String())).columns(team_id=Uuid())
    return session.execute(statement).all()
