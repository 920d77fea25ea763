"""Caseload CSV imports: dated worker involvements in a layout shaped like the children's social
care safeguarding dataset, and SSDA903 social-worker episodes for looked-after children."""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from qa_tui.db import trail
from qa_tui.db.models import CASE_CATEGORIES, Case, Person, Team
from qa_tui.errors import ChangedElsewhere, ValidationError
from qa_tui.services.imports.caseload import (
    MAX_CODE,
    NO_TEAM,
    UNALLOCATED,
    CaseChange,
    CaseloadPlan,
    ImportResult,
    IncomingCase,
    RowNote,
    TeamKey,
    TeamLoad,
    WorkerKey,
    apply_caseload,
    child_reference,
    plan_caseload,
)
from qa_tui.services.imports.workbook import cell_date, clean_text, header_key, is_placeholder, placeholder_key
from qa_tui.text import removed_note, without_controls
from qa_tui.services.people.permissions import IMPORT_CASELOAD, require

CATEGORY_WORDS = {
    **{code.casefold(): code for code in CASE_CATEGORIES},
    "early help": "EH", "child in need": "CIN", "children in need": "CIN", "child protection": "CP",
    "cpp": "CP", "looked after": "CLA", "child looked after": "CLA", "children looked after": "CLA",
    "lac": "CLA", "cic": "CLA", "child in care": "CLA", "children in care": "CLA", "care leaver": "CL",
    "care leavers": "CL", "leaving care": "CL",
}

# Column → the header spellings accepted for it, compared after `header_key`; the first is the
# spelling of the template and the one named in messages.
INVOLVEMENT_COLUMNS = {
    "reference": ("case_reference", "case ref", "reference", "child id", "child unique id", "person id"),
    "category": ("category", "case category", "case type"),
    "opened_on": ("case_opened_on", "case opened", "case start date", "case start"),
    "closed_on": ("case_closed_on", "case closed", "case end date", "case end"),
    "cp_plan_start": ("cp_plan_start", "cp plan start date", "child protection plan start date"),
    "cp_plan_end": ("cp_plan_end", "cp plan end date", "child protection plan end date"),
    "team_code": ("team_code", "team id"),
    "team_name": ("team_name", "team", "allocated team"),
    "worker_staff_id": ("worker_staff_id", "staff id", "worker id", "professional staff id",
                        "involvement professional id", "professional id"),
    "worker_name": ("worker_name", "worker", "professional name", "allocated worker"),
    "start": ("involvement_start", "involvement start date", "start date", "start"),
    "end": ("involvement_end", "involvement end date", "end date", "end"),
}
INVOLVEMENT_DATES = ("opened_on", "closed_on", "cp_plan_start", "cp_plan_end", "start", "end")
SW_EPISODE_COLUMNS = {
    "reference": ("CHILD",),
    "staff_id": ("SW_ID",),
    "start": ("SW_DECOM",),
    "end": ("SW_DEC",),
}


@dataclass(frozen=True)
class _CsvTable:
    source: str
    name: str
    headers: tuple[str, ...]
    columns: dict[str, int]
    rows: tuple[tuple[int, tuple[str, ...]], ...]  # (line number, cells)
    stripped: tuple[RowNote, ...] = ()  # cells whose control characters were removed

    def cell(self, cells: tuple[str, ...], column: str) -> str:
        index = self.columns.get(column)
        return cells[index] if index is not None and index < len(cells) else ""

    def where(self, column: str) -> str:
        index = self.columns.get(column)
        return self.headers[index] if index is not None else column


def _read_csv(path: Path, spec: dict[str, tuple[str, ...]], required: Sequence[str], what: str) -> _CsvTable:
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ValidationError(source, "no such file") from None
    except OSError as exc:
        raise ValidationError(source, f"cannot be read ({exc.strerror})") from None
    if raw.startswith((b"PK", bytes.fromhex("D0CF11E0"))):
        raise ValidationError(source, f"is a workbook, not a CSV file; save it as CSV ({what})")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # what Excel on Windows writes as "CSV"
    try:
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ValidationError(source, f"is not a readable CSV file ({exc})") from None
    while lines and not any(cell.strip() for cell in lines[0]):
        lines.pop(0)
    if not lines:
        raise ValidationError(source, f"is empty (expected {what})")
    headers = tuple(clean_text(h) for h in lines[0])
    keys = [header_key(h) for h in headers]
    columns: dict[str, int] = {}
    for column, spellings in spec.items():
        for spelling in map(header_key, spellings):  # the first spelling found wins, whatever the order
            if spelling in keys and keys.index(spelling) not in columns.values():
                columns[column] = keys.index(spelling)
                break
    missing = [spec[c][0] for c in required if c not in columns]
    if missing:
        raise ValidationError(source, f"line 1: no {', '.join(repr(m) for m in missing)} column (expected {what})")
    rows = tuple((number, tuple(cells)) for number, cells in enumerate(lines[1:], start=2)
                 if any(cell.strip() for cell in cells))
    if not rows:
        raise ValidationError(source, f"has a header but no rows (expected {what})")
    # Control characters (a NUL, an ESC) are taken out of every cell, and each cell is named.
    stripped = [RowNote(path.name, number, headers[index] if index < len(headers) else f"{index + 1}", note)
                for number, cells in rows for index, cell in enumerate(cells) if (note := removed_note(cell))]
    if stripped:
        rows = tuple((number, tuple(without_controls(cell) for cell in cells)) for number, cells in rows)
    return _CsvTable(source, path.name, headers, columns, rows, tuple(stripped))


