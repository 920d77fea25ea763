"""What the people and cases CSV imports share: reading the file (UTF-8 only), the header and
rows, typed cells that note every problem against its line and column, the report an import
gives, and the rejection that lists every problem when anything is wrong. A control character
(a NUL, an ESC) in a column the import reads is one of those problems."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from qa_tui.db import trail
from qa_tui.dates import parse_day
from qa_tui.errors import ChangedElsewhere, QAError, ValidationError
from qa_tui.text import control_problem

_KEY_LOOKUP_CHUNK = 500


# --- results and errors ----------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Something wrong (or worth a warning) at a line of the file; line 1 is the header."""

    line: int
    column: str  # "" when the whole line is at fault
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}" if self.column else f"line {self.line}"
        return f"{where}: {self.message}"


class ImportRejected(QAError):
    """The file has problems; nothing from it was written. `problems` lists every one."""

    def __init__(self, source: str, problems: Iterable[Problem]) -> None:
        self.source = source
        self.problems = sorted(problems, key=lambda p: p.line)
        count = len(self.problems)
        listed = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{source} was rejected and nothing was imported; "
                         f"{count} problem{'s' if count != 1 else ''}:\n{listed}")


@dataclass(frozen=True)
class RowChange:
    key: str
    columns: tuple[str, ...]  # the file columns whose values differed


@dataclass(frozen=True)
class ImportReport:
    source: str
    kind: str  # "people" or "cases"
    added_keys: tuple[str, ...]
    changes: tuple[RowChange, ...]
    unchanged: int
    organisation: tuple[str, ...] = ()  # teams and services added, renamed or moved
    ignored_columns: tuple[str, ...] = ()
    warnings: tuple[Problem, ...] = ()
    dry_run: bool = False

    @property
    def added(self) -> int:
        return len(self.added_keys)

    @property
    def changed(self) -> int:
        return len(self.changes)

    @property
    def summary(self) -> str:
        return f"{self.source}: {self.added} added, {self.changed} changed, {self.unchanged} unchanged"


# --- reading the file ------------------------------------------------------------------------


