"""People and caseload imports from CSV: every problem in a file is found before anything is written,
then rows are upserted by staff ID / case reference and only real changes are saved.

The column layouts are documented in docs/import-formats.md.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from qa_tui.config import CASE_HOLDING_ROLES, ROLE_NAMES, ROLES
from qa_tui.db import trail
from qa_tui.dates import parse_day
from qa_tui.db.models import CASE_CATEGORIES, CASE_CATEGORY_NAMES, Case, Person, Service, Team
from qa_tui.errors import ChangedElsewhere, QAError, ValidationError

PEOPLE_REQUIRED = ("staff_id", "name", "role", "team_code")
PEOPLE_OPTIONAL = ("team_name", "service_code", "service_name", "manager_staff_id",
                   "asye_start", "active_from", "active_to", "login")
CASES_REQUIRED = ("case_reference", "category", "worker_staff_id", "team_code")
CASES_OPTIONAL = ("opened_on", "closed_on", "cp_plan_start", "cp_plan_end")

# File column → Person / Case attribute, for the columns that are compared row by row.
PERSON_FIELDS = {
    "name": "name", "role": "role", "team_code": "team_id", "manager_staff_id": "manager_id",
    "asye_start": "asye_start", "active_from": "active_from", "active_to": "active_to", "login": "login",
}
CASE_FIELDS = {
    "category": "category", "worker_staff_id": "worker_id", "team_code": "team_id",
    "opened_on": "opened_on", "closed_on": "closed_on",
    "cp_plan_start": "cp_plan_start", "cp_plan_end": "cp_plan_end",
}

_ROLE_LOOKUP = {code.lower(): code for code in ROLES} | {name.lower(): code for code, name in ROLE_NAMES.items()}
_CATEGORY_LOOKUP = {code.lower(): code for code in CASE_CATEGORIES} | {
    name.lower(): code for code, name in CASE_CATEGORY_NAMES.items()} | {
    "early help assessment": "EH",
    "children in need": "CIN",
    "child protection plan": "CP", "cpp": "CP",
    "looked after": "CLA", "looked after child": "CLA", "children looked after": "CLA", "lac": "CLA",
    "care leavers": "CL", "leaving care": "CL",
}
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
class _Row:
    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass(frozen=True)
class _Table:
    columns: frozenset[str]  # the known columns the header has
    rows: tuple[_Row, ...]
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


def _read_table(text: str, required: tuple[str, ...], optional: tuple[str, ...],
                problems: list[Problem]) -> _Table:
    records = _records(text, problems)
    header_line, header = next(((line, cells) for line, cells in records if any(cells)), (1, []))
    if not header:
        problems.append(Problem(1, "", f"the file is empty; the first line must name the columns: "
                                       f"{', '.join(required)}"))
        return _Table(frozenset(), (), ())
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

    rows: list[_Row] = []
    for line, cells in records:
        if not any(cells):
            continue
        if any(cells[len(header):]):
            problems.append(Problem(line, "", f"{len(cells)} cells but the header names {len(header)} columns"))
        rows.append(_Row(line, {name: value for name, value in zip(header, cells) if name in known}))
    return _Table(frozenset(seen & known), tuple(rows), ignored)


class _Cells:
    """Typed values from one row; every problem is noted against the row's line and the column.
    A required column missing from the header is reported once, not again on every row."""

    def __init__(self, row: _Row, table: _Table, problems: list[Problem]) -> None:
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


def _length(column: Any) -> int:
    return int(column.type.length)


def _check_unique(keys: Iterable[tuple[str, int]], column: str, what: str, problems: list[Problem]) -> None:
    """A key repeated within the file is a problem at each later line."""
    first: dict[str, int] = {}
    for key, line in keys:
        if key in first:
            problems.append(Problem(line, column, f"{what} {key!r} is also on line {first[key]}"))
        else:
            first[key] = line


def _changed_columns(obj: Any, wanted: dict[str, Any], fields: dict[str, str]) -> tuple[str, ...]:
    return tuple(column for column, attribute in fields.items()
                 if column in wanted and getattr(obj, attribute) != wanted[column])


def _apply(obj: Any, wanted: dict[str, Any], columns: tuple[str, ...], fields: dict[str, str]) -> None:
    for column in columns:
        setattr(obj, fields[column], wanted[column])


def _flush(session: Session, what: str) -> None:
    """Flush, turning a concurrent writer's change into a message the user can act on."""
    try:
        session.flush()
    except StaleDataError:
        raise ChangedElsewhere(what) from None