def _dates(table: _CsvTable, number: int, cells: tuple[str, ...], columns: Sequence[str],
           problems: list[RowNote], reference: str) -> dict[str, date | None] | None:
    """The row's dates, or None (with the problems noted) when one cannot be read."""
    found: dict[str, date | None] = {}
    for column in columns:
        try:
            found[column] = cell_date(table.cell(cells, column))
        except ValueError as exc:
            problems.append(RowNote(table.name, number, table.where(column), f"{exc}; {reference} left as it is"))
            return None
    return found


def _nothing_usable(problems: Sequence[RowNote]) -> str:
    first = f" (first: {problems[0]})" if problems else ""
    return f"has no usable rows; nothing to import{first}"


# --- safeguarding-dataset-shaped involvements -----------------------------------------------

INVOLVEMENTS_WHAT = "worker involvements: case_reference, category, team_code, team_name, worker_staff_id, " \
                    "worker_name, involvement_start, involvement_end (see docs/templates/involvements.csv)"


@dataclass(frozen=True)
class InvolvementsPreview:
    source: str
    today: date
    rows: int
    cases: tuple[IncomingCase, ...]
    held: tuple[str, ...]  # cases with unusable rows: left exactly as they are
    problems: tuple[RowNote, ...]
    warnings: tuple[RowNote, ...]
    plan: CaseloadPlan


@dataclass(frozen=True)
class _Involvement:
    line: int
    category: str
    dates: dict[str, date | None]
    team: TeamKey | None
    worker: WorkerKey | None

    def is_open(self, today: date) -> bool:
        end = self.dates["end"]
        return end is None or end > today

    def order(self) -> tuple[date, int]:
        return (self.dates["start"] or date.min, self.line)


def category_code(value: str) -> str:
    code = CATEGORY_WORDS.get(placeholder_key(value))
    if code is None:
        raise ValueError(f"{clean_text(value)!r} is not a case category (expected one of {', '.join(CASE_CATEGORIES)})")
    return code


