"""The monthly random draw: one eligible case per case-holding worker, recorded (seed, rules,
algorithm, ordered pools) so that anyone can recompute and verify it."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, exists, false, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from qa_tui.config import DrawRules
from qa_tui.dates import Month, add_months
from qa_tui.db import trail
from qa_tui.db.base import Record, utcnow
from qa_tui.db.models import Audit, AuditEvent, Case, CaseDraw, DrawPick, DrawPool, Person, Team
from qa_tui.errors import ChangedElsewhere, NotAllowed, NotFound, ValidationError

ALGORITHM = "sha256-per-worker-v1"
SEED_MAX_LENGTH = 80


# --- the pure arithmetic ------------------------------------------------------------------


def new_seed() -> str:
    return secrets.token_hex(16)


def derive_index(seed: str, worker_key: str, pool_size: int, round_no: int = 0) -> int:
    """The index into a pool of `pool_size` for this seed, worker (staff ID) and round.

    Algorithm "sha256-per-worker-v1": int(sha256(f"{seed}:{staff_id}")) mod pool size for the
    original pick; re-draw round n hashes f"{seed}:{staff_id}:{n}" instead (see `derive_pick`).
    The digest is a 256-bit integer and a pool has far fewer than 2**32 cases, so the modulo bias
    is below 2**-224 and no rejection step is needed. A worker's choice depends only on the seed
    and their own staff ID, so adding or removing a worker changes no one else's pick."""
    if pool_size < 1:
        raise ValueError("cannot pick from an empty pool")
    message = f"{seed}:{worker_key}" if round_no == 0 else f"{seed}:{worker_key}:{round_no}"
    digest = hashlib.sha256(message.encode("utf-8")).digest()
    return int.from_bytes(digest, "big") % pool_size


def derive_pick(seed: str, worker_key: str, pool: Sequence[str], round_no: int = 0,
                earlier: Iterable[str] = ()) -> str | None:
    """The case reference picked in `round_no` from `pool` (references in Python string order,
    i.e. by Unicode code point, never database collation) less the `earlier` picks for the same
    worker; None when nothing is left."""
    taken = set(earlier)
    candidates = [reference for reference in pool if reference not in taken]
    if not candidates:
        return None
    return candidates[derive_index(seed, worker_key, len(candidates), round_no)]


def check_seed(seed: str) -> str:
    seed = seed.strip()
    if not seed:
        raise ValidationError("seed", "a seed cannot be empty")
    if len(seed) > SEED_MAX_LENGTH:
        raise ValidationError("seed", f"a seed is at most {SEED_MAX_LENGTH} characters")
    if ":" in seed or any(ch.isspace() for ch in seed):
        # ":" separates seed, staff ID and round in the hashed text; a colon would make it ambiguous.
        raise ValidationError("seed", "a seed may not contain ':' or spaces")
    return seed


# --- DTOs ---------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class PickCheck:
    staff_id: str
    round: int
    recorded: str
    expected: str | None
    matches: bool


@dataclass(frozen=True)
class PoolCheck:
    staff_id: str
    recorded: tuple[str, ...]
    today: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def matches(self) -> bool:
        return self.recorded == self.today


@dataclass(frozen=True)
class DrawVerification:
    draw_id: uuid.UUID
    algorithm: str
    picks_match: bool
    pick_checks: tuple[PickCheck, ...]
    problems: tuple[str, ...]  # why the record does not verify, beyond a mismatched pick
    pools_current: bool
    pool_checks: tuple[PoolCheck, ...]
    workers_joined: tuple[str, ...]  # staff IDs holding cases in the team today but not in the draw
    workers_left: tuple[str, ...]  # staff IDs in the draw no longer holding cases in the team


@dataclass(frozen=True)
class Redraw:
    pick: CurrentPick
    replaced_reference: str
    warning: str  # set when the new pick has closed or moved since the draw


