"""The period report as tidy tables for Power BI: the stable CSV schema (long fact tables plus
dimensions), the rows of each table, and the export as a folder of CSV files."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from qa_tui.dates import financial_year_label
from qa_tui.db import trail
from qa_tui.files import make_private_dirs, write_private
from qa_tui.services.reports.cells import csv_row
from qa_tui.services.reports.figures import CalibrationRow, MeasureRow, PeriodReport

CSV_SCHEMA: dict[str, tuple[str, ...]] = {
    "dim_period.csv": ("period_id", "frequency", "start_date", "end_date", "financial_year", "as_at", "made_on"),
    "dim_team.csv": ("team_code", "team_name", "service_code", "service_name"),
    "dim_person.csv": ("staff_id", "name", "role", "team_code"),
    "fact_audit_grades.csv": ("period_id", "team_code", "grade_rank", "grade_label", "basis", "audits", "scale"),
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
                                      "people", "required", "done", "people_met", "people_late", "owed_by", "unit",
                                      "expected"),
}


def report_tables(report: PeriodReport) -> dict[str, list[tuple[Any, ...]]]:
    """The report as tidy tables: file name → rows in CSV_SCHEMA's column order, each value typed
    (dates as dates); `cells` turns them into what each file holds."""
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
                        r.required, r.done, r.people_met, r.people_late, r.owed_by, r.unit, r.required)
                       for comp in (report.compliance_by_team, report.compliance_by_role)
                       for r in (*comp.rows, *comp.totals)]
    return {
        "dim_period.csv": [(pid, p.frequency, p.start, p.end, financial_year_label(p.start), report.as_at,
                            report.made_on)],
        "dim_team.csv": [(t.team_code, t.team_name, t.service_code, t.service_name) for t in report.teams],
        "dim_person.csv": [(d.staff_id, d.name, d.role, d.team_code) for d in report.people],
        "fact_audit_grades.csv": [(pid, g.team_code, g.grade, g.grade_label, basis, n, g.scale)
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


def export_report_csv(session: Session, report: PeriodReport, out_dir: Path) -> list[Path]:
    """Write the report's tables as UTF-8 CSV files (0600) into `out_dir` (made 0700 if new), each
    cell by the rule in `cells`, and record the export in the audit trail."""
    make_private_dirs(out_dir)
    written = []
    for name, rows in report_tables(report).items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_SCHEMA[name])
        writer.writerows(csv_row(row) for row in rows)
        written.append(write_private(out_dir / name, buffer.getvalue()))
    trail.record_event(session, "export", "report", None,
                       detail=f"report {report.period_id} as CSV to {out_dir}")
    return written
