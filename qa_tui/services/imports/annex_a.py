"""Ofsted Annex A import: read lists 6–9, preview the caseload changes, then apply them; plus the
caseload core every caseload import shares (matching teams and workers, planning, writing)."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from qa_tui.db import trail
from qa_tui.db.models import CASE_CATEGORY_NAMES, Case, Person, Team
from qa_tui.errors import ChangedElsewhere, ValidationError
from qa_tui.services.imports.workbook import (
    CellValue,
    Sheet,
    cell_date,
    clean_text,
    is_blank,
    is_placeholder,
    placeholder_key,
    read_workbook,
)

LIST_CATEGORIES = {6: "CIN", 7: "CP", 8: "CLA", 9: "CL"}
# Lower wins when a child is on several lists (open rows always beat closed ones first).
# Care leavers come last: a young person on List 8 and List 9 is still looked after (an eligible
# child), and a statutory CP or CIN plan outranks leaving-care support.
CATEGORY_PRECEDENCE = {"CLA": 0, "CP": 1, "CIN": 2, "CL": 3}
HEADER_SEARCH_ROWS = 10
NEW_WORKER_ROLE = "SW"
GENERATED_STAFF_ID_PREFIX = "AX-"
CHANGE_KINDS = ("new", "reallocated", "closed", "reopened", "updated", "unchanged")
NO_TEAM = "(no team)"
UNALLOCATED = "(unallocated)"
MAX_REFERENCE = 60
MAX_NAME = 200
MAX_CODE = 40


# --- what import files say ------------------------------------------------------------------


@dataclass(frozen=True)
class TeamKey:
    """A team as an import file names it: by name, by code, or both."""

    name: str
    code: str = ""


@dataclass(frozen=True)
class WorkerKey:
    """A worker as an import file names them: by name, by staff ID, or both."""

    name: str
    staff_id: str = ""


@dataclass(frozen=True)
class IncomingCase:
    """One child's case as the file gives it; only what the product stores."""

    reference: str
    category: str
    opened_on: date | None = None
    closed_on: date | None = None
    cp_plan_start: date | None = None
    cp_plan_end: date | None = None
    team: TeamKey | None = None
    worker: WorkerKey | None = None


@dataclass(frozen=True)
class RowNote:
    """A row (or a whole sheet, row 0) the user should know about, and why."""

    sheet: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = [part for part in (
            self.sheet, f"row {self.row}" if self.row else "", f"column {self.column}" if self.column else "",
        ) if part]
        return f"{', '.join(where)}: {self.message}" if where else self.message


# --- planned changes ------------------------------------------------------------------------


@dataclass(frozen=True)
class NewTeam:
    code: str
    name: str


@dataclass(frozen=True)
class NewWorker:
    staff_id: str
    name: str
    team: str  # team name, "" when none


@dataclass(frozen=True)
class CaseChange:
    reference: str
    kind: str  # one of CHANGE_KINDS
    category: str
    team: str
    worker: str
    old_team: str = ""
    old_worker: str = ""
    old_category: str = ""
    closed_on: date | None = None


@dataclass(frozen=True)
class TeamLoad:
    """Open cases in the file for one team, and per worker within it."""

    team: str
    cases: int
    workers: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class CaseloadPlan:
    changes: tuple[CaseChange, ...]  # every case in the file and every closure, by reference
    new_teams: tuple[NewTeam, ...]
    new_workers: tuple[NewWorker, ...]
    by_team: tuple[TeamLoad, ...]
    notes: tuple[str, ...]  # matching problems found against the database

    def count(self, kind: str) -> int:
        return sum(1 for change in self.changes if change.kind == kind)

    def counts(self) -> dict[str, int]:
        return {kind: self.count(kind) for kind in CHANGE_KINDS}

    def of_kind(self, *kinds: str) -> tuple[CaseChange, ...]:
        return tuple(change for change in self.changes if change.kind in kinds)

    @property
    def writes_anything(self) -> bool:
        return bool(self.new_teams or self.new_workers or any(c.kind != "unchanged" for c in self.changes))


@dataclass(frozen=True)
class ListSummary:
    number: int
    category: str
    sheet: str | None  # None: the list is not in the file (or has no usable header)
    rows: int = 0
    used: int = 0
    open: int = 0


