"""Build CIN census XML files in tests: synthetic children (made-up IDs, no real person) with CIN
episodes and CP plans, in the layouts of several census years, and what qa-tui should make of
each child. Every identifier and characteristic carries a sentinel the tests look for in the
database afterwards."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

# Values qa-tui must never store: tests scan every table (and the audit trail) for them.
SENTINEL = "ZZCENSUS"
BORN_BEFORE = date(2021, 1, 1)  # every date of birth is before this; every other date is on or after it
FIRST_DAY = BORN_BEFORE


@dataclass(frozen=True)
class Plan:
    start: date
    end: date | None


@dataclass(frozen=True)
class Episode:
    referral: date
    closure: date | None
    plans: tuple[Plan, ...] = ()


@dataclass(frozen=True)
class Child:
    """A child as the file gives it, and the case qa-tui should make of it."""

    reference: str
    episodes: tuple[Episode, ...]
    birth: date
    upn: str

    @property
    def current(self) -> Episode:
        open_ones = [e for e in self.episodes if e.closure is None]
        return max(open_ones or self.episodes, key=lambda e: e.referral)

    @property
    def plans(self) -> tuple[Plan, ...]:
        return tuple(sorted({p for e in self.episodes for p in e.plans}, key=lambda p: p.start))

    @property
    def latest_plan(self) -> Plan | None:
        plans = self.plans
        open_ones = [p for p in plans if p.end is None]
        return max(open_ones or plans, key=lambda p: p.start) if plans else None

    def expected_case(self) -> tuple[str, date, date | None, date | None, date | None]:
        """(category, opened_on, closed_on, cp_plan_start, cp_plan_end) for a child new to qa-tui."""
        current, plan = self.current, self.latest_plan
        running = plan is not None and (plan.end is None or (current.closure is not None
                                                            and plan.end >= current.closure))
        return ("CP" if running else "CIN", current.referral, current.closure,
                plan.start if plan else None, plan.end if plan else None)


@dataclass
class Layout:
    """How a census year writes a child: `<Sex>` (2024 on) or `<GenderCurrent>` (before), the
    2026 pre-proceedings block, elements no schema has, and stray text between elements."""

    sex_element: str = "Sex"
    pre_proceedings: bool = False
    unknown_elements: bool = False
    stray_text: bool = False
    namespace: str = ""
    reference_date: date = date(2026, 3, 31)
    extra_header: list[str] = field(default_factory=list)


def synthetic_children(count: int, *, seed: int = 18, today: date = date(2026, 3, 31)) -> list[Child]:
    """`count` children with IDs SYN0000001…, one to three CIN episodes each (the last often
    open), and CP plans: short ones, long ones, several in an episode, some still running."""
    rng = random.Random(seed)
    span = (today - FIRST_DAY).days
    children = []
    for number in range(1, count + 1):
        episodes: list[Episode] = []
        day = FIRST_DAY + timedelta(days=rng.randrange(0, span // 2))
        for index in range(rng.choice((1, 1, 1, 2, 3))):
            referral = day
            length = rng.randrange(20, 700)
            closure = referral + timedelta(days=length)
            is_last = index == 2 or rng.random() < 0.5
            if closure >= today or (is_last and rng.random() < 0.6):
                closure = None
            plans = _plans(rng, referral, closure, today)
            episodes.append(Episode(referral, closure, plans))
            if closure is None:
                break
            day = closure + timedelta(days=rng.randrange(1, 200))
            if day >= today:
                break
        birth = BORN_BEFORE - timedelta(days=rng.randrange(1, 6000))
        children.append(Child(f"SYN{number:07d}", tuple(episodes), birth, f"Z{number:012d}"))
    return children


def _plans(rng: random.Random, referral: date, closure: date | None, today: date) -> tuple[Plan, ...]:
    if rng.random() < 0.55:
        return ()
    plans = []
    start = referral + timedelta(days=rng.randrange(5, 60))
    last_day = (closure or today) - timedelta(days=1)
    while start < last_day and len(plans) < 2:
        length = rng.choice((rng.randrange(10, 88), rng.randrange(100, 500), rng.randrange(550, 900)))
        end: date | None = start + timedelta(days=length)
        if end >= (closure or today):
            end = closure  # a plan runs until the episode closes, or is still running
        plans.append(Plan(start, end))
        if end is None or end == closure:
            break
        start = end + timedelta(days=rng.randrange(20, 200))
    return tuple(plans)


def census_lines(children: list[Child], layout: Layout | None = None) -> Iterator[str]:
    """The file, a line at a time."""
    layout = layout or Layout()
    xmlns = f' xmlns="{layout.namespace}"' if layout.namespace else ""
    yield '<?xml version="1.0" encoding="utf-8"?>'
    yield f"<Message{xmlns}>"
    yield "  <Header>"
    yield "    <CollectionDetails><Collection>CIN</Collection><Year>2026</Year>"
    yield f"      <ReferenceDate>{layout.reference_date.isoformat()}</ReferenceDate></CollectionDetails>"
    yield "    <Source><SourceLevel>L</SourceLevel><LEA>999</LEA><SoftwareCode>Synthetic</SoftwareCode>"
    yield "      <Release>1</Release><SerialNo>001</SerialNo><DateTime>2026-04-02T09:00:00</DateTime></Source>"
    yield from layout.extra_header
    yield "  </Header>"
    yield "  <Children>"
    for index, child in enumerate(children):
        yield from _child_lines(child, layout, index)
    yield "  </Children>"
    yield "</Message>"


def _child_lines(child: Child, layout: Layout, index: int) -> Iterator[str]:
    stray = "PersonBirthDate" if layout.stray_text and index % 7 == 0 else ""
    yield "    <Child>"
    yield "      <ChildIdentifiers>"
    yield f"        <LAchildID>{escape(child.reference)}</LAchildID>"
    yield f"        <UPN>{child.upn}</UPN>"
    yield f"        <FormerUPN>{SENTINEL}UPN{index}</FormerUPN>{stray}"
    yield f"        <PersonBirthDate>{child.birth.isoformat()}</PersonBirthDate>"
    yield f"        <{layout.sex_element}>{'M' if index % 2 else 'F'}</{layout.sex_element}>"
    yield "      </ChildIdentifiers>"
    yield "      <ChildCharacteristics>"
    yield f"        <Ethnicity>{SENTINEL}ETH</Ethnicity>"
    yield f"        <Disabilities><Disability>{SENTINEL}DIS</Disability></Disabilities>"
    yield "      </ChildCharacteristics>"
    if layout.unknown_elements and index % 5 == 0:
        yield f"      <ChildName>{SENTINEL} Name{index}</ChildName>"
        yield f"      <PostCode>{SENTINEL}PC{index}</PostCode>"
    for episode in child.episodes:
        yield "      <CINdetails>"
        yield f"        <CINreferralDate>{episode.referral.isoformat()}</CINreferralDate>"
        yield "        <ReferralSource>1A</ReferralSource><PrimaryNeedCode>N1</PrimaryNeedCode>"
        if episode.closure:
            yield f"        <CINclosureDate>{episode.closure.isoformat()}</CINclosureDate>"
            yield "        <ReasonForClosure>RC1</ReasonForClosure>"
        yield "        <ReferralNFA>false</ReferralNFA>"
        yield "        <Assessments><AssessmentActualStartDate>2021-02-01</AssessmentActualStartDate>"
        yield "          <FactorsIdentifiedAtAssessment><AssessmentFactors>1C</AssessmentFactors>"
        yield "          </FactorsIdentifiedAtAssessment></Assessments>"
        for plan in episode.plans:
            yield "        <ChildProtectionPlans>"
            yield f"          <CPPstartDate>{plan.start.isoformat()}</CPPstartDate>"
            if plan.end:
                yield f"          <CPPendDate>{plan.end.isoformat()}</CPPendDate>"
            yield "          <InitialCategoryOfAbuse>PHY</InitialCategoryOfAbuse>"
            yield "          <NumberOfPreviousCPP>0</NumberOfPreviousCPP>"
            yield f"          <Reviews><CPPreviewDate>{plan.start.isoformat()}</CPPreviewDate></Reviews>"
            yield "        </ChildProtectionPlans>"
        if layout.pre_proceedings:
            yield "        <PreProceedingsandFGDM><PPStartDate>2025-09-09</PPStartDate>"
            yield "          <PPOutcome>A</PPOutcome></PreProceedingsandFGDM>"
        if layout.unknown_elements and index % 3 == 0:
            yield "        <EarlyHelpAssessmentDate>2025-01-01</EarlyHelpAssessmentDate>"
        yield "      </CINdetails>"
    yield "    </Child>"


def write_census(path: Path, children: list[Child], layout: Layout | None = None) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for line in census_lines(children, layout):
            out.write(line)
            out.write("\n")
    return path
