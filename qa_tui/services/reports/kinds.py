"""The focused reports managers send upwards: monthly dip samples, the half-year observation report,
quarterly family feedback and the quarterly practice improvement overview, as DTOs and Markdown."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_tui.config import Config
from qa_tui.dates import Month, financial_year_label
from qa_tui.db import trail
from qa_tui.db.models import Audit, Person, SupportPlan
from qa_tui.errors import ValidationError
from qa_tui.files import write_export
from qa_tui.services.practice.celebration import CelebrationPack, celebration_pack, quarter_title
from qa_tui.services.practice.dip_sample import DIP_KIND, DIP_TEMPLATE_KEY
from qa_tui.services.practice.feedback import GIVER_LABELS, FeedbackSummary, feedback_summary
from qa_tui.services.practice.observations import (
    CoverageRow,
    ThemeCount,
    observation_coverage,
    observation_themes,
)
from qa_tui.services.programme.periods import Period, month_period, period_containing
from qa_tui.services.reports.figures import (
    COVERAGE_MEASURES,
    NO_TEAM,
    ThemeRow,
    dip_sample_rows,
    observation_measures,
    team_dims,
)
from qa_tui.services.reports.markdown import markdown_table, measures_by_team

MOST_NOT_MET_SHOWN = 3


def parse_financial_half(text: str) -> Period:
    """"2026-H1" → April to September 2026; "2026-H2" → October 2026 to March 2027."""
    try:
        year_s, half_s = text.strip().upper().split("-H")
        year, half = int(year_s), int(half_s)
    except ValueError:
        raise ValidationError("half", f"expected YYYY-H1 or YYYY-H2 such as 2026-H2, got {text!r}") from None
    if half not in (1, 2) or not 1900 <= year <= 2999:
        raise ValidationError("half", f"expected YYYY-H1 or YYYY-H2, got {text!r}")
    return period_containing("six_monthly", Month(year, 4).shift(6 * (half - 1)).first)


def _team_codes(session: Session) -> dict[uuid.UUID, str]:
    return {team_id: dim.team_code for team_id, dim in team_dims(session).items()}


def _team_label(code: str) -> str:
    return code or "(no team)"


# --- monthly dip sample report --------------------------------------------------------------


@dataclass(frozen=True)
class DipAreaLine:
    area_key: str
    area_label: str
    counts: tuple[int, ...]  # cases per rating, in the scale's order (Met, Partly met, Not met)

    @property
    def not_met(self) -> int:
        return self.counts[-1]


@dataclass(frozen=True)
class DipTeamLine:
    team_code: str
    finalised: int  # dip samples finalised with an audit date in the month
    areas: tuple[DipAreaLine, ...]  # in the template's order
    most_not_met: tuple[tuple[str, int], ...]  # (area label, cases not met), most first, none at 0


@dataclass(frozen=True)
class DipSampleReport:
    period: Period
    made_on: date
    scale: tuple[str, ...]
    teams: tuple[DipTeamLine, ...]  # every team, by code
    most_not_met: tuple[tuple[str, int], ...]  # across the council


def dip_sample_report(session: Session, month: Month, today: date, cfg: Config) -> DipSampleReport:
    """Finalised dip samples dated in `month`, per team: how many, and the ratings per area (the
    same figures as the monthly QA report's dip sample table). The last rating of the scale is
    "not met"."""
    period = month_period(month)
    code_of = _team_codes(session)
    scale = tuple(cfg.template(DIP_TEMPLATE_KEY).scale)
    finalised: Counter[str] = Counter()
    for team_id, n in session.execute(
            select(Audit.team_id, func.count()).where(
                Audit.kind == DIP_KIND, Audit.status == "finalised",
                Audit.audit_date >= period.start, Audit.audit_date <= period.end).group_by(Audit.team_id)):
        finalised[code_of.get(team_id, NO_TEAM)] += n
    areas: dict[str, dict[str, list[int]]] = defaultdict(dict)
    labels: dict[str, str] = {}
    for row in dip_sample_rows(session, period, code_of):
        labels[row.area_key] = row.area_label
        counts = areas[row.team_code].setdefault(row.area_key, [0] * len(scale))
        if 0 <= row.rating < len(scale):
            counts[row.rating] += row.cases
    council: Counter[str] = Counter()
    teams = []
    for code in sorted(set(code_of.values()) | set(finalised) | set(areas)):
        lines = tuple(DipAreaLine(key, labels[key], tuple(c)) for key, c in areas[code].items())
        council.update({line.area_label: line.not_met for line in lines})
        teams.append(DipTeamLine(code, finalised[code], lines, _most_not_met(Counter(
            {line.area_label: line.not_met for line in lines}))))
    return DipSampleReport(period, today, scale, tuple(teams), _most_not_met(council))


def _most_not_met(counts: Counter[str]) -> tuple[tuple[str, int], ...]:
    ranked = sorted(((label, n) for label, n in counts.items() if n), key=lambda kv: (-kv[1], kv[0]))
    return tuple(ranked[:MOST_NOT_MET_SHOWN])


def dip_sample_markdown(report: DipSampleReport) -> str:
    p = report.period
    lines = [f"# Dip sample report: {p.label}", "",
             f"Finalised dip samples dated {p.start.isoformat()} to {p.end.isoformat()} "
             f"({financial_year_label(p.start)}); made on {report.made_on.isoformat()}.", "",
             "## Dip samples finalised by team", ""]
    lines += markdown_table(["Team", "Finalised"], [[_team_label(t.team_code), t.finalised] for t in report.teams])
    lines += ["## Areas most often not met", ""]
    lines += markdown_table(["Area", "Cases not met"], report.most_not_met)
    lines += ["## Ratings by team and area", ""]
    lines += markdown_table(["Team", "Area", *report.scale, "Most often not met in the team"],
                            [[_team_label(t.team_code), a.area_label, *a.counts,
                              ", ".join(label for label, _ in t.most_not_met) if i == 0 else ""]
                             for t in report.teams for i, a in enumerate(t.areas)])
    return "\n".join(lines)


# --- twice-yearly observation report --------------------------------------------------------


@dataclass(frozen=True)
class ObservationTeamLine:
    team_code: str
    practitioners: int
    covered: int
    due: int
    overdue: int
    observations_held: int  # in the half year


@dataclass(frozen=True)
class ObservationReport:
    period: Period  # a half financial year
    as_at: date  # coverage is the financial year's, taken on this day
    made_on: date
    teams: tuple[ObservationTeamLine, ...]
    asye: tuple[CoverageRow, ...]  # newly qualified workers, by team then name
    themes: tuple[ThemeCount, ...]


def observation_report(session: Session, half: Period, today: date, cfg: Config) -> ObservationReport:
    """Coverage per team (the monthly report's figures, taken at the half's end or today while
    it runs), each newly qualified worker's ASYE observation status, and the half's themes."""
    as_at = min(half.end, today)
    table = measures_by_team(observation_measures(session, half, as_at, cfg, _team_codes(session)), COVERAGE_MEASURES)
    teams = tuple(ObservationTeamLine("" if code == "(no team)" else code, *values) for code, *values in table)
    asye = observation_coverage(session, as_at, cfg, roles=("NQSW",))
    return ObservationReport(half, as_at, today, teams, tuple(asye),
                             tuple(observation_themes(session, half.start, half.end)))


def observation_markdown(report: ObservationReport) -> str:
    p = report.period
    lines = [f"# Practice observation report: {p.label}", "",
             f"{p.start.isoformat()} to {p.end.isoformat()} ({financial_year_label(p.start)}). Coverage of "
             f"the financial year taken on {report.as_at.isoformat()}; made on {report.made_on.isoformat()}.", "",
             "## Coverage by team", ""]
    lines += markdown_table(["Team", "Practitioners", "Covered", "Due", "Overdue", "Observations in the half"],
                            [[_team_label(t.team_code), t.practitioners, t.covered, t.due, t.overdue,
                              t.observations_held] for t in report.teams])
    lines += ["## Newly qualified workers (ASYE)", ""]
    lines += markdown_table(["Team", "Worker", "Status", "Observed this year", "Next due", "Why"],
                            [[_team_label(r.team_code or NO_TEAM), f"{r.worker_name} ({r.staff_id})", r.status,
                              r.observed_this_year, r.next_due.isoformat() if r.next_due else None, r.reason]
                             for r in report.asye])
    lines += ["## Themes", ""]
    lines += markdown_table(["Theme", "Observations"], [[t.theme, t.count] for t in report.themes])
    return "\n".join(lines)


# --- quarterly family feedback report -------------------------------------------------------


@dataclass(frozen=True)
class FeedbackReport:
    period: Period  # a financial quarter
    made_on: date
    summary: FeedbackSummary


def feedback_report(session: Session, quarter: Period, today: date) -> FeedbackReport:
    return FeedbackReport(quarter, today, feedback_summary(session, quarter.start, quarter.end))


def feedback_markdown(report: FeedbackReport) -> str:
    f = report.summary
    average = "—" if f.average_rating is None else f"{f.average_rating:.2f}"
    lines = [f"# Family feedback report: {quarter_title(report.period)}", "",
             f"Made on {report.made_on.isoformat()}. {f.received} received, {f.rated} rated, "
             f"average rating {average} out of 5.", "", "## Who gave it", ""]
    lines += markdown_table(["From", "Count"], [[GIVER_LABELS.get(g, g), n] for g, n in f.by_giver])
    lines += ["## How it came in", ""]
    lines += markdown_table(["Channel", "Count"], f.by_channel)
    lines += ["## Ratings", ""]
    lines += markdown_table(["Rating (1 poor, 5 excellent)", "Count"], f.rating_counts)
    lines += ["## Themes", ""]
    lines += markdown_table(["Theme", "Mentions"], [[t.theme, t.count] for t in f.themes])
    return "\n".join(lines)


# --- quarterly practice improvement overview ------------------------------------------------


@dataclass(frozen=True)
class SupportCount:
    team_code: str
    open_plans: int


@dataclass(frozen=True)
class ImprovementOverview:
    period: Period  # a financial quarter
    as_at: date  # support plans open on this day
    made_on: date
    themes: tuple[ThemeRow, ...]  # source: observation / feedback / themed audit (mentions: audits in the quarter)
    pack: CelebrationPack  # good practice to celebrate, as in the learning and celebration pack
    support: tuple[SupportCount, ...]  # teams with open plans, by code; counts only: plans are private


def improvement_overview(session: Session, quarter: Period, today: date) -> ImprovementOverview:
    """Themes across observations, feedback and themed audits, the good practice marked in the
    quarter, and how many individual support plans were open per team at the quarter's end (or
    today while it runs) — never whose."""
    as_at = min(quarter.end, today)
    pack = celebration_pack(session, quarter, today=today)
    themes = ([ThemeRow("observation", t.theme, t.count) for t in pack.observation_themes]
              + [ThemeRow("feedback", t.theme, t.count) for t in pack.feedback_themes]
              + [ThemeRow("themed audit", line.theme.theme.name, line.audited_in_quarter)
                 for line in pack.themed_audits])
    code_of = _team_codes(session)
    open_plans: Counter[str] = Counter()
    for team_id, n in session.execute(
            select(Person.team_id, func.count()).select_from(SupportPlan)
            .join(Person, Person.id == SupportPlan.worker_id)
            .where(SupportPlan.started_on <= as_at,
                   SupportPlan.closed_on.is_(None) | (SupportPlan.closed_on > as_at))
            .group_by(Person.team_id)):
        open_plans[code_of.get(team_id, NO_TEAM)] += n
    support = tuple(SupportCount(code, n) for code, n in sorted(open_plans.items()))
    return ImprovementOverview(quarter, as_at, today, tuple(themes), pack, support)


def improvement_markdown(report: ImprovementOverview) -> str:
    lines = [f"# Practice improvement overview: {quarter_title(report.period)}", "",
             f"Made on {report.made_on.isoformat()}.", "", "## Themes across all sources", "",
             "Observation and feedback themes by mentions; themed audits by audits carried out in the quarter.", ""]
    lines += markdown_table(["Source", "Theme", "Count"], [[t.source, t.theme, t.mentions] for t in report.themes])
    lines += ["## Where support is needed", "",
              f"Individual support plans open on {report.as_at.isoformat()}, per team. Counts only: "
              "plans are private to the worker and their management line.", ""]
    lines += markdown_table(["Team", "Open support plans"],
                            [[_team_label(s.team_code), s.open_plans] for s in report.support])
    good = report.pack.good_practice
    lines += [f"## Good practice to celebrate ({len(good)})", ""]
    lines += markdown_table(["Worker", "What", "When", "Why"],
                            [[i.worker_name or "—", i.what, i.happened_on.isoformat(), i.why] for i in good])
    return "\n".join(lines)


# --- writing --------------------------------------------------------------------------------


def export_markdown(session: Session, markdown: str, path: Path, what: str) -> Path:
    """Write a report's Markdown to `path` (0600) and note the export on the audit trail."""
    written = write_export(path, markdown)
    trail.record_event(session, "export", "report", None, detail=f"{what} as Markdown to {written}")
    return written