@dataclass(frozen=True)
class AnnexAPreview:
    """Everything the user needs to decide, and everything `apply_annex_a` needs to write."""

    source: str
    file_kind: str
    today: date
    lists: tuple[ListSummary, ...]
    cases: tuple[IncomingCase, ...]
    held: tuple[str, ...]  # child IDs with unusable rows: left exactly as they are
    closable: tuple[str, ...]  # categories whose list is in the file
    problems: tuple[RowNote, ...]  # rows not used
    warnings: tuple[RowNote, ...]  # rows used with a caveat, and notes about whole lists
    plan: CaseloadPlan


@dataclass(frozen=True)
class ImportResult:
    source: str
    plan: CaseloadPlan  # what was written
    matches_preview: bool  # False when the database changed between preview and apply


# --- the Annex A workbook -------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    exact: frozenset[str]
    any_of: tuple[frozenset[str], ...] = ()
    never: frozenset[str] = frozenset()

    def matches(self, key: str) -> bool:
        if key in self.exact:
            return True
        tokens = set(key.split())
        return not tokens & self.never and any(needed <= tokens for needed in self.any_of)


def _field(exact: str, any_of: str = "", never: str = "") -> _Field:
    """Compact spelling: `exact` and `any_of` are '|'-separated; `any_of` entries are token sets."""
    return _Field(frozenset(exact.split("|")),
                  tuple(frozenset(alt.split()) for alt in any_of.split("|") if alt),
                  frozenset(never.split()))


COMMON_FIELDS = {
    "reference": _field(
        "child unique id|child id|unique child id|childs unique id|child unique identifier|child identifier"
        "|unique identifier|unique id|child ref|child reference|id|person id|case reference",
        "child id|childs id|child identifier|child ref|child reference|young person id",
        "family adopter previous"),
    "team": _field(
        "allocated team|team|allocated team name|team name|allocated service|allocated team service"
        "|team allocated|responsible team",
        "team", "manager leader previous date"),
    "worker": _field(
        "allocated worker|allocated social worker|social worker|worker|allocated worker name|worker name"
        "|allocated sw|lead worker|allocated lead worker|key worker|allocated key worker|case worker"
        "|caseworker|allocated caseworker|allocated case worker|social worker name",
        "worker|caseworker", "team manager previous date advisor adviser visit"),
}
LIST_DATE_FIELDS = {
    6: {
        "start": _field("cin start date|child in need start date|cin start|start date|date cin started"
                        "|cin episode start date",
                        "cin start date|need start date|cin started date", "reason"),
        "end": _field("cin closure date|child in need closure date|cin end date|cin closed date|closure date"
                      "|end date|date cin closed|date of closure|cin close date",
                      "cin closure date|cin end date|cin closed date|need closure date|need end date", "reason"),
    },
    7: {
        "start": _field("child protection plan start date|cp plan start date|cpp start date|plan start date"
                        "|start date|cp start date|date cp plan started",
                        "plan start date|cp start date|cpp start date|protection start date", "reason"),
        "end": _field("child protection plan end date|cp plan end date|cpp end date|plan end date|end date"
                      "|cp end date|date cp plan ended|child protection plan ceased date",
                      "plan end date|cp end date|cpp end date|protection end date|plan ended date"
                      "|plan ceased date", "reason"),
    },
    8: {
        "start": _field("date started to be looked after|date started to be lac|date started to be cla"
                        "|date became looked after|date child became looked after|looked after start date"
                        "|cla start date|lac start date|start date|date entered care|date the child entered care"
                        "|period of care start date",
                        "started looked date|start looked date|became looked date|cla start date"
                        "|lac start date|entered care date|care start date",
                        "reason placement legal status"),
        "end": _field("date ceased to be looked after|date ceased to be lac|date ceased to be cla|cla end date"
                      "|lac end date|end date|date left care|looked after end date|period of care end date",
                      "ceased looked date|ceased cla date|ceased lac date|cla end date|lac end date"
                      "|left care date|care end date|looked end date",
                      "reason placement"),
    },
    9: {},
}
FIELD_TITLES = {"reference": "child ID", "team": "allocated team", "worker": "allocated worker",
                "start": "start date", "end": "end date"}


def header_key(value: CellValue) -> str:
    """A header as compared: lower case, spaces collapsed, '_', '-' and '/' as spaces, other
    punctuation dropped ("Child's  Unique ID " → "childs unique id")."""
    text = re.sub(r"[_\-/\\]", " ", clean_text(value))
    return placeholder_key(text)