def _record_import(session: Session, table_name: str, report: ImportReport) -> None:
    trail.record_event(session, "import", table_name, None, detail=report.summary, new={
        "source": report.source, "added": report.added, "changed": report.changed,
        "unchanged": report.unchanged, "organisation": list(report.organisation),
    })


def _chunks(keys: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(keys), _KEY_LOOKUP_CHUNK):
        yield keys[start:start + _KEY_LOOKUP_CHUNK]


# --- people ----------------------------------------------------------------------------------


@dataclass
class _PersonRow:
    line: int
    staff_id: str
    team_code: str
    team_name: str
    service_code: str
    service_name: str
    manager_staff_id: str
    wanted: dict[str, Any]  # file column → stored value, for the PERSON_FIELDS the file has


@dataclass
class _OrganisationChanges:
    """Teams and services the people file adds, renames or moves, as one plan."""

    new_services: list[Service] = field(default_factory=list)
    new_teams: list[Team] = field(default_factory=list)
    updates: list[tuple[Service | Team, dict[str, Any]]] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)


def import_people(session: Session, text: str, *, source: str = "people.csv",
                  dry_run: bool = False) -> ImportReport:
    """Upsert people by staff ID, adding the teams and services the file names, or raise
    `ImportRejected` listing every problem. With `dry_run`, report what would happen; write nothing."""
    problems: list[Problem] = []
    warnings: list[Problem] = []
    table = _read_table(text, PEOPLE_REQUIRED, PEOPLE_OPTIONAL, problems)
    rows = [_read_person(raw, table, problems) for raw in table.rows]
    rows = [row for row in rows if row.staff_id]
    _check_unique(((r.staff_id, r.line) for r in rows), "staff_id", "staff ID", problems)

    people = {p.staff_id: p for p in session.scalars(select(Person))}
    teams = {t.code: t for t in session.scalars(select(Team))}
    services = {s.code: s for s in session.scalars(select(Service))}
    organisation = _plan_organisation(rows, table, teams, services, problems)
    team_ids = {code: t.id for code, t in teams.items()} | {t.code: t.id for t in organisation.new_teams}
    new_people = {r.staff_id: r for r in rows if r.staff_id not in people}
    new_ids = {staff_id: uuid.uuid4() for staff_id in new_people}
    person_ids = {staff_id: p.id for staff_id, p in people.items()} | new_ids

    for row in rows:
        row.wanted["team_code"] = team_ids.get(row.team_code)
        asye_start = row.wanted.get("asye_start", getattr(people.get(row.staff_id), "asye_start", None))
        if row.wanted["role"] == "NQSW" and asye_start is None:
            warnings.append(Problem(row.line, "asye_start", "no ASYE start date for an NQSW, so their "
                                                            "ASYE year cannot be tracked"))
        if "manager_staff_id" not in table.columns:
            continue
        manager = row.manager_staff_id
        if manager == row.staff_id:
            problems.append(Problem(row.line, "manager_staff_id", "a person cannot be their own manager"))
        elif manager and manager not in person_ids:
            problems.append(Problem(row.line, "manager_staff_id",
                                    f"no person with staff ID {manager!r} in the database or this file"))
        row.wanted["manager_staff_id"] = person_ids.get(manager)
    if "manager_staff_id" in table.columns:
        _check_manager_loops(rows, people, problems)
    if "login" in table.columns:
        _check_logins(rows, people, problems)
    if problems:
        raise ImportRejected(source, problems)

    updates = [(people[r.staff_id], r, _changed_columns(people[r.staff_id], r.wanted, PERSON_FIELDS))
               for r in rows if r.staff_id in people]
    report = ImportReport(
        source=source, kind="people", added_keys=tuple(new_people),
        changes=tuple(RowChange(r.staff_id, columns) for _p, r, columns in updates if columns),
        unchanged=sum(1 for *_, columns in updates if not columns),
        organisation=tuple(organisation.descriptions), ignored_columns=table.ignored,
        warnings=tuple(sorted(warnings, key=lambda p: p.line)), dry_run=dry_run,
    )
    if dry_run:
        return report

    session.add_all(organisation.new_services + organisation.new_teams)
    for obj, values in organisation.updates:
        for attribute, value in values.items():
            setattr(obj, attribute, value)
    _release_moving_logins(rows, updates)
    # Within one flush, updates are written before inserts: new people go in first, managers
    # before the people who report to them, so existing people can then point at them.
    for row in _managers_first(list(new_people.values()), new_people):
        session.add(Person(id=new_ids[row.staff_id], staff_id=row.staff_id,
                           **{PERSON_FIELDS[column]: value for column, value in row.wanted.items()}))
    _flush(session, "The staff list")
    for person, row, columns in updates:
        _apply(person, row.wanted, columns, PERSON_FIELDS)
    _record_import(session, "person", report)
    _flush(session, "The staff list")
    return report


