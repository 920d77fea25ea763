"""Monthly and quarterly QA reports: figures per team as frozen DTOs, rendered as Markdown, or
exported as a folder of tidy CSV files (long fact tables plus dimensions) for Power BI."""

from __future__ import annotations

import csv
import io
import os
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_tui.config import Config
from qa_tui.dates import Month, financial_year_label
from qa_tui.db import trail
from qa_tui.db.models import (
    Action,
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
from qa_tui.services.audits.record import is_not_finalised_in_time, is_past_moderation_deadline
from qa_tui.services.practice.feedback import FeedbackSummary, feedback_summary
from qa_tui.services.audits.moderation import Calibration, calibration
from qa_tui.services.practice.observations import ThemeCount, observation_coverage, observation_themes
from qa_tui.services.programme.compliance import Compliance, compliance_tables
from qa_tui.services.programme.periods import Period, month_period
from qa_tui.services.practice.supervision import supervision_status

TREND_MONTHS = 6
NO_TEAM = ""
TIMELINESS_MEASURES = ("held", "sent_on_time", "sent_late", "not_sent_overdue", "not_sent_yet",
                       "finalised_on_time", "finalised_late", "not_finalised_overdue")
ACTION_MEASURES = ("raised", "completed", "completed_on_time", "overdue_at_end")
COVERAGE_MEASURES = ("practitioners", "covered", "due", "overdue", "observations_held")
SUPERVISION_MEASURES = ("workers", "overdue", "held_in_period")


# --- the report -----------------------------------------------------------------------------


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


@dataclass(frozen=True)
class GradeRow:
    team_code: str
    grade: int  # index into the grading scale, 0 = best
    grade_label: str
    agreed: int  # completed audits whose auditors' agreed overall grade is this
    moderated: int  # completed audits whose moderated overall grade is this


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
    period; states (coverage, overdue, compliance) are taken at its end, or today while it runs."""
    as_at = min(period.end, today)
    teams = _teams(session)
    code_of = {team_id: dim.team_code for team_id, dim in teams.items()}
    calibration_rows, auditors = _calibration(session, period.start, period.end, period.label, code_of)
    trend: list[CalibrationRow] = []
    last = Month.of(period.end)
    for back in range(TREND_MONTHS - 1, -1, -1):
        month = last.shift(-back)
        rows, _ = _calibration(session, month.first, month.last, str(month), code_of)
        trend += [r for r in rows if r.scope != "auditor"]
    by_team, by_role = compliance_tables(session, as_at, cfg, ("team", "role"))
    return PeriodReport(
        period=period, as_at=as_at, made_on=today,
        teams=tuple(sorted(teams.values(), key=lambda t: t.team_code)),
        people=_people(session, as_at, code_of, auditors),
        grading_scale=cfg.grading_scale,
        grades=_grades(session, period, code_of, cfg.grading_scale),
        calibration=tuple(calibration_rows),
        calibration_by_domain=calibration(session, period.start, period.end),
        calibration_trend=tuple(trend),
        moderation=_timeliness(session, period, today, cfg, code_of),
        actions=_actions(session, period, as_at, code_of),
        observations=_observations(session, period, as_at, cfg, code_of),
        supervision=_supervision(session, period, as_at, cfg, code_of),
        dip_samples=_dip_samples(session, period, code_of),
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


# --- figures --------------------------------------------------------------------------------


def _teams(session: Session) -> dict[uuid.UUID, TeamDim]:
    rows = session.execute(select(Team.id, Team.code, Team.name, Service.code, Service.name)
                           .outerjoin(Service, Service.id == Team.service_id))
    return {t_id: TeamDim(code, name, s_code or "", s_name or "") for t_id, code, name, s_code, s_name in rows}


def _people(session: Session, as_at: date, code_of: dict[uuid.UUID, str],
            also: Iterable[uuid.UUID]) -> tuple[PersonDim, ...]:
    also = set(also)
    rows = session.execute(select(Person.id, Person.staff_id, Person.name, Person.role, Person.team_id,
                                  Person.active_from, Person.active_to))
    dims = [PersonDim(staff_id, name, role, code_of.get(team_id, NO_TEAM))
            for p_id, staff_id, name, role, team_id, start, end in rows
            if p_id in also or ((start is None or start <= as_at) and (end is None or end >= as_at))]
    return tuple(sorted(dims, key=lambda d: d.staff_id))


def _calibration(session: Session, since: date, until: date, period_id: str,
                 code_of: dict[uuid.UUID, str]) -> tuple[list[CalibrationRow], set[uuid.UUID]]:
    """Domain grades compared between auditor and moderator, per auditor, per team and for the
    council (the same comparison as moderation.calibration, which gives it per domain)."""
    moderations = session.execute(
        select(Moderation.audit_id, Moderation.grades, Audit.auditor_id, Audit.team_id)
        .join(Audit, Audit.id == Moderation.audit_id)
        .where(Moderation.outcome.in_(("agreed", "regraded")),
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


def _grades(session: Session, period: Period, code_of: dict[uuid.UUID, str],
            scale: tuple[str, ...]) -> tuple[GradeRow, ...]:
    """Completed (moderated or finalised) audits held in the period, other than dip samples, by
    team and overall grade: the auditors' agreed grade and the latest moderated grade."""
    audits = session.execute(select(Audit.id, Audit.team_id, Audit.overall_grade).where(
        Audit.status.in_(("moderated", "finalised")), Audit.kind != "dip_sample",
        Audit.audit_date >= period.start, Audit.audit_date <= period.end)).all()
    ids = [a[0] for a in audits]
    latest: dict[uuid.UUID, int | None] = {}
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        latest.update(session.execute(
            select(Moderation.audit_id, Moderation.overall_grade)
            .where(Moderation.audit_id.in_(chunk), Moderation.outcome.in_(("agreed", "regraded")))
            .order_by(Moderation.moderated_on, Moderation.created_at)).all())
    agreed: Counter[tuple[str, int]] = Counter()
    final: Counter[tuple[str, int]] = Counter()
    for audit_id, team_id, grade in audits:
        team = code_of.get(team_id, NO_TEAM)
        if grade is not None:
            agreed[(team, grade)] += 1
        if latest.get(audit_id) is not None:
            final[(team, latest[audit_id])] += 1
    keys = sorted(set(agreed) | set(final))
    return tuple(GradeRow(team, grade, scale[grade] if 0 <= grade < len(scale) else str(grade),
                          agreed[(team, grade)], final[(team, grade)]) for team, grade in keys)


def _measures(counts: dict[str, Counter[str]], measures: tuple[str, ...]) -> tuple[MeasureRow, ...]:
    return tuple(MeasureRow(team, measure, counts[team][measure]) for team in sorted(counts) for measure in measures)


def _timeliness(session: Session, period: Period, today: date, cfg: Config,
                code_of: dict[uuid.UUID, str]) -> tuple[MeasureRow, ...]:
    """Audits held in the period (other than dip samples, which are not moderated): sent for
    moderation by the deadline or not, and finalised in time or not, as of today."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for a in session.execute(select(Audit.team_id, Audit.audit_date, Audit.submitted_at, Audit.moderated_at,
                                    Audit.finalised_at, Audit.status).where(
            Audit.kind != "dip_sample", Audit.audit_date >= period.start, Audit.audit_date <= period.end)):
        c = counts[code_of.get(a.team_id, NO_TEAM)]
        c["held"] += 1
        late = is_past_moderation_deadline(a, today, cfg)
        if a.status != "draft":
            c["sent_late" if late else "sent_on_time"] += 1
        else:
            c["not_sent_overdue" if late else "not_sent_yet"] += 1
        finalised_late = is_not_finalised_in_time(a, today, cfg)
        if a.status == "finalised":
            c["finalised_late" if finalised_late else "finalised_on_time"] += 1
        elif finalised_late:
            c["not_finalised_overdue"] += 1
    return _measures(counts, TIMELINESS_MEASURES)


def _actions(session: Session, period: Period, as_at: date, code_of: dict[uuid.UUID, str]) -> tuple[MeasureRow, ...]:
    """Actions raised and completed in the period (on time: by the due date), and those overdue
    at `as_at` (open then, past the due date; extensions move the due date)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    in_period = (Action.raised_on >= period.start) & (Action.raised_on <= period.end)
    done_in_period = (Action.completed_on >= period.start) & (Action.completed_on <= period.end)
    overdue = ((Action.status != "cancelled") & (Action.due_on < as_at)
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


def _observations(session: Session, period: Period, as_at: date, cfg: Config,
                  code_of: dict[uuid.UUID, str]) -> tuple[MeasureRow, ...]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row in observation_coverage(session, as_at, cfg):
        c = counts[row.team_code or NO_TEAM]
        c["practitioners"] += 1
        c[row.status] += 1
    for team_id, held in session.execute(
            select(Person.team_id, func.count()).select_from(Observation)
            .join(Person, Person.id == Observation.worker_id)
            .where(Observation.observed_on >= period.start, Observation.observed_on <= period.end)
            .group_by(Person.team_id)):
        counts[code_of.get(team_id, NO_TEAM)]["observations_held"] += held
    return _measures(counts, COVERAGE_MEASURES)


def _supervision(session: Session, period: Period, as_at: date, cfg: Config,
                 code_of: dict[uuid.UUID, str]) -> tuple[MeasureRow, ...]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row in supervision_status(session, as_at, cfg):
        c = counts[row.team_code or NO_TEAM]
        c["workers"] += 1
        c["overdue"] += row.overdue
    for team_id, held in session.execute(
            select(Person.team_id, func.count()).select_from(Supervision)
            .join(Person, Person.id == Supervision.worker_id)
            .where(Supervision.held_on >= period.start, Supervision.held_on <= period.end)
            .group_by(Person.team_id)):
        counts[code_of.get(team_id, NO_TEAM)]["held_in_period"] += held
    return _measures(counts, SUPERVISION_MEASURES)


def _dip_samples(session: Session, period: Period, code_of: dict[uuid.UUID, str]) -> tuple[DipRow, ...]:
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


# --- Markdown -------------------------------------------------------------------------------


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    rows = [[_cell(v) for v in row] for row in rows]
    if not rows:
        return ["_None._", ""]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _pivot(rows: Sequence[MeasureRow], measures: tuple[str, ...]) -> list[list[Any]]:
    by_team: dict[str, dict[str, int]] = defaultdict(dict)
    for r in rows:
        by_team[r.team_code][r.measure] = r.value
    return [[team or "(no team)", *(values.get(m, 0) for m in measures)] for team, values in sorted(by_team.items())]


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


def report_markdown(report: PeriodReport) -> str:
    """The report for reading: one section per topic, teams by code, cases never named."""
    p = report.period
    title = "Monthly" if p.frequency == "monthly" else "Quarterly" if p.frequency == "quarterly" else "Period"
    lines = [f"# {title} QA report: {p.label}", "",
             f"{p.start.isoformat()} to {p.end.isoformat()} ({financial_year_label(p.start)}). "
             f"States taken on {report.as_at.isoformat()}; made on {report.made_on.isoformat()}.", ""]

    lines += ["## Audits completed by team and grade", "",
              "Completed audits (moderated or finalised) held in the period, other than dip samples. "
              "Agreed: the auditors' overall grade; moderated: the moderator's.", ""]
    lines += _table(["Team", "Grade", "Agreed", "Moderated"],
                    [[g.team_code or "(no team)", g.grade_label, g.agreed, g.moderated] for g in report.grades])

    lines += ["## Calibration", "",
              "Domain grades compared between auditor and moderator for moderations in the period. "
              "Up: the moderator gave a better grade. Kappa: Cohen's kappa (1 = full agreement, "
              "0 = no better than chance).", ""]
    lines += _table(["Scope", "Who", "Audits", "Grades compared", "Agreed", "Up", "Down", "Agreement", "Kappa"],
                    [[c.scope, c.scope_id or "all", c.audits, c.domain_grades, c.agreed, c.regraded_up,
                      c.regraded_down, _percent(c.agreement), c.kappa] for c in report.calibration])
    lines += ["By domain:", ""]
    lines += _table(["Domain", "Agreed", "Up", "Down"],
                    [[d.domain, d.agreed, d.regraded_up, d.regraded_down]
                     for d in report.calibration_by_domain.by_domain])
    lines += [f"Trend (council, last {TREND_MONTHS} months):", ""]
    lines += _table(["Month", "Audits", "Agreement", "Kappa"],
                    [[c.period_id, c.audits, _percent(c.agreement), c.kappa]
                     for c in report.calibration_trend if c.scope == "council"])

    lines += ["## Moderation timeliness", ""]
    lines += _table(["Team", *TIMELINESS_MEASURES], _pivot(report.moderation, TIMELINESS_MEASURES))
    lines += ["## Actions", ""]
    lines += _table(["Team", *ACTION_MEASURES], _pivot(report.actions, ACTION_MEASURES))
    lines += ["## Observation coverage", "", f"Financial-year coverage on {report.as_at.isoformat()}.", ""]
    lines += _table(["Team", *COVERAGE_MEASURES], _pivot(report.observations, COVERAGE_MEASURES))
    lines += ["## Supervision", "", f"Overdue by cadence on {report.as_at.isoformat()}.", ""]
    lines += _table(["Team", *SUPERVISION_MEASURES], _pivot(report.supervision, SUPERVISION_MEASURES))

    lines += ["## Dip sample results by area", ""]
    lines += _table(["Team", "Area", "Rating", "Cases"],
                    [[d.team_code or "(no team)", d.area_label, d.rating_label, d.cases] for d in report.dip_samples])

    f = report.feedback
    lines += ["## Family feedback", "",
              f"{f.received} received, {f.rated} rated, average rating "
              f"{'—' if f.average_rating is None else f'{f.average_rating:.2f}'} out of 5.", ""]
    lines += _table(["Rating", "Count"], f.rating_counts)
    lines += _table(["From", "Count"], [g for g in f.by_giver if g[1]])
    lines += ["## Themes", ""]
    lines += _table(["Source", "Theme", "Mentions"], [[t.source, t.theme, t.mentions] for t in report.themes])

    lines += ["## Programme compliance", ""]
    for comp in (report.compliance_by_team, report.compliance_by_role):
        lines += [f"By {comp.group_by}:", ""]
        lines += _table([comp.group_by.capitalize(), "People", "Required", "Done", "Rate", "Met", "Late"],
                        [[t.group_label, t.people, t.required, t.done, _percent(t.rate), t.people_met, t.people_late]
                         for t in comp.totals])
    return "\n".join(lines)


# --- CSV for Power BI -----------------------------------------------------------------------

# File → its columns. Stable: add columns at the end, never rename. Documented in docs/programme.md.
CSV_SCHEMA: dict[str, tuple[str, ...]] = {
    "dim_period.csv": ("period_id", "frequency", "start_date", "end_date", "financial_year", "as_at", "made_on"),
    "dim_team.csv": ("team_code", "team_name", "service_code", "service_name"),
    "dim_person.csv": ("staff_id", "name", "role", "team_code"),
    "fact_audit_grades.csv": ("period_id", "team_code", "grade_rank", "grade_label", "basis", "audits"),
    "fact_calibration.csv": ("period_id", "scope", "scope_id", "audits", "domain_grades", "agreed",
                             "regraded_up", "regraded_down", "kappa"),
    "fact_calibration_trend.csv": ("period_id", "scope", "scope_id", "audits", "domain_grades", "agreed",
                                   "regraded_up", "regraded_down", "kappa"),
    "fact_moderation_timeliness.csv": ("period_id", "team_code", "measure", "value"),
    "fact_actions.csv": ("period_id", "team_code", "measure", "value"),
    "fact_observation_coverage.csv": ("period_id", "team_code", "measure", "value"),
    "fact_supervision.csv": ("period_id", "team_code", "measure", "value"),
    "fact_dip_sample.csv": ("period_id", "team_code", "area_key", "area_label", "rating_rank", "rating_label", "cases"),
    "fact_feedback.csv": ("period_id", "dimension", "key", "value"),
    "fact_themes.csv": ("period_id", "source", "theme", "mentions"),
    "fact_programme_compliance.csv": ("period_id", "group_by", "group", "task", "frequency", "task_period",
                                      "people", "required", "done", "people_met", "people_late"),
}


def report_tables(report: PeriodReport) -> dict[str, list[tuple[Any, ...]]]:
    """The report as tidy tables: file name → rows in CSV_SCHEMA's column order."""
    pid = report.period_id
    p = report.period

    def kappa(value: float | None) -> str:
        return "" if value is None else f"{value:.4f}"

    def calibration_rows(rows: Iterable[CalibrationRow]) -> list[tuple[Any, ...]]:
        return [(c.period_id, c.scope, c.scope_id, c.audits, c.domain_grades, c.agreed, c.regraded_up,
                 c.regraded_down, kappa(c.kappa)) for c in rows]

    def measures(rows: Iterable[MeasureRow]) -> list[tuple[Any, ...]]:
        return [(pid, r.team_code, r.measure, r.value) for r in rows]

    f = report.feedback
    feedback = [(pid, "summary", "received", f.received), (pid, "summary", "rated", f.rated),
                (pid, "summary", "average_rating", "" if f.average_rating is None else f"{f.average_rating:.2f}")]
    feedback += [(pid, "rating", str(rating), n) for rating, n in f.rating_counts]
    feedback += [(pid, "giver", giver, n) for giver, n in f.by_giver]
    feedback += [(pid, "channel", channel, n) for channel, n in f.by_channel]
    compliance_rows = [(pid, comp.group_by, r.group, r.task or "all", r.frequency, r.period_label, r.people,
                        r.required, r.done, r.people_met, r.people_late)
                       for comp in (report.compliance_by_team, report.compliance_by_role)
                       for r in (*comp.rows, *comp.totals)]
    return {
        "dim_period.csv": [(pid, p.frequency, p.start.isoformat(), p.end.isoformat(),
                            financial_year_label(p.start), report.as_at.isoformat(), report.made_on.isoformat())],
        "dim_team.csv": [(t.team_code, t.team_name, t.service_code, t.service_name) for t in report.teams],
        "dim_person.csv": [(d.staff_id, d.name, d.role, d.team_code) for d in report.people],
        "fact_audit_grades.csv": [(pid, g.team_code, g.grade, g.grade_label, basis, n)
                                  for g in report.grades
                                  for basis, n in (("agreed", g.agreed), ("moderated", g.moderated))],
        "fact_calibration.csv": calibration_rows(report.calibration),
        "fact_calibration_trend.csv": calibration_rows(report.calibration_trend),
        "fact_moderation_timeliness.csv": measures(report.moderation),
        "fact_actions.csv": measures(report.actions),
        "fact_observation_coverage.csv": measures(report.observations),
        "fact_supervision.csv": measures(report.supervision),
        "fact_dip_sample.csv": [(pid, d.team_code, d.area_key, d.area_label, d.rating, d.rating_label, d.cases)
                                for d in report.dip_samples],
        "fact_feedback.csv": feedback,
        "fact_themes.csv": [(pid, t.source, t.theme, t.mentions) for t in report.themes],
        "fact_programme_compliance.csv": compliance_rows,
    }


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by the owner only (0600), atomically."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _private_dir(out_dir: Path) -> Path:
    if not out_dir.exists():
        out_dir.mkdir(parents=True, mode=0o700)
    return out_dir


def export_report_csv(session: Session, report: PeriodReport, out_dir: Path) -> list[Path]:
    """Write the report's tables as UTF-8 CSV files (0600) into `out_dir` (made 0700 if new), and
    record the export in the audit trail."""
    _private_dir(out_dir)
    written = []
    for name, rows in report_tables(report).items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_SCHEMA[name])
        writer.writerows(rows)
        path = out_dir / name
        write_private(path, buffer.getvalue())
        written.append(path)
    trail.record_event(session, "export", "report", None,
                       detail=f"report {report.period_id} as CSV to {out_dir}")
    return written


def export_report_markdown(session: Session, report: PeriodReport, out_dir: Path) -> Path:
    """Write the Markdown report (0600) into `out_dir` and record the export in the audit trail."""
    path = _private_dir(out_dir) / f"qa-report-{report.period_id}.md"
    write_private(path, report_markdown(report))
    trail.record_event(session, "export", "report", None, detail=f"report {report.period_id} as Markdown to {path}")
    return path


def last_complete_month(today: date) -> Month:
    return Month.of(today.replace(day=1) - timedelta(days=1))
