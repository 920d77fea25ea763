"""The monthly random draw: one eligible case per case-holding worker, recorded (seed, rules,
algorithm, ordered pools) so that anyone can recompute and verify it; reading a draw back, and
re-drawing one worker's case."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from qa_tui.config import DrawRules
from qa_tui.dates import Month
from qa_tui.db import trail
from qa_tui.db.base import Record, utcnow
from qa_tui.db.models import AuditEvent, Case, CaseDraw, DrawPick, DrawPool, Person, Team
from qa_tui.errors import ChangedElsewhere, NotAllowed, NotFound, ValidationError
from qa_tui.services.audits.draw_algorithm import ALGORITHM, check_seed, derive_pick, new_seed
from qa_tui.services.history.record_history import actor_name
from qa_tui.services.audits.draw_pools import (
    CaseHolder,
    case_holders,
    check_rules,
    eligibility_query,
    eligible_pools,
    holder_conditions,
    rules_as_dict,
)
from qa_tui.services.people.permissions import DRAW, require


@dataclass(frozen=True)
class CurrentPick:
    """A worker's latest pick in a draw, or why their pool was empty (case fields None)."""

    worker_id: uuid.UUID
    staff_id: str
    worker_name: str
    role: str
    case_reference: str | None
    case_id: uuid.UUID | None
    category: str | None
    round: int
    pick_id: uuid.UUID | None
    redraw_reason: str
    empty_reason: str
    pool_size: int


@dataclass(frozen=True)
class WorkerPool:
    worker_id: uuid.UUID
    staff_id: str
    eligible: tuple[str, ...]
    empty_reason: str


@dataclass(frozen=True)
class DrawSummary:
    id: uuid.UUID
    team_id: uuid.UUID
    team_code: str
    team_name: str
    month: str
    seed: str
    algorithm: str
    rules: dict[str, Any]
    drawn_on: date
    drawn_by: str
    picks: tuple[CurrentPick, ...]
    pools: tuple[WorkerPool, ...]
    drawn_by_name: str = ""  # the person `drawn_by` (a login) names, "Name (staff ID)"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id), "team": self.team_code, "team_name": self.team_name,
            "month": self.month, "seed": self.seed, "algorithm": self.algorithm,
            "rules": self.rules, "drawn_on": self.drawn_on.isoformat(), "drawn_by": self.drawn_by,
            "picks": [{
                "staff_id": p.staff_id, "worker": p.worker_name, "role": p.role,
                "case_reference": p.case_reference, "category": p.category, "round": p.round,
                "redraw_reason": p.redraw_reason, "empty_reason": p.empty_reason,
                "pool_size": p.pool_size,
            } for p in self.picks],
            "pools": {pool.staff_id: list(pool.eligible) for pool in self.pools},
        }


@dataclass(frozen=True)
class AllTeamsDraw:
    seed: str
    draws: tuple[DrawSummary, ...]
    teams_without_case_holders: tuple[str, ...]  # team codes
    teams_already_drawn: tuple[str, ...] = ()  # team codes with this month's draw made before


@dataclass(frozen=True)
class Redraw:
    pick: CurrentPick
    replaced_reference: str
    warning: str  # set when the new pick has closed or moved since the draw


# --- making a draw ------------------------------------------------------------------------


def draw_cases_for_team(session: Session, team_id: uuid.UUID, month: Month, today: date,
                        rules: DrawRules, *, seed: str | None = None, drawn_by: str = "") -> DrawSummary:
    """Draw one case per case-holding worker of the team and record the draw.

    A worker takes part when active on `today` with a role in `rules.roles`. A case is eligible
    for them when it is currently allocated to them (`Case.worker_id`) and, per rule:
    - open: `closed_on` is empty or later than `today`;
    - not audited recently: no `Audit` of the case (any kind, any status, drafts included) dated
      on or after `audited_since(month, rules)`, the first day of the draw month minus N months.
      For a November 2026 draw with N = 12, an audit on 2025-11-01 excludes the case and one on
      2025-10-31 does not: whole calendar months, as QA is planned. N = 0 switches this off;
    - not drawn already this month: no `DrawPick` (any round, any team) in a draw for `month`.
    A worker with nothing eligible gets a pool with the reason and no pick."""
    check_rules(rules)
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(f"No team with ID {team_id}.")
    require(session, DRAW, team_id=team.id)
    earlier = current_draw(session, team.id, month)
    if earlier is not None:
        raise second_draw_refused(team, earlier)
    seed = check_seed(seed) if seed is not None else new_seed()
    in_team = Person.team_id == team.id
    workers = case_holders(session, in_team, today, rules).get(team.id, [])
    [summary] = _record_draws(session, [(team, workers)], [in_team], month, today, rules, seed, drawn_by)
    return summary