def name_key(value: CellValue) -> str:
    """A person's or team's name as compared: case-insensitive, spaces (incl. NBSP) collapsed."""
    return clean_text(value).casefold()


def list_number(sheet_name: str) -> int | None:
    """6 for "List 6", "List_6", "list6", " LIST 6 - CIN"; None for other sheets."""
    match = re.search(r"(?:^|[^a-z])list\s*0*(\d+)(?!\d)", header_key(sheet_name))
    return int(match.group(1)) if match else None


def column_label(index: int, header: CellValue) -> str:
    letters = ""
    number = index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    title = clean_text(header)
    return f"{letters} ({title})" if title else letters


@dataclass
class _Row:
    """A usable row of one list."""

    number: int
    sheet: str
    row: int
    reference: str
    start: date | None
    end: date | None
    team: str
    worker: str
    notes: list[RowNote] = field(default_factory=list)

    @property
    def category(self) -> str:
        return LIST_CATEGORIES[self.number]

    @property
    def is_open(self) -> bool:
        return self.end is None

    def rank(self) -> tuple[int, int, int, int]:
        """Sort key: open first, then list precedence, then latest start, then first in the file."""
        start = self.start.toordinal() if self.start else 0
        return (0 if self.is_open else 1, CATEGORY_PRECEDENCE[self.category], -start, self.row)


@dataclass
class _Reading:
    lists: list[ListSummary] = field(default_factory=list)
    rows: list[_Row] = field(default_factory=list)
    held: set[str] = field(default_factory=set)
    problems: list[RowNote] = field(default_factory=list)
    warnings: list[RowNote] = field(default_factory=list)


def _find_header(rows: Sequence[tuple[CellValue, ...]]) -> int | None:
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        cells = [c for c in row if not is_blank(c)]
        if len(cells) >= 2 and any(COMMON_FIELDS["reference"].matches(header_key(c)) for c in cells):
            return index
    return None


def _map_columns(header: tuple[CellValue, ...], fields: dict[str, _Field]) -> dict[str, int]:
    keys = [header_key(cell) for cell in header]
    found: dict[str, int] = {}
    for name, spec in fields.items():  # exact spellings first, so a rule cannot take their column
        for index, key in enumerate(keys):
            if key in spec.exact and index not in found.values():
                found[name] = index
                break
    for name, spec in fields.items():
        if name in found:
            continue
        for index, key in enumerate(keys):
            if key and spec.matches(key) and index not in found.values():
                found[name] = index
                break
    return found


def child_reference(value: CellValue) -> str:
    """The child's ID as stored: text, whole numbers without ".0", spaces cleaned."""
    if isinstance(value, (bool, date)):
        raise ValueError(f"{clean_text(value)!r} is not a child ID")
    text = clean_text(value)
    if is_placeholder(text):
        raise ValueError(f"no child ID ({text!r})" if text else "no child ID")
    if len(text) > MAX_REFERENCE:
        raise ValueError(f"child ID is longer than {MAX_REFERENCE} characters")
    return text


