"""Why the draw picked what it picked, in words: the rules recorded with the draw, each worker's
pool of eligible cases and its size (or why it was empty), and every pick in order — the
original beside each re-draw with its reason in full and the person who asked, by name."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_tui.config import ROLE_NAMES
from qa_tui.db.models import DrawPool, Person
from qa_tui.services.audits.draw import draw_row, picks_by_worker
from qa_tui.services.history.record_history import actor_name


@dataclass(frozen=True)
class PickRound:
    round: int  # 0: the original pick
    case_reference: str
    reason: str  # why it was re-drawn ("" for the original)
    requested_by: str  # the person who asked for the re-draw, by name


@dataclass(frozen=True)
class WorkerDraw:
    worker_id: uuid.UUID
    worker_name: str
    staff_id: str
    role: str  # the role's code (SW, ASYE, …)
    role_name: str
    pool: tuple[str, ...]  # the eligible case references, in the recorded order
    empty_reason: str
    picks: tuple[PickRound, ...]  # oldest first

    @property
    def original(self) -> PickRound | None:
        return self.picks[0] if self.picks else None

    @property
    def current(self) -> PickRound | None:
        return self.picks[-1] if self.picks else None


@dataclass(frozen=True)
class DrawExplanation:
    month: str
    drawn_on: date
    drawn_by: str  # the person who made the draw, by name
    seed: str
    algorithm: str
    rules: tuple[str, ...]  # the recorded rules, one sentence each
    workers: tuple[WorkerDraw, ...]  # by worker name


def rule_sentences(rules: dict[str, Any]) -> tuple[str, ...]:
    """The rules recorded with a draw, as a team manager would say them."""
    roles = ", ".join(ROLE_NAMES.get(r, r) for r in rules.get("roles", ()))
    sentences = [f"Workers taking part: active case-holders ({roles})."]
    what = "open cases allocated to the worker" if rules.get("require_open", True) else "cases allocated to the worker"
    sentences.append(f"Eligible: {what}.")
    months = int(rules.get("exclude_audited_within_months", 0) or 0)
    if months > 0:
        sentences.append(f"Left out: cases audited in the last {months} month{'s' if months != 1 else ''}.")
    reaudit = int(rules.get("impact_reaudit_months", 0) or 0)
    if months > 0 and reaudit > 0:
        sentences.append(f"Offered all the same: cases due a re-audit for impact, {reaudit} month"
                         f"{'s' if reaudit != 1 else ''} after a moderation of Requires improvement or worse.")
    if rules.get("exclude_drawn_this_month", False):
        sentences.append("Left out: cases already drawn this month.")
    sentences.append("One case per worker at random from the seed and the worker's staff ID, "
                     "from the pool ordered by case reference.")
    return tuple(sentences)


def explain_draw(session: Session, draw_id: uuid.UUID) -> DrawExplanation:
    """Everything needed to say why each case was eligible and which was picked, and re-drawn."""
    draw = draw_row(session, draw_id)
    pools = session.execute(
        select(DrawPool, Person.name, Person.role).join(Person, Person.id == DrawPool.worker_id)
        .where(DrawPool.draw_id == draw_id)).all()
    picks = picks_by_worker(session, draw_id)
    asked = {p.requested_by for rounds in picks.values() for p in rounds if p.requested_by}
    names = {a: actor_name(session, a) for a in asked | {draw.drawn_by}}
    workers = [
        WorkerDraw(pool.worker_id, name, pool.worker_key, role, ROLE_NAMES.get(role, role), tuple(pool.eligible),
                   pool.empty_reason,
                   tuple(PickRound(p.round, p.case_reference, p.reason, names.get(p.requested_by, "") if p.round else "")
                         for p in picks.get(pool.worker_id, [])))
        for pool, name, role in pools]
    workers.sort(key=lambda w: (w.worker_name, w.staff_id))
    return DrawExplanation(draw.month, draw.drawn_on, names.get(draw.drawn_by, "") or "unknown", draw.seed,
                           draw.algorithm, rule_sentences(draw.rules), tuple(workers))
