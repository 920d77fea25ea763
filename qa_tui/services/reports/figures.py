"""The figures of a monthly or quarterly QA report, per team, as frozen DTOs: completed audits by
grade, calibration between auditors and moderators, moderation timeliness, actions, observation
coverage, supervision, dip sample results, family feedback, themes and programme compliance."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_tui.config import CHECKLIST_KINDS, Config
from qa_tui.dates import Month
from qa_tui.db.models import (
    Action,
    ActionChange,
    Audit,
    AuditGrade,
    AuditTemplate,
    Moderation,
    Observation,
    Person,
    Service,
    Supervision,
    Team,
)
from qa_tui.services.audits.moderation import Calibration, calibration
from qa_tui.services.audits.record import is_not_finalised_in_time, is_past_moderation_deadline, local_date
from qa_tui.services.practice.feedback import FeedbackSummary, feedback_summary
from qa_tui.services.practice.observations import (
    PRACTITIONER_ROLES,
    ThemeCount,
    coverage_rows,
    observation_coverage,
    observation_themes,
)
from qa_tui.services.practice.supervision import status_rows, supervision_status
from qa_tui.services.programme.facts import PersonRow, load_people
from qa_tui.services.programme.compliance import Compliance, compliance_tables
from qa_tui.services.programme.periods import Period, month_period

TREND_MONTHS = 6
NO_TEAM = ""
TIMELINESS_MEASURES = ("held", "sent_on_time", "sent_late", "not_sent_overdue", "not_sent_yet",
                       "finalised_on_time", "finalised_late", "not_finalised_overdue")
ACTION_MEASURES = ("raised", "completed", "completed_on_time", "overdue_at_end")
COVERAGE_MEASURES = ("practitioners", "covered", "due", "overdue", "observations_held")
SUPERVISION_MEASURES = ("workers", "overdue", "held_in_period")


@dataclass(frozen=True)
class TeamDim:
    team_code: str
    team_name: str
    service_code: str
    service_name: str


@dataclass(frozen=True)
class PersonDim:
    staff_id: str
    name: str
    role: str
    team_code: str


GRADES = "grades"


@dataclass(frozen=True)
class GradeRow:
    team_code: str
    grade: int  # index into the grading scale, 0 = best
    grade_label: str
    agreed: int  # completed audits whose auditors' agreed overall grade is this
    moderated: int  # completed audits whose moderated overall grade is this
    scale: str = GRADES  # GRADES: the grading scale; otherwise the checklist kind whose own scale it is


@dataclass(frozen=True)
class CalibrationRow:
    scope: str  # auditor / team / council
    scope_id: str  # the auditor's staff ID, the team code, or "" for the council
    period_id: str
    audits: int
    domain_grades: int  # domain grades compared
    agreed: int
    regraded_up: int  # the moderator gave a better grade
    regraded_down: int
    kappa: float | None  # Cohen's kappa between auditor and moderator; None when undefined

    @property
    def agreement(self) -> float | None:
        return self.agreed / self.domain_grades if self.domain_grades else None


@dataclass(frozen=True)
class MeasureRow:
    team_code: str
    measure: str
    value: int


@dataclass(frozen=True)
class DipRow:
    team_code: str
    area_key: str
    area_label: str
    rating: int  # index into the dip sample scale, 0 = Met
    rating_label: str
    cases: int


@dataclass(frozen=True)
class ThemeRow:
    source: str  # observation / feedback
    theme: str
    mentions: int


@dataclass(frozen=True)
class PeriodReport:
    period: Period
    as_at: date  # figures that are a state (coverage, overdue) are taken on this day
    made_on: date
    teams: tuple[TeamDim, ...]
    people: tuple[PersonDim, ...]
    grading_scale: tuple[str, ...]
    grades: tuple[GradeRow, ...]
    calibration: tuple[CalibrationRow, ...]
    calibration_by_domain: Calibration
    calibration_trend: tuple[CalibrationRow, ...]  # per month and team, the TREND_MONTHS to the period's end
    moderation: tuple[MeasureRow, ...]
    actions: tuple[MeasureRow, ...]
    observations: tuple[MeasureRow, ...]
    supervision: tuple[MeasureRow, ...]
    dip_samples: tuple[DipRow, ...]
    feedback: FeedbackSummary
    themes: tuple[ThemeRow, ...]
    compliance_by_team: Compliance
    compliance_by_role: Compliance

    @property
    def period_id(self) -> str:
        return self.period.label


def monthly_report(session: Session, month: Month, today: date, cfg: Config) -> PeriodReport:
    return period_report(session, month_period(month), today, cfg)


def period_report(session: Session, period: Period, today: date, cfg: Config) -> PeriodReport:
    """Every figure for `period`. Counts of things done (audits held, actions raised) cover the
    period; states (coverage, overdue, compliance) are taken at its end, or today while it runs.
    A closed period is read as it stood at its end from the dates each change was made (sent,
    moderated, finalised, done, extended, cancelled), so running it again later gives the same
    figures; `made_on` says when it was made."""
    as_at = min(period.end, today)
    teams = team_dims(session)
    code_of = {team_id: dim.team_code for team_id, dim in teams.items()}
    calibration_rows, auditors = _calibration(session, period.start, period.end, period.label, code_of)
    trend: list[CalibrationRow] = []
    last = Month.of(period.end)
    for back in range(TREND_MONTHS - 1, -1, -1):
        month = last.shift(-back)
        rows, _ = _calibration(session, month.first, month.last, str(month), code_of)
        trend += [r for r in rows if r.scope != "auditor"]
    closed = as_at < today
    by_team, by_role = compliance_tables(session, as_at, cfg, ("team", "role"), closed=closed)
    then = people_then(session, as_at) if closed else None
    team_at = {p.id: p.team_id for p in then} if then is not None else None
    return PeriodReport(
        period=period, as_at=as_at, made_on=today,
        teams=tuple(sorted(teams.values(), key=lambda t: t.team_code)),
        people=_people(session, as_at, code_of, auditors, closed),
        grading_scale=cfg.grading_scale,
        grades=_grades(session, period, as_at, code_of, cfg.grading_scale),
        calibration=tuple(calibration_rows),
        calibration_by_domain=calibration(session, period.start, period.end),
        calibration_trend=tuple(trend),
        moderation=_timeliness(session, period, as_at, cfg, code_of),
        actions=_actions(session, period, as_at, code_of),
        observations=observation_measures(session, period, as_at, cfg, code_of, team_at, then),
        supervision=_supervision(session, period, as_at, cfg, code_of, team_at, then),
        dip_samples=dip_sample_rows(session, period, code_of),
        feedback=feedback_summary(session, period.start, period.end),
        themes=_themes(session, period),
        compliance_by_team=by_team,
        compliance_by_role=by_role,
    )


def cohens_kappa(pairs: Sequence[tuple[int, int]]) -> float | None:
    """Agreement between two raters beyond chance: (observed − expected) / (1 − expected). None
    with no pairs, or when chance agreement is certain (both raters always gave one grade)."""
    if not pairs:
        return None
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[k] * second[k] for k in first) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def last_complete_month(today: date) -> Month:
    return Month.of(today.replace(day=1) - timedelta(days=1))


def team_dims(session: Session) -> dict[uuid.UUID, TeamDim]:
    """Every team with its service, by team ID."""
    rows = session.execute(select(Team.id, Team.code, Team.name, Service.code, Service.name)
                           .outerjoin(Service, Service.id == Team.service_id))
    return {t_id: TeamDim(code, name, s_code or "", s_name or "") for t_id, code, name, s_code, s_name in rows}


def _people(session: Session, as_at: date, code_of: dict[uuid.UUID, str], also: Iterable[uuid.UUID],
            closed: bool) -> tuple[PersonDim, ...]:
    """Everyone in post on `as_at` and the auditors of the period; a closed period's as they stood at its end."""
    also = set(also)
    dims = [PersonDim(p.staff_id, p.name, p.role, code_of.get(p.team_id, NO_TEAM))  # type: ignore[arg-type]
            for p in load_people(session, as_at if closed else None).values() if p.id in also or p.active_on(as_at)]
    return tuple(sorted(dims, key=lambda d: d.staff_id))


