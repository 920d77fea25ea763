"""A deterministic, entirely fictional council for demos and benchmarks: organisation, caseload and
a year of QA history up to `today`, streamed into an empty database in batches of bulk inserts."""

from __future__ import annotations

import random
import time
import uuid
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from sqlalchemy import exists, insert, select
from sqlalchemy.orm import Session

from qa_tui.config import CADENCES, Config, parse_config
from qa_tui.dates import Month, add_months, financial_year_start, moderation_deadline, weeks_after
from qa_tui.db import trail
from qa_tui.db.base import Base, Record
from qa_tui.db.engine import Database, describe_url, refresh_planner_statistics
from qa_tui.db.models import (
    EDITABLE_MODELS,
    Action,
    ActionChange,
    Audit,
    AuditEvent,
    AuditGrade,
    AuditParticipant,
    AuditTemplate,
    Case,
    CaseDraw,
    DrawPick,
    DrawPool,
    Feedback,
    FollowUp,
    Moderation,
    Observation,
    Person,
    Service,
    Supervision,
    Team,
)
from qa_tui.errors import NotAllowed, ValidationError
from qa_tui.services.audits.draw_algorithm import ALGORITHM, derive_pick
from qa_tui.services.audits.draw_pools import audited_since, rules_as_dict
from qa_tui.services.practice.observations import DEFAULT_ASYE_WINDOWS
from qa_tui.services.audits.templates import ensure_template

DEMO_USER_STAFF_ID = "DEMO-S00001"  # the team manager of the first team: numbered first
DEFAULT_CASES = 2000
DEFAULT_SEED = 1
MAX_CASES = 5_000_000
BATCH_ROWS = 8000
BUILD_CACHE_KIB = 256 * 1024
CASES_PER_AREA = 2500  # each area is one copy of the default shape: 3 frontline services, 8 teams
HISTORY_MONTHS = 12
DEMO_ACTOR = "demo"
DEMO_EVENT = "demo"

# --- the shape of one area ----------------------------------------------------------------

FRONTLINE_SERVICES = (
    ("CAS", "Children's Assessment Service", (
        ("AST1", "Assessment Team 1", "assessment"),
        ("AST2", "Assessment Team 2", "assessment"),
        ("AST3", "Assessment Team 3", "assessment"),
    )),
    ("SFS", "Safeguarding & Family Support", (
        ("FST1", "Family Support & Protection Team 1", "safeguarding"),
        ("FST2", "Family Support & Protection Team 2", "safeguarding"),
        ("FST3", "Family Support & Protection Team 3", "safeguarding"),
    )),
    ("CIC", "Children in Care & Care Leavers", (
        ("CIC1", "Children in Care Team", "in_care"),
        ("LCT1", "Leaving Care Team", "leaving_care"),
    )),
)
TEAMS_PER_AREA = sum(len(teams) for _, _, teams in FRONTLINE_SERVICES)
STANDARDS_SERVICE = ("SSPI", "Safeguarding Standards & Practice Improvement")
IRO_TEAM = ("IRO1", "Independent Reviewing & CP Chairs")
PI_TEAM = ("PIT1", "Practice Improvement Team")

# Category weights per kind of team; overall about EH 21%, CIN 37%, CP 17%, CLA 15%, CL 10%.
CATEGORY_MIX = {
    "assessment": (("EH", 40), ("CIN", 60)),
    "safeguarding": (("EH", 15), ("CIN", 40), ("CP", 45)),
    "in_care": (("CLA", 100),),
    "leaving_care": (("CL", 85), ("CLA", 15)),
}
OPEN_SHARE = 0.65
UNALLOCATED_SHARE = 0.03
CASELOAD_WEIGHT = {"SW": 1.0, "ASWP": 0.7, "NQSW": 0.6}

# --- fictional names and stock phrases (no child is ever named) ----------------------------

FIRST_NAMES = (
    "Alex", "Avery", "Blake", "Casey", "Charlie", "Dana", "Drew", "Eden", "Ellis", "Emery",
    "Finley", "Frankie", "Harley", "Jamie", "Jordan", "Jude", "Kai", "Lee", "Logan", "Morgan",
    "Nico", "Parker", "Quinn", "Reese", "Riley", "Robin", "Rowan", "Sam", "Sasha", "Skyler",
    "Taylor", "Toby", "Val", "Wren",
)
SURNAME_STEMS = (
    "Amber", "Bramble", "Cinder", "Dapple", "Ember", "Fennel", "Gossamer", "Inkwell", "Juniper",
    "Kettle", "Lantern", "Marigold", "Nutmeg", "Oakapple", "Pepper", "Quill", "Rosehip", "Saffron",
    "Thimble", "Umber", "Velvet", "Whistle", "Yarrow", "Zephyr",
)
SURNAME_ENDINGS = ("bottom", "brook", "crumb", "feather", "foot", "glen", "hollow", "penny", "wick", "whisker")