def draw_all_teams(session: Session, month: Month, today: date, rules: DrawRules, *,
                   seed: str | None = None, drawn_by: str = "") -> AllTeamsDraw:
    """A draw for every active team with case-holders, all with one seed (staff IDs are unique,
    so one published seed serves the whole council)."""
    check_rules(rules)
    seed = check_seed(seed) if seed is not None else new_seed()
    in_active_teams = Person.team_id.in_(select(Team.id).where(Team.active.is_(True)))
    holders = case_holders(session, in_active_teams, today, rules)
    teams = session.scalars(select(Team).where(Team.active.is_(True)).order_by(Team.code)).all()
    done = set(session.scalars(select(CaseDraw.team_id).where(CaseDraw.month == str(month), CaseDraw.is_current)))
    drawn = [(team, holders[team.id]) for team in teams if holders.get(team.id) and team.id not in done]
    for team, _ in drawn:
        require(session, DRAW, team_id=team.id)
    without = tuple(team.code for team in teams if not holders.get(team.id))
    already = tuple(team.code for team in teams if team.id in done)
    in_drawn_teams = Person.team_id.in_([team.id for team, _ in drawn])
    return AllTeamsDraw(seed, tuple(_record_draws(session, drawn, [in_drawn_teams], month, today, rules, seed,
                                                  drawn_by)), without, already)


def current_draw(session: Session, team_id: uuid.UUID, month: Month) -> CaseDraw | None:
    """The team's draw for the month: at most one (a partial unique index on both databases)."""
    return session.scalar(select(CaseDraw).where(CaseDraw.team_id == team_id, CaseDraw.month == str(month),
                                                 CaseDraw.is_current))


def second_draw_refused(team: Team, earlier: CaseDraw) -> NotAllowed:
    by = f" by {earlier.drawn_by}" if earlier.drawn_by else ""
    return NotAllowed(f"{team.name} ({team.code}) already has its draw for {earlier.month}, made on "
                      f"{earlier.drawn_on:%-d %B %Y}{by} (seed {earlier.seed}); a team has one draw a month. "
                      f"To re-draw one worker's case, give the reason: qa-tui draw redraw {earlier.id} "
                      "--worker STAFF_ID --reason \"why\"")


def _record_draws(session: Session, teams: list[tuple[Team, list[CaseHolder]]], in_teams: list[ColumnElement[bool]],
                  month: Month, today: date, rules: DrawRules, seed: str, drawn_by: str) -> list[DrawSummary]:
    """Work out every team's pools (one statement for all of them: `in_teams` matches the
    teams' people) and picks, then write them all at once. Computing all before writing is
    safe: a case sits in one worker's pool and a worker in one team."""
    if not teams:
        return []
    drawn_by = who_asked(session, drawn_by)
    query = eligibility_query(month, today, rules, [*in_teams, *holder_conditions(today, rules)],
                              dialect=session.get_bind().dialect.name)
    by_worker = eligible_pools(session, query, [w for _, workers in teams for w in workers], rules)
    planned = []
    for team, workers in teams:
        pools = [by_worker[w.staff_id] for w in workers]
        planned.append((team, pools, [derive_pick(seed, pool.worker.staff_id, pool.eligible) for pool in pools]))
    case_ids = _case_ids(session, [ref for *_, picks in planned for ref in picks if ref is not None])
    rules_record = rules_as_dict(rules)
    draw_rows: list[dict[str, Any]] = []
    pool_rows: list[dict[str, Any]] = []
    pick_rows: list[dict[str, Any]] = []
    summaries = []
    for team, pools, picked in planned:
        draw_id = uuid.uuid4()
        draw_rows.append({"id": draw_id, "team_id": team.id, "month": str(month), "seed": seed,
                          "algorithm": ALGORITHM, "rules": rules_record, "drawn_on": today,
                          "drawn_by": drawn_by})
        picks = []
        for pool, reference in zip(pools, picked):
            worker = pool.worker
            pool_rows.append({"id": uuid.uuid4(), "draw_id": draw_id, "worker_id": worker.id,
                              "worker_key": worker.staff_id, "eligible": list(pool.eligible),
                              "empty_reason": pool.empty_reason})
            pick_id = case_id = category = None
            if reference is not None:
                pick_id, case_id, category = uuid.uuid4(), case_ids[reference], pool.categories[reference]
                pick_rows.append({"id": pick_id, "draw_id": draw_id, "worker_id": worker.id,
                                  "case_reference": reference, "case_id": case_id, "round": 0,
                                  "replaces_id": None, "reason": "", "requested_by": ""})
            picks.append(CurrentPick(
                worker_id=worker.id, staff_id=worker.staff_id, worker_name=worker.name, role=worker.role,
                case_reference=reference, case_id=case_id, category=category, round=0, pick_id=pick_id,
                redraw_reason="", empty_reason=pool.empty_reason, pool_size=len(pool.eligible)))
        summaries.append(DrawSummary(
            id=draw_id, team_id=team.id, team_code=team.code, team_name=team.name, month=str(month),
            seed=seed, algorithm=ALGORITHM, rules=dict(rules_record), drawn_on=today, drawn_by=drawn_by,
            picks=tuple(sorted(picks, key=lambda p: (p.worker_name, p.staff_id))),
            pools=tuple(WorkerPool(p.worker.id, p.worker.staff_id, p.eligible, p.empty_reason) for p in pools),
        ))
    session.flush()  # pending ORM rows (a team made in this transaction) go first, for the foreign keys
    try:
        with session.begin_nested():
            _insert_with_trail(session, CaseDraw, draw_rows)
    except IntegrityError:
        # Another draw for one of these teams and months was committed meanwhile: the index kept it the only one.
        for team, *_ in planned:
            earlier = current_draw(session, team.id, month)
            if earlier is not None:
                raise second_draw_refused(team, earlier) from None
        raise
    for model, rows in ((DrawPool, pool_rows), (DrawPick, pick_rows)):
        _insert_with_trail(session, model, rows)
    return summaries


