"""The programme's periods: weeks, fixed fortnights, and months, two-month blocks, quarters,
half-years and the financial year counted from 1 April."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from qa_tui.dates import Month, financial_year_label, financial_year_start
from qa_tui.errors import ValidationError

FORTNIGHT_EPOCH = date(2001, 1, 1)  # a Monday: fortnights are fixed 14-day blocks from here
MONTHS_PER_PERIOD = {"monthly": 1, "bimonthly": 2, "quarterly": 3, "six_monthly": 6, "financial_year": 12}


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