STRENGTHS = (
    "Visits are regular and purposeful, with clear records of what was seen and heard.",
    "The chronology is up to date and shows the significant events.",
    "Good multi-agency working: partners are involved and their views are recorded.",
    "The plan is specific and the family understands what needs to change.",
    "Direct work is creative and helps the child to share their wishes and feelings.",
    "Risks are analysed clearly and the analysis informs the plan.",
)
TO_IMPROVE = (
    "Record the child's own words after each visit.",
    "Update the chronology with the last three months' events.",
    "Make the plan's actions specific, with owners and timescales.",
    "Show management oversight of the decision to step down.",
    "Include the views of the father and the wider family.",
    "Complete the overdue assessment and share it with the family.",
)
LIVED_EXPERIENCE = (
    "The child's day-to-day experience is described well and drives the plan.",
    "The records say what life is like for the child at home and at school.",
    "There is little sense of the child's daily life; visits focus on the adults.",
    "The child's views are recorded, but not how they shaped the plan.",
)
GRADE_COMMENTS = (
    "Evidence seen on the case file.",
    "Partly evidenced; see the actions.",
    "Consistent over the last six months.",
    "Improving since the last audit.",
)
MODERATION_COMMENTS = (
    "Agreed: the grades are supported by the evidence on file.",
    "Regraded: the evidence does not support the grade given for this domain.",
    "Returned: please add the evidence behind the grades and the child's lived experience.",
)
ACTION_TITLES = (
    "Update the chronology",
    "Record the child's wishes and feelings after the next visit",
    "Complete the outstanding assessment",
    "Hold a core group meeting and update the plan",
    "Add a management oversight note on the case direction",
    "Arrange a family network meeting",
    "Complete direct work and upload it to the file",
    "Review the safety plan with the family",
    "Update the pathway plan with the young person",
    "Check the health assessment is booked",
)
EVIDENCE = (
    "Chronology updated and checked in supervision.",
    "Case note records the child's own words.",
    "Assessment completed and shared with the family.",
    "Core group minutes uploaded to the file.",
    "Management oversight recorded on the file.",
)
EXTENSION_REASONS = (
    "Family meeting rescheduled at the family's request.",
    "Worker on leave; agreed with the team manager.",
    "Waiting for a partner agency's report.",
)
CANCEL_REASONS = ("Case closed before the action fell due.", "Superseded by the new plan.")
OBSERVATION_SETTINGS = (
    "Home visit", "Child protection conference", "Core group meeting", "Direct work session",
    "Family network meeting", "Visit to a foster carer", "Pathway plan review",
)
WENT_WELL = (
    "Warm, clear communication; the family was helped to understand the worries.",
    "The child was given time and space to share their views.",
    "The meeting kept the focus on the child throughout.",
)
TO_DEVELOP = (
    "Summarise agreed actions before leaving.",
    "Check the family's understanding of the plan in their own words.",
    "Use a tool to help the child express their wishes.",
)
REFLECTIONS = (
    "I will plan direct work sessions in advance.",
    "I want to be more confident challenging partner agencies.",
    "Useful to think about how I explain risk to parents.",
)
OBSERVATION_THEMES = ("voice of the child", "analysis of risk", "relationship-based practice",
                      "working with fathers", "planning", "multi-agency working")
SUPERVISION_NOTES = (
    "Caseload reviewed; plans on track.", "Reflective discussion on a complex case.",
    "Workload and wellbeing discussed.", "Training needs identified.",
)
AUDIT_FOLLOW_UPS = (
    "Discuss the audit findings and the actions agreed.",
    "Reflect on how the child's voice is recorded.",
    "Review the plan's actions and timescales from the audit.",
)
DIP_FOLLOW_UPS = (
    "Dip sample: chronology and visits discussed; oversight to strengthen.",
    "Dip sample: good direct work; keep the case summary current.",
)
DISCUSSED_NOTES = ("Discussed; actions agreed.", "Discussed and reflected on.", "Covered in supervision.")
FEEDBACK_GIVERS = (("child", 15), ("young_person", 20), ("parent", 35), ("carer", 10), ("professional", 20))
FEEDBACK_CHANNELS = (("form", 30), ("qr", 20), ("phone", 15), ("live_audit", 15), ("in_person", 15), ("email", 5))
FEEDBACK_SAID = {
    "good": ("They listened to me.", "Always explained what was happening.", "Helped us get the support we needed."),
    "mixed": ("Good when we met, but hard to get hold of.", "Meetings were helpful but changed a lot."),
    "poor": ("I didn't know what was happening.", "Nobody called back.", "Felt we were not listened to."),
}
FEEDBACK_THEMES = ("communication", "listening", "reliability", "explaining plans", "getting support")


@dataclass(frozen=True)
class DemoSummary:
    cases: int
    seed: int
    today: date
    counts: dict[str, int]  # table name → rows inserted
    seconds: float

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    def lines(self) -> list[str]:
        width = max(len(table) for table in self.counts)
        lines = [f"Demo council: {self.cases} cases, seed {self.seed}, up to {self.today.isoformat()}"]
        lines += [f"  {table:<{width}}  {count:>10,}" for table, count in self.counts.items()]
        rate = self.rows / self.seconds if self.seconds else 0.0
        lines.append(f"  {'total':<{width}}  {self.rows:>10,} rows in {self.seconds:.1f} s ({rate:,.0f} rows/s)")
        return lines


# --- checks on the target database --------------------------------------------------------


def tables_holding_data(session: Session) -> list[str]:
    """Tables that already hold rows (stored templates alone do not count: the app makes them)."""
    return [model.__tablename__ for model in EDITABLE_MODELS
            if model is not AuditTemplate and session.scalar(select(exists().select_from(model)))]


def built_by_demo(session: Session) -> bool:
    """Whether the demo generator built this database (it leaves one trail event saying so)."""
    return bool(session.scalar(select(exists().where(AuditEvent.action == DEMO_EVENT))))


