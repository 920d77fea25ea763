"""The QA programme as configuration: what each person owes this period, what is done and what is
late, compliance rates per team and role, and the list of CP plans due a quarterly review."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from qa_tui.config import CASE_HOLDING_ROLES, PROGRAMME_TASKS, ROLE_NAMES, Config, ProgrammeTask
from qa_tui.dates import Month, add_months, financial_year_label, financial_year_start
from qa_tui.db.models import Audit, Case, Observation, Person, Supervision, Team
from qa_tui.errors import NotFound, ValidationError
from qa_tui.services.people.directory import PersonRef

# Audits that count as auditing a case file (dip samples and supervision files have their own tasks).
CASE_AUDIT_KINDS = ("live", "themed", "multi_agency", "closure", "cross_service")
CP_ENDING_WITHIN_MONTHS = 3
CP_LONG_MONTHS = 18
FORTNIGHT_EPOCH = date(2001, 1, 1)  # a Monday: fortnights are fixed 14-day blocks from here
MONTHS_PER_PERIOD = {"monthly": 1, "bimonthly": 2, "quarterly": 3, "six_monthly": 6, "financial_year": 12}
GROUP_BY = ("team", "role")


# --- periods --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    frequency: str
    start: date
    end: date  # inclusive
    label: str

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def period_containing(frequency: str, day: date) -> Period:
    """The period of `frequency` that contains `day`. Weeks start on Monday; fortnights are fixed
    14-day blocks from Monday 1 January 2001; months, two-month blocks, quarters, half-years and
    the financial year are counted from 1 April (Q1 = April to June)."""
    if frequency == "weekly":
        start = day - timedelta(days=day.weekday())
        return Period(frequency, start, start + timedelta(days=6), f"week of {start.isoformat()}")
    if frequency == "fortnightly":
        start = day - timedelta(days=(day - FORTNIGHT_EPOCH).days % 14)
        return Period(frequency, start, start + timedelta(days=13), f"fortnight of {start.isoformat()}")
    if frequency not in MONTHS_PER_PERIOD:
        raise ValueError(f"no period for frequency {frequency!r}")
    size = MONTHS_PER_PERIOD[frequency]
    fy_first = Month.of(financial_year_start(day))
    index = (day.month - 4) % 12 // size
    first, last = fy_first.shift(index * size), fy_first.shift(index * size + size - 1)
    fy = fy_first.year
    label = {
        "monthly": str(first),
        "bimonthly": f"{first} to {last}",
        "quarterly": f"{fy}-Q{index + 1}",
        "six_monthly": f"{fy}-H{index + 1}",
        "financial_year": financial_year_label(day),
    }[frequency]
    return Period(frequency, first.first, last.last, label)


def previous_period(period: Period) -> Period:
    return period_containing(period.frequency, period.start - timedelta(days=1))


def month_period(month: Month) -> Period:
    return period_containing("monthly", month.first)


def parse_financial_quarter(text: str) -> Period:
    """"2026-Q3" → Q3 of FY 2026/27 (October to December 2026). Q1 is April to June; Q4 is
    January to March of the following calendar year."""
    try:
        year_s, quarter_s = text.strip().upper().split("-Q")
        year, quarter = int(year_s), int(quarter_s)
    except ValueError:
        raise ValidationError("quarter", f"expected YYYY-Qn such as 2026-Q3, got {text!r}") from None
    if not 1 <= quarter <= 4 or not 1900 <= year <= 2999:
        raise ValidationError("quarter", f"expected YYYY-Qn with n from 1 to 4, got {text!r}")
    return period_containing("quarterly", Month(year, 4).shift(3 * (quarter - 1)).first)


# --- results --------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Obligations:
    person: PersonRef
    today: date
    lines: tuple[ObligationLine, ...]

    def with_status(self, status: str) -> tuple[ObligationLine, ...]:
        return tuple(line for line in self.lines if line.status == status)


@dataclass(frozen=True)
class ComplianceRow:
    group: str  # team code or role; "" for people without a team
    group_label: str
    task: str  # "" on a group's total over every task
    task_label: str
    frequency: str
    period_label: str
    people: int
    required: int
    done: int
    people_met: int
    people_late: int  # owed something from a period that has ended

    @property
    def rate(self) -> float | None:
        """Done as a share of required this period; None when nothing is required."""
        return self.done / self.required if self.required else None


@dataclass(frozen=True)
class Compliance:
    today: date
    group_by: str
    rows: tuple[ComplianceRow, ...]  # per group and task, groups in order
    totals: tuple[ComplianceRow, ...]  # one per group, every task together


@dataclass(frozen=True)
class CpReviewRow:
    case_id: uuid.UUID
    case_reference: str
    team_id: uuid.UUID | None
    team_code: str
    worker_name: str
    plan_start: date | None
    plan_end: date | None
    reason: str
    last_reviewed: date | None
    reviewed_this_period: bool
    period_label: str


# --- the engine -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Person:
    id: uuid.UUID
    staff_id: str
    name: str
    role: str
    team_id: uuid.UUID | None
    manager_id: uuid.UUID | None
    active_from: date | None
    active_to: date | None

    def active_on(self, day: date) -> bool:
        return (self.active_from is None or self.active_from <= day) and (
            self.active_to is None or self.active_to >= day)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.staff_id})"

    def ref(self) -> PersonRef:
        return PersonRef(self.id, self.staff_id, self.name, self.role, self.team_id)


@dataclass(frozen=True)
class _Audit:
    id: uuid.UUID
    kind: str
    audit_date: date
    auditor_id: uuid.UUID | None
    worker_id: uuid.UUID | None
    team_id: uuid.UUID | None
    case_id: uuid.UUID | None


@dataclass(frozen=True)
class _Case:
    id: uuid.UUID
    reference: str
    worker_id: uuid.UUID | None
    team_id: uuid.UUID | None
    closed_on: date | None
    cp_plan_start: date | None
    cp_plan_end: date | None


@dataclass
class _Facts:
    """What the counting reads, loaded in a handful of queries for the people being judged:
    audits past draft, observations and supervisions from `since` to `today`, and cases."""

    today: date
    since: date
    people: dict[uuid.UUID, _Person]
    team_service: dict[uuid.UUID, uuid.UUID | None]
    audits: list[_Audit] = field(default_factory=list)
    observed: dict[uuid.UUID, list[date]] = field(default_factory=lambda: defaultdict(list))
    supervised: dict[uuid.UUID, list[date]] = field(default_factory=lambda: defaultdict(list))
    by_auditor: dict[uuid.UUID, list[_Audit]] = field(default_factory=lambda: defaultdict(list))
    about_worker: dict[uuid.UUID, list[_Audit]] = field(default_factory=lambda: defaultdict(list))
    of_case: dict[uuid.UUID, list[_Audit]] = field(default_factory=lambda: defaultdict(list))
    reports: dict[uuid.UUID, list[_Person]] = field(default_factory=lambda: defaultdict(list))
    areas: dict[uuid.UUID, frozenset[uuid.UUID]] = field(default_factory=dict)
    cases_of_team: dict[uuid.UUID | None, list[_Case]] = field(default_factory=lambda: defaultdict(list))
    cases_of_worker: dict[uuid.UUID | None, list[_Case]] = field(default_factory=lambda: defaultdict(list))

    def service_of(self, team_id: uuid.UUID | None) -> uuid.UUID | None:
        return self.team_service.get(team_id) if team_id is not None else None

    def area_teams(self, person: _Person) -> frozenset[uuid.UUID]:
        """The person's own team and the teams of everyone below them in the management line:
        a team manager's team, a service leader's service, a director's whole council."""
        if person.id not in self.areas:
            teams = {person.team_id} if person.team_id is not None else set()
            seen, waiting = {person.id}, list(self.reports.get(person.id, ()))
            while waiting:
                report = waiting.pop()
                if report.id in seen:
                    continue
                seen.add(report.id)
                if report.team_id is not None:
                    teams.add(report.team_id)
                waiting += self.reports.get(report.id, ())
            self.areas[person.id] = frozenset(teams)
        return self.areas[person.id]