def _read_person(raw: _Row, table: _Table, problems: list[Problem]) -> _PersonRow:
    cells = _Cells(raw, table, problems)
    row = _PersonRow(
        line=raw.line,
        staff_id=cells.text("staff_id", _length(Person.staff_id), required=True),
        team_code=cells.text("team_code", _length(Team.code)),
        team_name=cells.text("team_name", _length(Team.name)),
        service_code=cells.text("service_code", _length(Service.code)),
        service_name=cells.text("service_name", _length(Service.name)),
        manager_staff_id=cells.text("manager_staff_id", _length(Person.staff_id)),
        wanted={"name": cells.text("name", _length(Person.name), required=True),
                "role": cells.choice("role", _ROLE_LOOKUP, ROLES, "role")},
    )
    for column in ("asye_start", "active_from", "active_to"):
        if column in table.columns:
            row.wanted[column] = cells.date(column)
    cells.not_before("active_to", row.wanted.get("active_to"), "active_from", row.wanted.get("active_from"))
    if "login" in table.columns:
        row.wanted["login"] = cells.text("login", _length(Person.login)) or None
    role = row.wanted["role"]
    if role in CASE_HOLDING_ROLES and not row.team_code:
        cells.fail("team_code", f"must not be blank for a {role}, who holds cases")
    if row.service_name and not row.service_code:
        cells.fail("service_code", "must not be blank when service_name is given")
    return row


