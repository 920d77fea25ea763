"""The period report rendered as Markdown for reading, and its export; the Markdown table and
per-team pivot helpers the focused reports use too."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from qa_tui.config import AUDIT_KIND_NAMES
from qa_tui.dates import financial_year_label
from qa_tui.db import trail
from qa_tui.files import make_private_dirs, write_export
from qa_tui.services.reports.figures import (
    ACTION_MEASURES,
    COVERAGE_MEASURES,
    GRADES,
    SUPERVISION_MEASURES,
    TIMELINESS_MEASURES,
    TREND_MONTHS,
    MeasureRow,
    PeriodReport,
)


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """The lines of a Markdown table, each cell on one line with its pipes escaped; "_None._"
    when there are no rows."""
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


def measures_by_team(rows: Sequence[MeasureRow], measures: tuple[str, ...]) -> list[list[Any]]:
    """One table row per team (by code): the team, then the value of each of `measures`."""
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
    lines += markdown_table(["Team", "Grade", "Agreed", "Moderated"],
                            [[g.team_code or "(no team)", g.grade_label, g.agreed, g.moderated]
                             for g in report.grades if g.scale == GRADES])
    for kind in sorted({g.scale for g in report.grades} - {GRADES}):
        lines += ["", f"{AUDIT_KIND_NAMES.get(kind, kind)}: rated on its own scale, not graded.", ""]
        lines += markdown_table(["Team", "Rating", "Agreed", "Moderated"],
                                [[g.team_code or "(no team)", g.grade_label, g.agreed, g.moderated]
                                 for g in report.grades if g.scale == kind])

    lines += ["## Calibration", "",
              "Domain grades compared between auditor and moderator for moderations in the period. "
              "Up: the moderator gave a better grade. Kappa: Cohen's kappa (1 = full agreement, "
              "0 = no better than chance).", ""]
    lines += markdown_table(["Scope", "Who", "Audits", "Grades compared", "Agreed", "Up", "Down", "Agreement",
                             "Kappa"],
                            [[c.scope, c.scope_id or "all", c.audits, c.domain_grades, c.agreed, c.regraded_up,
                              c.regraded_down, _percent(c.agreement), c.kappa] for c in report.calibration])
    lines += ["By domain:", ""]
    lines += markdown_table(["Domain", "Agreed", "Up", "Down"],
                            [[d.domain, d.agreed, d.regraded_up, d.regraded_down]
                             for d in report.calibration_by_domain.by_domain])
    lines += [f"Trend (council, last {TREND_MONTHS} months):", ""]
    lines += markdown_table(["Month", "Audits", "Agreement", "Kappa"],
                            [[c.period_id, c.audits, _percent(c.agreement), c.kappa]
                             for c in report.calibration_trend if c.scope == "council"])

    lines += ["## Moderation timeliness", ""]
    lines += markdown_table(["Team", *TIMELINESS_MEASURES], measures_by_team(report.moderation, TIMELINESS_MEASURES))
    lines += ["## Actions", ""]
    lines += markdown_table(["Team", *ACTION_MEASURES], measures_by_team(report.actions, ACTION_MEASURES))
    lines += ["## Observation coverage", "", f"Financial-year coverage on {report.as_at.isoformat()}.", ""]
    lines += markdown_table(["Team", *COVERAGE_MEASURES], measures_by_team(report.observations, COVERAGE_MEASURES))
    lines += ["## Supervision", "", f"Overdue by cadence on {report.as_at.isoformat()}.", ""]
    lines += markdown_table(["Team", *SUPERVISION_MEASURES],
                            measures_by_team(report.supervision, SUPERVISION_MEASURES))

    lines += ["## Dip sample results by area", ""]
    lines += markdown_table(["Team", "Area", "Rating", "Cases"],
                            [[d.team_code or "(no team)", d.area_label, d.rating_label, d.cases]
                             for d in report.dip_samples])

    f = report.feedback
    lines += ["## Family feedback", "",
              f"{f.received} received, {f.rated} rated, average rating "
              f"{'—' if f.average_rating is None else f'{f.average_rating:.2f}'} out of 5.", ""]
    lines += markdown_table(["Rating", "Count"], f.rating_counts)
    lines += markdown_table(["From", "Count"], [g for g in f.by_giver if g[1]])
    lines += ["## Themes", ""]
    lines += markdown_table(["Source", "Theme", "Mentions"], [[t.source, t.theme, t.mentions] for t in report.themes])

    lines += ["## Programme compliance", ""]
    for comp in (report.compliance_by_team, report.compliance_by_role):
        lines += [f"By {comp.group_by}:", ""]
        rows = []
        for t in comp.totals:  # each group's total, then its tasks with who owes them
            rows += [[r.group_label if r is t else "", "All tasks" if r is t else r.task_label, r.owed_by, r.people,
                      r.required, r.done, _percent(r.rate), r.people_met, r.people_late]
                     for r in (t, *(r for r in comp.rows if r.group == t.group))]
        lines += markdown_table([comp.group_by.capitalize(), "Task", "Owed by", "People", "Required", "Done", "Rate",
                                 "Met", "Late"], rows)
    return "\n".join(lines)


def export_report_markdown(session: Session, report: PeriodReport, out_dir: Path) -> Path:
    """Write the Markdown report (0600) into `out_dir` (made 0700 if new) and record the export in
    the audit trail."""
    make_private_dirs(out_dir)
    path = out_dir / f"qa-report-{report.period_id}.md"
    write_export(path, report_markdown(report))
    trail.record_event(session, "export", "report", None, detail=f"report {report.period_id} as Markdown to {path}")
    return path
