"""The dashboard's figures as data, and the first of them read without SQLAlchemy: one set-based
statement through the driver (`qa_tui.db.quick`), so the app shows real numbers while the ORM and
the models are still loading. `qa_tui.services.programme.dashboard` reads the whole dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from qa_tui.config import CASE_HOLDING_ROLES, Config
from qa_tui.dates import Month, moderation_deadline_after
from qa_tui.services.people.line_teams import SCOPE_COLUMNS, SCOPE_NAME_COLUMNS, scope_ctes, scope_name

STATUSES = ("draft", "submitted", "moderated", "finalised")
TOP_OVERDUE = 5  # overdue actions listed on the dashboard


@dataclass(frozen=True)
class OverdueActionLine:
    title: str
    owner: str
    due_on: date
    days_overdue: int


@dataclass(frozen=True)
class SupervisionLine:
    worker: str
    due_on: date | None
    days_overdue: int


@dataclass(frozen=True)
class Dashboard:
    today: date
    team_name: str  # the teams it covers: a team's name, "Service: … — 6 teams", "All teams"
    month: str
    moderation_deadline: date
    drawn_this_month: bool
    case_holders: int
    audits_by_status: dict[str, int]
    moderation_waiting: int
    moderation_late: int  # live audits still in draft after their moderation deadline
    moderation_oldest: date | None
    overdue_actions: int
    overdue_action_lines: tuple[OverdueActionLine, ...]
    supervisions_overdue: int
    supervisions_due_soon: int
    supervision_lines: tuple[SupervisionLine, ...]
    escalated_to_me: int = 0  # others' late audits that have reached the person (escalation.py)
    escalations_to_answer: int = 0  # Inadequate / at-risk escalations the person owns, not yet answered
    # False for the first figures: late drafts, supervisions and escalations follow with the rest.
    complete: bool = True


@dataclass(frozen=True)
class FirstFigures:
    dashboard: Dashboard
    role: str  # the acting person's role ("" for nobody), to choose the landing area


# Who acts: on PostgreSQL the person linked to the login; on SQLite the file's named owner
# (qa_tui.services.people.owner.acting_person), whose id is kept with dashes in sync_state.
_ME = {
    "postgresql": "SELECT id, team_id, role FROM person WHERE login = current_user",
    "sqlite": "SELECT id, team_id, role FROM person WHERE id = (SELECT replace(value, '-', '') FROM sync_state "
              "WHERE key = 'owner_person_id') AND EXISTS (SELECT 1 FROM sync_state "
              "WHERE key = 'owner_bound_by' AND value <> '')",
}
# The dashboard's teams (qa_tui.services.people.line_teams: the config's team, else the teams under
# the person); none: the whole council.
_IN_SCOPE = "(NOT EXISTS (SELECT 1 FROM scope) OR {column} IN (SELECT id FROM scope))"
_FIRST_FIGURES = """
WITH RECURSIVE {scope},
live AS (SELECT count(CASE WHEN status = 'draft' THEN 1 END) AS draft,
                count(CASE WHEN status = 'submitted' THEN 1 END) AS submitted,
                count(CASE WHEN status = 'moderated' THEN 1 END) AS moderated,
                count(CASE WHEN status = 'finalised' THEN 1 END) AS finalised
         FROM audit WHERE kind = 'live' AND audit_date >= :first AND audit_date <= :last
              AND {audit_team}),
queue AS (SELECT count(*) AS waiting, min(submitted_at) AS oldest FROM audit
          WHERE status = 'submitted' AND {audit_team}),
late AS (SELECT count(*) AS overdue FROM action WHERE status = 'open' AND due_on < :today AND {action_team}),
top AS (SELECT a.id, a.title, p.name AS owner, a.due_on FROM action a LEFT JOIN person p ON p.id = a.owner_id
        WHERE a.status = 'open' AND a.due_on < :today AND {a_team} ORDER BY a.due_on, a.id LIMIT {top})
