"""Reading a DfE Children in Need census XML file, one child at a time: the child's ID, each CIN
episode's referral and closure dates, and each CP plan's start and end dates. Everything else a
child carries (UPN, date of birth, sex, ethnicity, disabilities, assessments...) is read past and
never kept. A DOCTYPE or entity declaration is refused before anything is built from it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from qa_tui.errors import ValidationError
from qa_tui.services.imports.caseload import MAX_REFERENCE
from qa_tui.services.imports.workbook import EARLIEST_DATE, LATEST_DATE, cell_date, clean_text

DEFAULT_CHILD_ID = "LAchildID"
# The elements of the census schema, every year qa-tui knows (2022-23 to 2026-27): anything else
# in a child is ignored and counted. Compared case-insensitively, without a namespace.
KNOWN_ELEMENTS = frozenset(name.casefold() for name in """
    Message Header CollectionDetails Collection Year ReferenceDate Source SourceLevel LEA SoftwareCode
    Release SerialNo DateTime Children Child ChildIdentifiers LAchildID UPN FormerUPN UPNunknown
    PersonBirthDate ExpectedPersonBirthDate GenderCurrent Sex PersonDeathDate ChildCharacteristics
    Ethnicity Disabilities Disability CINdetails CINreferralDate ReferralSource PrimaryNeedCode
    CINclosureDate ReasonForClosure DateOfInitialCPC ReferralNFA Assessments AssessmentActualStartDate
    AssessmentInternalReviewDate AssessmentAuthorisationDate FactorsIdentifiedAtAssessment
    AssessmentFactors CINPlanDates CINPlanStartDate CINPlanEndDate Section47 S47ActualStartDate
    InitialCPCtarget ICPCnotRequired ChildProtectionPlans CPPstartDate CPPendDate InitialCategoryOfAbuse
    LatestCategoryOfAbuse NumberOfPreviousCPP Reviews CPPreviewDate PreProceedingsandFGDM PPStartDate
    LBPSentDate FGDMMeetingOffer FGDMMeetingFac InitialPPMeetingDate ReviewMeetingsCount
    StepDecisionDate PPOutcome CourtAppDate LetterInitCPDate
""".split())
LISTED_CHILDREN = 5  # a note naming children names at most this many


@dataclass(frozen=True)
class CensusPlan:
    start: date
    end: date | None


@dataclass(frozen=True)
class CensusEpisode:
    referral: date
    closure: date | None
    plans: tuple[CensusPlan, ...]


@dataclass(frozen=True)
class CensusChild:
    """A child whose ID and dates could all be read."""

    reference: str
    episodes: tuple[CensusEpisode, ...]

    @property
    def plans(self) -> tuple[CensusPlan, ...]:
        """Every CP plan of every episode, once each, by start date."""
        by_start: dict[date, CensusPlan] = {}
        for plan in (p for e in self.episodes for p in e.plans):
            kept = by_start.get(plan.start)
            if kept is None or (kept.end is not None and (plan.end is None or plan.end > kept.end)):
                by_start[plan.start] = plan
        return tuple(by_start[start] for start in sorted(by_start))


@dataclass(frozen=True)
class CensusNote:
    """Something in the file the user should know about: which child (its ID, or its place in the
    file when it has none), which element, and what happened."""

    child: str
    element: str
    message: str

    @property
    def where(self) -> str:
        return ", ".join(part for part in (self.child, f"<{self.element}>" if self.element else "") if part)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass(frozen=True)
class CensusHeader:
    collection: str = ""
    year: str = ""
    reference_date: date | None = None
    la_code: str = ""


@dataclass
class CensusReading:
    """What reading the whole file gave."""

    source: str
    header: CensusHeader = field(default_factory=CensusHeader)
    children_in_file: int = 0
    children: list[CensusChild] = field(default_factory=list)
    problems: list[CensusNote] = field(default_factory=list)  # children or parts not used, and why
    notes: list[CensusNote] = field(default_factory=list)
    unknown: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # element → child labels
    stray_text: list[str] = field(default_factory=list)  # child labels


def read_census(path: Path, *, today: date, child_id: str = DEFAULT_CHILD_ID, prefix: str = "") -> CensusReading:
    """Read the file as a stream, keeping one child in memory at a time. Raises ValidationError
    when it is not a readable CIN census at all; problems with single children are in the reading."""
    source = str(path)
    reading = CensusReading(source)
    try:
        stream = path.open("rb")
    except FileNotFoundError:
        raise ValidationError(source, "no such file") from None
    except IsADirectoryError:
        raise ValidationError(source, "is a folder, not a file") from None
    except OSError as exc:
        raise ValidationError(source, f"cannot be read ({exc.strerror})") from None
    with stream:
        try:
            _read_stream(stream, reading, today, child_id, prefix)
        except DefusedXmlException:
            raise ValidationError(source, "declares a DOCTYPE or entities, which a CIN census never has; "
                                          "refused so that nothing outside the file is read") from None
        except ParseError as exc:
            line, column = getattr(exc, "position", (0, 0))
            raise ValidationError(source, f"is not well-formed XML (line {line}, column {column + 1}); "
                                          "is it the census XML file?") from None
        except OSError as exc:
            raise ValidationError(source, f"cannot be read ({exc.strerror})") from None
    if reading.children_in_file == 0:
        raise ValidationError(source, "has no <Child> elements: it is not a CIN census file, or it is empty")
    return reading


@lru_cache(maxsize=1024)
def _folded(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].casefold()


def local_name(tag: Any) -> str:
    """An element's name without its namespace; "" for comments and processing instructions."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def folded_name(tag: Any) -> str:
    """`local_name`, case-folded: how elements are compared (a census file's tags repeat, so cached)."""
    return _folded(tag) if isinstance(tag, str) else ""


