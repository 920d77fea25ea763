"""One demo team at a time: its cases (with child protection plan dates) and a year of QA
history around them, from a generator seeded with the team's number."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import date

from qa_tui.dates import Month
from qa_tui.db.models import Case
from qa_tui.demo.audits import dip_sample, monthly_draw
from qa_tui.demo.practice import feedback, observations, supervisions
from qa_tui.demo.shape import CASELOAD_WEIGHT, CATEGORY_MIX, HISTORY_MONTHS, OPEN_SHARE, UNALLOCATED_SHARE
from qa_tui.demo.state import Council, CaseRow, TeamPlan, WorkerHistory, days, weighted


def build_team(council: Council, plan: TeamPlan) -> None:
    """One team's cases, then its supervision, draws, audits, dip samples, observations and
    feedback over the history's months."""
    rng = random.Random(f"{council.seed}/team/{plan.index}")
    team_cases = add_cases(council, rng, plan)
    histories = {m.id: WorkerHistory() for m in [plan.tm, *plan.case_holders]}
    for member in [plan.tm, *plan.case_holders]:
        supervisions(council, rng, member, histories[member.id])
    by_worker: dict[uuid.UUID, list[CaseRow]] = {m.id: [] for m in plan.case_holders}
    for case in team_cases:
        if case.worker is not None:
            by_worker[case.worker.id].append(case)
    for month in range(HISTORY_MONTHS):
        monthly_draw(council, rng, plan, Month.of(council.history_start).shift(month), by_worker, histories)
        dip_sample(council, rng, plan, Month.of(council.history_start).shift(month), team_cases, histories)
    for member in plan.case_holders:
        observations(council, rng, member, histories[member.id])
        feedback(council, rng, plan, member, by_worker[member.id], histories[member.id])


def add_cases(council: Council, rng: random.Random, plan: TeamPlan) -> list[CaseRow]:
    base, extra = divmod(council.cases, council.team_count)
    count = base + (1 if plan.index < extra else 0)
    first = plan.index * base + min(plan.index, extra)
    weights = [CASELOAD_WEIGHT[m.role] for m in plan.case_holders]
    plans_so_far: Counter[str] = Counter()
    rows = []
    for n in range(count):
        category = weighted(rng, CATEGORY_MIX[plan.kind])
        is_open = rng.random() < OPEN_SHARE
        worker = rng.choices(plan.case_holders, weights)[0]
        long_running = category in ("CLA", "CL")
        if is_open:
            closed_on = None
            opened_on = council.today - days(int(rng.triangular(0, 3000 if long_running else 1100,
                                                                400 if long_running else 60)))
            if rng.random() < UNALLOCATED_SHARE:
                worker = None
        else:
            closed_on = council.today - days(rng.randint(0, 730))
            opened_on = closed_on - days(rng.randint(20, 1500 if long_running else 600))
        cp_start, cp_end, opened_on = cp_plan(council, rng, category, opened_on, closed_on, plans_so_far)
        case = CaseRow(council.new_id(rng), council.reference(first + n), worker, opened_on, closed_on)
        rows.append(case)
        council.add(Case, rng, opened_on, id=case.id, reference=case.reference, category=category,
                    worker_id=worker.id if worker else None, team_id=plan.id, opened_on=opened_on,
                    closed_on=closed_on, cp_plan_start=cp_start, cp_plan_end=cp_end)
    return rows


def cp_plan(council: Council, rng: random.Random, category: str, opened_on: date, closed_on: date | None,
            plans_so_far: Counter[str]) -> tuple[date | None, date | None, date]:
    """Child protection plan dates: open CP plans (every eighth over 18 months), ended plans on
    closed CP cases and on CIN cases stepped down (every fifth ended within 3 months)."""
    if category == "CP" and closed_on is None:
        plans_so_far["open"] += 1
        length = rng.randint(550, 900) if plans_so_far["open"] % 8 == 1 else rng.randint(10, 540)
        start = council.today - days(length)
        return start, None, min(opened_on, start - days(rng.randint(5, 60)))
    if (category == "CP" and closed_on is not None) or (category == "CIN" and rng.random() < 0.15):
        plans_so_far["ended"] += 1
        end = closed_on or council.today - days(rng.randint(10, 300))
        length = rng.randint(30, 89) if plans_so_far["ended"] % 5 == 1 else rng.randint(90, 700)
        start = end - days(length)
        return start, end, min(opened_on, start - days(rng.randint(5, 60)))
    return None, None, opened_on