SELECT {scope_name}, (SELECT role FROM me),
       live.draft, live.submitted, live.moderated, live.finalised,
       (SELECT count(*) FROM case_draw WHERE month = :month AND {draw_team}),
       (SELECT count(*) FROM person WHERE role IN ({roles}) AND (active_to IS NULL OR active_to >= :today)
            AND {person_team}),
       queue.waiting, queue.oldest, late.overdue, top.title, top.owner, top.due_on
FROM live CROSS JOIN queue CROSS JOIN late LEFT JOIN top ON 1 = 1
ORDER BY top.due_on, top.id
"""


def first_figures_sql(dialect: str, roles: int) -> str:
    """The one statement, for `dialect`, with `roles` role parameters (:role0, :role1, …)."""
    return _FIRST_FIGURES.format(
        scope=scope_ctes(_ME[dialect]), scope_name=SCOPE_COLUMNS, top=TOP_OVERDUE,
        roles=", ".join(f":role{i}" for i in range(roles)) or "NULL",
        audit_team=_IN_SCOPE.format(column="team_id"), action_team=_IN_SCOPE.format(column="team_id"),
        a_team=_IN_SCOPE.format(column="a.team_id"), draw_team=_IN_SCOPE.format(column="team_id"),
        person_team=_IN_SCOPE.format(column="team_id"))


def read_first_figures(config: Config, today: date) -> FirstFigures | None:
    """The dashboard's first figures in one round trip, without SQLAlchemy; None when the quick
    path cannot read them (an encrypted file, a password to ask for, a schema not migrated yet):
    then the full dashboard is the first one shown, and the full path explains any problem."""
    from qa_tui.db.quick import quick_dialect, quick_reader

    dialect = quick_dialect(config.database_url)
    if dialect is None:
        return None
    month = Month.of(today)
    as_sql = (lambda day: day.isoformat()) if dialect == "sqlite" else (lambda day: day)  # noqa: E731
    params: dict[str, Any] = {"team_code": config.user_team or None, "first": as_sql(month.first),
                              "last": as_sql(month.last), "today": as_sql(today), "month": str(month)}
    params.update({f"role{i}": role for i, role in enumerate(config.draw.roles)})
    try:
        with quick_reader(config.database_url, role=config.database_role) as reader:
            rows = reader.rows(first_figures_sql(dialect, len(config.draw.roles)), params)
    except Exception:  # noqa: BLE001 - any failure here is met, and explained, by the full path
        return None
    return _figures(rows, today, config) if rows else None


def _figures(rows: Any, today: date, config: Config) -> FirstFigures:
    scope, figures = rows[0][:SCOPE_NAME_COLUMNS], rows[0][SCOPE_NAME_COLUMNS:]
    role, draft, submitted, moderated, finalised, drawn, holders, waiting, oldest, overdue = figures[:10]
    month = Month.of(today)
    lines = tuple(OverdueActionLine(title, owner or "(no owner)", _day(due), (today - _day(due)).days)
                  for *_, title, owner, due in rows if due is not None)
    dashboard = Dashboard(
        today=today, team_name=scope_name(*scope), month=str(month),
        moderation_deadline=moderation_deadline_after(today, config.deadlines.moderation_day),
        drawn_this_month=drawn > 0, case_holders=holders,
        audits_by_status=dict(zip(STATUSES, (draft, submitted, moderated, finalised), strict=True)),
        moderation_waiting=waiting, moderation_late=0, moderation_oldest=_day(oldest) if oldest else None,
        overdue_actions=overdue, overdue_action_lines=lines, supervisions_overdue=0, supervisions_due_soon=0,
        supervision_lines=(), complete=False)
    return FirstFigures(dashboard, role or "")


def _day(value: date | datetime | str) -> date:
    """A date as the driver returns it: a date or datetime (psycopg), ISO text (sqlite3)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value[:10])


def lands_on_my_work(role: str) -> bool:
    """A case-holding practitioner opens the app on their own work, not the managers' dashboard."""
    return role in CASE_HOLDING_ROLES