def _insert_with_trail(session: Session, model: type[Record], rows: list[dict[str, Any]]) -> None:
    """Insert new records with one multi-row statement per table, writing the same insert event
    per row that the trail's flush hook writes for ORM inserts. A council-wide draw is ~10,000
    rows; through the unit of work they took over a second, this way a fraction of that.
    `rows` must name every column except the record bookkeeping ones filled in here."""
    if not rows:
        return
    actor, now = trail.actor_of(session), utcnow()
    for row in rows:
        row.update(version=1, created_at=now, updated_at=now, updated_by=actor, synced_version=None)
    session.execute(model.__table__.insert(), rows)
    session.execute(AuditEvent.__table__.insert(), [{
        "id": uuid.uuid4(), "at": now, "actor": actor, "action": "insert", "table_name": model.__tablename__,
        "record_id": str(row["id"]), "old": None, "detail": "", **trail.event_person(session),
        "new": {key: trail.plain(value) for key, value in row.items() if key not in trail.SKIP_COLUMNS},
    } for row in rows])


def _case_ids(session: Session, references: list[str]) -> dict[str, uuid.UUID]:
    """Case IDs by reference, a few hundred references per query to stay within bind limits."""
    found: dict[str, uuid.UUID] = {}
    for start in range(0, len(references), 500):
        chunk = references[start:start + 500]
        found.update(session.execute(select(Case.reference, Case.id).where(Case.reference.in_(chunk))).all())
    return found


# --- reading a draw -----------------------------------------------------------------------


def draw_row(session: Session, draw_id: uuid.UUID) -> CaseDraw:
    draw = session.get(CaseDraw, draw_id)
    if draw is None:
        raise NotFound(f"No draw with ID {draw_id}.")
    return draw


def who_asked(session: Session, login: str) -> str:
    """Who made a draw or asked for a re-draw, as recorded with it: the staff ID of the person
    acting (so it reads as their name, not an operating-system account), else the login given."""
    from qa_tui.db.acting import acting_of

    who = acting_of(session)
    return who.staff_id if who is not None and who.staff_id else login


def picks_by_worker(session: Session, draw_id: uuid.UUID) -> dict[uuid.UUID, list[DrawPick]]:
    picks: dict[uuid.UUID, list[DrawPick]] = {}
    for pick in session.scalars(select(DrawPick).where(DrawPick.draw_id == draw_id)
                                .order_by(DrawPick.worker_id, DrawPick.round)):
        picks.setdefault(pick.worker_id, []).append(pick)
    return picks


def current_picks(session: Session, draw_id: uuid.UUID) -> list[CurrentPick]:
    """The latest round per worker, with the empty reasons, ordered by worker name."""
    draw_row(session, draw_id)
    pools = session.execute(
        select(DrawPool, Person.name, Person.role).join(Person, Person.id == DrawPool.worker_id)
        .where(DrawPool.draw_id == draw_id)).all()
    picks = picks_by_worker(session, draw_id)
    latest = {worker_id: rounds[-1] for worker_id, rounds in picks.items()}
    case_ids = [p.case_id for p in latest.values() if p.case_id is not None]
    categories = dict(session.execute(
        select(Case.id, Case.category).where(Case.id.in_(case_ids))).all()) if case_ids else {}
    result = []
    for pool, name, role in pools:
        pick = latest.get(pool.worker_id)
        result.append(CurrentPick(
            worker_id=pool.worker_id, staff_id=pool.worker_key, worker_name=name, role=role,
            case_reference=pick.case_reference if pick else None,
            case_id=pick.case_id if pick else None,
            category=categories.get(pick.case_id) if pick else None,
            round=pick.round if pick else 0, pick_id=pick.id if pick else None,
            redraw_reason=pick.reason if pick else "", empty_reason=pool.empty_reason,
            pool_size=len(pool.eligible),
        ))
    return sorted(result, key=lambda p: (p.worker_name, p.staff_id))