def _calibration(session: Session, since: date, until: date, period_id: str,
                 code_of: dict[uuid.UUID, str]) -> tuple[list[CalibrationRow], set[uuid.UUID]]:
    """Domain grades compared between auditor and moderator, per auditor, per team and for the
    council (the same comparison as moderation.calibration, which gives it per domain)."""
    moderations = session.execute(
        select(Moderation.audit_id, Moderation.grades, Audit.auditor_id, Audit.team_id)
        .join(Audit, Audit.id == Moderation.audit_id)
        .where(Moderation.outcome.in_(("agreed", "regraded")), Audit.kind.not_in(CHECKLIST_KINDS),
               Moderation.moderated_on >= since, Moderation.moderated_on <= until)).all()
    ids = list({m.audit_id for m in moderations})
    auditor_grades: dict[tuple[uuid.UUID, str], int | None] = {}
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        auditor_grades.update({(a, d): g for a, d, g in session.execute(
            select(AuditGrade.audit_id, AuditGrade.domain, AuditGrade.grade)
            .where(AuditGrade.audit_id.in_(chunk), AuditGrade.participant_id.is_(None)))})
    staff = dict(session.execute(select(Person.id, Person.staff_id)).all())
    audits_in: dict[tuple[str, str], set[uuid.UUID]] = defaultdict(set)
    pairs_in: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for m in moderations:
        pairs = [(before, after["grade"]) for domain, after in (m.grades or {}).items()
                 if (before := auditor_grades.get((m.audit_id, domain))) is not None
                 and after.get("grade") is not None]
        for scope in (("auditor", staff.get(m.auditor_id, "")), ("team", code_of.get(m.team_id, NO_TEAM)),
                      ("council", "")):
            audits_in[scope].add(m.audit_id)
            pairs_in[scope].extend(pairs)
    order = {"council": 0, "team": 1, "auditor": 2}
    rows = []
    for scope, scope_id in sorted(audits_in, key=lambda k: (order[k[0]], k[1])):
        pairs = pairs_in[(scope, scope_id)]
        rows.append(CalibrationRow(
            scope, scope_id, period_id, len(audits_in[(scope, scope_id)]), len(pairs),
            sum(a == b for a, b in pairs), sum(b < a for a, b in pairs), sum(b > a for a, b in pairs),
            cohens_kappa(pairs)))
    return rows, {m.auditor_id for m in moderations if m.auditor_id is not None}