# --- eligibility --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Worker:
    id: uuid.UUID
    staff_id: str
    name: str
    role: str


@dataclass(frozen=True)
class _Pool:
    worker: _Worker
    eligible: tuple[str, ...]
    empty_reason: str
    categories: dict[str, str]  # reference → category for the eligible cases


def rules_as_dict(rules: DrawRules) -> dict[str, Any]:
    data = asdict(rules)
    data["roles"] = list(rules.roles)
    return data


def rules_from_dict(data: dict[str, Any]) -> DrawRules:
    values = dict(data)
    values["roles"] = tuple(values.get("roles", ()))
    return DrawRules(**values)


def audited_since(month: Month, rules: DrawRules) -> date | None:
    """The first audit date that makes a case ineligible, or None when the rule is off."""
    if rules.exclude_audited_within_months <= 0:
        return None
    return add_months(month.first, -rules.exclude_audited_within_months)


def _check_rules(rules: DrawRules) -> None:
    if not rules.require_allocated:
        raise ValidationError("draw.require_allocated",
                              "a draw picks from each worker's allocated cases, so this rule cannot be off")
    if not rules.roles:
        raise ValidationError("draw.roles", "name at least one case-holding role")


def _case_holders(session: Session, in_teams: ColumnElement[bool], today: date,
                  rules: DrawRules) -> dict[uuid.UUID, list[_Worker]]:
    """The active case-holders of the teams matched by `in_teams`, per team, by staff ID."""
    holders: dict[uuid.UUID, list[_Worker]] = {}
    rows = session.execute(
        select(Person.team_id, Person.id, Person.staff_id, Person.name, Person.role)
        .where(in_teams, Person.role.in_(rules.roles),
               or_(Person.active_from.is_(None), Person.active_from <= today),
               or_(Person.active_to.is_(None), Person.active_to >= today))
        .order_by(Person.staff_id)
    )
    for team_id, *worker in rows:
        holders.setdefault(team_id, []).append(_Worker(*worker))
    return holders


def _eligibility_query(month: Month, today: date, rules: DrawRules, *,
                       ignoring_draw: uuid.UUID | None = None) -> Select[Any]:
    """One set-based query for a team's pools: the (open) cases allocated to the workers bound
    as `workers`, each flagged when audited recently or drawn already this month. Built once per
    draw and run per team. `ignoring_draw` leaves out that draw's own picks and the audits raised
    from them (used when re-checking a draw against today's data)."""
    audited: Any = false()
    since = audited_since(month, rules)
    if since is not None:
        audit_conditions = [Audit.case_id == Case.id, Audit.audit_date >= since]
        if ignoring_draw is not None:
            own_picks = select(DrawPick.id).where(DrawPick.draw_id == ignoring_draw)
            audit_conditions.append(or_(Audit.draw_pick_id.is_(None), Audit.draw_pick_id.not_in(own_picks)))
        audited = exists().where(*audit_conditions)
    drawn: Any = false()
    if rules.exclude_drawn_this_month:
        drawn_conditions = [DrawPick.case_id == Case.id, CaseDraw.id == DrawPick.draw_id,
                            CaseDraw.month == str(month)]
        if ignoring_draw is not None:
            drawn_conditions.append(CaseDraw.id != ignoring_draw)
        drawn = exists().where(*drawn_conditions)
    # Rows carry the staff ID rather than the worker's UUID: converting ~100k UUIDs in a
    # council-wide draw costs more than the join.
    stmt = (select(Case.reference, Case.category, Person.staff_id, audited, drawn)
            .join(Person, Person.id == Case.worker_id)
            .where(Case.worker_id.in_(bindparam("workers", expanding=True))))
    if rules.require_open:
        stmt = stmt.where(or_(Case.closed_on.is_(None), Case.closed_on > today))
    return stmt


