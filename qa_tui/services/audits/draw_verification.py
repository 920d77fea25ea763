"""Verifying a recorded draw: every pick (re-draws included) recomputed from the seed and the
recorded pools, the record's own consistency, and the recorded pools compared with today's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_tui.dates import Month
from qa_tui.db.models import Case, CaseDraw, DrawPick, DrawPool, Person
from qa_tui.services.audits.draw import draw_row, picks_by_worker
from qa_tui.services.audits.draw_algorithm import ALGORITHM, derive_pick
from qa_tui.services.audits.draw_pools import case_holders, eligibility_query, eligible_pools, rules_from_dict


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


def verify_draw(session: Session, draw_id: uuid.UUID, today: date) -> DrawVerification:
    """Recompute every pick (re-draws included) from what was recorded; then compare the
    recorded pools with the pools the same rules give on `today` (they need not match)."""
    draw = draw_row(session, draw_id)
    pools = list(session.scalars(select(DrawPool).where(DrawPool.draw_id == draw_id).order_by(DrawPool.worker_key)))
    picks = picks_by_worker(session, draw_id)
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
    workers_today = case_holders(session, Person.team_id == draw.team_id, today, rules).get(draw.team_id, [])
    recorded_ids = {pool.worker_id for pool in pools}
    staying = [w for w in workers_today if w.id in recorded_ids]
    joined = tuple(w.staff_id for w in workers_today if w.id not in recorded_ids)
    left = tuple(p.worker_key for p in pools if p.worker_id not in {w.id for w in staying})
    query = eligibility_query(month, today, rules, [Person.id.in_([w.id for w in staying])],
                              dialect=session.get_bind().dialect.name, ignoring_draw=draw.id)
    now = {p.worker.id: p.eligible for p in eligible_pools(session, query, staying, rules).values()}
    checks = []
    for pool in pools:
        recorded = tuple(pool.eligible)
        current = now.get(pool.worker_id, ())
        checks.append(PoolCheck(pool.worker_key, recorded, current,
                                added=tuple(sorted(set(current) - set(recorded))),
                                removed=tuple(sorted(set(recorded) - set(current)))))
    return checks, joined, left