def _read_involvements(path: Path, today: date) -> InvolvementsPreview:
    table = _read_csv(path, INVOLVEMENT_COLUMNS, ("reference", "category"), INVOLVEMENTS_WHAT)
    problems: list[RowNote] = []
    warnings: list[RowNote] = list(table.stripped)
    held: set[str] = set()
    by_case: dict[str, list[_Involvement]] = defaultdict(list)
    for number, cells in table.rows:
        try:
            reference = child_reference(table.cell(cells, "reference"))
        except ValueError as exc:
            problems.append(RowNote(table.name, number, table.where("reference"), f"{exc}; row not used"))
            continue
        try:
            category = category_code(table.cell(cells, "category"))
        except ValueError as exc:
            problems.append(RowNote(table.name, number, table.where("category"), f"{exc}; {reference} left as it is"))
            held.add(reference)
            continue
        dates = _dates(table, number, cells, INVOLVEMENT_DATES, problems, reference)
        closed = dates["closed_on"] if dates else None
        if closed is not None and closed > today:
            problems.append(RowNote(table.name, number, table.where("closed_on"),
                                    f"case closing date {closed:%d/%m/%Y} is after today; {reference} left as it is"))
            dates = None
        if dates is None:
            held.add(reference)
            continue
        team_code, team_name = (table.cell(cells, c) for c in ("team_code", "team_name"))
        staff_id, worker_name = (table.cell(cells, c) for c in ("worker_staff_id", "worker_name"))
        too_long = [c for c, v in (("team_code", team_code), ("worker_staff_id", staff_id)) if len(v.strip()) > MAX_CODE]
        if too_long:
            problems.append(RowNote(table.name, number, table.where(too_long[0]),
                                    f"longer than {MAX_CODE} characters; {reference} left as it is"))
            held.add(reference)
            continue
        team = None if is_placeholder(team_code) and is_placeholder(team_name) else TeamKey(
            "" if is_placeholder(team_name) else team_name, "" if is_placeholder(team_code) else clean_text(team_code))
        worker = None if is_placeholder(staff_id) and is_placeholder(worker_name) else WorkerKey(
            "" if is_placeholder(worker_name) else worker_name, "" if is_placeholder(staff_id) else clean_text(staff_id))
        by_case[reference].append(_Involvement(number, category, dates, team, worker))
    cases = []
    for reference in sorted(set(by_case) - held):
        rows = sorted(by_case[reference], key=_Involvement.order)
        current = [r for r in rows if r.is_open(today)]
        chosen = current[-1] if current else None

        def known(column: str) -> list[date]:
            return [r.dates[column] for r in rows if r.dates[column] is not None]  # type: ignore[misc]

        closed_on = max(known("closed_on"), default=None)
        if closed_on is None and (chosen is None or chosen.worker is None):
            warnings.append(RowNote(table.name, (chosen or rows[-1]).line, "",
                                    f"{reference} has no open worker involvement; imported as unallocated"))
        cases.append(IncomingCase(
            reference=reference, category=(chosen or rows[-1]).category,
            opened_on=min(known("opened_on") or known("start"), default=None), closed_on=closed_on,
            cp_plan_start=min(known("cp_plan_start"), default=None),
            cp_plan_end=max(known("cp_plan_end"), default=None),
            team=chosen.team if chosen else None, worker=chosen.worker if chosen else None,
        ))
    if not cases:
        raise ValidationError(table.source, _nothing_usable(problems))
    return InvolvementsPreview(table.source, today, len(table.rows), tuple(cases), tuple(sorted(held)),
                               tuple(problems), tuple(warnings), CaseloadPlan((), (), (), (), ()))


def preview_involvements(session: Session, path: Path | str, today: date) -> InvolvementsPreview:
    """Read the involvements CSV and compare it with the database. Writes nothing.

    Cases not in the file are left alone: close a case with its `case_closed_on` column."""
    preview = _read_involvements(Path(path), today)
    return replace(preview, plan=plan_caseload(session, preview.cases, held=preview.held, today=today))


def apply_involvements(session: Session, preview_or_path: InvolvementsPreview | Path | str,
                       today: date) -> ImportResult:
    require(session, IMPORT_CASELOAD)
    preview = preview_or_path
    if not isinstance(preview, InvolvementsPreview):
        preview = preview_involvements(session, preview, today)
    return apply_caseload(session, preview.source, preview.cases, held=preview.held, today=today,
                          what="Involvements", previewed=preview.plan)


# --- SSDA903 social worker episodes ---------------------------------------------------------

SW_EPISODES_WHAT = "SSDA903 social worker episodes: CHILD, SW_ID, SW_DECOM, SW_DEC, SW_REASON"


@dataclass(frozen=True)
class SwEpisodesPreview:
    source: str
    today: date
    episodes: int
    children: int
    allocations: tuple[tuple[str, str], ...]  # (child, staff ID) from each child's open episode
    problems: tuple[RowNote, ...]  # rows not used
    warnings: tuple[RowNote, ...]  # children left as they are, and why
    plan: CaseloadPlan


@dataclass(frozen=True)
class _Episode:
    line: int
    staff_id: str
    start: date | None
    end: date | None


def _read_sw_episodes(path: Path, today: date) -> tuple[_CsvTable, SwEpisodesPreview, dict[str, int]]:
    table = _read_csv(path, SW_EPISODE_COLUMNS, ("reference", "staff_id", "start"), SW_EPISODES_WHAT)
    problems: list[RowNote] = []
    warnings: list[RowNote] = list(table.stripped)
    held: set[str] = set()
    episodes: dict[str, list[_Episode]] = defaultdict(list)
    for number, cells in table.rows:
        try:
            child = child_reference(table.cell(cells, "reference"))
        except ValueError as exc:
            problems.append(RowNote(table.name, number, table.where("reference"), f"{exc}; row not used"))
            continue
        dates = _dates(table, number, cells, ("start", "end"), problems, f"child {child}")
        if dates is None:
            held.add(child)
            continue
        staff_id = "" if is_placeholder(table.cell(cells, "staff_id")) else clean_text(table.cell(cells, "staff_id"))
        episodes[child].append(_Episode(number, staff_id, dates["start"], dates["end"]))
    allocations: list[tuple[str, str]] = []
    lines: dict[str, int] = {}
    for child in sorted(set(episodes) - held):
        open_episodes = sorted((e for e in episodes[child] if e.end is None or e.end > today),
                               key=lambda e: (e.start or date.min, e.line))
        if not open_episodes:
            warnings.append(RowNote(table.name, episodes[child][-1].line, "",
                                    f"child {child} has no open social worker episode; allocation left as it is"))
            continue
        current = open_episodes[-1]
        if not current.staff_id:
            warnings.append(RowNote(table.name, current.line, table.where("staff_id"),
                                    f"child {child}: no SW_ID on the open episode; allocation left as it is"))
            continue
        allocations.append((child, current.staff_id))
        lines[child] = current.line
    preview = SwEpisodesPreview(table.source, today, len(table.rows), len(set(episodes) | held),
                                tuple(allocations), tuple(problems), tuple(warnings), CaseloadPlan((), (), (), (), ()))
    return table, preview, lines