def _grades(session: Session, period: Period, as_at: date, code_of: dict[uuid.UUID, str],
            scale: tuple[str, ...]) -> tuple[GradeRow, ...]:
    """Audits held in the period, other than dip samples, completed (moderated or finalised) by
    `as_at`, by team and overall grade: the auditors' agreed grade and the latest moderated grade
    by then. A moderation or finalising after `as_at` leaves a closed period's figures alone."""
    audits = session.execute(select(Audit.id, Audit.team_id, Audit.overall_grade, Audit.kind, AuditTemplate.scale,
                                    Audit.finalised_at)
                             .join(AuditTemplate, AuditTemplate.id == Audit.template_id).where(
        Audit.status.in_(("moderated", "finalised")), Audit.kind != "dip_sample",
        Audit.audit_date >= period.start, Audit.audit_date <= period.end)).all()
    ids = [a[0] for a in audits]
    latest: dict[uuid.UUID, int | None] = {}
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        latest.update(session.execute(
            select(Moderation.audit_id, Moderation.overall_grade)
            .where(Moderation.audit_id.in_(chunk), Moderation.outcome.in_(("agreed", "regraded")),
                   Moderation.moderated_on <= as_at)
            .order_by(Moderation.moderated_on, Moderation.created_at)).all())
    agreed: Counter[tuple[str, str, int]] = Counter()
    final: Counter[tuple[str, str, int]] = Counter()
    scales = {GRADES: scale}
    for audit_id, team_id, grade, kind, own_scale, finalised_at in audits:
        finalised = local_date(finalised_at)
        if audit_id not in latest and (finalised is None or finalised > as_at):
            continue  # not yet completed at `as_at`
        key = kind if kind in CHECKLIST_KINDS else GRADES  # each kind keeps its own scale
        scales.setdefault(key, tuple(own_scale or ()))
        team = code_of.get(team_id, NO_TEAM)
        if grade is not None:
            agreed[(key, team, grade)] += 1
        if latest.get(audit_id) is not None:
            final[(key, team, latest[audit_id])] += 1
    keys = sorted(set(agreed) | set(final), key=lambda k: (k[0] != GRADES, k))

    def label(key: str, grade: int) -> str:
        return scales[key][grade] if 0 <= grade < len(scales[key]) else str(grade)

    return tuple(GradeRow(team, grade, label(key, grade), agreed[(key, team, grade)], final[(key, team, grade)], key)
                 for key, team, grade in keys)


def _measures(counts: dict[str, Counter[str]], measures: tuple[str, ...]) -> tuple[MeasureRow, ...]:
    return tuple(MeasureRow(team, measure, counts[team][measure]) for team in sorted(counts) for measure in measures)