def _eligible_pools(session: Session, query: Select[Any], workers: list[_Worker], rules: DrawRules) -> list[_Pool]:
    """Each worker's pool (and, when empty, why) from one run of `_eligibility_query`."""
    if not workers:
        return []
    rows = session.execute(query, {"workers": [w.id for w in workers]})
    tallies = {w.staff_id: [0, 0, 0] for w in workers}  # cases held, audited recently, drawn already
    eligible: dict[str, dict[str, str]] = {w.staff_id: {} for w in workers}
    for reference, category, staff_id, was_audited, was_drawn in rows:
        tally = tallies[staff_id]
        tally[0] += 1
        if was_audited:
            tally[1] += 1
        elif was_drawn:
            tally[2] += 1
        else:
            eligible[staff_id][reference] = category
    pools = []
    for worker in workers:
        categories = eligible[worker.staff_id]
        reason = "" if categories else _empty_reason(*tallies[worker.staff_id], rules)
        pools.append(_Pool(worker, tuple(sorted(categories)), reason, categories))
    return pools


def _empty_reason(held: int, audited: int, drawn: int, rules: DrawRules) -> str:
    """Why a worker has nothing to draw, in words a team manager would use."""
    open_cases = "open cases" if rules.require_open else "cases"
    if held == 0:
        return f"no {open_cases} allocated"
    months = rules.exclude_audited_within_months
    audited_text = "audited in the last month" if months == 1 else f"audited in the last {months} months"
    drawn_text = "already drawn this month"
    whole = f"all {held} {open_cases}" if held > 1 else f"the only {open_cases[:-1]}"
    if audited == held:
        return f"{whole} {audited_text}"
    if drawn == held:
        return f"{whole} {drawn_text}"
    return f"{whole} excluded: {audited} {audited_text}, {drawn} {drawn_text}"


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
    _check_rules(rules)
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(f"No team with ID {team_id}.")
    seed = check_seed(seed) if seed is not None else new_seed()
    workers = _case_holders(session, Person.team_id == team.id, today, rules).get(team.id, [])
    [summary] = _record_draws(session, [(team, workers)], month, today, rules, seed, drawn_by)
    return summary


def draw_all_teams(session: Session, month: Month, today: date, rules: DrawRules, *,
                   seed: str | None = None, drawn_by: str = "") -> AllTeamsDraw:
    """A draw for every active team with case-holders, all with one seed (staff IDs are unique,
    so one published seed serves the whole council)."""
    _check_rules(rules)
    seed = check_seed(seed) if seed is not None else new_seed()
    active = select(Team.id).where(Team.active.is_(True))
    holders = _case_holders(session, Person.team_id.in_(active), today, rules)
    teams = session.scalars(select(Team).where(Team.active.is_(True)).order_by(Team.code)).all()
    drawn = [(team, holders[team.id]) for team in teams if holders.get(team.id)]
    without = tuple(team.code for team in teams if not holders.get(team.id))
    return AllTeamsDraw(seed, tuple(_record_draws(session, drawn, month, today, rules, seed, drawn_by)), without)


def _record_draws(session: Session, teams: list[tuple[Team, list[_Worker]]], month: Month, today: date,
                  rules: DrawRules, seed: str, drawn_by: str) -> list[DrawSummary]:
    """Work out every team's pools and picks, then write them all at once. Computing all before
    writing is safe: a case sits in one worker's pool and a worker in one team."""
    query = _eligibility_query(month, today, rules)
    planned = []
    for team, workers in teams:
        pools = _eligible_pools(session, query, workers, rules)
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
    for model, rows in ((CaseDraw, draw_rows), (DrawPool, pool_rows), (DrawPick, pick_rows)):
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
        "record_id": str(row["id"]), "old": None, "detail": "",
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


def _draw_row(session: Session, draw_id: uuid.UUID) -> CaseDraw:
    draw = session.get(CaseDraw, draw_id)
    if draw is None:
        raise NotFound(f"No draw with ID {draw_id}.")
    return draw