def _read_stream(stream: Any, reading: CensusReading, today: date, child_id: str, prefix: str) -> None:
    parents: list[Element] = []
    for event, element in iterparse(stream, events=("start", "end"), forbid_dtd=True):
        name = folded_name(element.tag)
        if event == "start":
            if not parents and name != "message":
                raise ValidationError(reading.source, f"is not a CIN census file: its first element is "
                                                      f"<{local_name(element.tag)[:60]}>, not <Message>")
            parents.append(element)
            continue
        parents.pop()
        if name == "header" and len(parents) == 1:
            reading.header = _header(element, reading)
            element.clear()
        elif name == "child":
            reading.children_in_file += 1
            _read_child(element, reading.children_in_file, reading, today, child_id, prefix)
            element.clear()
            if parents:
                parents[-1].remove(element)  # keep the tree one child deep


def _header(element: Element, reading: CensusReading) -> CensusHeader:
    values = {folded_name(e.tag): clean_text(e.text) for e in element.iter()}
    collection = values.get("collection", "")
    if collection and collection.casefold() != "cin":
        raise ValidationError(reading.source, f"is a {collection[:40]!r} collection, not the CIN census")
    reference_date = None
    if values.get("referencedate"):
        try:
            reference_date = cell_date(values["referencedate"])
        except ValueError as exc:
            reading.notes.append(CensusNote("Header", "ReferenceDate", f"{exc}; the census date is not known"))
    return CensusHeader(collection, values.get("year", "")[:10], reference_date, values.get("lea", "")[:10])


def _children_named(element: Element, name: str) -> list[Element]:
    wanted = name.casefold()
    return [e for e in element if folded_name(e.tag) == wanted]


def _text_of(element: Element, name: str) -> str | None:
    """The text of the first child element called `name` (case-insensitive); None if there is none."""
    found = _children_named(element, name)
    return clean_text(found[0].text) if found else None


class _Unusable(Exception):
    """A date or ID of this child cannot be read: the child is left as it is."""


def _read_child(element: Element, number: int, reading: CensusReading, today: date, child_id: str,
                prefix: str) -> None:
    identifiers = (_children_named(element, "childidentifiers") or [Element("ChildIdentifiers")])[0]
    raw_id = _text_of(identifiers, child_id)
    label = f"child {raw_id[:MAX_REFERENCE]}" if raw_id else f"child {number} in the file"
    _note_unknown_and_stray(element, label, reading)
    if not raw_id:
        reading.problems.append(CensusNote(label, f"ChildIdentifiers/{child_id}",
                                           "no child ID; the child is not used"))
        return
    reference = f"{prefix}{raw_id}"
    if len(reference) > MAX_REFERENCE:
        reading.problems.append(CensusNote(label, f"ChildIdentifiers/{child_id}",
                                           f"the child ID is longer than {MAX_REFERENCE} characters; "
                                           "the child is not used"))
        return
    episodes: list[CensusEpisode] = []
    try:
        for index, details in enumerate(_children_named(element, "cindetails"), start=1):
            episode = _episode(details, index, label, reading, today)
            if episode is not None:
                episodes.append(episode)
    except _Unusable:  # the problem is noted; nothing about this child is written
        return
    if not episodes:
        reading.problems.append(CensusNote(label, "CINdetails", "no CIN episode with a referral date; "
                                                                "the child is not used"))
        return
    reading.children.append(CensusChild(reference, tuple(episodes)))


