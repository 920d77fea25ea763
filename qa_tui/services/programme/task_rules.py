"""The task rules: how each programme task is counted for one person over a period (periodic
tasks) or over the last twelve months of closures (on-event tasks), and which missed periods
are still owed."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from qa_tui.config import AUDIT_KIND_NAMES, CASE_HOLDING_ROLES, PROGRAMME_TASKS, Config, ProgrammeTask
from qa_tui.services.audits.record import is_past_moderation_deadline, moderation_deadline_for
from qa_tui.services.practice.observations import (
    PRACTITIONER_ROLES,
    asye_window_states,
    coverage_verdict,
    in_asye_year,
)
from qa_tui.services.practice.supervision import supervision_due, supervision_overdue
from qa_tui.services.programme.cp_reviews import cp_review_reason
from qa_tui.dates import Month
from qa_tui.services.programme.facts import (
    AuditRow,
    Facts,
    PersonRow,
    cases_in_scope,
    event_window_start,
    people_in_scope,
    plans_of,
    tasks_for,
    transfers_in_scope,
)
from qa_tui.services.programme.periods import Period, period_containing, previous_period

# Audits that count as auditing a case file (dip samples and supervision files have their own tasks).
CASE_AUDIT_KINDS = ("live", "themed", "multi_agency", "closure", "cross_service")
# Tasks judged by a rolling due date rather than a count per period (be_observed: in the ASYE year).
ROLLING_TASKS = ("supervise_each_practitioner", "be_observed", "ensure_practitioners_observed",
                 "send_for_moderation_on_time")
PER_SUBJECT_TASKS = ("supervise_each_practitioner", "review_cp_long_or_ending", "ensure_case_holders_audited",
                     "ensure_practitioners_observed", "send_for_moderation_on_time")


@dataclass(frozen=True)
class ObligationItem:
    """One practitioner, child or closed case a per-subject task is owed for."""

    subject_id: uuid.UUID
    subject: str  # a person's name and staff ID, or a case reference
    required: int
    done: int
    due_by: date
    late: bool
    note: str = ""


@dataclass(frozen=True)
class ObligationLine:
    person_id: uuid.UUID
    task: str
    task_label: str
    purpose: str
    frequency: str
    period: Period
    required: int
    done: int  # counted up to what each subject requires, so extra work on one hides no gap
    status: str  # met / due (the period is still running) / late (the period ended unmet)
    due_by: date
    items: tuple[ObligationItem, ...] = ()

    @property
    def outstanding(self) -> int:
        return self.required - self.done


def _is_cross_service(audit: AuditRow, person: PersonRow, facts: Facts) -> bool:
    """An audit of kind cross_service, or of a team in a service outside the person's area."""
    if audit.kind == "cross_service":
        return True
    home = {facts.service_of(t) for t in facts.area_teams(person)} - {None}
    service = facts.service_of(audit.team_id)
    return bool(home) and service is not None and service not in home


def _team_of(person_id: uuid.UUID, facts: Facts) -> uuid.UUID | None:
    person = facts.people.get(person_id)
    return person.team_id if person is not None else None


def _counted(audits: Iterable[AuditRow], period: Period, kinds: tuple[str, ...] | None = None) -> list[AuditRow]:
    return [a for a in audits if a.audit_date in period and (kinds is None or a.kind in kinds)]