def _tasks_for(role: str, cfg: Config) -> list[ProgrammeTask]:
    return [task for task in cfg.programme if role in task.roles]


def _event_window_start(today: date) -> date:
    """Closures looked at for on_event tasks: the last twelve months."""
    return add_months(today, -12) + timedelta(days=1)


def _earliest_needed(tasks: Iterable[ProgrammeTask], today: date) -> date:
    starts = [today]
    for task in tasks:
        if task.frequency == "on_event":
            starts.append(_event_window_start(today) - timedelta(days=task.within_days))
        else:
            starts.append(previous_period(period_containing(task.frequency, today)).start)
    return min(starts)


def _load_people(session: Session) -> dict[uuid.UUID, _Person]:
    rows = session.execute(select(
        Person.id, Person.staff_id, Person.name, Person.role, Person.team_id, Person.manager_id,
        Person.active_from, Person.active_to))
    return {r[0]: _Person(*r) for r in rows}


def _load_facts(session: Session, today: date, cfg: Config, judged: list[_Person],
                people: dict[uuid.UUID, _Person], *, everyone: bool) -> _Facts:
    """Load the facts for `judged`. With `everyone` the queries are not narrowed to them."""
    tasks = {id(t): t for p in judged for t in _tasks_for(p.role, cfg)}.values()
    facts = _Facts(today=today, since=_earliest_needed(tasks, today), people=people,
                   team_service=dict(session.execute(select(Team.id, Team.service_id)).all()))
    for p in people.values():
        if p.manager_id is not None:
            facts.reports[p.manager_id].append(p)
    kinds = {t.task for t in tasks}
    ids = [p.id for p in judged]
    subjects = set(ids) | {r.id for p in judged for r in facts.reports.get(p.id, ())}

    if kinds & {"audit_on_closure", "review_cp_long_or_ending"}:
        stmt = select(Case.id, Case.reference, Case.worker_id, Case.team_id, Case.closed_on,
                      Case.cp_plan_start, Case.cp_plan_end).where(or_(
                          Case.closed_on >= facts.since, Case.cp_plan_start.is_not(None)))
        if not everyone:
            teams = set().union(*(facts.area_teams(p) for p in judged))
            stmt = stmt.where(or_(Case.team_id.in_(teams), Case.worker_id.in_(ids)))
        for case in (_Case(*r) for r in session.execute(stmt)):
            facts.cases_of_team[case.team_id].append(case)
            facts.cases_of_worker[case.worker_id].append(case)
    audit_stmt = select(Audit.id, Audit.kind, Audit.audit_date, Audit.auditor_id, Audit.worker_id,
                        Audit.team_id, Audit.case_id).where(
        Audit.status != "draft", Audit.audit_date >= facts.since, Audit.audit_date <= today)
    if everyone:
        audits = {r[0]: _Audit(*r) for r in session.execute(audit_stmt)}
    else:
        audits = {r[0]: _Audit(*r) for r in session.execute(audit_stmt.where(
            or_(Audit.auditor_id.in_(ids), Audit.worker_id.in_(ids))))}
        case_ids = sorted({c.id for p in judged for c in _in_scope(p, facts)})
        for chunk in (case_ids[i:i + 500] for i in range(0, len(case_ids), 500)):
            audits.update((r[0], _Audit(*r)) for r in session.execute(
                audit_stmt.where(Audit.case_id.in_(chunk))))
    facts.audits = list(audits.values())
    for a in facts.audits:
        if a.auditor_id is not None:
            facts.by_auditor[a.auditor_id].append(a)
        if a.worker_id is not None:
            facts.about_worker[a.worker_id].append(a)
        if a.case_id is not None:
            facts.of_case[a.case_id].append(a)

    if "be_observed" in kinds:
        stmt = select(Observation.worker_id, Observation.observed_on).where(
            Observation.observed_on >= facts.since, Observation.observed_on <= today)
        if not everyone:
            stmt = stmt.where(Observation.worker_id.in_(ids))
        for worker_id, day in session.execute(stmt):
            facts.observed[worker_id].append(day)
    if "supervise_each_practitioner" in kinds:
        stmt = select(Supervision.worker_id, Supervision.held_on).where(
            Supervision.held_on >= facts.since, Supervision.held_on <= today)
        if not everyone:
            stmt = stmt.where(Supervision.worker_id.in_(subjects))
        for worker_id, day in session.execute(stmt):
            facts.supervised[worker_id].append(day)
    return facts