def _episode(details: Element, index: int, label: str, reading: CensusReading,
             today: date) -> CensusEpisode | None:
    where = f"CINdetails {index}"
    referral = _date(details, "CINreferralDate", where, label, reading, today)
    closure = _date(details, "CINclosureDate", where, label, reading, today)
    if referral is None:
        reading.problems.append(CensusNote(label, f"{where}/CINreferralDate",
                                           "no referral date; this CIN episode is not used"))
        return None
    if closure is not None and closure < referral:
        reading.problems.append(CensusNote(label, f"{where}/CINclosureDate", (
            f"closed on {closure:%d/%m/%Y}, before the referral on {referral:%d/%m/%Y}; "
            "the child is left as it is")))
        raise _Unusable
    plans = []
    for number, block in enumerate(_children_named(details, "childprotectionplans"), start=1):
        plan_where = f"{where}/ChildProtectionPlans {number}"
        start = _date(block, "CPPstartDate", plan_where, label, reading, today)
        end = _date(block, "CPPendDate", plan_where, label, reading, today)
        if start is None:
            reading.problems.append(CensusNote(label, f"{plan_where}/CPPstartDate",
                                               "no start date; this CP plan is not used"))
            continue
        if end is not None and end < start:
            reading.problems.append(CensusNote(label, f"{plan_where}/CPPendDate", (
                f"ended on {end:%d/%m/%Y}, before it started on {start:%d/%m/%Y}; the child is left as it is")))
            raise _Unusable
        if end is None and closure is not None:
            reading.notes.append(CensusNote(label, f"{plan_where}/CPPendDate", (
                f"no end date, but the CIN episode closed on {closure:%d/%m/%Y}: "
                "the plan is taken to have ended then")))
            end = max(closure, start)
        plans.append(CensusPlan(start, end))
    return CensusEpisode(referral, closure, tuple(plans))


def _date(element: Element, name: str, where: str, label: str, reading: CensusReading, today: date) -> date | None:
    text = _text_of(element, name)
    if not text:
        return None
    try:
        value = _iso_date(text) or cell_date(text[:40])
    except ValueError as exc:
        reading.problems.append(CensusNote(label, f"{where}/{name}", f"{exc}; the child is left as it is"))
        raise _Unusable from None
    if value is not None and value > today:
        reading.problems.append(CensusNote(label, f"{where}/{name}", (
            f"{value:%d/%m/%Y} is after today; the child is left as it is")))
        raise _Unusable
    return value


def _iso_date(text: str) -> date | None:
    """The census's own form, YYYY-MM-DD, read quickly; None for anything else."""
    if len(text) != 10 or text[4] != "-":
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        return None
    return value if EARLIEST_DATE <= value <= LATEST_DATE else None  # cell_date says why not


def _note_unknown_and_stray(element: Element, label: str, reading: CensusReading) -> None:
    """Count elements no census schema has, and text between elements (never quoted: it could be
    anything, a name included)."""
    unknown: set[str] = set()
    stray = False
    for node in element.iter():
        if folded_name(node.tag) not in KNOWN_ELEMENTS and isinstance(node.tag, str):
            unknown.add(local_name(node.tag)[:60])
        if node is not element and (node.tail or "").strip():
            stray = True
        if len(node) and (node.text or "").strip():
            stray = True
    for name in unknown:
        reading.unknown[name].append(label)
    if stray:
        reading.stray_text.append(label)


def summary_notes(reading: CensusReading) -> Iterator[CensusNote]:
    """The notes about the whole file: unknown elements and stray text, each with the children."""
    for name in sorted(reading.unknown):
        yield CensusNote("", name, f"not a census element qa-tui knows, in {children_label(reading.unknown[name])}; "
                                   "ignored")
    if reading.stray_text:
        yield CensusNote("", "", f"text between elements (outside any value), in "
                                 f"{children_label(reading.stray_text)}; ignored")


def children_label(labels: Iterable[str]) -> str:
    """"child A", or "3 children (A, B, C)", naming at most LISTED_CHILDREN."""
    listed = list(labels)
    names = ", ".join(label.removeprefix("child ") for label in listed[:LISTED_CHILDREN])
    rest = len(listed) - LISTED_CHILDREN
    return (f"{len(listed)} children ({names}" + (f" and {rest} more" if rest > 0 else "") + ")"
            if len(listed) > 1 else listed[0])