@dataclass(frozen=True)
class _SwStep:
    case: Case
    worker: Person
    team_id: uuid.UUID | None
    change: CaseChange


def _plan_sw(session: Session, allocations: Sequence[tuple[str, str]],
             note: Callable[[str, str], None]) -> tuple[CaseloadPlan, list[_SwStep]]:
    people = {p.staff_id.casefold(): p for p in session.scalars(select(Person))}
    teams = {t.id: t.name for t in session.scalars(select(Team))}
    references = [child for child, _ in allocations]
    cases: dict[str, Case] = {}
    for start in range(0, len(references), 500):
        chunk = references[start:start + 500]
        cases.update({c.reference: c for c in session.scalars(select(Case).where(Case.reference.in_(chunk)))})
    names = {p.id: p.name for p in people.values()}
    steps: list[_SwStep] = []
    for child, staff_id in allocations:
        case, worker = cases.get(child), people.get(staff_id.casefold())
        if case is None:
            note(child, f"child {child} is not in the caseload (import Annex A first); left out")
        elif case.category != "CLA":
            note(child, f"child {child} is recorded as {case.category}, not looked after; left as it is")
        elif case.closed_on is not None:
            note(child, f"child {child}'s case was closed on {case.closed_on:%d/%m/%Y}; left as it is")
        elif worker is None:
            note(child, f"SW_ID {staff_id!r} is not the staff ID of anyone in qa-tui (workers are not "
                        f"created from SSDA903); child {child} left as it is")
        else:
            team_id = worker.team_id or case.team_id
            kind = "unchanged" if (case.worker_id, case.team_id) == (worker.id, team_id) else "reallocated"
            steps.append(_SwStep(case, worker, team_id, CaseChange(
                child, kind, case.category, teams.get(team_id, "") if team_id else "", worker.name,
                teams.get(case.team_id, "") if case.team_id else "", names.get(case.worker_id, ""), case.category)))
    loads: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for step in steps:
        loads[step.change.team or NO_TEAM][step.change.worker or UNALLOCATED] += 1
    by_team = tuple(TeamLoad(team, sum(w.values()), tuple(sorted(w.items()))) for team, w in sorted(loads.items()))
    return CaseloadPlan(tuple(s.change for s in steps), (), (), by_team, ()), steps


def preview_sw_episodes(session: Session, path: Path | str, today: date) -> SwEpisodesPreview:
    """Read SSDA903 social worker episodes and work out which looked-after children change
    worker. Unknown SW_IDs are reported, never created. Writes nothing."""
    table, preview, lines = _read_sw_episodes(Path(path), today)
    warnings = list(preview.warnings)

    def note(child: str, message: str) -> None:
        warnings.append(RowNote(table.name, lines[child], "", message))

    plan, _ = _plan_sw(session, preview.allocations, note)
    return replace(preview, warnings=tuple(sorted(warnings, key=lambda n: n.row)), plan=plan)


def apply_sw_episodes(session: Session, preview_or_path: SwEpisodesPreview | Path | str,
                      today: date) -> ImportResult:
    """Update the allocations in the caller's transaction; the case's team follows the worker's."""
    require(session, IMPORT_CASELOAD)
    preview = preview_or_path
    if not isinstance(preview, SwEpisodesPreview):
        preview = preview_sw_episodes(session, preview, today)
    plan, steps = _plan_sw(session, preview.allocations, lambda child, message: None)
    try:
        for step in steps:
            if step.change.kind == "reallocated":
                step.case.worker_id, step.case.team_id = step.worker.id, step.team_id
        trail.record_event(session, "import", "case_file", None, detail=(
            f"SSDA903 social worker episodes from {Path(preview.source).name}: "
            f"{plan.count('reallocated')} reallocated, {plan.count('unchanged')} unchanged"))
        session.flush()
    except StaleDataError:
        raise ChangedElsewhere("A case in this import") from None
    return ImportResult(preview.source, plan, plan == preview.plan)