def _read_list(sheet: Sheet, number: int, today: date, reading: _Reading) -> ListSummary:
    category = LIST_CATEGORIES[number]
    header_index = _find_header(sheet.rows)
    if header_index is None:
        reading.problems.append(RowNote(sheet.name, 0, "", (
            f"no header row with a child ID column in the first {HEADER_SEARCH_ROWS} rows; "
            f"the list is not used and {CASE_CATEGORY_NAMES[category].lower()} cases are left as they are")))
        return ListSummary(number, category, None)
    header = sheet.rows[header_index]
    columns = _map_columns(header, {**COMMON_FIELDS, **LIST_DATE_FIELDS[number]})
    for name in ("team", "worker", *LIST_DATE_FIELDS[number]):
        if name not in columns:
            reading.warnings.append(RowNote(sheet.name, header_index + 1, "", (
                f"no {FIELD_TITLES[name]} column"
                + (": every case on this list is imported as unallocated" if name == "worker" else ""))))

    def column(name: str) -> str:
        return column_label(columns[name], header[columns[name]])

    rows = used = open_rows = 0
    for index in range(header_index + 1, len(sheet.rows)):
        values = sheet.rows[index]
        if all(is_blank(v) for v in values):
            continue
        rows += 1
        row_number = index + 1

        def cell(name: str) -> CellValue:
            position = columns.get(name)
            return values[position] if position is not None and position < len(values) else None

        try:
            reference = child_reference(cell("reference"))
        except ValueError as exc:
            reading.problems.append(RowNote(sheet.name, row_number, column("reference"), f"{exc}; row not used"))
            continue
        dates: dict[str, date | None] = {}
        bad = False
        for name in LIST_DATE_FIELDS[number]:
            try:
                dates[name] = cell_date(cell(name))
            except ValueError as exc:
                reading.problems.append(RowNote(sheet.name, row_number, column(name),
                                                f"{exc}; child {reference} left as it is"))
                bad = True
        end = dates.get("end")
        if end is not None and end > today:
            reading.problems.append(RowNote(sheet.name, row_number, column("end"),
                                            f"end date {end:%d/%m/%Y} is after today; child {reference} left as it is"))
            bad = True
        if bad:
            reading.held.add(reference)
            continue
        team, worker = cell("team"), cell("worker")
        row = _Row(number, sheet.name, row_number, reference, dates.get("start"), end,
                   "" if is_placeholder(team) else clean_text(team)[:MAX_NAME],
                   "" if is_placeholder(worker) else clean_text(worker)[:MAX_NAME])
        if "worker" in columns and not row.worker:
            outcome = "imported as unallocated" + ("" if row.team else ", with no team")
            row.notes.append(RowNote(sheet.name, row_number, column("worker"),
                                     f"{_missing(worker, 'worker')}; {outcome}"))
        elif "team" in columns and not row.team:
            row.notes.append(RowNote(sheet.name, row_number, column("team"),
                                     f"{_missing(team, 'team')}; the worker's own team is used"))
        reading.rows.append(row)
        used += 1
        open_rows += row.is_open
    if rows == 0:
        reading.warnings.append(RowNote(sheet.name, 0, "", (
            f"the list is empty: every open {CASE_CATEGORY_NAMES[category].lower()} case "
            "not elsewhere in the file will be closed")))
    return ListSummary(number, category, sheet.name, rows, used, open_rows)


def _missing(value: CellValue, what: str) -> str:
    shown = clean_text(value)
    return f"{shown!r} is not a {what}'s name" if shown else f"no allocated {what}"


def _read_annex_a(path: Path, today: date) -> AnnexAPreview:
    """Read and check the workbook; the plan is left empty for `preview_annex_a` to fill."""
    workbook = read_workbook(path, want_sheet=lambda name: list_number(name) in LIST_CATEGORIES)
    reading = _Reading()
    sheets: dict[int, Sheet] = {}
    for sheet in workbook.sheets:
        number = list_number(sheet.name) or 0  # only list sheets were read
        if number in sheets:
            reading.warnings.append(RowNote(sheet.name, 0, "", (
                f"a second sheet for List {number}; only {sheets[number].name!r} is used")))
        else:
            sheets[number] = sheet
    if not sheets:
        raise ValidationError(workbook.source, "has no Annex A lists 6 to 9 (sheets named like 'List 6')")
    for number, category in LIST_CATEGORIES.items():
        if number in sheets:
            reading.lists.append(_read_list(sheets[number], number, today, reading))
        else:
            reading.lists.append(ListSummary(number, category, None))
            reading.warnings.append(RowNote(f"List {number}", 0, "", (
                f"not in the file: {CASE_CATEGORY_NAMES[category].lower()} cases are left as they are")))
    cases = _dedupe(reading)
    if not cases:  # never let an empty or unreadable file close the whole caseload
        first = f" (first: {min(reading.problems, key=_note_order)})" if reading.problems else ""
        raise ValidationError(workbook.source, f"has no usable case rows on lists 6 to 9; nothing to import{first}")
    return AnnexAPreview(
        source=workbook.source, file_kind=workbook.kind, today=today, lists=tuple(reading.lists),
        cases=tuple(cases), held=tuple(sorted(reading.held)),
        closable=tuple(s.category for s in reading.lists if s.sheet is not None),
        problems=tuple(sorted(reading.problems, key=_note_order)),
        warnings=tuple(sorted(reading.warnings, key=_note_order)),
        plan=CaseloadPlan((), (), (), (), ()),
    )


def _note_order(note: RowNote) -> tuple[int, str, int, str]:
    return (list_number(note.sheet) or 0, note.sheet, note.row, note.column)