def read_import_file(path: Path) -> str:
    """The file's text. UTF-8 with or without a BOM; anything else is refused, never guessed."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError(str(path), f"cannot be read ({exc.strerror})") from None
    if data.startswith(b"PK\x03\x04"):
        raise ValidationError(str(path), "is a spreadsheet workbook, not CSV; in Excel use "
                                         "Save As > CSV UTF-8 (Comma delimited)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ImportRejected(path.name, [Problem(line, "", (
            "not UTF-8 text; in Excel use Save As > CSV UTF-8 (Comma delimited)"))]) from None


def normalise_header(name: str) -> str:
    """'Staff ID ' → 'staff_id': case, spaces and hyphens in headings do not matter."""
    return re.sub(r"[\s\-]+", "_", name.replace("\ufeff", "").strip().lower()).strip("_")


@dataclass(frozen=True)
class CsvRow:
    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass(frozen=True)
class CsvTable:
    columns: frozenset[str]  # the known columns the header has
    rows: tuple[CsvRow, ...]
    ignored: tuple[str, ...]


def _records(text: str, problems: list[Problem]) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) per record; a line is a spreadsheet row (one per record, blank ones too)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 0
    while True:
        line += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.append(Problem(line, "", f"cannot be read as CSV ({exc}); nothing after it was checked"))
            return
        yield line, [cell.strip() for cell in cells]


def read_table(text: str, required: tuple[str, ...], optional: tuple[str, ...],
               problems: list[Problem]) -> CsvTable:
    records = _records(text, problems)
    header_line, header = next(((line, cells) for line, cells in records if any(cells)), (1, []))
    if not header:
        problems.append(Problem(1, "", f"the file is empty; the first line must name the columns: "
                                       f"{', '.join(required)}"))
        return CsvTable(frozenset(), (), ())
    header = [normalise_header(cell) for cell in header]

    known = set(required) | set(optional)
    seen: set[str] = set()
    for name in header:
        if name in known and name in seen:
            problems.append(Problem(header_line, name, "this column appears more than once"))
        seen.add(name)
    for name in required:
        if name not in seen:
            problems.append(Problem(header_line, name, "required column is missing"))
    if len(header) == 1 and any(separator in header[0] for separator in ";\t"):
        problems.append(Problem(header_line, "", "the columns must be separated by commas"))
    ignored = tuple(dict.fromkeys(name for name in header if name and name not in known))

    rows: list[CsvRow] = []
    for line, cells in records:
        if not any(cells):
            continue
        if any(cells[len(header):]):
            problems.append(Problem(line, "", f"{len(cells)} cells but the header names {len(header)} columns"))
        problems.extend(Problem(line, name, problem) for name, value in zip(header, cells)
                        if name in known and (problem := control_problem(value)))
        rows.append(CsvRow(line, {name: value for name, value in zip(header, cells) if name in known}))
    return CsvTable(frozenset(seen & known), tuple(rows), ignored)


class Cells:
    """Typed values from one row; every problem is noted against the row's line and the column.
    A required column missing from the header is reported once, not again on every row."""

    def __init__(self, row: CsvRow, table: CsvTable, problems: list[Problem]) -> None:
        self.row, self.columns, self.problems = row, table.columns, problems

    def fail(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.row.line, column, message))

    def text(self, column: str, limit: int, *, required: bool = False) -> str:
        value = self.row.get(column)
        if required and not value and column in self.columns:
            self.fail(column, "must not be blank")
        elif len(value) > limit:
            self.fail(column, f"longer than {limit} characters")
        return value

    def date(self, column: str) -> date | None:
        value = self.row.get(column)
        if not value:
            return None
        try:
            return parse_day(value)
        except ValueError as exc:
            self.fail(column, str(exc))
            return None

    def choice(self, column: str, lookup: dict[str, str], allowed: tuple[str, ...], what: str) -> str | None:
        value = self.row.get(column)
        if not value:
            if column in self.columns:
                self.fail(column, "must not be blank")
            return None
        code = lookup.get(re.sub(r"[\s\-_]+", " ", value.lower()).strip())
        if code is None:
            self.fail(column, f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")
        return code

    def not_before(self, later: str, later_value: date | None, earlier: str, earlier_value: date | None) -> None:
        if later_value and earlier_value and later_value < earlier_value:
            self.fail(later, f"{later_value.isoformat()} is before {earlier} {earlier_value.isoformat()}")


def column_length(column: Any) -> int:
    """How many characters a string column holds."""
    return int(column.type.length)


def check_unique(keys: Iterable[tuple[str, int]], column: str, what: str, problems: list[Problem]) -> None:
    """A key repeated within the file is a problem at each later line."""
    first: dict[str, int] = {}
    for key, line in keys:
        if key in first:
            problems.append(Problem(line, column, f"{what} {key!r} is also on line {first[key]}"))
        else:
            first[key] = line


def changed_columns(obj: Any, wanted: dict[str, Any], fields: dict[str, str]) -> tuple[str, ...]:
    """The file columns whose wanted value differs from the stored record's."""
    return tuple(column for column, attribute in fields.items()
                 if column in wanted and getattr(obj, attribute) != wanted[column])


def apply_columns(obj: Any, wanted: dict[str, Any], columns: tuple[str, ...], fields: dict[str, str]) -> None:
    """Set the record's attributes behind `columns` to the wanted values."""
    for column in columns:
        setattr(obj, fields[column], wanted[column])


def flush_or_conflict(session: Session, what: str) -> None:
    """Flush, turning a concurrent writer's change into a message the user can act on."""
    try:
        session.flush()
    except StaleDataError:
        raise ChangedElsewhere(what) from None


def record_import(session: Session, table_name: str, report: ImportReport) -> None:
    """One trail event for the whole import, with its counts."""
    trail.record_event(session, "import", table_name, None, detail=report.summary, new={
        "source": report.source, "added": report.added, "changed": report.changed,
        "unchanged": report.unchanged, "organisation": list(report.organisation),
    })


def chunks(keys: list[str]) -> Iterator[list[str]]:
    """Keys a few hundred at a time, for IN lists every database accepts."""
    for start in range(0, len(keys), _KEY_LOOKUP_CHUNK):
        yield keys[start:start + _KEY_LOOKUP_CHUNK]
