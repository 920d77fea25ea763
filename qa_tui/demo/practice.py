"""The demo council's practice records: supervision at each role's cadence, follow-ups taken
to the next supervision, actions with their history, observations and family feedback."""

from __future__ import annotations

import random
import uuid
from bisect import bisect_left
from datetime import date

from qa_tui.config import CADENCES
from qa_tui.dates import Month, add_months, weeks_after
from qa_tui.db.models import Action, ActionChange, Feedback, FollowUp, Observation, Supervision
from qa_tui.demo.phrases import (
    ACTION_TITLES,
    CANCEL_REASONS,
    DISCUSSED_NOTES,
    EVIDENCE,
    EXTENSION_REASONS,
    FEEDBACK_CHANNELS,
    FEEDBACK_GIVERS,
    FEEDBACK_SAID,
    FEEDBACK_THEMES,
    OBSERVATION_SETTINGS,
    OBSERVATION_THEMES,
    REFLECTIONS,
    SUPERVISION_NOTES,
    TO_DEVELOP,
    WENT_WELL,
)
from qa_tui.demo.shape import HISTORY_MONTHS
from qa_tui.demo.state import CaseRow, Council, Member, TeamPlan, WorkerHistory, day_between, days, weighted
from qa_tui.services.practice.observations import DEFAULT_ASYE_WINDOWS


def supervisions(council: Council, rng: random.Random, member: Member, history: WorkerHistory) -> None:
    """Sessions at the role's cadence from the history's start; about one in eight people
    stopped being supervised a while ago and are now overdue."""
    start = max(council.history_start, member.active_from)
    step = CADENCES[council.config.cadence_for(member.role)]  # > 0: days; 0: monthly; < 0: months
    end = council.today
    if rng.random() < 0.12:
        end -= days(rng.randint(20, 50) if step <= 0 else rng.randint(step + 5, step * 3))
    planned: list[date] = []
    if step > 0:
        day = start + days(rng.randrange(step))
        while day <= end:
            planned.append(day)
            day += days(step)
    else:
        anchor, months = rng.randint(1, 28), -step or 1
        month = Month.of(start)
        while month.first <= end:
            day = date(month.year, month.month, anchor)
            if start <= day <= end:
                planned.append(day)
            month = month.shift(months)
    held = sorted(min(council.today, max(start, day + days(rng.randint(-3, 3))))
                  for day in planned if rng.random() >= 0.05)  # about one session in twenty missed
    supervisor_id = member.manager.id if member.manager else None
    for held_on in held:
        history.supervision_dates.append(held_on)
        history.supervision_ids.append(council.add(
            Supervision, rng, held_on, worker_id=member.id, supervisor_id=supervisor_id, held_on=held_on,
            kind="reflective" if rng.random() < 0.25 else "casework", notes=rng.choice(SUPERVISION_NOTES)))


def follow_up(council: Council, rng: random.Random, worker: Member, history: WorkerHistory,
              source_kind: str, source_id: uuid.UUID, summary: str, raised_on: date, event_on: date) -> None:
    """A follow-up of a finding made on `event_on`, entered on `raised_on`, discussed at the
    worker's next supervision when there was one (mostly)."""
    supervision_id, note = None, ""
    index = bisect_left(history.supervision_dates, raised_on)
    if rng.random() < 0.1:
        index += 1  # carried over a session
    if index < len(history.supervision_dates) and rng.random() < 0.95:
        supervision_id, note = history.supervision_ids[index], rng.choice(DISCUSSED_NOTES)
    council.add(FollowUp, rng, raised_on, worker_id=worker.id, source_kind=source_kind, source_id=source_id,
                summary=summary, raised_on=raised_on, event_on=event_on, supervision_id=supervision_id,
                discussed_note=note)