def _dedupe(reading: _Reading) -> list[IncomingCase]:
    """One case per child: duplicates within a list and the child's rows across lists merged."""
    by_child: dict[str, list[_Row]] = defaultdict(list)
    for row in reading.rows:
        by_child[row.reference].append(row)
    cases = []
    for reference in sorted(by_child):
        if reference in reading.held:
            continue
        rows = by_child[reference]
        best_per_list: dict[int, _Row] = {}
        for number in sorted({r.number for r in rows}):
            same_list = sorted((r for r in rows if r.number == number), key=_Row.rank)
            best_per_list[number] = same_list[0]
            for other in same_list[1:]:
                same = (other.start, other.end, other.team, other.worker) == (
                    same_list[0].start, same_list[0].end, same_list[0].team, same_list[0].worker)
                reading.warnings.append(RowNote(other.sheet, other.row, "", (
                    f"duplicate of row {same_list[0].row} for child {reference}; not used" if same else
                    f"child {reference} is also on row {same_list[0].row}, which is used instead "
                    "(open rows first, then the latest start date)")))
        chosen = min(best_per_list.values(), key=_Row.rank)
        reading.warnings.extend(chosen.notes)
        cp_row = best_per_list.get(7)
        cases.append(IncomingCase(
            reference=reference, category=chosen.category, opened_on=chosen.start, closed_on=chosen.end,
            cp_plan_start=cp_row.start if cp_row else None, cp_plan_end=cp_row.end if cp_row else None,
            team=TeamKey(chosen.team) if chosen.team else None,
            worker=WorkerKey(chosen.worker) if chosen.worker else None,
        ))
    return cases


def preview_annex_a(session: Session, path: Path | str, today: date) -> AnnexAPreview:
    """Read the workbook and compare it with the database. Writes nothing."""
    preview = _read_annex_a(Path(path), today)
    plan = plan_caseload(session, preview.cases, held=preview.held, closable=preview.closable, today=today)
    return replace(preview, plan=plan)


def apply_annex_a(session: Session, preview_or_path: AnnexAPreview | Path | str, today: date) -> ImportResult:
    """Write the import in the caller's transaction. Given a preview, the file is not read again,
    but the changes are worked out afresh against the database as it is now."""
    preview = preview_or_path
    if not isinstance(preview, AnnexAPreview):
        preview = preview_annex_a(session, preview, today)
    return apply_caseload(session, preview.source, preview.cases, held=preview.held,
                          closable=preview.closable, today=today, what="Annex A", previewed=preview.plan)


# --- the caseload core: matching, planning, writing -----------------------------------------


@dataclass(frozen=True)
class _Ref:
    """A team or person: an existing row ("id") or one the import will create ("new")."""

    kind: str
    key: str  # the UUID as text, or the new row's code / staff ID
    label: str


@dataclass(frozen=True)
class _Step:
    case: Case | None
    incoming: IncomingCase | None
    team: _Ref | None
    worker: _Ref | None
    change: CaseChange