def cp_review_reason(plan_start: date | None, plan_end: date | None, closed_on: date | None,
                     day: date) -> str:
    """Why a child's CP plan is due a quarterly review on `day`, or "" if it is not: the plan is
    running and either ends within CP_ENDING_WITHIN_MONTHS or began CP_LONG_MONTHS or more ago."""
    if plan_start is None or plan_start > day or (closed_on is not None and closed_on <= day):
        return ""
    if plan_end is not None and plan_end < day:
        return ""
    if plan_end is not None and plan_end <= add_months(day, CP_ENDING_WITHIN_MONTHS):
        return f"plan ends {plan_end.isoformat()}"
    if plan_start <= add_months(day, -CP_LONG_MONTHS):
        return f"on a plan since {plan_start.isoformat()} (over {CP_LONG_MONTHS} months)"
    return ""


def _in_scope(person: _Person, facts: _Facts) -> list[_Case]:
    """The cases a per-case task covers: a case-holder's own; anyone else's, their area's."""
    if person.role in CASE_HOLDING_ROLES:
        return facts.cases_of_worker.get(person.id, [])
    return [c for team in facts.area_teams(person) for c in facts.cases_of_team.get(team, ())]


def _is_cross_service(audit: _Audit, person: _Person, facts: _Facts) -> bool:
    """An audit of kind cross_service, or of a team in a service outside the person's area."""
    if audit.kind == "cross_service":
        return True
    home = {facts.service_of(t) for t in facts.area_teams(person)} - {None}
    service = facts.service_of(audit.team_id)
    return bool(home) and service is not None and service not in home


