"""What every part of a demo build shares: the Council (settings, templates, numbering and the
writer), the people, teams and cases it is building, and small date and random helpers."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from qa_tui.config import Config
from qa_tui.dates import Month, financial_year_start
from qa_tui.db.base import Record
from qa_tui.demo.dressing import dress_row
from qa_tui.demo.shape import CASES_PER_AREA, HISTORY_MONTHS, TEAMS_PER_AREA
from qa_tui.demo.writer import BulkWriter
from qa_tui.services.audits.draw_pools import rules_as_dict
from qa_tui.services.audits.templates import ensure_template

DEMO_ACTOR = "demo"


@lru_cache(maxsize=4096)
def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)


def days(n: int) -> timedelta:
    return timedelta(days=n)


def day_between(rng: random.Random, low: date, high: date) -> date:
    return low + days(rng.randint(0, (high - low).days))


def weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([c for c, _ in choices], [w for _, w in choices])[0]


@dataclass
class Member:
    id: uuid.UUID
    role: str
    name: str
    manager: Member | None
    team_id: uuid.UUID | None
    active_from: date
    asye_start: date | None = None
    skill: float = 0.0  # negative: grades tend to be better
    staff_id: str = ""


@dataclass
class TeamPlan:
    index: int
    id: uuid.UUID
    code: str
    kind: str
    tm: Member
    case_holders: list[Member]
    ops: Member
    hos: Member


@dataclass
class CaseRow:
    id: uuid.UUID
    reference: str
    worker: Member | None
    opened_on: date
    closed_on: date | None

    def open_on(self, day: date) -> bool:
        return self.opened_on <= day and (self.closed_on is None or self.closed_on > day)


@dataclass
class WorkerHistory:
    supervision_dates: list[date] = field(default_factory=list)
    supervision_ids: list[uuid.UUID] = field(default_factory=list)
    last_audited: dict[str, date] = field(default_factory=dict)  # case reference → latest audit date


class Council:
    """One build of the council: its settings, the templates and draw rules it records against,
    the staff numbering and case references, and the writer every row goes to."""

    def __init__(self, session: Session, writer: BulkWriter, config: Config, today: date,
                 cases: int, seed: int, *, hostile: bool = False) -> None:
        self.writer = writer
        self.hostile = hostile  # people's text dressed in markup, escapes and formulas (demo/dressing.py)
        self.config = config
        self.today = today
        self.cases = cases
        self.seed = seed
        self.areas = max(1, round(cases / CASES_PER_AREA))
        self.team_count = self.areas * TEAMS_PER_AREA
        self.history_start = Month.of(today).shift(-(HISTORY_MONTHS - 1)).first
        self.fy_start = financial_year_start(today)
        self.staff_numbers = 0
        self.live = ensure_template(session, config.template("live"))
        self.dip = ensure_template(session, config.template("dip"))
        self.live_domains = [d["key"] for d in self.live.domains]
        self.dip_domains = [d["key"] for d in self.dip.domains]
        # The demo's draws leave out every case audited recently (demo/audits.py), re-audits for
        # impact included: they record that rule as off, so their pools verify against their rules.
        self.rules = rules_as_dict(replace(config.draw, impact_reaudit_months=0))
        ref_rng = random.Random(f"{seed}/references")
        self.ref_width = max(6, len(str(cases)))
        self.ref_space = 10 ** self.ref_width
        # n → (n·a + b) mod 10^w with a coprime to 10 is a bijection: unique, scattered references.
        self.ref_a = ref_rng.choice((1, 3, 7, 9)) + 10 * ref_rng.randrange(self.ref_space // 10)
        self.ref_b = ref_rng.randrange(self.ref_space)
        self.director: Member | None = None

    def new_id(self, rng: random.Random) -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    def add(self, model: type[Record], rng: random.Random, day: date, **row: Any) -> uuid.UUID:
        """Queue one row with the columns every record carries (a new ID unless given, created
        on `day`); returns its ID."""
        if "id" not in row:
            row["id"] = self.new_id(rng)
        stamp = at(min(day, self.today))
        row.update(created_at=stamp, updated_at=stamp, updated_by=DEMO_ACTOR, version=1)
        self.writer.add(model, dress_row(model, row) if self.hostile else row)
        return row["id"]

    def reference(self, index: int) -> str:
        return f"DEMO-{(index * self.ref_a + self.ref_b) % self.ref_space:0{self.ref_width}d}"

    def grade(self, rng: random.Random, skill: float, levels: int) -> int:
        quality = 0.42 + skill + rng.gauss(0, 0.18)
        return min(levels - 1, max(0, round(quality * (levels - 1))))
