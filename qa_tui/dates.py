"""Calendar rules used everywhere: UK local dates, months, financial years, deadlines."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def start_of_day(day: date) -> datetime:
    """The moment `day` begins in the UK, in UTC: what a timestamp is compared with to say "by then"."""
    return datetime.combine(day, time.min, tzinfo=LONDON).astimezone(timezone.utc)


def today_local() -> date:
    """Today in England. Only entry points call this; rules take `today` as an argument."""
    return datetime.now(LONDON).date()


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """Parse YYYY-MM; raises ValueError with a readable message."""
        try:
            year_s, month_s = text.strip().split("-")
            value = cls(int(year_s), int(month_s))
        except ValueError:
            raise ValueError(f"expected a month as YYYY-MM, got {text!r}") from None
        if not 1 <= value.month <= 12 or not 1900 <= value.year <= 2999:
            raise ValueError(f"expected a month as YYYY-MM, got {text!r}")
        return value

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def shift(self, months: int) -> Month:
        index = self.year * 12 + (self.month - 1) + months
        return Month(index // 12, index % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def add_months(day: date, months: int) -> date:
    """Same day-of-month `months` later, clamped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    target = Month.of(day).shift(months)
    return date(target.year, target.month, min(day.day, target.last.day))


def financial_year_start(day: date) -> date:
    """1 April of the financial year containing `day` (FY runs 1 April – 31 March)."""
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def financial_year_end(day: date) -> date:
    start = financial_year_start(day)
    return date(start.year + 1, 3, 31)


def financial_year_label(day: date) -> str:
    start = financial_year_start(day).year
    return f"FY {start}/{(start + 1) % 100:02d}"


def quarter_start(day: date) -> date:
    """Start of the financial quarter (Apr, Jul, Oct, Jan) containing `day`."""
    month = ((day.month - 1) // 3) * 3 + 1
    return date(day.year, month, 1)


def moderation_deadline(audit_day: date, moderation_day: int) -> date:
    """Day `moderation_day` of the audit's month."""
    return date(audit_day.year, audit_day.month, moderation_day)


def moderation_deadline_after(audit_day: date, moderation_day: int) -> date:
    """Day `moderation_day` of the audit's month; an audit held after that day is due on that day
    of the next month, so no audit is late the moment it is held."""
    if audit_day.day <= moderation_day:
        return moderation_deadline(audit_day, moderation_day)
    return moderation_deadline(Month.of(audit_day).shift(1).first, moderation_day)


def weeks_after(day: date, weeks: int) -> date:
    return day + timedelta(weeks=weeks)


_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def parse_day(text: str) -> date:
    """A date typed or written as YYYY-MM-DD or DD/MM/YYYY, always day first (03/04/2026 is
    3 April 2026). Raises ValueError with a message fit to show."""
    text = text.strip()
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = match.groups()
    elif match := _UK_DATE.fullmatch(text):
        day, month, year = match.groups()
    else:
        raise ValueError(f"{text!r} is not a date; expected YYYY-MM-DD or DD/MM/YYYY (day first)")
    try:
        value = date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"{text!r} is not a real date (day {int(day)}, month {int(month)})") from None
    if not 1900 <= value.year <= 2100:
        raise ValueError(f"{text!r}: year {value.year} looks mistyped")
    return value


def day_problem(text: str) -> str | None:
    """Why `text` is not a day (see parse_day), or None when it is one: a dialog's check."""
    try:
        parse_day(text)
    except ValueError as exc:
        return str(exc)
    return None