def _counted(audits: Iterable[_Audit], period: Period, kinds: tuple[str, ...] | None = None) -> list[_Audit]:
    return [a for a in audits if a.audit_date in period and (kinds is None or a.kind in kinds)]


def _period_line(person: _Person, task: ProgrammeTask, period: Period, facts: _Facts) -> ObligationLine:
    """Count one periodic task for one person over `period` (judged as at the period's end, or
    today while it is still running)."""
    as_at = min(period.end, facts.today)
    items: list[ObligationItem] = []
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
        done = sum(1 for day in facts.observed.get(person.id, []) if day in period)
    elif task.task == "supervise_each_practitioner":
        for report in sorted(facts.reports.get(person.id, []), key=lambda r: (r.name, r.staff_id)):
            if report.active_on(as_at):
                held = sum(1 for day in facts.supervised.get(report.id, []) if day in period)
                items.append(ObligationItem(report.id, report.label, task.count, min(held, task.count),
                                            period.end, held < task.count and period.end < facts.today))
    elif task.task == "review_cp_long_or_ending":
        for case in sorted(_in_scope(person, facts), key=lambda c: c.reference):
            reason = cp_review_reason(case.cp_plan_start, case.cp_plan_end, case.closed_on, as_at)
            if reason:
                reviewed = len(_counted(facts.of_case.get(case.id, []), period))
                items.append(ObligationItem(case.id, case.reference, task.count, min(reviewed, task.count),
                                            period.end, reviewed < task.count and period.end < facts.today,
                                            reason))
    else:
        raise ValueError(f"{task.task} is not a periodic task")
    if task.task in ("supervise_each_practitioner", "review_cp_long_or_ending"):
        required, done = sum(i.required for i in items), sum(i.done for i in items)
    else:
        required, done = task.count, min(done, task.count)
    status = "met" if done >= required else "late" if period.end < facts.today else "due"
    return ObligationLine(person.id, task.task, PROGRAMME_TASKS[task.task], task.purpose, task.frequency,
                          period, required, done, status, period.end, tuple(items))


