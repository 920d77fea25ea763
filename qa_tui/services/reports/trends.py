"""Trends over the twelve months to a report's end, for charts in the app and the HTML report:
completed audits by moderated overall grade, agreement between auditors and moderators per team
and per auditor, and actions overdue at each month's end. The same figures the monthly report
gives for one month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_tui.dates import Month
from qa_tui.db.models import Person
from qa_tui.services.programme.periods import month_period
from qa_tui.services.reports.figures import (
    action_measures,
    calibration_for,
    completed_grades,
    team_dims,
)

TREND_MONTHS = 12
AUDITORS_SHOWN = 8  # the auditors with the most grades compared over the months


@dataclass(frozen=True)
class Series:
    label: str
    values: tuple[float | None, ...]  # one per month; None: nothing to measure that month

    @property
    def last(self) -> float | None:
        return next((v for v in reversed(self.values) if v is not None), None)


@dataclass(frozen=True)
class Trends:
    months: tuple[str, ...]  # YYYY-MM, oldest first
    scale: tuple[str, ...]
    grades: tuple[tuple[int, ...], ...]  # per month: completed audits per moderated overall grade
    agreement_council: Series  # share of domain grades the moderator left as the auditor gave them
    agreement_by_team: tuple[Series, ...]
    agreement_by_auditor: tuple[Series, ...]
    overdue_actions: Series  # open actions past their due date at each month's end (today for this month)


def trends(session: Session, last: Month, today: date, scale: tuple[str, ...], *,
           months: int = TREND_MONTHS) -> Trends:
    """The trends for the `months` months ending with `last` (months after today are left out)."""
    teams = team_dims(session)
    code_of = {team_id: dim.team_code for team_id, dim in teams.items()}
    team_name = {dim.team_code: dim.team_name for dim in teams.values()}
    staff_names = dict(session.execute(select(Person.staff_id, Person.name)).all())
    shown = [m for m in (last.shift(-back) for back in range(months - 1, -1, -1)) if m.first <= today]
    grades, overdue = [], []
    agreed: dict[tuple[str, str], dict[int, float]] = {}  # (scope, id) → month index → share agreed
    volume: dict[str, int] = {}
    for i, month in enumerate(shown):
        period = month_period(month)
        counts = [0] * len(scale)
        for row in completed_grades(session, period, min(period.end, today), code_of, scale):
            counts[row.grade] += row.moderated
        grades.append(tuple(counts))
        for row in calibration_for(session, month.first, month.last, str(month), code_of):
            if row.domain_grades:
                agreed.setdefault((row.scope, row.scope_id), {})[i] = row.agreed / row.domain_grades
                if row.scope == "auditor":
                    volume[row.scope_id] = volume.get(row.scope_id, 0) + row.domain_grades
        measures = action_measures(session, period, min(period.end, today), code_of)
        overdue.append(float(sum(m.value for m in measures if m.measure == "overdue_at_end")))

    def series(scope: str, scope_id: str, label: str) -> Series:
        by_month = agreed.get((scope, scope_id), {})
        return Series(label, tuple(by_month.get(i) for i in range(len(shown))))

    team_codes = sorted({sid for scope, sid in agreed if scope == "team"}, key=lambda c: team_name.get(c, c))
    top = sorted(volume, key=lambda s: (-volume[s], staff_names.get(s, s)))[:AUDITORS_SHOWN]
    return Trends(
        months=tuple(str(m) for m in shown), scale=tuple(scale), grades=tuple(grades),
        agreement_council=series("council", "", "Council"),
        agreement_by_team=tuple(series("team", c, team_name.get(c, c or "(no team)")) for c in team_codes),
        agreement_by_auditor=tuple(series("auditor", s, staff_names.get(s, s)) for s in
                                   sorted(top, key=lambda s: staff_names.get(s, s))),
        overdue_actions=Series("Overdue actions", tuple(overdue)))