def _picks_by_worker(session: Session, draw_id: uuid.UUID) -> dict[uuid.UUID, list[DrawPick]]:
    picks: dict[uuid.UUID, list[DrawPick]] = {}
    for pick in session.scalars(select(DrawPick).where(DrawPick.draw_id == draw_id)
                                .order_by(DrawPick.worker_id, DrawPick.round)):
        picks.setdefault(pick.worker_id, []).append(pick)
    return picks


def current_picks(session: Session, draw_id: uuid.UUID) -> list[CurrentPick]:
    """The latest round per worker, with the empty reasons, ordered by worker name."""
    _draw_row(session, draw_id)
    pools = session.execute(
        select(DrawPool, Person.name, Person.role).join(Person, Person.id == DrawPool.worker_id)
        .where(DrawPool.draw_id == draw_id)).all()
    picks = _picks_by_worker(session, draw_id)
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
    draw = _draw_row(session, draw_id)
    team = session.get(Team, draw.team_id)
    pools = session.scalars(select(DrawPool).where(DrawPool.draw_id == draw_id).order_by(DrawPool.worker_key))
    return DrawSummary(
        id=draw.id, team_id=draw.team_id, team_code=team.code if team else "",
        team_name=team.name if team else "", month=draw.month, seed=draw.seed,
        algorithm=draw.algorithm, rules=dict(draw.rules), drawn_on=draw.drawn_on, drawn_by=draw.drawn_by,
        picks=tuple(current_picks(session, draw_id)),
        pools=tuple(WorkerPool(p.worker_id, p.worker_key, tuple(p.eligible), p.empty_reason) for p in pools),
    )


def latest_draw(session: Session, team_id: uuid.UUID, month: Month) -> DrawSummary | None:
    """The team's most recent draw for the month, if any."""
    draw_id = session.scalar(
        select(CaseDraw.id).where(CaseDraw.team_id == team_id, CaseDraw.month == str(month))
        .order_by(CaseDraw.created_at.desc(), CaseDraw.id.desc()).limit(1))
    return get_draw(session, draw_id) if draw_id is not None else None


def draw_worker_id(session: Session, draw_id: uuid.UUID, staff_id: str) -> uuid.UUID:
    """The person ID of the worker with this staff ID in the draw."""
    _draw_row(session, draw_id)
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
    draw = _draw_row(session, draw_id)
    if draw.algorithm != ALGORITHM:
        raise NotAllowed(f"Draw {draw_id} was made with {draw.algorithm!r}; this version re-draws only {ALGORITHM}.")
    pool = session.scalar(select(DrawPool).where(DrawPool.draw_id == draw_id, DrawPool.worker_id == worker_id))
    if pool is None:
        raise NotFound(f"That worker is not in draw {draw_id}.")
    earlier = _picks_by_worker(session, draw_id).get(worker_id, [])
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
                    reason=reason.strip(), requested_by=requested_by)
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


# --- verification -------------------------------------------------------------------------