def _event_line(person: _Person, task: ProgrammeTask, facts: _Facts) -> ObligationLine:
    """Cases in the person's area closed in the last twelve months, each owed a closure audit
    within `within_days` of closing."""
    start = _event_window_start(facts.today)
    period = Period("on_event", start, facts.today, f"closures since {start.isoformat()}")
    items = []
    for case in sorted(_in_scope(person, facts), key=lambda c: (c.closed_on or date.min, c.reference)):
        if case.closed_on is None or case.closed_on not in period:
            continue
        due_by = case.closed_on + timedelta(days=task.within_days)
        audited = sum(1 for a in facts.of_case.get(case.id, []) if a.kind == "closure"
                      and a.audit_date >= case.closed_on - timedelta(days=task.within_days))
        items.append(ObligationItem(case.id, case.reference, task.count, min(audited, task.count), due_by,
                                    audited < task.count and due_by < facts.today,
                                    f"closed {case.closed_on.isoformat()}"))
    required, done = sum(i.required for i in items), sum(i.done for i in items)
    status = "late" if any(i.late for i in items) else "met" if done >= required else "due"
    due_by = min((i.due_by for i in items if i.done < i.required), default=facts.today)
    return ObligationLine(person.id, task.task, PROGRAMME_TASKS[task.task], task.purpose, task.frequency,
                          period, required, done, status, due_by, tuple(items))


def _lines_for(person: _Person, cfg: Config, facts: _Facts) -> list[ObligationLine]:
    """This period's line for each of the person's tasks, after a late line for what the
    previous period left undone and this period has not yet made up (for per-subject tasks:
    the practitioners or children still waiting)."""
    lines = []
    for task in _tasks_for(person.role, cfg):
        if task.frequency == "on_event":
            lines.append(_event_line(person, task, facts))
            continue
        current = _period_line(person, task, period_containing(task.frequency, facts.today), facts)
        before = previous_period(current.period)
        if current.status != "met" and (person.active_from is None or person.active_from <= before.start):
            missed = _period_line(person, task, before, facts)
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


def obligations(session: Session, person_id: uuid.UUID, today: date, cfg: Config) -> Obligations:
    """What the person owes under the programme: for each task for their role this period's
    count (met or due), and the previous period's when it was missed (late)."""
    people = _load_people(session)
    person = people.get(person_id)
    if person is None:
        raise NotFound(f"Person {person_id} does not exist.")
    facts = _load_facts(session, today, cfg, [person], people, everyone=False)
    return Obligations(person.ref(), today, tuple(_lines_for(person, cfg, facts)))


def obligations_by_staff_id(session: Session, staff_id: str, today: date, cfg: Config) -> Obligations:
    person_id = session.scalar(select(Person.id).where(Person.staff_id == staff_id))
    if person_id is None:
        raise NotFound(f"No person with staff ID {staff_id!r}.")
    return obligations(session, person_id, today, cfg)


def compliance(session: Session, today: date, cfg: Config, *, group_by: str = "team") -> Compliance:
    """Programme compliance of every person active on `today`, per team or per role: this
    period's required and done per task, how many people have met it, and how many are late."""
    return compliance_tables(session, today, cfg, (group_by,))[0]


def compliance_tables(session: Session, today: date, cfg: Config,
                      group_bys: tuple[str, ...] = GROUP_BY) -> tuple[Compliance, ...]:
    """compliance() for several groupings from one count."""
    for group_by in group_bys:
        if group_by not in GROUP_BY:
            raise ValidationError("group by", f"expected one of {', '.join(GROUP_BY)}, got {group_by!r}")
    people = _load_people(session)
    judged = [p for p in people.values() if p.active_on(today) and _tasks_for(p.role, cfg)]
    facts = _load_facts(session, today, cfg, judged, people, everyone=True)
    lines = {p.id: _lines_for(p, cfg, facts) for p in judged}
    teams = {t_id: (code, name) for t_id, code, name in session.execute(select(Team.id, Team.code, Team.name))}

    def group_of(p: _Person, group_by: str) -> tuple[str, str]:
        if group_by == "role":
            return p.role, ROLE_NAMES.get(p.role, p.role)
        return teams.get(p.team_id, ("", "(no team)")) if p.team_id is not None else ("", "(no team)")

    return tuple(_grouped(judged, lines, today, cfg, group_by, lambda p: group_of(p, group_by))
                 for group_by in group_bys)