def get_draw(session: Session, draw_id: uuid.UUID) -> DrawSummary:
    draw = draw_row(session, draw_id)
    team = session.get(Team, draw.team_id)
    pools = session.scalars(select(DrawPool).where(DrawPool.draw_id == draw_id).order_by(DrawPool.worker_key))
    return DrawSummary(
        id=draw.id, team_id=draw.team_id, team_code=team.code if team else "",
        team_name=team.name if team else "", month=draw.month, seed=draw.seed,
        algorithm=draw.algorithm, rules=dict(draw.rules), drawn_on=draw.drawn_on, drawn_by=draw.drawn_by,
        picks=tuple(current_picks(session, draw_id)),
        pools=tuple(WorkerPool(p.worker_id, p.worker_key, tuple(p.eligible), p.empty_reason) for p in pools),
        drawn_by_name=actor_name(session, draw.drawn_by) if draw.drawn_by else "",
    )


def latest_draw(session: Session, team_id: uuid.UUID, month: Month) -> DrawSummary | None:
    """The team's draw for the month, if any (there is at most one)."""
    draw = current_draw(session, team_id, month)
    return get_draw(session, draw.id) if draw is not None else None


def draw_worker_id(session: Session, draw_id: uuid.UUID, staff_id: str) -> uuid.UUID:
    """The person ID of the worker with this staff ID in the draw."""
    draw_row(session, draw_id)
    worker_id = session.scalar(select(DrawPool.worker_id).where(
        DrawPool.draw_id == draw_id, DrawPool.worker_key == staff_id))
    if worker_id is None:
        raise NotFound(f"No worker with staff ID {staff_id!r} in draw {draw_id}.")
    return worker_id


# --- re-draws -----------------------------------------------------------------------------


def redraw_for_worker(session: Session, draw_id: uuid.UUID, worker_id: uuid.UUID, reason: str,
                      requested_by: str, today: date) -> Redraw:
    """Pick another case for one worker; the pick it replaces stays on record, untouched."""
    if not reason.strip():
        raise ValidationError("reason", "say why this worker's case is being re-drawn")
    draw = draw_row(session, draw_id)
    require(session, DRAW, team_id=draw.team_id)
    if draw.algorithm != ALGORITHM:
        raise NotAllowed(f"Draw {draw_id} was made with {draw.algorithm!r}; this version re-draws only {ALGORITHM}.")
    pool = session.scalar(select(DrawPool).where(DrawPool.draw_id == draw_id, DrawPool.worker_id == worker_id))
    if pool is None:
        raise NotFound(f"That worker is not in draw {draw_id}.")
    earlier = picks_by_worker(session, draw_id).get(worker_id, [])
    if not earlier:
        raise NotAllowed(f"{pool.worker_key} had no eligible case in this draw ({pool.empty_reason}).")
    round_no = earlier[-1].round + 1
    reference = derive_pick(draw.seed, pool.worker_key, pool.eligible, round_no,
                            [p.case_reference for p in earlier])
    if reference is None:
        raise NotAllowed(f"Every case in {pool.worker_key}'s pool has already been drawn; nothing is left to re-draw.")
    case = session.scalar(select(Case).where(Case.reference == reference))
    pick = DrawPick(draw_id=draw_id, worker_id=worker_id, case_reference=reference,
                    case_id=case.id if case else None, round=round_no, replaces_id=earlier[-1].id,
                    reason=reason.strip(), requested_by=who_asked(session, requested_by))
    session.add(pick)
    try:
        session.flush()
    except IntegrityError:
        raise ChangedElsewhere(f"{pool.worker_key}'s pick") from None
    warning = ""
    if case is None:
        warning = f"{reference} is no longer on the case list."
    elif case.closed_on is not None and case.closed_on <= today:
        warning = f"{reference} closed on {case.closed_on.isoformat()}, after the draw."
    elif case.worker_id != worker_id:
        warning = f"{reference} is no longer allocated to {pool.worker_key}."
    current = next(p for p in current_picks(session, draw_id) if p.worker_id == worker_id)
    return Redraw(current, earlier[-1].case_reference, warning)