def _timeliness(session: Session, period: Period, as_at: date, cfg: Config,
                code_of: dict[uuid.UUID, str]) -> tuple[MeasureRow, ...]:
    """Audits held in the period (other than dip samples, which are not moderated): sent for
    moderation by the deadline or not, and finalised in time or not, as they stood at `as_at`
    (sent or finalised after it: not yet, then)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row in session.execute(select(Audit.team_id, Audit.audit_date, Audit.submitted_at, Audit.finalised_at).where(
            Audit.kind != "dip_sample", Audit.audit_date >= period.start, Audit.audit_date <= period.end)):
        a = _AuditThen(row.audit_date, *(moment if (local_date(moment) or date.max) <= as_at else None
                                         for moment in (row.submitted_at, row.finalised_at)))
        c = counts[code_of.get(row.team_id, NO_TEAM)]
        c["held"] += 1
        late = is_past_moderation_deadline(a, as_at, cfg)
        if a.submitted_at is not None:
            c["sent_late" if late else "sent_on_time"] += 1
        else:
            c["not_sent_overdue" if late else "not_sent_yet"] += 1
        finalised_late = is_not_finalised_in_time(a, as_at, cfg)
        if a.finalised_at is not None:
            c["finalised_late" if finalised_late else "finalised_on_time"] += 1
        elif finalised_late:
            c["not_finalised_overdue"] += 1
    return _measures(counts, TIMELINESS_MEASURES)


@dataclass(frozen=True)
class _AuditThen:
    """An audit's dates as they stood on a day: sent and finalised only if by then."""

    audit_date: date
    submitted_at: datetime | None
    finalised_at: datetime | None


def _actions(session: Session, period: Period, as_at: date, code_of: dict[uuid.UUID, str]) -> tuple[MeasureRow, ...]:
    """Actions raised and completed in the period (on time: by the due date), and those overdue
    at `as_at` (open then, past the due date in force then: an extension counts from the day it
    was made, so a closed period's figure never changes)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    in_period = (Action.raised_on >= period.start) & (Action.raised_on <= period.end)
    done_in_period = (Action.completed_on >= period.start) & (Action.completed_on <= period.end)
    # The due date as it stood at `as_at`, from the change history: an extension made later
    # (extensions only move the date on) leaves its old date in force until it was made.
    extended_later = select(ActionChange.id).where(
        ActionChange.action_id == Action.id, ActionChange.change == "extended", ActionChange.changed_on > as_at)
    due_then_passed = ((Action.due_on < as_at) & ~extended_later.exists()) | extended_later.where(
        ActionChange.old_value < as_at.isoformat()).exists()
    cancelled_later = select(ActionChange.id).where(
        ActionChange.action_id == Action.id, ActionChange.change == "cancelled", ActionChange.changed_on > as_at)
    overdue = (((Action.status != "cancelled") | cancelled_later.exists()) & (Action.raised_on <= as_at)
               & due_then_passed
               & (Action.completed_on.is_(None) | (Action.completed_on > as_at)))
    stmt = select(
        Action.team_id,
        func.count().filter(in_period),
        func.count().filter(done_in_period),
        func.count().filter(done_in_period & (Action.completed_on <= Action.due_on)),
        func.count().filter(overdue),
    ).where(in_period | done_in_period | overdue).group_by(Action.team_id)
    for team_id, raised, completed, on_time, late in session.execute(stmt):
        c = counts[code_of.get(team_id, NO_TEAM)]
        c.update(raised=raised, completed=completed, completed_on_time=on_time, overdue_at_end=late)
    return _measures(counts, ACTION_MEASURES)


def observation_measures(session: Session, period: Period, as_at: date, cfg: Config,
                         code_of: dict[uuid.UUID, str],
                         team_at: dict[uuid.UUID, uuid.UUID | None] | None = None,
                         then: list[PersonRow] | None = None) -> tuple[MeasureRow, ...]:
    """Financial-year observation coverage per team at `as_at`, and observations held in the
    period; for a closed period, of the people in post at its end (`then`), each counted for the
    team they were in (`team_at`)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    coverage = (observation_coverage(session, as_at, cfg) if then is None else
                coverage_rows(session, [p for p in then if p.role in PRACTITIONER_ROLES], as_at, cfg))
    for row in coverage:
        c = counts[_team_code(row.worker_id, row.team_code, code_of, team_at)]
        c["practitioners"] += 1
        c[row.status] += 1
    for worker_id, team_id, held in session.execute(
            select(Person.id, Person.team_id, func.count()).select_from(Observation)
            .join(Person, Person.id == Observation.worker_id)
            .where(Observation.observed_on >= period.start, Observation.observed_on <= period.end)
            .group_by(Person.id, Person.team_id)):
        counts[_team_code(worker_id, code_of.get(team_id), code_of, team_at)]["observations_held"] += held
    return _measures(counts, COVERAGE_MEASURES)