def _grouped(judged: list[_Person], lines: dict[uuid.UUID, list[ObligationLine]], today: date, cfg: Config,
             group_by: str, group_of: Callable[[_Person], tuple[str, str]]) -> Compliance:
    tallies: dict[str, dict[tuple[str, str], _Tally]] = defaultdict(dict)
    labels: dict[str, str] = {}
    for p in judged:
        group, label = group_of(p)
        labels[group] = label
        for line in lines[p.id]:
            tally = tallies[group].setdefault((line.task, line.frequency), _Tally())
            if line.period.end < today and line.frequency != "on_event":
                tally.late.add(p.id)  # a missed earlier period
                continue
            tally.period_label = line.period.label
            tally.people.add(p.id)
            tally.required += line.required
            tally.done += line.done
            if line.status == "met":
                tally.met.add(p.id)
            elif line.status == "late":
                tally.late.add(p.id)

    task_order = {(t.task, t.frequency): i for i, t in enumerate(cfg.programme)}
    rows, totals = [], []
    for group in sorted(tallies):
        ordered = sorted(tallies[group].items(), key=lambda kv: task_order.get(kv[0], 0))
        rows += [ComplianceRow(group, labels[group], task, PROGRAMME_TASKS[task], frequency, t.period_label,
                               len(t.people), t.required, t.done, len(t.met), len(t.late))
                 for (task, frequency), t in ordered]
        every = [t for _, t in ordered]
        people_in = set().union(*(t.people for t in every))
        late = set().union(*(t.late for t in every))
        met_all = {pid for pid in people_in if all(pid in t.met for t in every if pid in t.people)} - late
        totals.append(ComplianceRow(group, labels[group], "", "All tasks", "", "", len(people_in | late),
                                    sum(t.required for t in every), sum(t.done for t in every),
                                    len(met_all), len(late)))
    return Compliance(today, group_by, tuple(rows), tuple(totals))


@dataclass
class _Tally:
    period_label: str = ""
    people: set[uuid.UUID] = field(default_factory=set)
    required: int = 0
    done: int = 0
    met: set[uuid.UUID] = field(default_factory=set)
    late: set[uuid.UUID] = field(default_factory=set)


def cp_review_list(session: Session, today: date, cfg: Config, *,
                   team_id: uuid.UUID | None = None) -> list[CpReviewRow]:
    """Children on CP plans ending within three months or running beyond eighteen, with when
    the case was last audited and whether that was in this review period (the frequency of the
    programme's review_cp_long_or_ending task; quarterly when it has none)."""
    frequency = next((t.frequency for t in cfg.programme if t.task == "review_cp_long_or_ending"), "quarterly")
    period = period_containing(frequency, today)
    stmt = (select(Case.id, Case.reference, Case.team_id, Team.code, Person.name, Case.cp_plan_start,
                   Case.cp_plan_end, Case.closed_on)
            .outerjoin(Team, Team.id == Case.team_id).outerjoin(Person, Person.id == Case.worker_id)
            .where(Case.cp_plan_start.is_not(None), Case.cp_plan_start <= today,
                   or_(Case.closed_on.is_(None), Case.closed_on > today),
                   or_(Case.cp_plan_end.is_(None), Case.cp_plan_end >= today)))
    if team_id is not None:
        stmt = stmt.where(Case.team_id == team_id)
    candidates = []
    for case_id, reference, team, code, worker, start, end, closed in session.execute(stmt):
        reason = cp_review_reason(start, end, closed, today)
        if reason:
            candidates.append((case_id, reference, team, code or "", worker or "", start, end, reason))
    last: dict[uuid.UUID, date] = {}
    ids = [c[0] for c in candidates]
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        for case_id, day in session.execute(select(Audit.case_id, Audit.audit_date).where(
                Audit.case_id.in_(chunk), Audit.status != "draft", Audit.audit_date <= today)):
            last[case_id] = max(day, last.get(case_id, day))
    rows = [CpReviewRow(case_id, reference, team, code, worker, start, end, reason, last.get(case_id),
                        last.get(case_id) in period, period.label)
            for case_id, reference, team, code, worker, start, end, reason in candidates]
    rows.sort(key=lambda r: (r.reviewed_this_period, r.team_code, r.case_reference))
    return rows
