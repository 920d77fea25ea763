"""Ofsted Annex A import: read lists 6–9 of the workbook, one case per child, then preview and
apply the caseload changes through the caseload core."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from qa_tui.db.models import CASE_CATEGORY_NAMES
from qa_tui.errors import ValidationError
from qa_tui.services.imports.caseload import (
    MAX_NAME,
    CaseloadPlan,
    ImportResult,
    IncomingCase,
    RowNote,
    TeamKey,
    WorkerKey,
    apply_caseload,
    child_reference,
    plan_caseload,
)
from qa_tui.services.imports.workbook import (
    CellValue,
    Sheet,
    cell_date,
    clean_text,
    header_key,
    is_blank,
    is_placeholder,
    read_workbook,
)
from qa_tui.text import removed_note
from qa_tui.services.people.permissions import IMPORT_CASELOAD, require

LIST_CATEGORIES = {6: "CIN", 7: "CP", 8: "CLA", 9: "CL"}
# Lower wins when a child is on several lists (open rows always beat closed ones first).
# Care leavers come last: a young person on List 8 and List 9 is still looked after (an eligible
# child), and a statutory CP or CIN plan outranks leaving-care support.
CATEGORY_PRECEDENCE = {"CLA": 0, "CP": 1, "CIN": 2, "CL": 3}
HEADER_SEARCH_ROWS = 10


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
        for name in ("reference", "team", "worker"):
            value = cell(name)
            if isinstance(value, str) and (note := removed_note(value)):
                reading.warnings.append(RowNote(sheet.name, row_number, column(name), note))
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
    require(session, IMPORT_CASELOAD)
    preview = preview_or_path
    if not isinstance(preview, AnnexAPreview):
        preview = preview_annex_a(session, preview, today)
    return apply_caseload(session, preview.source, preview.cases, held=preview.held,
                          closable=preview.closable, today=today, what="Annex A", previewed=preview.plan)