def action(council: Council, rng: random.Random, plan: TeamPlan, owner: Member, source_kind: str,
           audit_id: uuid.UUID | None, source_id: uuid.UUID | None, case_id: uuid.UUID | None,
           raised_by: Member, raised_on: date) -> None:
    """An action and its history: most done (some late), some extended, a few reassigned or
    cancelled, the rest open — overdue or not yet due."""
    due = weeks_after(raised_on, council.config.deadlines.action_due_weeks)
    changes: list[tuple[str, str, str, str, date, Member]] = []
    if rng.random() < 0.04 and owner is not plan.tm:
        on = raised_on + days(rng.randint(1, 10))
        if on <= council.today:
            changes.append(("reassigned", owner.staff_id, plan.tm.staff_id, "Worker's caseload reduced.",
                            on, plan.tm))
            owner = plan.tm
    if rng.random() < 0.12 and due - days(2) <= council.today:
        new_due = due + days(7 * rng.randint(2, 4))
        changes.append(("extended", due.isoformat(), new_due.isoformat(), rng.choice(EXTENSION_REASONS),
                        due - days(2), plan.tm))
        due = new_due
    status, completed_on, evidence = "open", None, ""
    fate = rng.random()
    finish = raised_on + days(rng.randint(3, 26) if fate < 0.7 else rng.randint(27, 60))
    if fate < 0.02:
        on = raised_on + days(rng.randint(3, 20))
        if on <= council.today:
            reason = rng.choice(CANCEL_REASONS)
            status, evidence = "cancelled", reason
            changes.append(("cancelled", "open", "cancelled", reason, on, plan.tm))
    elif fate < 0.93 and finish <= council.today:
        status, completed_on, evidence = "done", finish, rng.choice(EVIDENCE)
        changes.append(("done", "open", "done", evidence, finish, owner))
    action_id = council.add(
        Action, rng, raised_on, title=rng.choice(ACTION_TITLES), owner_id=owner.id, team_id=plan.id,
        raised_by_id=raised_by.id, raised_on=raised_on, due_on=due, status=status, evidence=evidence,
        completed_on=completed_on, source_kind=source_kind, audit_id=audit_id, source_id=source_id,
        case_id=case_id)
    for change, old, new, reason, on, by in changes:
        council.add(ActionChange, rng, on, action_id=action_id, change=change, old_value=old, new_value=new,
                    reason=reason, changed_on=on, changed_by_id=by.id)


def observations(council: Council, rng: random.Random, member: Member, history: WorkerHistory) -> None:
    """Most practitioners observed this financial year (fewer early in the year), some last
    year too; newly qualified workers in the ASYE windows (months 0–3, 3–6 and 9–12)."""
    observer = member.manager
    visits: list[tuple[date, str]] = []
    if member.asye_start is not None:
        for start, end in DEFAULT_ASYE_WINDOWS:
            low = add_months(member.asye_start, start)
            high = min(council.today, add_months(member.asye_start, end) - days(1))
            if low <= high and rng.random() < 0.85:
                visits.append((day_between(rng, low, high), "asye"))
    else:
        kind = "iro_review" if member.role == "IRO" else "annual"
        elapsed = (council.today - council.fy_start).days / 365
        if rng.random() < min(0.9, 0.3 + elapsed):
            visits.append((day_between(rng, council.fy_start, council.today), kind))
        if council.history_start < council.fy_start and rng.random() < 0.7:
            visits.append((day_between(rng, council.history_start, council.fy_start - days(1)), kind))
    for observed_on, kind in sorted(visits):
        observation_id = council.add(
            Observation, rng, observed_on, observer_id=observer.id if observer else None, worker_id=member.id,
            observed_on=observed_on, kind=kind, setting=rng.choice(OBSERVATION_SETTINGS),
            went_well=rng.choice(WENT_WELL), to_develop=rng.choice(TO_DEVELOP),
            reflection=rng.choice(REFLECTIONS), feedback_shared=rng.random() < 0.9,
            themes=rng.sample(OBSERVATION_THEMES, rng.randint(1, 3)))
        raised_on = min(council.today, observed_on + days(rng.randint(0, 5)))
        follow_up(council, rng, member, history, "observation", observation_id,
                  f"Reflective review of the {kind.replace('_', ' ')} observation.", raised_on, observed_on)


def feedback(council: Council, rng: random.Random, plan: TeamPlan, worker: Member, cases: list[CaseRow],
             history: WorkerHistory) -> None:
    """Family and professional feedback, mostly positive; poor feedback raises an action."""
    for month_index in range(HISTORY_MONTHS):
        if rng.random() >= 0.4:
            continue
        month = Month.of(council.history_start).shift(month_index)
        received_on = day_between(rng, month.first, month.last)
        if not worker.active_from <= received_on <= council.today:
            continue
        rating = rng.choices((1, 2, 3, 4, 5), (4, 6, 15, 35, 40))[0]
        mood = "good" if rating >= 4 else "mixed" if rating == 3 else "poor"
        case = rng.choice(cases) if cases and rng.random() < 0.7 else None
        feedback_id = council.add(
            Feedback, rng, received_on, received_on=received_on, case_id=case.id if case else None,
            worker_id=worker.id, giver=weighted(rng, FEEDBACK_GIVERS), channel=weighted(rng, FEEDBACK_CHANNELS),
            rating=rating, said=rng.choice(FEEDBACK_SAID[mood]),
            themes=rng.sample(FEEDBACK_THEMES, rng.randint(1, 2)))
        if mood == "poor":
            action(council, rng, plan, worker, "feedback", None, feedback_id, case.id if case else None,
                   plan.tm, received_on)
            follow_up(council, rng, worker, history, "feedback", feedback_id,
                      "Talk through the family's feedback and what to change.", received_on, received_on)
