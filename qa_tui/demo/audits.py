"""The demo council's audits: the monthly random draw and the live audit of each pick through
moderation, with actions and follow-ups, and the team manager's monthly dip sample."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from qa_tui.dates import Month, moderation_deadline
from qa_tui.db.models import Audit, AuditGrade, AuditParticipant, CaseDraw, DrawPick, DrawPool, Moderation
from qa_tui.demo.phrases import (
    AUDIT_FOLLOW_UPS,
    DIP_FOLLOW_UPS,
    GRADE_COMMENTS,
    LIVED_EXPERIENCE,
    MODERATION_COMMENTS,
    STRENGTHS,
    TO_IMPROVE,
)
from qa_tui.demo.practice import action, follow_up
from qa_tui.demo.state import DEMO_ACTOR, CaseRow, Council, Member, TeamPlan, WorkerHistory, at, days
from qa_tui.services.audits.draw_algorithm import ALGORITHM, derive_pick
from qa_tui.services.audits.draw_pools import audited_since


@dataclass
class Lifecycle:
    status: str
    submitted: date | None  # the last submission that stands
    first_submitted: date | None
    returned: date | None
    moderated: date | None
    finalised: date | None


def monthly_draw(council: Council, rng: random.Random, plan: TeamPlan, month: Month,
                 by_worker: dict[uuid.UUID, list[CaseRow]],
                 histories: dict[uuid.UUID, WorkerHistory]) -> None:
    """The month's draw as the draw service records it (same algorithm, so it verifies), and
    the live audit of each pick."""
    drawn_on = month.first
    while drawn_on.weekday() >= 5:
        drawn_on += days(1)
    if drawn_on > council.today:
        return
    seed = f"demo{council.seed}-{plan.code}-{month}"
    draw_id = council.add(CaseDraw, rng, drawn_on, team_id=plan.id, month=str(month), seed=seed,
                          algorithm=ALGORITHM, rules=council.rules, drawn_on=drawn_on, drawn_by=DEMO_ACTOR)
    since = audited_since(month, council.config.draw) or date.min
    for worker in plan.case_holders:
        if worker.active_from > drawn_on or worker.role not in council.config.draw.roles:
            continue
        history = histories[worker.id]
        held = sorted((c for c in by_worker[worker.id] if c.open_on(drawn_on)), key=lambda c: c.reference)
        pool = [c for c in held if history.last_audited.get(c.reference, date.min) < since]
        refs = [c.reference for c in pool]
        reason = "" if pool else ("no open cases allocated" if not held
                                  else f"all {len(held)} open cases audited recently")
        council.add(DrawPool, rng, drawn_on, draw_id=draw_id, worker_id=worker.id, worker_key=worker.staff_id,
                    eligible=refs, empty_reason=reason)
        if not pool:
            continue
        picked_ref = derive_pick(seed, worker.staff_id, refs)
        case = pool[refs.index(picked_ref)]
        pick_id = council.add(DrawPick, rng, drawn_on, draw_id=draw_id, worker_id=worker.id,
                              case_reference=picked_ref, case_id=case.id, round=0, replaces_id=None, reason="",
                              requested_by="")
        audit_date = drawn_on + days(rng.randint(1, 24))
        if audit_date > council.today or rng.random() < 0.02:
            continue  # not started yet, or the month's audit was missed
        history.last_audited[picked_ref] = audit_date
        live_audit(council, rng, plan, worker, case, pick_id, audit_date, history)


def lifecycle(council: Council, rng: random.Random, audit_date: date) -> Lifecycle:
    """Draft → submitted (some late, some returned for rework) → moderated → finalised, cut
    at `today`; a few stall at each stage so every overdue state shows up."""
    deadline = max(audit_date, moderation_deadline(audit_date, council.config.deadlines.moderation_day))
    late = rng.random() < 0.12
    if late:
        first = deadline + days(rng.randint(1, 10))
    else:
        first = min(deadline, audit_date + days(rng.randint(0, 12)))
    returned = resubmitted = None
    if rng.random() < 0.08:
        returned = first + days(rng.randint(1, 6))
        resubmitted = returned + days(rng.randint(2, 10))
    submitted = resubmitted or first
    moderated = submitted + days(rng.randint(1, 10))
    finalised = moderated + days(rng.randint(1, 14))
    stall = rng.random()
    today = council.today
    if stall < 0.04 or first > today:
        return Lifecycle("draft", None, None, None, None, None)
    if returned is not None and today < returned:
        return Lifecycle("submitted", first, first, None, None, None)
    if returned is not None and today < submitted:
        return Lifecycle("draft", None, first, returned, None, None)
    if stall < 0.09 or moderated > today:
        return Lifecycle("submitted", submitted, first, returned, None, None)
    if stall < 0.15 or finalised > today:
        return Lifecycle("moderated", submitted, first, returned, moderated, None)
    return Lifecycle("finalised", submitted, first, returned, moderated, finalised)


def live_audit(council: Council, rng: random.Random, plan: TeamPlan, worker: Member, case: CaseRow,
               pick_id: uuid.UUID, audit_date: date, history: WorkerHistory) -> None:
    roll = rng.random()
    auditor = plan.tm
    if roll < 0.05:
        auditor = plan.ops
    elif roll < 0.25 and worker.role != "ASWP":
        auditor = plan.case_holders[0]  # the team's advanced practitioner
    moderator = plan.hos if auditor is plan.ops else plan.ops
    life = lifecycle(council, rng, audit_date)
    levels = len(council.live.scale)
    graded = council.live_domains
    if life.first_submitted is None:
        graded = graded[:rng.randint(0, len(graded))]  # a draft, part graded
    grades = {domain: council.grade(rng, worker.skill, levels) for domain in graded}
    complete = len(grades) == len(council.live_domains)
    overall = round(sum(grades.values()) / len(grades)) if complete else None
    audit_id = council.add(
        Audit, rng, audit_date, kind="live", template_id=council.live.id, case_id=case.id, worker_id=worker.id,
        auditor_id=auditor.id, team_id=plan.id, audit_date=audit_date, status=life.status,
        draw_pick_id=pick_id, overall_grade=overall,
        strengths=rng.choice(STRENGTHS) if complete else "",
        to_improve=rng.choice(TO_IMPROVE) if complete else "",
        lived_experience=rng.choice(LIVED_EXPERIENCE) if complete else "",
        submitted_at=at(life.submitted, 14) if life.submitted else None,
        moderated_at=at(life.moderated, 15) if life.moderated else None,
        finalised_at=at(life.finalised, 16) if life.finalised else None)
    for person in (auditor, worker):
        council.add(AuditParticipant, rng, audit_date, audit_id=audit_id, person_id=person.id)
    for domain, grade in grades.items():
        council.add(AuditGrade, rng, audit_date, audit_id=audit_id, domain=domain, participant_id=None,
                    grade=grade, comment=rng.choice(GRADE_COMMENTS))
    if life.returned is not None:
        moderation(council, rng, audit_id, moderator, "returned", None, {}, life.returned)
    if life.moderated is not None:
        # As the moderation service stores it: every domain, the auditor's grade unless regraded.
        moderated = {domain: {"grade": grade, "comment": ""} for domain, grade in grades.items()}
        outcome, moderated_overall = "agreed", overall
        if rng.random() < 0.22:
            outcome = "regraded"
            for domain in rng.sample(council.live_domains, rng.randint(1, 2)):
                current = grades[domain]
                # Moderators more often find a grade too generous than too harsh.
                harsher = current < levels - 1 and (current == 0 or rng.random() < 0.7)
                moderated[domain] = {"grade": current + 1 if harsher else current - 1,
                                     "comment": MODERATION_COMMENTS[1]}
            moderated_overall = round(sum(m["grade"] for m in moderated.values()) / len(moderated))
        moderation(council, rng, audit_id, moderator, outcome, moderated_overall, moderated, life.moderated)
    if life.first_submitted is None:
        return
    for _ in range(rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5))):  # about one action per case overall
        owner = worker if rng.random() < 0.8 else plan.tm
        action(council, rng, plan, owner, "audit", audit_id, None, case.id, auditor, audit_date)
    if rng.random() < 0.7:
        follow_up(council, rng, worker, history, "audit", audit_id, rng.choice(AUDIT_FOLLOW_UPS),
                  life.first_submitted, audit_date)


def moderation(council: Council, rng: random.Random, audit_id: uuid.UUID, moderator: Member, outcome: str,
               overall: int | None, grades: dict[str, Any], on: date) -> None:
    comment = MODERATION_COMMENTS[("agreed", "regraded", "returned").index(outcome)]
    council.add(Moderation, rng, on, audit_id=audit_id, moderator_id=moderator.id, outcome=outcome,
                overall_grade=overall, comment=comment, moderated_on=on, grades=grades)


def dip_sample(council: Council, rng: random.Random, plan: TeamPlan, month: Month, team_cases: list[CaseRow],
               histories: dict[uuid.UUID, WorkerHistory]) -> None:
    """The team manager's monthly dip sample: draft, then findings shared with the worker,
    then finalised (dip samples are not moderated). Some months are missed."""
    audit_date = month.first + days(rng.randint(2, 20))
    if audit_date > council.today or rng.random() < 0.1:
        return
    candidates = [c for c in team_cases if c.worker is not None and c.open_on(audit_date)]
    if not candidates:
        return
    case = rng.choice(candidates)
    worker = case.worker
    assert worker is not None
    shared_on = audit_date + days(rng.randint(1, 10))
    finalised_on = shared_on + days(rng.randint(0, 5))
    done = finalised_on <= council.today and rng.random() < 0.95
    levels = len(council.dip.scale)
    audit_id = council.add(
        Audit, rng, audit_date, kind="dip_sample", template_id=council.dip.id, case_id=case.id,
        worker_id=worker.id, auditor_id=plan.tm.id, team_id=plan.id, audit_date=audit_date,
        status="finalised" if done else "draft", draw_pick_id=None, overall_grade=None, strengths="",
        to_improve="", lived_experience="", submitted_at=None, moderated_at=None,
        finalised_at=at(finalised_on, 16) if done else None)
    history = histories[worker.id]
    history.last_audited[case.reference] = audit_date
    areas = council.dip_domains if done else council.dip_domains[:rng.randint(0, len(council.dip_domains))]
    for domain in areas:
        council.add(AuditGrade, rng, audit_date, audit_id=audit_id, domain=domain, participant_id=None,
                    grade=council.grade(rng, worker.skill, levels), comment=rng.choice(GRADE_COMMENTS))
    if shared_on <= council.today and (done or rng.random() < 0.5):
        follow_up(council, rng, worker, history, "dip_sample", audit_id, rng.choice(DIP_FOLLOW_UPS), shared_on,
                  audit_date)