def _plan_organisation(rows: list[_PersonRow], table: _Table, teams: dict[str, Team],
                       services: dict[str, Service], problems: list[Problem]) -> _OrganisationChanges:
    """The teams and services as the file describes them. A blank team_name or service_code
    leaves that detail alone; two lines that disagree, or an unknown code with no name to create
    it by (most likely a typing slip), are problems."""
    stated: dict[tuple[str, str, str], tuple[str, int]] = {}  # (kind, code, detail) → (value, line)

    def state(kind: str, code: str, detail: str, value: str, row: _PersonRow, column: str) -> None:
        if not (code and value):
            return
        first, line = stated.setdefault((kind, code, detail), (value, row.line))
        if first != value:
            problems.append(Problem(row.line, column, f"{kind} {code} has {detail} {first!r} on line {line}"))

    for row in rows:
        state("team", row.team_code, "name", row.team_name, row, "team_name")
        state("team", row.team_code, "service", row.service_code, row, "service_code")
        state("service", row.service_code, "name", row.service_name, row, "service_name")

    plan = _OrganisationChanges()
    service_ids = {code: s.id for code, s in services.items()}
    for (kind, code, detail), (value, _line) in stated.items():
        if kind != "service":
            continue
        if code not in services:
            plan.new_services.append(Service(id=uuid.uuid4(), code=code, name=value))
            service_ids[code] = plan.new_services[-1].id
            plan.descriptions.append(f"added service {code} ({value})")
        elif services[code].name != value:
            plan.updates.append((services[code], {"name": value}))
            plan.descriptions.append(f"renamed service {code} from {services[code].name!r} to {value!r}")

    for code in dict.fromkeys(row.team_code for row in rows if row.team_code):
        name = stated.get(("team", code, "name"), ("", 0))[0]
        service_code = stated.get(("team", code, "service"), ("", 0))[0]
        service_id = service_ids.get(service_code)
        team = teams.get(code)
        if team is None and name:
            plan.new_teams.append(Team(id=uuid.uuid4(), code=code, name=name, service_id=service_id))
            plan.descriptions.append(f"added team {code} ({name})" + (
                f" in service {service_code}" if service_code else ""))
        elif team is not None:
            values: dict[str, Any] = {}
            if name and team.name != name:
                values["name"] = name
                plan.descriptions.append(f"renamed team {code} from {team.name!r} to {name!r}")
            if service_id and team.service_id != service_id:
                values["service_id"] = service_id
                plan.descriptions.append(f"moved team {code} to service {service_code}")
            if values:
                plan.updates.append((team, values))

    created = {t.code for t in plan.new_teams}
    hint = "give its team_name" if "team_name" in table.columns else "add a team_name column"
    for row in rows:
        if row.team_code and row.team_code not in teams and row.team_code not in created:
            problems.append(Problem(row.line, "team_code", f"no team {row.team_code!r} in the database; "
                                                           f"{hint} to add it"))
        if row.service_code and row.service_code not in service_ids:
            problems.append(Problem(row.line, "service_code", f"no service {row.service_code!r} in the "
                                                              f"database; give its service_name to add it"))
    return plan


def _check_manager_loops(rows: list[_PersonRow], people: dict[str, Person], problems: list[Problem]) -> None:
    """After the import, following managers upwards from anyone must never come back to them."""
    staff_of = {p.id: p.staff_id for p in people.values()}
    manager_of = {p.staff_id: staff_of.get(p.manager_id) for p in people.values() if p.manager_id}
    manager_of.update({r.staff_id: r.manager_staff_id for r in rows})
    for row in rows:
        if row.manager_staff_id == row.staff_id:
            continue  # already reported
        chain = [row.staff_id]
        current = manager_of.get(row.staff_id)
        while current and current not in chain:
            chain.append(current)
            current = manager_of.get(current)
        if current == row.staff_id:
            problems.append(Problem(row.line, "manager_staff_id", "managers form a loop: "
                                                                  + " → ".join(chain + [current])))


def _check_logins(rows: list[_PersonRow], people: dict[str, Person], problems: list[Problem]) -> None:
    """After the import, each login must belong to one person."""
    in_file = {r.staff_id for r in rows}
    holder: dict[str, tuple[str, int]] = {
        p.login: (p.staff_id, 0) for p in people.values() if p.login and p.staff_id not in in_file}
    for row in rows:
        login = row.wanted["login"]
        if not login:
            continue
        staff_id, line = holder.setdefault(login, (row.staff_id, row.line))
        if staff_id != row.staff_id:
            where = f"on line {line}" if line else "in the database"
            problems.append(Problem(row.line, "login", f"{login!r} is the login of staff ID {staff_id} {where}"))


def _release_moving_logins(rows: list[_PersonRow], updates: list[tuple[Person, _PersonRow, tuple[str, ...]]]) -> None:
    """Clear a login that moves to someone else, so no write holds one login twice in passing."""
    taking = {row.wanted.get("login"): row.staff_id for row in rows if row.wanted.get("login")}
    for person, _row, columns in updates:
        if "login" in columns and person.login and taking.get(person.login, person.staff_id) != person.staff_id:
            person.login = None


def _managers_first(rows: list[_PersonRow], by_staff_id: dict[str, _PersonRow]) -> list[_PersonRow]:
    ordered: dict[str, _PersonRow] = {}

    def place(row: _PersonRow) -> None:
        if row.staff_id in ordered:
            return
        manager = by_staff_id.get(row.manager_staff_id)
        if manager is not None:
            place(manager)
        ordered[row.staff_id] = row

    for row in rows:
        place(row)
    return list(ordered.values())