def _period_line(person: PersonRow, task: ProgrammeTask, period: Period, facts: Facts, cfg: Config) -> ObligationLine:
    """Count one periodic task for one person over `period` (judged as at the period's end, or
    today while it is still running)."""
    as_at = min(period.end, facts.today)
    items: list[ObligationItem] = []
    overdue = False
    own = facts.by_auditor.get(person.id, [])
    if task.task == "audit_case_file":
        done = len(_counted(own, period, CASE_AUDIT_KINDS))
    elif task.task == "audit_supervision_file":
        done = len(_counted(own, period, ("supervision_file",)))
    elif task.task == "dip_sample":
        done = len(_counted(own, period, ("dip_sample",)))
    elif task.task == "audit_cross_service":
        done = sum(1 for a in _counted(own, period, CASE_AUDIT_KINDS) if _is_cross_service(a, person, facts))
    elif task.task == "have_case_audited":
        done = len(_counted(facts.about_worker.get(person.id, []), period, CASE_AUDIT_KINDS))
    elif task.task == "be_observed":
        mine = facts.observed.get(person.id, [])
        asye_start = person.asye_start or person.active_from
        if asye_start is not None and in_asye_year(person.role, asye_start, as_at, cfg.nqsw_observations_per_year):
            for w in asye_window_states(asye_start, [o.day for o in mine if o.kind == "asye"], as_at,
                                        cfg.nqsw_observations_per_year):
                items.append(ObligationItem(uuid.uuid5(person.id, w.label), f"ASYE {w.label}", 1,
                                            int(w.status == "done"), w.ends, w.status == "overdue",
                                            f"{w.status}: {w.starts.isoformat()} to {w.ends.isoformat()}"))
        else:
            done = sum(1 for o in mine if o.counts_for_year and o.day in period)
            overdue = coverage_verdict(person.role, asye_start, person.active_from, mine, as_at,
                                       cfg.nqsw_observations_per_year).status == "overdue"
    elif task.task == "audit_record":
        done = len(_counted(own, period, task.kinds))
    elif task.task == "observe_practice":
        area = facts.area_teams(person)
        done = sum(1 for o in facts.observations_made.get(person.id, []) if o.day in period
                   and (not task.kinds or o.kind in task.kinds)
                   and (not task.own_service or _team_of(o.worker_id, facts) in area))
    elif task.task == "hold_live_audit":
        done = sum(len(_counted(facts.by_team.get(team, []), period, ("live",))) for team in facts.area_teams(person))
    elif task.task == "ensure_case_holders_audited":
        for holder in people_in_scope(person, facts, task.scope, CASE_HOLDING_ROLES, as_at):
            audited = len(_counted(facts.about_worker.get(holder.id, []), period, CASE_AUDIT_KINDS))
            items.append(ObligationItem(holder.id, holder.label, 1, min(audited, 1), period.end,
                                        not audited and period.end < facts.today))
    elif task.task == "ensure_practitioners_observed":
        for worker in people_in_scope(person, facts, task.scope, PRACTITIONER_ROLES, as_at):
            verdict = coverage_verdict(worker.role, worker.asye_start or worker.active_from, worker.active_from,
                                       facts.observed.get(worker.id, []), as_at, cfg.nqsw_observations_per_year)
            items.append(ObligationItem(worker.id, worker.label, 1, int(verdict.status == "covered"),
                                        verdict.next_due or period.end,
                                        verdict.status == "overdue" or (verdict.status != "covered"
                                                                        and period.end < facts.today),
                                        verdict.reason))
    elif task.task == "send_for_moderation_on_time":
        for audit in sorted(facts.held.get(person.id, []), key=lambda a: (a.audit_date, a.id)):
            if audit.audit_date in period:
                late = is_past_moderation_deadline(audit, as_at, cfg)
                sent = audit.submitted_at is not None
                items.append(ObligationItem(audit.id, f"{AUDIT_KIND_NAMES.get(audit.kind, audit.kind)} of "
                                            f"{audit.audit_date.isoformat()}", 1, int(sent and not late),
                                            moderation_deadline_for(audit.audit_date, cfg), late,
                                            "sent late" if sent and late else "sent" if sent else "not sent"))
    elif task.task == "supervise_each_practitioner":
        # The supervision rule itself (cadence by role: NQSWs fortnightly), judged at `as_at`.
        for report in sorted(facts.reports.get(person.id, []), key=lambda r: (r.name, r.staff_id)):
            if report.active_on(as_at):
                held = [*facts.supervised.get(report.id, []), report.last_supervised_on]  # as supervision_status
                last = max((day for day in held if day is not None and day <= as_at), default=None)
                due_on, reason = supervision_due(last, report.active_from, cfg.cadence_for(report.role))
                overdue = supervision_overdue(due_on, as_at)
                items.append(ObligationItem(report.id, report.label, 1, 0 if overdue else 1,
                                            due_on or as_at, overdue, reason))
    elif task.task == "review_cp_long_or_ending":
        for case in sorted(cases_in_scope(person, facts, task.scope), key=lambda c: c.reference):
            reason, _plan = cp_review_reason(plans_of(case, facts), as_at)
            if reason:
                reviewed = len(_counted(facts.of_case.get(case.id, []), period))
                items.append(ObligationItem(case.id, case.reference, task.count, min(reviewed, task.count),
                                            period.end, reviewed < task.count and period.end < facts.today,
                                            reason))
    else:
        raise ValueError(f"{task.task} is not a periodic task")
    if items or task.task in PER_SUBJECT_TASKS:
        required, done = sum(i.required for i in items), sum(i.done for i in items)
    else:
        required, done = task.count, min(done, task.count)
    status = "met" if done >= required else "late" if period.end < facts.today else "due"
    if task.task in ROLLING_TASKS and items:  # late as soon as an item is past its own due date
        status = "late" if any(i.late for i in items) else status
    elif task.task == "be_observed" and status == "due" and overdue:
        status = "late"  # the observation rule's own overdue point (the last quarter of the year)
    return ObligationLine(person.id, task.task, PROGRAMME_TASKS[task.task], task.purpose, task.frequency,
                          period, required, done, status, period.end, tuple(items))