def verify_draw(session: Session, draw_id: uuid.UUID, today: date) -> DrawVerification:
    """Recompute every pick (re-draws included) from what was recorded; then compare the
    recorded pools with the pools the same rules give on `today` (they need not match)."""
    draw = _draw_row(session, draw_id)
    pools = list(session.scalars(select(DrawPool).where(DrawPool.draw_id == draw_id).order_by(DrawPool.worker_key)))
    picks = _picks_by_worker(session, draw_id)
    problems: list[str] = []
    checks: list[PickCheck] = []
    if draw.algorithm != ALGORITHM:
        problems.append(f"unknown algorithm {draw.algorithm!r} (this version knows {ALGORITHM})")
    pool_workers = {pool.worker_id for pool in pools}
    for worker_id in picks.keys() - pool_workers:
        problems.append(f"picks recorded for worker {worker_id}, who has no pool in this draw")
    referenced = [p.case_id for rounds in picks.values() for p in rounds if p.case_id is not None]
    references = dict(session.execute(
        select(Case.id, Case.reference).where(Case.id.in_(referenced))).all()) if referenced else {}
    for pool in pools:
        problems.extend(_pool_problems(pool, picks.get(pool.worker_id, [])))
        expected_earlier: list[str] = []
        for pick in picks.get(pool.worker_id, []):
            expected = derive_pick(draw.seed, pool.worker_key, pool.eligible, pick.round, expected_earlier)
            matches = expected == pick.case_reference and draw.algorithm == ALGORITHM
            if pick.case_id is not None and references.get(pick.case_id) != pick.case_reference:
                problems.append(f"{pool.worker_key} round {pick.round}: the pick's case ID is not case {pick.case_reference}")
                matches = False
            checks.append(PickCheck(pool.worker_key, pick.round, pick.case_reference, expected, matches))
            if expected is not None:
                expected_earlier.append(expected)
    pool_checks, joined, left = _compare_pools_with_today(session, draw, pools, today, problems)
    return DrawVerification(
        draw_id=draw.id, algorithm=draw.algorithm,
        picks_match=not problems and all(c.matches for c in checks),
        pick_checks=tuple(checks), problems=tuple(problems),
        pools_current=all(c.matches for c in pool_checks) and not joined and not left,
        pool_checks=tuple(pool_checks), workers_joined=joined, workers_left=left,
    )


def _pool_problems(pool: DrawPool, rounds: list[DrawPick]) -> list[str]:
    """Structural checks: an ordered pool, one original pick, each re-draw replacing the last."""
    key, eligible = pool.worker_key, list(pool.eligible)
    problems = []
    if eligible != sorted(set(eligible)):
        problems.append(f"{key}: the recorded pool is not in reference order without repeats")
    if not eligible and rounds:
        problems.append(f"{key}: a pick is recorded from an empty pool")
    if eligible and not rounds:
        problems.append(f"{key}: no pick recorded although {len(eligible)} cases were eligible")
    for index, pick in enumerate(rounds):
        if pick.round != index:
            problems.append(f"{key}: rounds are not numbered 0, 1, 2, … (found {pick.round} at position {index})")
        elif index == 0 and pick.replaces_id is not None:
            problems.append(f"{key}: the original pick claims to replace another")
        elif index > 0 and pick.replaces_id != rounds[index - 1].id:
            problems.append(f"{key}: re-draw round {pick.round} does not point at round {index - 1}")
        elif index > 0 and not pick.reason.strip():
            problems.append(f"{key}: re-draw round {pick.round} has no reason")
    return problems


def _compare_pools_with_today(session: Session, draw: CaseDraw, pools: list[DrawPool], today: date,
                              problems: list[str]) -> tuple[list[PoolCheck], tuple[str, ...], tuple[str, ...]]:
    try:
        rules = rules_from_dict(draw.rules)
        month = Month.parse(draw.month)
    except (TypeError, ValueError) as exc:
        problems.append(f"the recorded rules or month cannot be read ({exc})")
        return [], (), ()
    workers_today = _case_holders(session, Person.team_id == draw.team_id, today, rules).get(draw.team_id, [])
    recorded_ids = {pool.worker_id for pool in pools}
    staying = [w for w in workers_today if w.id in recorded_ids]
    joined = tuple(w.staff_id for w in workers_today if w.id not in recorded_ids)
    left = tuple(p.worker_key for p in pools if p.worker_id not in {w.id for w in staying})
    now = {p.worker.id: p.eligible for p in
           _eligible_pools(session, _eligibility_query(month, today, rules, ignoring_draw=draw.id), staying, rules)}
    checks = []
    for pool in pools:
        recorded = tuple(pool.eligible)
        current = now.get(pool.worker_id, ())
        checks.append(PoolCheck(pool.worker_key, recorded, current,
                                added=tuple(sorted(set(current) - set(recorded))),
                                removed=tuple(sorted(set(recorded) - set(current)))))
    return checks, joined, left