def people_then(session: Session, as_at: date) -> list[PersonRow]:
    """Everyone in post at the end of `as_at`, as they stood then (team, role, dates), by name."""
    people = [p for p in load_people(session, as_at).values() if p.active_on(as_at)]
    return sorted(people, key=lambda p: (p.name, p.staff_id))


def _team_code(worker_id: uuid.UUID, code_now: str | None, code_of: dict[uuid.UUID, str],
               team_at: dict[uuid.UUID, uuid.UUID | None] | None) -> str:
    if team_at is None:
        return code_now or NO_TEAM
    return code_of.get(team_at.get(worker_id), NO_TEAM)  # type: ignore[arg-type]


def _supervision(session: Session, period: Period, as_at: date, cfg: Config, code_of: dict[uuid.UUID, str],
                 team_at: dict[uuid.UUID, uuid.UUID | None] | None = None,
                 then: list[PersonRow] | None = None) -> tuple[MeasureRow, ...]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row in supervision_status(session, as_at, cfg) if then is None else status_rows(session, then, as_at, cfg):
        c = counts[_team_code(row.worker_id, row.team_code, code_of, team_at)]
        c["workers"] += 1
        c["overdue"] += row.overdue
    for worker_id, team_id, held in session.execute(
            select(Person.id, Person.team_id, func.count()).select_from(Supervision)
            .join(Person, Person.id == Supervision.worker_id)
            .where(Supervision.held_on >= period.start, Supervision.held_on <= period.end)
            .group_by(Person.id, Person.team_id)):
        counts[_team_code(worker_id, code_of.get(team_id), code_of, team_at)]["held_in_period"] += held
    return _measures(counts, SUPERVISION_MEASURES)


def dip_sample_rows(session: Session, period: Period, code_of: dict[uuid.UUID, str]) -> tuple[DipRow, ...]:
    """Finalised dip samples held in the period: how many cases met each area, per team."""
    rows = session.execute(
        select(Audit.team_id, AuditGrade.domain, AuditGrade.grade, AuditTemplate.domains, AuditTemplate.scale)
        .join(AuditGrade, AuditGrade.audit_id == Audit.id).join(AuditTemplate, AuditTemplate.id == Audit.template_id)
        .where(Audit.kind == "dip_sample", Audit.status == "finalised", AuditGrade.participant_id.is_(None),
               AuditGrade.grade.is_not(None), Audit.audit_date >= period.start, Audit.audit_date <= period.end)
    ).all()
    counts: Counter[tuple[str, str, int]] = Counter()
    labels: dict[str, str] = {}
    ratings: dict[int, str] = {}
    order: dict[str, int] = {}
    for team_id, domain, grade, domains, scale in rows:
        counts[(code_of.get(team_id, NO_TEAM), domain, grade)] += 1
        for index, d in enumerate(domains):
            labels.setdefault(d["key"], d["label"])
            order.setdefault(d["key"], index)
        ratings.setdefault(grade, scale[grade] if 0 <= grade < len(scale) else str(grade))
    return tuple(DipRow(team, domain, labels.get(domain, domain), grade, ratings[grade], n)
                 for (team, domain, grade), n in sorted(counts.items(), key=lambda kv: (
                     kv[0][0], order.get(kv[0][1], len(order)), kv[0][1], kv[0][2])))


def _themes(session: Session, period: Period) -> tuple[ThemeRow, ...]:
    feedback = feedback_summary(session, period.start, period.end).themes
    observed: list[ThemeCount] = observation_themes(session, period.start, period.end)
    return tuple([ThemeRow("observation", t.theme, t.count) for t in observed]
                 + [ThemeRow("feedback", t.theme, t.count) for t in feedback])


# --- the same figures for one month at a time, for the trend charts (reports/trends.py) -----


def calibration_for(session: Session, since: date, until: date, period_id: str,
                    code_of: dict[uuid.UUID, str]) -> list[CalibrationRow]:
    return _calibration(session, since, until, period_id, code_of)[0]


def completed_grades(session: Session, period: Period, as_at: date, code_of: dict[uuid.UUID, str],
                     scale: tuple[str, ...]) -> tuple[GradeRow, ...]:
    return _grades(session, period, as_at, code_of, scale)


def action_measures(session: Session, period: Period, as_at: date,
                    code_of: dict[uuid.UUID, str]) -> tuple[MeasureRow, ...]:
    return _actions(session, period, as_at, code_of)
