"""The caseload core every caseload import shares (Annex A, involvements, SSDA903 episodes): what
an import file says about each case, matching its teams and workers to those stored (creating the
missing ones), planning the changes against the database, and writing them."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from qa_tui.db import trail
from qa_tui.db.models import Case, Person, Team
from qa_tui.errors import ChangedElsewhere
from qa_tui.services.imports.workbook import CellValue, clean_text, is_placeholder

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
    allocation_known: bool = True  # False (CIN census): stored cases keep theirs, new ones are unallocated


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
class ImportResult:
    source: str
    plan: CaseloadPlan  # what was written
    matches_preview: bool  # False when the database changed between preview and apply


def name_key(value: CellValue) -> str:
    """A person's or team's name as compared: case-insensitive, spaces (incl. NBSP) collapsed."""
    return clean_text(value).casefold()


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
        case = existing.get(incoming.reference)
        if not incoming.allocation_known:
            team = directory.ref("team", case.team_id) if case else None
            worker = directory.ref("person", case.worker_id) if case else None
            steps.append(_Step(case, incoming, team, worker, _change_for(case, incoming, team, worker, directory)))
            continue
        team = directory.team(incoming.team, create=is_open)
        worker = directory.worker(incoming.worker, team, incoming.reference, create=is_open)
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
    """The stored values after import: dates the file leaves blank keep what is stored, except the
    closing date (none: open) and a CP plan's end, which goes with its start (none: still running)."""
    plan = ((incoming.cp_plan_start, incoming.cp_plan_end) if incoming.cp_plan_start is not None
            else (case.cp_plan_start, case.cp_plan_end))
    return (incoming.category, incoming.opened_on or case.opened_on, incoming.closed_on, *plan)


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
    caller's transaction (its callers check the import permission). QA records are never touched."""
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