def build_demo(db: Database, *, today: date, cases: int = DEFAULT_CASES, seed: int = DEFAULT_SEED,
               config: Config | None = None, batch_rows: int = BATCH_ROWS) -> DemoSummary:
    """Build the fictional council into `db`, which must be empty, in one transaction.

    The same seed, case count and `today` give identical data."""
    if isinstance(cases, bool) or not isinstance(cases, int) or not 1 <= cases <= MAX_CASES:
        raise ValidationError("--cases", f"expected a whole number from 1 to {MAX_CASES:,}, got {cases!r}")
    config = config or parse_config({})
    started = time.perf_counter()
    with db.session() as session:
        occupied = tables_holding_data(session)
        if occupied:
            raise NotAllowed(
                f"The database {describe_url(str(db.engine.url))} already holds data "
                f"({', '.join(occupied)}); the demo council is built only into an empty database.")
        writer = _BulkWriter(session, batch_rows)
        with _large_sqlite_cache(session):
            _CouncilBuilder(session, writer, config, today, cases, seed).build()
            writer.flush()
        trail.record_event(session, DEMO_EVENT, "*", None,
                           detail=f"built demo council: {cases} cases, seed {seed}, today {today.isoformat()}, "
                                  f"{sum(writer.counts.values())} rows")
    refresh_planner_statistics(db)
    counts = {m.__tablename__: writer.counts[m.__tablename__] for m in EDITABLE_MODELS
              if writer.counts[m.__tablename__]}
    return DemoSummary(cases, seed, today, counts, time.perf_counter() - started)


# --- bulk writing -------------------------------------------------------------------------


@contextmanager
def _large_sqlite_cache(session: Session) -> Iterator[None]:
    """On SQLite, a page cache big enough for the random-UUID indexes of a large build (it halves
    the time at 100k cases), for this connection only and restored afterwards."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        yield
        return
    previous = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{BUILD_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(previous)}")


class _BulkWriter:
    """Buffers row dicts and inserts them with one executemany per table, parents first, every
    `batch_rows` rows. Rows are added parent before child, so flushing in table order keeps
    every foreign key satisfied. The ORM's per-row trail is bypassed on purpose."""

    def __init__(self, session: Session, batch_rows: int) -> None:
        self.session = session
        self.batch_rows = batch_rows
        order = {table.name: index for index, table in enumerate(Base.metadata.sorted_tables)}
        self.models = sorted(EDITABLE_MODELS, key=lambda m: order[m.__tablename__])
        self.pending: dict[type[Record], list[dict[str, Any]]] = {m: [] for m in self.models}
        self.buffered = 0
        self.counts: Counter[str] = Counter()

    def add(self, model: type[Record], row: dict[str, Any]) -> None:
        self.pending[model].append(row)
        self.buffered += 1
        if self.buffered >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        for model in self.models:
            rows = self.pending[model]
            if rows:
                # Core, not the ORM's bulk insert: that splits a batch into one statement per
                # pattern of None values, which made the build half again as slow.
                self.session.connection().execute(insert(model.__table__), rows)
                self.counts[model.__tablename__] += len(rows)
                self.pending[model] = []
        self.buffered = 0


@lru_cache(maxsize=4096)
def _at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)


def _days(n: int) -> timedelta:
    return timedelta(days=n)


def _day_between(rng: random.Random, low: date, high: date) -> date:
    return low + _days(rng.randint(0, (high - low).days))


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([c for c, _ in choices], [w for _, w in choices])[0]


# --- the council --------------------------------------------------------------------------


@dataclass
class _Member:
    id: uuid.UUID
    role: str
    name: str
    manager: _Member | None
    team_id: uuid.UUID | None
    active_from: date
    asye_start: date | None = None
    skill: float = 0.0  # negative: grades tend to be better
    staff_id: str = ""


@dataclass
class _TeamPlan:
    index: int
    id: uuid.UUID
    code: str
    kind: str
    tm: _Member
    case_holders: list[_Member]
    ops: _Member
    hos: _Member


@dataclass
class _CaseRow:
    id: uuid.UUID
    reference: str
    worker: _Member | None
    opened_on: date
    closed_on: date | None

    def open_on(self, day: date) -> bool:
        return self.opened_on <= day and (self.closed_on is None or self.closed_on > day)


@dataclass
class _Lifecycle:
    status: str
    submitted: date | None  # the last submission that stands
    first_submitted: date | None
    returned: date | None
    moderated: date | None
    finalised: date | None


@dataclass
class _WorkerHistory:
    supervision_dates: list[date] = field(default_factory=list)
    supervision_ids: list[uuid.UUID] = field(default_factory=list)
    last_audited: dict[str, date] = field(default_factory=dict)  # case reference → latest audit date