class _Directory:
    """Existing teams and people, looked up the ways import files name them, and the new ones."""

    def __init__(self, session: Session) -> None:
        self.teams = {t.id: t for t in session.scalars(select(Team))}
        self.people = {p.id: p for p in session.scalars(select(Person))}
        self.team_codes = {t.code.casefold(): t for t in self.teams.values()}
        self.team_names: dict[str, list[Team]] = defaultdict(list)
        for team in sorted(self.teams.values(), key=lambda t: t.code):
            self.team_names[name_key(team.name)].append(team)
        self.staff_ids = {p.staff_id.casefold(): p for p in self.people.values()}
        self.person_names: dict[str, list[Person]] = defaultdict(list)
        for person in sorted(self.people.values(), key=lambda p: p.staff_id):
            self.person_names[name_key(person.name)].append(person)
        self.new_teams: dict[str, NewTeam] = {}  # by code, case-folded
        self.new_team_names: dict[str, str] = {}  # name key → case-folded code
        self.new_workers: dict[str, tuple[NewWorker, _Ref | None]] = {}  # by staff ID, case-folded
        self.new_worker_names: dict[str, str] = {}  # name key → case-folded staff ID
        self.notes: list[str] = []

    def team_ref(self, team: Team) -> _Ref:
        return _Ref("id", str(team.id), team.name)

    def person_ref(self, person: Person) -> _Ref:
        return _Ref("id", str(person.id), person.name)

    def team(self, key: TeamKey | None, create: bool = True) -> _Ref | None:
        if key is None:
            return None
        code, wanted = key.code.strip(), name_key(key.name)
        if code:
            if (found := self.team_codes.get(code.casefold())) is not None:
                return self.team_ref(found)
            if code.casefold() in self.new_teams:
                return self._new_team_ref(code.casefold())
        if wanted:
            if named := self.team_names.get(wanted):
                return self.team_ref(named[0])
            if not code and (found := self.team_codes.get(wanted)) is not None:
                return self.team_ref(found)
            if wanted in self.new_team_names:
                return self._new_team_ref(self.new_team_names[wanted])
        if not create:
            return None
        name = clean_text(key.name)[:MAX_NAME] or code
        code = code[:MAX_CODE] or self._team_code(name)
        self.new_teams[code.casefold()] = NewTeam(code, name)
        if wanted:
            self.new_team_names[wanted] = code.casefold()
        return self._new_team_ref(code.casefold())

    def _new_team_ref(self, folded_code: str) -> _Ref:
        team = self.new_teams[folded_code]
        return _Ref("new", team.code, team.name)

    def _team_code(self, name: str) -> str:
        base = re.sub(r"[^A-Z0-9]+", "-", clean_text(name).upper()).strip("-")[:MAX_CODE - 4] or "TEAM"
        taken = set(self.team_codes) | set(self.new_teams)
        code, suffix = base, 1
        while code.casefold() in taken:
            suffix += 1
            code = f"{base}-{suffix}"
        return code

    def worker(self, key: WorkerKey | None, team: _Ref | None, reference: str, create: bool = True) -> _Ref | None:
        if key is None:
            return None
        staff_id, wanted = key.staff_id.strip(), name_key(key.name)
        if staff_id:
            if (found := self.staff_ids.get(staff_id.casefold())) is not None:
                return self.person_ref(found)
            if staff_id.casefold() in self.new_workers:
                return self._new_worker_ref(staff_id.casefold())
            if not create:
                return None
            return self._create_worker(staff_id[:MAX_CODE], (clean_text(key.name) or staff_id)[:MAX_NAME], wanted, team)
        if not wanted:
            return None
        named = self.person_names.get(wanted, [])
        if len(named) == 1:
            return self.person_ref(named[0])
        if len(named) > 1:
            in_team = [p for p in named if team is not None and team.kind == "id" and str(p.team_id) == team.key]
            if len(in_team) == 1:
                return self.person_ref(in_team[0])
            self.notes.append(f"child {reference}: {len(named)} people are named {clean_text(key.name)!r} "
                              "and the team does not tell them apart; imported as unallocated")
            return None
        if (found := self.staff_ids.get(wanted)) is not None:  # some files give staff IDs as the worker
            return self.person_ref(found)
        if wanted in self.new_worker_names:
            return self._new_worker_ref(self.new_worker_names[wanted])
        if not create:
            return None
        return self._create_worker(self._staff_id(wanted), clean_text(key.name)[:MAX_NAME], wanted, team)

    def _create_worker(self, staff_id: str, name: str, wanted: str, team: _Ref | None) -> _Ref:
        self.new_workers[staff_id.casefold()] = (NewWorker(staff_id, name, team.label if team else ""), team)
        if wanted:
            self.new_worker_names.setdefault(wanted, staff_id.casefold())
        return self._new_worker_ref(staff_id.casefold())

    def _new_worker_ref(self, folded_staff_id: str) -> _Ref:
        worker = self.new_workers[folded_staff_id][0]
        return _Ref("new", worker.staff_id, worker.name)

    def _staff_id(self, wanted: str) -> str:
        digest = hashlib.sha256(wanted.encode()).hexdigest().upper()
        taken = set(self.staff_ids) | set(self.new_workers)
        for length in range(8, len(digest) + 1):
            candidate = f"{GENERATED_STAFF_ID_PREFIX}{digest[:length]}"
            if candidate.casefold() not in taken:
                return candidate
        raise AssertionError("no free staff ID")  # pragma: no cover - 64 hex digits all taken

    def ref(self, kind: str, ident: uuid.UUID | None) -> _Ref | None:
        if ident is None:
            return None
        if kind == "team":
            return self.team_ref(self.teams[ident]) if ident in self.teams else None
        return self.person_ref(self.people[ident]) if ident in self.people else None

    def label(self, kind: str, ident: uuid.UUID | None) -> str:
        if ident is None:
            return ""
        row = self.teams.get(ident) if kind == "team" else self.people.get(ident)
        return row.name if row is not None else ""


