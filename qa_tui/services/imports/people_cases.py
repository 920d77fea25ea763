"""People and caseload imports from CSV: every problem in a file is found before anything is written,
then rows are upserted by staff ID / case reference and only real changes are saved. Reading the
file and checking its cells is in csv_rows.

The column layouts are documented in docs/import-formats.md.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_tui.config import CASE_HOLDING_ROLES, ROLE_NAMES, ROLES
from qa_tui.db.models import CASE_CATEGORIES, CASE_CATEGORY_NAMES, Case, Person, Service, Team
from qa_tui.services.imports.csv_rows import (
    Cells,
    CsvRow,
    CsvTable,
    ImportRejected,
    ImportReport,
    Problem,
    RowChange,
    apply_columns,
    changed_columns,
    check_unique,
    chunks,
    column_length,
    flush_or_conflict,
    read_table,
    record_import,
)
from qa_tui.services.people.permissions import EDIT_PEOPLE, IMPORT_CASELOAD, require

PEOPLE_REQUIRED = ("staff_id", "name", "role", "team_code")
PEOPLE_OPTIONAL = ("team_name", "service_code", "service_name", "manager_staff_id",
                   "asye_start", "active_from", "active_to", "login", "last_supervised_on")
CASES_REQUIRED = ("case_reference", "category", "worker_staff_id", "team_code")
CASES_OPTIONAL = ("opened_on", "closed_on", "cp_plan_start", "cp_plan_end")

# File column → Person / Case attribute, for the columns that are compared row by row.
PERSON_FIELDS = {
    "name": "name", "role": "role", "team_code": "team_id", "manager_staff_id": "manager_id",
    "asye_start": "asye_start", "active_from": "active_from", "active_to": "active_to", "login": "login",
    "last_supervised_on": "last_supervised_on",
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
    table = read_table(text, PEOPLE_REQUIRED, PEOPLE_OPTIONAL, problems)
    rows = [_read_person(raw, table, problems) for raw in table.rows]
    rows = [row for row in rows if row.staff_id]
    check_unique(((r.staff_id, r.line) for r in rows), "staff_id", "staff ID", problems)

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

    updates = [(people[r.staff_id], r, changed_columns(people[r.staff_id], r.wanted, PERSON_FIELDS))
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
    require(session, EDIT_PEOPLE)

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
    flush_or_conflict(session, "The staff list")
    for person, row, columns in updates:
        apply_columns(person, row.wanted, columns, PERSON_FIELDS)
    record_import(session, "person", report)
    flush_or_conflict(session, "The staff list")
    return report


def _read_person(raw: CsvRow, table: CsvTable, problems: list[Problem]) -> _PersonRow:
    cells = Cells(raw, table, problems)
    row = _PersonRow(
        line=raw.line,
        staff_id=cells.text("staff_id", column_length(Person.staff_id), required=True),
        team_code=cells.text("team_code", column_length(Team.code)),
        team_name=cells.text("team_name", column_length(Team.name)),
        service_code=cells.text("service_code", column_length(Service.code)),
        service_name=cells.text("service_name", column_length(Service.name)),
        manager_staff_id=cells.text("manager_staff_id", column_length(Person.staff_id)),
        wanted={"name": cells.text("name", column_length(Person.name), required=True),
                "role": cells.choice("role", _ROLE_LOOKUP, ROLES, "role")},
    )
    for column in ("asye_start", "active_from", "active_to", "last_supervised_on"):
        if column in table.columns:
            row.wanted[column] = cells.date(column)
    cells.not_before("active_to", row.wanted.get("active_to"), "active_from", row.wanted.get("active_from"))
    if "login" in table.columns:
        row.wanted["login"] = cells.text("login", column_length(Person.login)) or None
    role = row.wanted["role"]
    if role in CASE_HOLDING_ROLES and not row.team_code:
        cells.fail("team_code", f"must not be blank for a {role}, who holds cases")
    if row.service_name and not row.service_code:
        cells.fail("service_code", "must not be blank when service_name is given")
    return row


def _plan_organisation(rows: list[_PersonRow], table: CsvTable, teams: dict[str, Team],
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
    table = read_table(text, CASES_REQUIRED, CASES_OPTIONAL, problems)
    workers = {staff_id: (person_id, team_id) for staff_id, person_id, team_id
               in session.execute(select(Person.staff_id, Person.id, Person.team_id))}
    teams = {code: team_id for code, team_id in session.execute(select(Team.code, Team.id))}

    rows: list[_CaseRow] = []
    for raw in table.rows:
        cells = Cells(raw, table, problems)
        row = _CaseRow(raw.line, cells.text("case_reference", column_length(Case.reference), required=True),
                       {"category": cells.choice("category", _CATEGORY_LOOKUP, CASE_CATEGORIES, "category")})
        worker_staff_id = cells.text("worker_staff_id", column_length(Person.staff_id))
        team_code = cells.text("team_code", column_length(Team.code))
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
    check_unique(((r.reference, r.line) for r in rows), "case_reference", "case reference", problems)
    if problems:
        raise ImportRejected(source, problems)

    existing: dict[str, Case] = {}
    for chunk in chunks([r.reference for r in rows]):
        existing.update((c.reference, c) for c in session.scalars(select(Case).where(Case.reference.in_(chunk))))
    added = [r for r in rows if r.reference not in existing]
    updates = [(existing[r.reference], r, changed_columns(existing[r.reference], r.wanted, CASE_FIELDS))
               for r in rows if r.reference in existing]
    report = ImportReport(
        source=source, kind="cases", added_keys=tuple(r.reference for r in added),
        changes=tuple(RowChange(r.reference, columns) for _c, r, columns in updates if columns),
        unchanged=sum(1 for *_, columns in updates if not columns),
        ignored_columns=table.ignored, dry_run=dry_run,
    )
    if dry_run:
        return report
    require(session, IMPORT_CASELOAD)

    session.add_all(Case(id=uuid.uuid4(), reference=row.reference,
                         **{CASE_FIELDS[column]: value for column, value in row.wanted.items()})
                    for row in added)
    for case, row, columns in updates:
        apply_columns(case, row.wanted, columns, CASE_FIELDS)
    record_import(session, "case_file", report)
    flush_or_conflict(session, "The caseload")
    return report