class _CouncilBuilder:
    """Generates the council area by area and team by team, each from its own generator seeded
    with (seed, area or team), so only one area's people and one team's cases are ever held in
    memory and every row streams straight to the writer."""

    def __init__(self, session: Session, writer: _BulkWriter, config: Config, today: date,
                 cases: int, seed: int) -> None:
        self.writer = writer
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
        self.rules = rules_as_dict(config.draw)
        ref_rng = random.Random(f"{seed}/references")
        self.ref_width = max(6, len(str(cases)))
        self.ref_space = 10 ** self.ref_width
        # n → (n·a + b) mod 10^w with a coprime to 10 is a bijection: unique, scattered references.
        self.ref_a = ref_rng.choice((1, 3, 7, 9)) + 10 * ref_rng.randrange(self.ref_space // 10)
        self.ref_b = ref_rng.randrange(self.ref_space)
        self.director: _Member | None = None

    def build(self) -> None:
        for area in range(self.areas):
            for plan in self._organisation(area):
                self._team_history(plan)

    # --- helpers

    def _id(self, rng: random.Random) -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    def _add(self, model: type[Record], rng: random.Random, day: date, **row: Any) -> uuid.UUID:
        """Queue one row with the columns every record carries (a new ID unless given, created
        on `day`); returns its ID."""
        if "id" not in row:
            row["id"] = self._id(rng)
        stamp = _at(min(day, self.today))
        row.update(created_at=stamp, updated_at=stamp, updated_by=DEMO_ACTOR, version=1)
        self.writer.add(model, row)
        return row["id"]

    def _reference(self, index: int) -> str:
        return f"DEMO-{(index * self.ref_a + self.ref_b) % self.ref_space:0{self.ref_width}d}"

    def _grade(self, rng: random.Random, skill: float, levels: int) -> int:
        quality = 0.42 + skill + rng.gauss(0, 0.18)
        return min(levels - 1, max(0, round(quality * (levels - 1))))

    # --- organisation

    def _member(self, rng: random.Random, role: str, manager: _Member | None, team_id: uuid.UUID | None) -> _Member:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAME_STEMS)}{rng.choice(SURNAME_ENDINGS)}"
        member = _Member(self._id(rng), role, name, manager, team_id,
                         active_from=self.today - _days(rng.randint(400, 5000)),
                         skill=rng.gauss(0, 0.12))
        if role == "NQSW":
            member.asye_start = self.today - _days(rng.randint(20, 350))
            member.active_from = member.asye_start
        return member

    def _organisation(self, area: int) -> list[_TeamPlan]:
        """Services, teams and people of one area; returns its case-holding teams."""
        rng = random.Random(f"{self.seed}/area/{area}")
        suffix = "" if area == 0 else f" (Area {area + 1})"
        prefix = "" if area == 0 else f"A{area + 1:03d}-"
        if self.director is None:
            self.director = self._member(rng, "DD", None, None)
        assistant = self._member(rng, "AD", self.director, None)
        services: list[tuple[uuid.UUID, str, str]] = []
        teams: list[tuple[uuid.UUID, str, str, uuid.UUID]] = []
        seniors: list[_Member] = [assistant]
        plans: list[_TeamPlan] = []
        staff: list[_Member] = []
        for s_code, s_name, team_shapes in FRONTLINE_SERVICES:
            service_id = self._id(rng)
            services.append((service_id, prefix + s_code, s_name + suffix))
            hos = self._member(rng, "HOS", assistant, None)
            ops = self._member(rng, "OPS", hos, None)
            seniors += [hos, ops]
            for t_code, t_name, kind in team_shapes:
                team_id = self._id(rng)
                teams.append((team_id, prefix + t_code, t_name + suffix, service_id))
                tm = self._member(rng, "TM", ops, team_id)
                holders = [self._member(rng, "ASWP", tm, team_id)]
                holders += [self._member(rng, "SW", tm, team_id) for _ in range(rng.randint(6, 8))]
                holders += [self._member(rng, "NQSW", tm, team_id) for _ in range(rng.randint(1, 2))]
                staff += [tm, *holders]
                plans.append(_TeamPlan(area * TEAMS_PER_AREA + len(plans), team_id, prefix + t_code, kind,
                                       tm, holders, ops, hos))
        service_id = self._id(rng)
        services.append((service_id, prefix + STANDARDS_SERVICE[0], STANDARDS_SERVICE[1] + suffix))
        standards_head = self._member(rng, "HOS", assistant, None)
        seniors.append(standards_head)
        for (t_code, t_name), role, size in ((IRO_TEAM, "IRO", 4), (PI_TEAM, "PI", 3)):
            team_id = self._id(rng)
            teams.append((team_id, prefix + t_code, t_name + suffix, service_id))
            lead = self._member(rng, "TM", standards_head, team_id)
            staff += [lead, *(self._member(rng, role, lead, team_id) for _ in range(size))]

        # Staff numbers follow the teams (so the first team's manager is DEMO-S00001), then the
        # seniors; rows go in management order so every manager row exists before its reports.
        numbered = staff + seniors + ([self.director] if area == 0 else [])
        for member in numbered:
            self.staff_numbers += 1
            member.staff_id = f"DEMO-S{self.staff_numbers:05d}"
        for service_id, code, name in services:
            self._add(Service, rng, self.history_start, id=service_id, code=code, name=name)
        for team_id, code, name, service_id in teams:
            self._add(Team, rng, self.history_start, id=team_id, code=code, name=name, service_id=service_id,
                      active=True)
        rank = {"DD": 0, "AD": 1, "HOS": 2, "OPS": 3, "TM": 4}
        for member in sorted(numbered, key=lambda m: rank.get(m.role, 5)):
            self._add(Person, rng, member.active_from, id=member.id, staff_id=member.staff_id, name=member.name,
                      role=member.role, team_id=member.team_id,
                      manager_id=member.manager.id if member.manager else None, asye_start=member.asye_start,
                      active_from=member.active_from, active_to=None, login=None)
        # Everyone outside the frontline teams: supervised by their manager; IROs and the
        # practice improvement team are observed too, though they hold no cases.
        frontline = {m.id for plan in plans for m in (plan.tm, *plan.case_holders)}
        for member in numbered:
            if member.id not in frontline:
                history = _WorkerHistory()
                self._supervisions(rng, member, history)
                if member.role in ("IRO", "PI"):
                    self._observations(rng, member, history)
        return plans

    # --- one team: cases and a year of QA history

    def _team_history(self, plan: _TeamPlan) -> None:
        rng = random.Random(f"{self.seed}/team/{plan.index}")
        team_cases = self._cases(rng, plan)
        histories = {m.id: _WorkerHistory() for m in [plan.tm, *plan.case_holders]}
        for member in [plan.tm, *plan.case_holders]:
            self._supervisions(rng, member, histories[member.id])
        by_worker: dict[uuid.UUID, list[_CaseRow]] = {m.id: [] for m in plan.case_holders}
        for case in team_cases:
            if case.worker is not None:
                by_worker[case.worker.id].append(case)
        for month in range(HISTORY_MONTHS):
            self._monthly_draw(rng, plan, Month.of(self.history_start).shift(month), by_worker, histories)
            self._dip_sample(rng, plan, Month.of(self.history_start).shift(month), team_cases, histories)
        for member in plan.case_holders:
            self._observations(rng, member, histories[member.id])
            self._feedback(rng, plan, member, by_worker[member.id], histories[member.id])

    def _cases(self, rng: random.Random, plan: _TeamPlan) -> list[_CaseRow]:
        base, extra = divmod(self.cases, self.team_count)
        count = base + (1 if plan.index < extra else 0)
        first = plan.index * base + min(plan.index, extra)
        weights = [CASELOAD_WEIGHT[m.role] for m in plan.case_holders]
        plans_so_far: Counter[str] = Counter()
        rows = []
        for n in range(count):
            category = _weighted(rng, CATEGORY_MIX[plan.kind])
            is_open = rng.random() < OPEN_SHARE
            worker = rng.choices(plan.case_holders, weights)[0]
            long_running = category in ("CLA", "CL")
            if is_open:
                closed_on = None
                opened_on = self.today - _days(int(rng.triangular(0, 3000 if long_running else 1100,
                                                                  400 if long_running else 60)))
                if rng.random() < UNALLOCATED_SHARE:
                    worker = None
            else:
                closed_on = self.today - _days(rng.randint(0, 730))
                opened_on = closed_on - _days(rng.randint(20, 1500 if long_running else 600))
            cp_start, cp_end, opened_on = self._cp_plan(rng, category, opened_on, closed_on, plans_so_far)
            case = _CaseRow(self._id(rng), self._reference(first + n), worker, opened_on, closed_on)
            rows.append(case)
            self._add(Case, rng, opened_on, id=case.id, reference=case.reference, category=category,
                      worker_id=worker.id if worker else None, team_id=plan.id, opened_on=opened_on,
                      closed_on=closed_on, cp_plan_start=cp_start, cp_plan_end=cp_end)
        return rows

    def _cp_plan(self, rng: random.Random, category: str, opened_on: date, closed_on: date | None,
                 plans_so_far: Counter[str]) -> tuple[date | None, date | None, date]:
        """Child protection plan dates: open CP plans (every eighth over 18 months), ended plans on
        closed CP cases and on CIN cases stepped down (every fifth ended within 3 months)."""
        if category == "CP" and closed_on is None:
            plans_so_far["open"] += 1
            length = rng.randint(550, 900) if plans_so_far["open"] % 8 == 1 else rng.randint(10, 540)
            start = self.today - _days(length)
            return start, None, min(opened_on, start - _days(rng.randint(5, 60)))
        if (category == "CP" and closed_on is not None) or (category == "CIN" and rng.random() < 0.15):
            plans_so_far["ended"] += 1
            end = closed_on or self.today - _days(rng.randint(10, 300))
            length = rng.randint(30, 89) if plans_so_far["ended"] % 5 == 1 else rng.randint(90, 700)
            start = end - _days(length)
            return start, end, min(opened_on, start - _days(rng.randint(5, 60)))
        return None, None, opened_on

    def _supervisions(self, rng: random.Random, member: _Member, history: _WorkerHistory) -> None:
        """Sessions at the role's cadence from the history's start; about one in eight people
        stopped being supervised a while ago and are now overdue."""
        start = max(self.history_start, member.active_from)
        step = CADENCES[self.config.cadence_for(member.role)]  # > 0: days; 0: monthly; < 0: months
        end = self.today
        if rng.random() < 0.12:
            end -= _days(rng.randint(20, 50) if step <= 0 else rng.randint(step + 5, step * 3))
        planned: list[date] = []
        if step > 0:
            day = start + _days(rng.randrange(step))
            while day <= end:
                planned.append(day)
                day += _days(step)
        else:
            anchor, months = rng.randint(1, 28), -step or 1
            month = Month.of(start)
            while month.first <= end:
                day = date(month.year, month.month, anchor)
                if start <= day <= end:
                    planned.append(day)
                month = month.shift(months)
        held = sorted(min(self.today, max(start, day + _days(rng.randint(-3, 3))))
                      for day in planned if rng.random() >= 0.05)  # about one session in twenty missed
        supervisor_id = member.manager.id if member.manager else None
        for held_on in held:
            history.supervision_dates.append(held_on)
            history.supervision_ids.append(self._add(
                Supervision, rng, held_on, worker_id=member.id, supervisor_id=supervisor_id, held_on=held_on,
                kind="reflective" if rng.random() < 0.25 else "casework", notes=rng.choice(SUPERVISION_NOTES)))

    def _follow_up(self, rng: random.Random, worker: _Member, history: _WorkerHistory,
                   source_kind: str, source_id: uuid.UUID, summary: str, raised_on: date) -> None:
        """A follow-up, discussed at the worker's next supervision when there was one (mostly)."""
        supervision_id, note = None, ""
        index = bisect_left(history.supervision_dates, raised_on)
        if rng.random() < 0.1:
            index += 1  # carried over a session
        if index < len(history.supervision_dates) and rng.random() < 0.95:
            supervision_id, note = history.supervision_ids[index], rng.choice(DISCUSSED_NOTES)
        self._add(FollowUp, rng, raised_on, worker_id=worker.id, source_kind=source_kind, source_id=source_id,
                  summary=summary, raised_on=raised_on, supervision_id=supervision_id, discussed_note=note)

    # --- live audits from the monthly draw

    def _monthly_draw(self, rng: random.Random, plan: _TeamPlan, month: Month,
                      by_worker: dict[uuid.UUID, list[_CaseRow]],
                      histories: dict[uuid.UUID, _WorkerHistory]) -> None:
        """The month's draw as the draw service records it (same algorithm, so it verifies), and
        the live audit of each pick."""
        drawn_on = month.first
        while drawn_on.weekday() >= 5:
            drawn_on += _days(1)
        if drawn_on > self.today:
            return
        seed = f"demo{self.seed}-{plan.code}-{month}"
        draw_id = self._add(CaseDraw, rng, drawn_on, team_id=plan.id, month=str(month), seed=seed,
                            algorithm=ALGORITHM, rules=self.rules, drawn_on=drawn_on, drawn_by=DEMO_ACTOR)
        since = audited_since(month, self.config.draw) or date.min
        for worker in plan.case_holders:
            if worker.active_from > drawn_on or worker.role not in self.config.draw.roles:
                continue
            history = histories[worker.id]
            held = sorted((c for c in by_worker[worker.id] if c.open_on(drawn_on)), key=lambda c: c.reference)
            pool = [c for c in held if history.last_audited.get(c.reference, date.min) < since]
            refs = [c.reference for c in pool]
            reason = "" if pool else ("no open cases allocated" if not held
                                      else f"all {len(held)} open cases audited recently")
            self._add(DrawPool, rng, drawn_on, draw_id=draw_id, worker_id=worker.id, worker_key=worker.staff_id,
                      eligible=refs, empty_reason=reason)
            if not pool:
                continue
            picked_ref = derive_pick(seed, worker.staff_id, refs)
            case = pool[refs.index(picked_ref)]
            pick_id = self._add(DrawPick, rng, drawn_on, draw_id=draw_id, worker_id=worker.id,
                                case_reference=picked_ref, case_id=case.id, round=0, replaces_id=None, reason="",
                                requested_by="")
            audit_date = drawn_on + _days(rng.randint(1, 24))
            if audit_date > self.today or rng.random() < 0.02:
                continue  # not started yet, or the month's audit was missed
            history.last_audited[picked_ref] = audit_date
            self._live_audit(rng, plan, worker, case, pick_id, audit_date, history)

    def _lifecycle(self, rng: random.Random, audit_date: date) -> _Lifecycle:
        """Draft → submitted (some late, some returned for rework) → moderated → finalised, cut
        at `today`; a few stall at each stage so every overdue state shows up."""
        deadline = max(audit_date, moderation_deadline(audit_date, self.config.deadlines.moderation_day))
        late = rng.random() < 0.12
        if late:
            first = deadline + _days(rng.randint(1, 10))
        else:
            first = min(deadline, audit_date + _days(rng.randint(0, 12)))
        returned = resubmitted = None
        if rng.random() < 0.08:
            returned = first + _days(rng.randint(1, 6))
            resubmitted = returned + _days(rng.randint(2, 10))
        submitted = resubmitted or first
        moderated = submitted + _days(rng.randint(1, 10))
        finalised = moderated + _days(rng.randint(1, 14))
        stall = rng.random()
        today = self.today
        if stall < 0.04 or first > today:
            return _Lifecycle("draft", None, None, None, None, None)
        if returned is not None and today < returned:
            return _Lifecycle("submitted", first, first, None, None, None)
        if returned is not None and today < submitted:
            return _Lifecycle("draft", None, first, returned, None, None)
        if stall < 0.09 or moderated > today:
            return _Lifecycle("submitted", submitted, first, returned, None, None)
        if stall < 0.15 or finalised > today:
            return _Lifecycle("moderated", submitted, first, returned, moderated, None)
        return _Lifecycle("finalised", submitted, first, returned, moderated, finalised)

    def _live_audit(self, rng: random.Random, plan: _TeamPlan, worker: _Member, case: _CaseRow,
                    pick_id: uuid.UUID, audit_date: date, history: _WorkerHistory) -> None:
        roll = rng.random()
        auditor = plan.tm
        if roll < 0.05:
            auditor = plan.ops
        elif roll < 0.25 and worker.role != "ASWP":
            auditor = plan.case_holders[0]  # the team's advanced practitioner
        moderator = plan.hos if auditor is plan.ops else plan.ops
        life = self._lifecycle(rng, audit_date)
        levels = len(self.live.scale)
        graded = self.live_domains
        if life.first_submitted is None:
            graded = graded[:rng.randint(0, len(graded))]  # a draft, part graded
        grades = {domain: self._grade(rng, worker.skill, levels) for domain in graded}
        complete = len(grades) == len(self.live_domains)
        overall = round(sum(grades.values()) / len(grades)) if complete else None
        audit_id = self._add(
            Audit, rng, audit_date, kind="live", template_id=self.live.id, case_id=case.id, worker_id=worker.id,
            auditor_id=auditor.id, team_id=plan.id, audit_date=audit_date, status=life.status,
            draw_pick_id=pick_id, overall_grade=overall,
            strengths=rng.choice(STRENGTHS) if complete else "",
            to_improve=rng.choice(TO_IMPROVE) if complete else "",
            lived_experience=rng.choice(LIVED_EXPERIENCE) if complete else "",
            submitted_at=_at(life.submitted, 14) if life.submitted else None,
            moderated_at=_at(life.moderated, 15) if life.moderated else None,
            finalised_at=_at(life.finalised, 16) if life.finalised else None)
        for person in (auditor, worker):
            self._add(AuditParticipant, rng, audit_date, audit_id=audit_id, person_id=person.id)
        for domain, grade in grades.items():
            self._add(AuditGrade, rng, audit_date, audit_id=audit_id, domain=domain, participant_id=None,
                      grade=grade, comment=rng.choice(GRADE_COMMENTS))
        if life.returned is not None:
            self._moderation(rng, audit_id, moderator, "returned", None, {}, life.returned)
        if life.moderated is not None:
            # As the moderation service stores it: every domain, the auditor's grade unless regraded.
            moderated = {domain: {"grade": grade, "comment": ""} for domain, grade in grades.items()}
            outcome, moderated_overall = "agreed", overall
            if rng.random() < 0.22:
                outcome = "regraded"
                for domain in rng.sample(self.live_domains, rng.randint(1, 2)):
                    current = grades[domain]
                    # Moderators more often find a grade too generous than too harsh.
                    harsher = current < levels - 1 and (current == 0 or rng.random() < 0.7)
                    moderated[domain] = {"grade": current + 1 if harsher else current - 1,
                                         "comment": MODERATION_COMMENTS[1]}
                moderated_overall = round(sum(m["grade"] for m in moderated.values()) / len(moderated))
            self._moderation(rng, audit_id, moderator, outcome, moderated_overall, moderated, life.moderated)
        if life.first_submitted is None:
            return
        for _ in range(rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5))):  # about one action per case overall
            owner = worker if rng.random() < 0.8 else plan.tm
            self._action(rng, plan, owner, "audit", audit_id, None, case.id, auditor, audit_date)
        if rng.random() < 0.7:
            self._follow_up(rng, worker, history, "audit", audit_id, rng.choice(AUDIT_FOLLOW_UPS),
                            life.first_submitted)

    def _moderation(self, rng: random.Random, audit_id: uuid.UUID, moderator: _Member, outcome: str,
                    overall: int | None, grades: dict[str, Any], on: date) -> None:
        comment = MODERATION_COMMENTS[("agreed", "regraded", "returned").index(outcome)]
        self._add(Moderation, rng, on, audit_id=audit_id, moderator_id=moderator.id, outcome=outcome,
                  overall_grade=overall, comment=comment, moderated_on=on, grades=grades)

    def _action(self, rng: random.Random, plan: _TeamPlan, owner: _Member, source_kind: str,
                audit_id: uuid.UUID | None, source_id: uuid.UUID | None, case_id: uuid.UUID | None,
                raised_by: _Member, raised_on: date) -> None:
        """An action and its history: most done (some late), some extended, a few reassigned or
        cancelled, the rest open — overdue or not yet due."""
        due = weeks_after(raised_on, self.config.deadlines.action_due_weeks)
        changes: list[tuple[str, str, str, str, date, _Member]] = []
        if rng.random() < 0.04 and owner is not plan.tm:
            on = raised_on + _days(rng.randint(1, 10))
            if on <= self.today:
                changes.append(("reassigned", owner.staff_id, plan.tm.staff_id, "Worker's caseload reduced.",
                                on, plan.tm))
                owner = plan.tm
        if rng.random() < 0.12 and due - _days(2) <= self.today:
            new_due = due + _days(7 * rng.randint(2, 4))
            changes.append(("extended", due.isoformat(), new_due.isoformat(), rng.choice(EXTENSION_REASONS),
                            due - _days(2), plan.tm))
            due = new_due
        status, completed_on, evidence = "open", None, ""
        fate = rng.random()
        finish = raised_on + _days(rng.randint(3, 26) if fate < 0.7 else rng.randint(27, 60))
        if fate < 0.02:
            on = raised_on + _days(rng.randint(3, 20))
            if on <= self.today:
                reason = rng.choice(CANCEL_REASONS)
                status, evidence = "cancelled", reason
                changes.append(("cancelled", "open", "cancelled", reason, on, plan.tm))
        elif fate < 0.93 and finish <= self.today:
            status, completed_on, evidence = "done", finish, rng.choice(EVIDENCE)
            changes.append(("done", "open", "done", evidence, finish, owner))
        action_id = self._add(
            Action, rng, raised_on, title=rng.choice(ACTION_TITLES), owner_id=owner.id, team_id=plan.id,
            raised_by_id=raised_by.id, raised_on=raised_on, due_on=due, status=status, evidence=evidence,
            completed_on=completed_on, source_kind=source_kind, audit_id=audit_id, source_id=source_id,
            case_id=case_id)
        for change, old, new, reason, on, by in changes:
            self._add(ActionChange, rng, on, action_id=action_id, change=change, old_value=old, new_value=new,
                      reason=reason, changed_on=on, changed_by_id=by.id)

    # --- dip samples, observations, feedback

    def _dip_sample(self, rng: random.Random, plan: _TeamPlan, month: Month, team_cases: list[_CaseRow],
                    histories: dict[uuid.UUID, _WorkerHistory]) -> None:
        """The team manager's monthly dip sample: draft, then findings shared with the worker,
        then finalised (dip samples are not moderated). Some months are missed."""
        audit_date = month.first + _days(rng.randint(2, 20))
        if audit_date > self.today or rng.random() < 0.1:
            return
        candidates = [c for c in team_cases if c.worker is not None and c.open_on(audit_date)]
        if not candidates:
            return
        case = rng.choice(candidates)
        worker = case.worker
        assert worker is not None
        shared_on = audit_date + _days(rng.randint(1, 10))
        finalised_on = shared_on + _days(rng.randint(0, 5))
        done = finalised_on <= self.today and rng.random() < 0.95
        levels = len(self.dip.scale)
        audit_id = self._add(
            Audit, rng, audit_date, kind="dip_sample", template_id=self.dip.id, case_id=case.id,
            worker_id=worker.id, auditor_id=plan.tm.id, team_id=plan.id, audit_date=audit_date,
            status="finalised" if done else "draft", draw_pick_id=None, overall_grade=None, strengths="",
            to_improve="", lived_experience="", submitted_at=None, moderated_at=None,
            finalised_at=_at(finalised_on, 16) if done else None)
        history = histories[worker.id]
        history.last_audited[case.reference] = audit_date
        areas = self.dip_domains if done else self.dip_domains[:rng.randint(0, len(self.dip_domains))]
        for domain in areas:
            self._add(AuditGrade, rng, audit_date, audit_id=audit_id, domain=domain, participant_id=None,
                      grade=self._grade(rng, worker.skill, levels), comment=rng.choice(GRADE_COMMENTS))
        if shared_on <= self.today and (done or rng.random() < 0.5):
            self._follow_up(rng, worker, history, "dip_sample", audit_id, rng.choice(DIP_FOLLOW_UPS), shared_on)

    def _observations(self, rng: random.Random, member: _Member, history: _WorkerHistory) -> None:
        """Most practitioners observed this financial year (fewer early in the year), some last
        year too; newly qualified workers in the ASYE windows (months 0–3, 3–6 and 9–12)."""
        observer = member.manager
        visits: list[tuple[date, str]] = []
        if member.asye_start is not None:
            for start, end in DEFAULT_ASYE_WINDOWS:
                low = add_months(member.asye_start, start)
                high = min(self.today, add_months(member.asye_start, end) - _days(1))
                if low <= high and rng.random() < 0.85:
                    visits.append((_day_between(rng, low, high), "asye"))
        else:
            kind = "iro_review" if member.role == "IRO" else "annual"
            elapsed = (self.today - self.fy_start).days / 365
            if rng.random() < min(0.9, 0.3 + elapsed):
                visits.append((_day_between(rng, self.fy_start, self.today), kind))
            if self.history_start < self.fy_start and rng.random() < 0.7:
                visits.append((_day_between(rng, self.history_start, self.fy_start - _days(1)), kind))
        for observed_on, kind in sorted(visits):
            observation_id = self._add(
                Observation, rng, observed_on, observer_id=observer.id if observer else None, worker_id=member.id,
                observed_on=observed_on, kind=kind, setting=rng.choice(OBSERVATION_SETTINGS),
                went_well=rng.choice(WENT_WELL), to_develop=rng.choice(TO_DEVELOP),
                reflection=rng.choice(REFLECTIONS), feedback_shared=rng.random() < 0.9,
                themes=rng.sample(OBSERVATION_THEMES, rng.randint(1, 3)))
            raised_on = min(self.today, observed_on + _days(rng.randint(0, 5)))
            self._follow_up(rng, member, history, "observation", observation_id,
                            f"Reflective review of the {kind.replace('_', ' ')} observation.", raised_on)

    def _feedback(self, rng: random.Random, plan: _TeamPlan, worker: _Member, cases: list[_CaseRow],
                  history: _WorkerHistory) -> None:
        """Family and professional feedback, mostly positive; poor feedback raises an action."""
        for month_index in range(HISTORY_MONTHS):
            if rng.random() >= 0.4:
                continue
            month = Month.of(self.history_start).shift(month_index)
            received_on = _day_between(rng, month.first, month.last)
            if not worker.active_from <= received_on <= self.today:
                continue
            rating = rng.choices((1, 2, 3, 4, 5), (4, 6, 15, 35, 40))[0]
            mood = "good" if rating >= 4 else "mixed" if rating == 3 else "poor"
            case = rng.choice(cases) if cases and rng.random() < 0.7 else None
            feedback_id = self._add(
                Feedback, rng, received_on, received_on=received_on, case_id=case.id if case else None,
                worker_id=worker.id, giver=_weighted(rng, FEEDBACK_GIVERS), channel=_weighted(rng, FEEDBACK_CHANNELS),
                rating=rating, said=rng.choice(FEEDBACK_SAID[mood]),
                themes=rng.sample(FEEDBACK_THEMES, rng.randint(1, 2)))
            if mood == "poor":
                self._action(rng, plan, worker, "feedback", None, feedback_id, case.id if case else None,
                             plan.tm, received_on)
                self._follow_up(rng, worker, history, "feedback", feedback_id,
                                "Talk through the family's feedback and what to change.", received_on)