def _existing_cases(session: Session, references: Iterable[str], closable: Sequence[str]) -> dict[str, Case]:
    found: dict[str, Case] = {}
    wanted = sorted(set(references))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        found.update({c.reference: c for c in session.scalars(select(Case).where(Case.reference.in_(chunk)))})
    if closable:
        open_cases = select(Case).where(Case.closed_on.is_(None), Case.category.in_(tuple(closable)))
        found.update({c.reference: c for c in session.scalars(open_cases)})
    return found


def _plan(session: Session, cases: Sequence[IncomingCase], held: Iterable[str], closable: Sequence[str],
          today: date) -> tuple[CaseloadPlan, list[_Step], _Directory]:
    directory = _Directory(session)
    held = set(held)
    existing = _existing_cases(session, [c.reference for c in cases], closable)
    steps: list[_Step] = []
    incoming_refs = set()
    not_created = 0
    # Open cases first: only they create teams and workers (a closed case may name someone who
    # has left); a closed case is matched to those that exist or are being created.
    for incoming in sorted(cases, key=lambda c: (c.closed_on is not None, c.reference)):
        incoming_refs.add(incoming.reference)
        is_open = incoming.closed_on is None
        team = directory.team(incoming.team, create=is_open)
        worker = directory.worker(incoming.worker, team, incoming.reference, create=is_open)
        case = existing.get(incoming.reference)
        if (incoming.team is not None and team is None) or (incoming.worker is not None and worker is None):
            not_created += not is_open
            if case is not None and not is_open:  # keep what is stored rather than clear it
                team = directory.ref("team", case.team_id) if team is None else team
                worker = directory.ref("person", case.worker_id) if worker is None else worker
        if team is None and worker is not None and worker.kind == "id":
            team = directory.ref("team", directory.people[uuid.UUID(worker.key)].team_id)
        steps.append(_Step(case, incoming, team, worker, _change_for(case, incoming, team, worker, directory)))
    for reference in sorted(existing):
        case = existing[reference]
        if (reference in incoming_refs or reference in held or case.closed_on is not None
                or case.category not in closable):
            continue
        team_label, worker_label = directory.label("team", case.team_id), directory.label("person", case.worker_id)
        steps.append(_Step(case, None, None, None, CaseChange(
            reference, "closed", case.category, team_label, worker_label, team_label, worker_label,
            case.category, today)))
    steps.sort(key=lambda step: step.change.reference)
    if not_created:
        directory.notes.append(f"{not_created} closed cases name a team or worker not in qa-tui; "
                               "teams and workers are only created for open cases")
    plan = CaseloadPlan(
        changes=tuple(step.change for step in steps),
        new_teams=tuple(directory.new_teams.values()),
        new_workers=tuple(worker for worker, _ in directory.new_workers.values()),
        by_team=_loads(steps),
        notes=tuple(directory.notes),
    )
    return plan, steps, directory


def _same(ref: _Ref | None, current: uuid.UUID | None) -> bool:
    if ref is None:
        return current is None
    return ref.kind == "id" and current is not None and ref.key == str(current)


def _change_for(case: Case | None, incoming: IncomingCase, team: _Ref | None, worker: _Ref | None,
                directory: _Directory) -> CaseChange:
    new_team, new_worker = team.label if team else "", worker.label if worker else ""
    if case is None:
        return CaseChange(incoming.reference, "new", incoming.category, new_team, new_worker,
                          closed_on=incoming.closed_on)
    old_team, old_worker = directory.label("team", case.team_id), directory.label("person", case.worker_id)
    if case.closed_on is None and incoming.closed_on is not None:
        kind = "closed"
    elif case.closed_on is not None and incoming.closed_on is None:
        kind = "reopened"
    elif not _same(team, case.team_id) or not _same(worker, case.worker_id):
        kind = "reallocated"
    elif _new_values(case, incoming) != _current_values(case):
        kind = "updated"
    else:
        kind = "unchanged"
    return CaseChange(incoming.reference, kind, incoming.category, new_team, new_worker, old_team, old_worker,
                      case.category, incoming.closed_on)


def _current_values(case: Case) -> tuple[object, ...]:
    return (case.category, case.opened_on, case.closed_on, case.cp_plan_start, case.cp_plan_end)