# --- cases -----------------------------------------------------------------------------------


@dataclass
class _CaseRow:
    line: int
    reference: str
    wanted: dict[str, Any]  # file column → stored value, for the CASE_FIELDS the file has


def import_cases(session: Session, text: str, *, source: str = "cases.csv",
                 dry_run: bool = False) -> ImportReport:
    """Upsert cases by case reference, or raise `ImportRejected` listing every problem. Workers
    and teams must already exist. With `dry_run`, report what would happen; write nothing."""
    problems: list[Problem] = []
    table = _read_table(text, CASES_REQUIRED, CASES_OPTIONAL, problems)
    workers = {staff_id: (person_id, team_id) for staff_id, person_id, team_id
               in session.execute(select(Person.staff_id, Person.id, Person.team_id))}
    teams = {code: team_id for code, team_id in session.execute(select(Team.code, Team.id))}

    rows: list[_CaseRow] = []
    for raw in table.rows:
        cells = _Cells(raw, table, problems)
        row = _CaseRow(raw.line, cells.text("case_reference", _length(Case.reference), required=True),
                       {"category": cells.choice("category", _CATEGORY_LOOKUP, CASE_CATEGORIES, "category")})
        worker_staff_id = cells.text("worker_staff_id", _length(Person.staff_id))
        team_code = cells.text("team_code", _length(Team.code))
        worker_id, worker_team_id = workers.get(worker_staff_id, (None, None))
        if worker_staff_id and worker_id is None:
            cells.fail("worker_staff_id", f"no person with staff ID {worker_staff_id!r} (import people first)")
        if team_code and team_code not in teams:
            cells.fail("team_code", f"no team {team_code!r} (teams are added by the people import)")
        elif not team_code and "team_code" in table.columns:
            if not worker_staff_id:
                cells.fail("team_code", "must not be blank for an unallocated case")
            elif worker_id and worker_team_id is None:
                cells.fail("team_code", f"must not be blank: worker {worker_staff_id} has no team")
        row.wanted["worker_staff_id"] = worker_id
        row.wanted["team_code"] = teams.get(team_code) if team_code else worker_team_id
        for column in CASES_OPTIONAL:
            if column in table.columns:
                row.wanted[column] = cells.date(column)
        cells.not_before("closed_on", row.wanted.get("closed_on"), "opened_on", row.wanted.get("opened_on"))
        cells.not_before("cp_plan_end", row.wanted.get("cp_plan_end"),
                         "cp_plan_start", row.wanted.get("cp_plan_start"))
        if row.wanted.get("cp_plan_end") and "cp_plan_start" in table.columns and not row.wanted["cp_plan_start"]:
            cells.fail("cp_plan_start", "must not be blank when cp_plan_end is given")
        if row.reference:
            rows.append(row)
    _check_unique(((r.reference, r.line) for r in rows), "case_reference", "case reference", problems)
    if problems:
        raise ImportRejected(source, problems)

    existing: dict[str, Case] = {}
    for chunk in _chunks([r.reference for r in rows]):
        existing.update((c.reference, c) for c in session.scalars(select(Case).where(Case.reference.in_(chunk))))
    added = [r for r in rows if r.reference not in existing]
    updates = [(existing[r.reference], r, _changed_columns(existing[r.reference], r.wanted, CASE_FIELDS))
               for r in rows if r.reference in existing]
    report = ImportReport(
        source=source, kind="cases", added_keys=tuple(r.reference for r in added),
        changes=tuple(RowChange(r.reference, columns) for _c, r, columns in updates if columns),
        unchanged=sum(1 for *_, columns in updates if not columns),
        ignored_columns=table.ignored, dry_run=dry_run,
    )
    if dry_run:
        return report

    session.add_all(Case(id=uuid.uuid4(), reference=row.reference,
                         **{CASE_FIELDS[column]: value for column, value in row.wanted.items()})
                    for row in added)
    for case, row, columns in updates:
        _apply(case, row.wanted, columns, CASE_FIELDS)
    _record_import(session, "case_file", report)
    _flush(session, "The caseload")
    return report