def _event_line(person: PersonRow, task: ProgrammeTask, facts: Facts) -> ObligationLine:
    """Cases in the person's area that closed or moved team in the last twelve months, each owed
    an audit on closure or transfer within `within_days` of it; with a sample (`sample_count` or
    `sample_percent`), each month's closures and transfers owe that many audits between them."""
    start = event_window_start(facts.today)
    period = Period("on_event", start, facts.today, f"closures and transfers since {start.isoformat()}")
    # (subject, case, reference, what, day): a case that closed and moved owes an audit for each.
    events = [(case.id, case.id, case.reference, "closed", case.closed_on)
              for case in cases_in_scope(person, facts, task.scope)
              if case.closed_on is not None and case.closed_on in period]
    events += [(uuid.uuid5(t.case_id, "transferred"), t.case_id, t.reference, "moved team", t.on)
               for t in transfers_in_scope(person, facts, task.scope) if t.on in period]
    events.sort(key=lambda e: (e[4], e[2], e[3]))
    audited = {subject: sum(1 for a in facts.of_case.get(case_id, [])
                            if a.kind == "closure" and a.audit_date >= on - timedelta(days=task.within_days))
               for subject, case_id, _, _, on in events}
    items = []
    if task.sample_count or task.sample_percent:
        by_month: dict[Month, list[uuid.UUID]] = {}
        for subject, _, _, _, on in events:
            by_month.setdefault(Month.of(on), []).append(subject)
        for month, subjects in sorted(by_month.items()):
            needed = (min(task.sample_count, len(subjects)) if task.sample_count
                      else math.ceil(len(subjects) * task.sample_percent / 100))
            done = min(sum(1 for subject in subjects if audited[subject]), needed)
            due_by = month.last + timedelta(days=task.within_days)
            items.append(ObligationItem(uuid.uuid5(person.id, str(month)), f"closures and transfers in {month}",
                                        needed, done, due_by, done < needed and due_by < facts.today,
                                        f"{needed} of {len(subjects)} closures and transfers sampled"))
    else:
        for subject, _, reference, what, on in events:
            due_by = on + timedelta(days=task.within_days)
            items.append(ObligationItem(subject, reference, task.count, min(audited[subject], task.count), due_by,
                                        audited[subject] < task.count and due_by < facts.today,
                                        f"{what} {on.isoformat()}"))
    required, done = sum(i.required for i in items), sum(i.done for i in items)
    status = "late" if any(i.late for i in items) else "met" if done >= required else "due"
    due_by = min((i.due_by for i in items if i.done < i.required), default=facts.today)
    return ObligationLine(person.id, task.task, PROGRAMME_TASKS[task.task], task.purpose, task.frequency,
                          period, required, done, status, due_by, tuple(items))


def lines_for(person: PersonRow, cfg: Config, facts: Facts) -> list[ObligationLine]:
    """This period's line for each of the person's tasks, after a late line for what the
    previous period left undone and this period has not yet made up (for per-subject tasks:
    the practitioners or children still waiting)."""
    lines = []
    for task in tasks_for(person.role, cfg):
        if task.frequency == "on_event":
            lines.append(_event_line(person, task, facts))
            continue
        current = _period_line(person, task, period_containing(task.frequency, facts.today), facts, cfg)
        before = previous_period(current.period)
        if task.task == "supervise_each_practitioner" or (task.task == "be_observed" and current.items):
            lines.append(current)  # judged by a rolling due date: what was missed is still overdue now
            continue
        if current.status != "met" and (person.active_from is None or person.active_from <= before.start):
            missed = _period_line(person, task, before, facts, cfg)
            if missed.status == "late" and missed.items:
                waiting = {i.subject_id for i in current.items if i.done < i.required}
                items = tuple(i for i in missed.items if i.late and i.subject_id in waiting)
                missed = replace(missed, items=items, required=sum(i.required for i in items),
                                 done=sum(i.done for i in items))
                if not items:
                    missed = replace(missed, status="met")
            if missed.status == "late":
                lines.append(missed)
        lines.append(current)
    return lines