def _new_values(case: Case, incoming: IncomingCase) -> tuple[object, ...]:
    """The stored values after import: dates the file leaves blank keep what is stored, except
    the closing date, whose absence means the case is open."""
    return (incoming.category, incoming.opened_on or case.opened_on, incoming.closed_on,
            incoming.cp_plan_start or case.cp_plan_start, incoming.cp_plan_end or case.cp_plan_end)


def _loads(steps: Sequence[_Step]) -> tuple[TeamLoad, ...]:
    per_team: Counter[str] = Counter()
    per_worker: dict[str, Counter[str]] = defaultdict(Counter)
    for step in steps:
        if step.incoming is None or step.incoming.closed_on is not None:
            continue
        team = step.team.label if step.team else NO_TEAM
        per_team[team] += 1
        per_worker[team][step.worker.label if step.worker else UNALLOCATED] += 1
    return tuple(TeamLoad(team, count, tuple(sorted(per_worker[team].items())))
                 for team, count in sorted(per_team.items()))


def plan_caseload(session: Session, cases: Sequence[IncomingCase], *, held: Iterable[str] = (),
                  closable: Sequence[str] = (), today: date) -> CaseloadPlan:
    """What importing `cases` would change. Open cases of a `closable` category that are not
    among `cases` (nor `held`) would be closed today. Writes nothing."""
    return _plan(session, cases, held, closable, today)[0]


def apply_caseload(session: Session, source: str, cases: Sequence[IncomingCase], *, held: Iterable[str] = (),
                   closable: Sequence[str] = (), today: date, what: str,
                   previewed: CaseloadPlan | None = None) -> ImportResult:
    """Create the missing teams and workers and bring the cases in line with the file, in the
    caller's transaction. QA records (audits, actions, ...) are never touched."""
    plan, steps, directory = _plan(session, cases, held, closable, today)
    made: dict[tuple[str, str], uuid.UUID] = {}

    def resolve(kind: str, ref: _Ref | None) -> uuid.UUID | None:
        if ref is None:
            return None
        return uuid.UUID(ref.key) if ref.kind == "id" else made[(kind, ref.key)]

    try:
        for new_team in plan.new_teams:
            made[("team", new_team.code)] = uuid.uuid4()
            session.add(Team(id=made[("team", new_team.code)], code=new_team.code, name=new_team.name))
        for new_worker, team in directory.new_workers.values():
            made[("person", new_worker.staff_id)] = uuid.uuid4()
            session.add(Person(id=made[("person", new_worker.staff_id)], staff_id=new_worker.staff_id,
                               name=new_worker.name, role=NEW_WORKER_ROLE, team_id=resolve("team", team)))
        session.flush()
        for step in steps:
            if step.change.kind == "unchanged":
                continue
            if step.incoming is None:
                step.case.closed_on = today  # type: ignore[union-attr]
                continue
            team_id, worker_id = resolve("team", step.team), resolve("person", step.worker)
            if step.case is None:
                incoming = step.incoming
                session.add(Case(
                    id=uuid.uuid4(), reference=incoming.reference, category=incoming.category,
                    opened_on=incoming.opened_on, closed_on=incoming.closed_on,
                    cp_plan_start=incoming.cp_plan_start, cp_plan_end=incoming.cp_plan_end,
                    team_id=team_id, worker_id=worker_id))
                continue
            category, opened_on, closed_on, cp_start, cp_end = _new_values(step.case, step.incoming)
            _set(step.case, category=category, opened_on=opened_on, closed_on=closed_on,
                 cp_plan_start=cp_start, cp_plan_end=cp_end, team_id=team_id, worker_id=worker_id)
        counts = ", ".join(f"{n} {kind}" for kind, n in plan.counts().items() if n)
        trail.record_event(session, "import", "case_file", None, detail=(
            f"{what} import from {Path(source).name}: {counts or 'no cases'}; "
            f"created {len(plan.new_teams)} teams and {len(plan.new_workers)} workers"))
        session.flush()
    except StaleDataError:
        raise ChangedElsewhere("A case in this import") from None
    except IntegrityError:
        raise ChangedElsewhere("The caseload") from None
    matches = previewed is None or previewed == plan
    return ImportResult(source, plan, matches)


def _set(case: Case, **values: object) -> None:
    """Assign only what differs, so an unchanged case gets no update and no trail row."""
    for name, value in values.items():
        if getattr(case, name) != value:
            setattr(case, name, value)
