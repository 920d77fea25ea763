"""Triage: everything late in one list (overdue actions, audits past their moderation or
finalisation deadline, overdue supervisions, observations and dip samples owed), filtered, sorted
and keyset-paged, with each user's last filter remembered."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from qa_tui.config import Config
from qa_tui.dates import Month, add_months, financial_year_end
from qa_tui.db.models import Action, Audit, Case, Escalation, Person, Team
from qa_tui.errors import ValidationError
from qa_tui.services.audits.record import (
    finalise_by,
    is_not_finalised_in_time,
    is_past_moderation_deadline,
    moderation_deadline_for,
)
from qa_tui.services.practice.dip_sample import dip_samples_due
from qa_tui.services.audits.drafts import load_draft, save_draft
from qa_tui.services.practice.observations import OVERDUE_WHEN_MONTHS_LEFT
from qa_tui.services.practice.observations_owed import observations_owed
from qa_tui.services.practice.supervision import overdue_supervision
from qa_tui.services.people.directory import head_of_service_scope
from qa_tui.services.audits.escalations import REASON_LABELS
from qa_tui.services.programme.escalation import escalated_to
from qa_tui.text import without_controls

TRIAGE_KINDS = {
    "action": "Overdue action",
    "moderation": "Not sent for moderation",
    "finalisation": "Not finalised in time",
    "supervision": "Supervision overdue",
    "observation": "Observation owed",
    "dip_sample": "Dip sample owed",
    "escalation": "Escalation awaiting response",
}
KIND_RANK = {kind: rank for rank, kind in enumerate(TRIAGE_KINDS)}
# overdue: most days overdue first (earliest due date first); recent: the reverse, newly late
# first; owner and team: by name, then most overdue first.
TRIAGE_SORTS = ("overdue", "recent", "owner", "team")
MAX_PAGE = 500
MAX_MIN_DAYS = 3650
MAX_SEARCH_CHARS = 100  # characters a search may look for, spaces aside
FILTER_KEY_PREFIX = "triage-filter:"
AUDIT_KIND_LABELS = {"live": "Live", "dip_sample": "Dip sample", "themed": "Themed",
                     "multi_agency": "Multi-agency", "closure": "Closure", "supervision_file": "Supervision file",
                     "cross_service": "Cross-service"}


@dataclass(frozen=True)
class TriageFilters:
    team_id: uuid.UUID | None = None
    service_id: uuid.UUID | None = None  # a head of service's scope: every team of the service
    owner_id: uuid.UUID | None = None
    kinds: tuple[str, ...] = ()  # empty: every kind
    min_days_overdue: int = 0  # 0 also shows what is owed but not yet late
    text: str = ""  # fuzzy: its letters in order in the title, owner or case reference / worker
    sort: str = "overdue"


@dataclass(frozen=True)
class TriageRow:
    kind: str  # one of TRIAGE_KINDS
    record_id: uuid.UUID  # the action or audit; for supervision, observation and dip sample rows the person
    title: str
    subject: str  # case reference, or the worker the row is about
    owner_id: uuid.UUID | None  # who should act: action owner, auditor, line manager, team manager
    owner_name: str
    team_id: uuid.UUID | None
    team_name: str
    due_on: date | None  # the last day it was on time; None: never done and no date to count from
    days_overdue: int
    late: bool  # False: owed this period but not late yet
    detail: str
    version: int | None = None  # an action's version when listed: acting on it checks nobody changed it since
    escalated_to: tuple[uuid.UUID, ...] = ()  # a late audit: the managers it has reached (escalation.py)
    service_id: uuid.UUID | None = None  # the team's service (rows other than actions)

    @property
    def kind_label(self) -> str:
        return TRIAGE_KINDS[self.kind]


@dataclass(frozen=True)
class TriageCursor:
    """Where the next page starts: the sort and the last row's position in it. Opaque."""

    sort: str
    key: tuple[Any, ...]


@dataclass(frozen=True)
class TriagePage:
    rows: tuple[TriageRow, ...]
    next_cursor: TriageCursor | None  # None: this was the last page


# --- filters --------------------------------------------------------------------------------


def check_filters(filters: TriageFilters) -> TriageFilters:
    """The filters, tidied (text trimmed, kinds in order); ValidationError naming a bad one."""
    if filters.sort not in TRIAGE_SORTS:
        raise ValidationError("sort", f"expected one of {', '.join(TRIAGE_SORTS)}, got {filters.sort!r}")
    unknown = [k for k in filters.kinds if k not in TRIAGE_KINDS]
    if unknown:
        raise ValidationError("kind", f"unknown kind {unknown[0]!r}; expected one of {', '.join(TRIAGE_KINDS)}")
    days = filters.min_days_overdue
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_MIN_DAYS:
        raise ValidationError("days overdue", f"expected a whole number from 0 to {MAX_MIN_DAYS}, got {days!r}")
    text = " ".join(without_controls(filters.text).split())
    search_letters(text)  # refuses a search too long to run
    return replace(filters, kinds=tuple(k for k in TRIAGE_KINDS if k in filters.kinds), text=text)


def save_triage_filter(session: Session, login: str, filters: TriageFilters) -> None:
    """Remember the user's filter (a Draft row keyed "triage-filter:<login>")."""
    payload = asdict(check_filters(filters))
    payload["kinds"] = list(payload["kinds"])
    save_draft(session, FILTER_KEY_PREFIX + login, payload, owner=login)


def load_triage_filter(session: Session, login: str, default_team_id: uuid.UUID | None = None,
                       person_id: uuid.UUID | None = None) -> TriageFilters:
    """The user's last filter; when none was saved (or it no longer fits: a changed build may
    have renamed a sort or kind), everything late in their own scope (default_triage_filters)."""
    draft = load_draft(session, FILTER_KEY_PREFIX + login)
    if draft is None:
        return default_triage_filters(session, default_team_id, person_id)
    p = draft.payload
    try:
        return check_filters(TriageFilters(
            team_id=uuid.UUID(p["team_id"]) if p.get("team_id") else None,
            service_id=uuid.UUID(p["service_id"]) if p.get("service_id") else None,
            owner_id=uuid.UUID(p["owner_id"]) if p.get("owner_id") else None,
            kinds=tuple(p.get("kinds") or ()), min_days_overdue=p.get("min_days_overdue", 0),
            text=str(p.get("text", "")), sort=p.get("sort", "overdue")))
    except (ValidationError, ValueError, TypeError, AttributeError):
        return default_triage_filters(session, default_team_id, person_id)


def default_triage_filters(session: Session, team_id: uuid.UUID | None,
                           person_id: uuid.UUID | None) -> TriageFilters:
    """Where triage opens for someone with no saved filter: a head of service, their service (every
    team in it, as their management line reaches); anyone else, their own team (`team_id`)."""
    service_id = head_of_service_scope(session, person_id)
    if service_id is not None:
        return TriageFilters(service_id=service_id)
    return TriageFilters(team_id=team_id)


# --- paging ---------------------------------------------------------------------------------


def triage_page(session: Session, today: date, cfg: Config, filters: TriageFilters, *,
                after: TriageCursor | None = None, limit: int = 100,
                others: Sequence[TriageRow] | None = None) -> TriagePage:
    """One page of the triage list. Keyset paging: pass the page's `next_cursor` as `after` for
    the next (no OFFSET, so every page costs the same). Actions are paged in SQL on their
    indexes; the other kinds are few and are merged in memory. `others` is what other_rows
    returned for the same day, team and owner: pass it to page or re-filter (text, days,
    kinds, sort) without computing them again; None computes them now."""
    filters = check_filters(filters)
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError("limit", f"expected 1 to {MAX_PAGE}, got {limit}")
    if after is not None and after.sort != filters.sort:
        raise ValidationError("cursor", "the sort changed; start again from the first page")
    descending = filters.sort == "recent"
    after_key = after.key if after else None

    def is_after(row: TriageRow) -> bool:
        if after_key is None:
            return True
        key = _sort_key(row, filters.sort)
        return key < after_key if descending else key > after_key

    if others is None:
        others = other_rows(session, today, cfg, team_id=filters.team_id, owner_id=filters.owner_id,
                            kinds=filters.kinds, service_id=filters.service_id)
    rows = [r for r in others if _wants(filters, r.kind) and _keeps(r, filters) and is_after(r)]
    if _wants(filters, "action"):
        rows += _action_rows(session, today, filters, after_key, limit + 1)
    rows.sort(key=lambda r: _sort_key(r, filters.sort), reverse=descending)
    page = rows[:limit]
    more = len(rows) > limit
    return TriagePage(tuple(page), TriageCursor(filters.sort, _sort_key(page[-1], filters.sort)) if more else None)


def triage_counts(session: Session, today: date, cfg: Config, filters: TriageFilters, *,
                  others: Sequence[TriageRow] | None = None) -> dict[str, int]:
    """How many rows of each kind match the filters (ignoring the kind filter), for the tabs
    above the list. Counting actions reads every matching row: call it after the first page.
    `others` as for triage_page, computed with no kind filter."""
    filters = replace(check_filters(filters), kinds=())
    if others is None:
        others = other_rows(session, today, cfg, team_id=filters.team_id, owner_id=filters.owner_id,
                            service_id=filters.service_id)
    counts = dict.fromkeys(TRIAGE_KINDS, 0)
    for row in others:
        if _keeps(row, filters):
            counts[row.kind] += 1
    stmt = _action_query(today, filters).with_only_columns(func.count())
    counts["action"] = session.scalar(stmt.order_by(None)) or 0
    return counts


def _wants(filters: TriageFilters, kind: str) -> bool:
    return not filters.kinds or kind in filters.kinds


def _sort_key(row: TriageRow, sort: str) -> tuple[Any, ...]:
    base = (row.due_on or date.min, KIND_RANK[row.kind], row.record_id)
    if sort == "owner":
        return (row.owner_name, *base)
    if sort == "team":
        return (row.team_name, *base)
    return base


def search_letters(text: str) -> list[str]:
    """The characters a search looks for, in order: spaces and control characters left out (a
    NUL would make PostgreSQL refuse the query); a search longer than MAX_SEARCH_CHARS is refused
    (a pattern that long is no search, and SQLite refuses one far longer)."""
    letters = [c for c in without_controls(text) if not c.isspace()]
    if len(letters) > MAX_SEARCH_CHARS:
        raise ValidationError("search", f"at most {MAX_SEARCH_CHARS} characters, spaces aside; got {len(letters)}")
    return letters


def fuzzy_pattern(text: str) -> str:
    """A LIKE pattern matching `text`'s characters in order with anything between them."""
    chars = search_letters(text)
    return "%" + "%".join("\\" + c if c in "\\%_" else c for c in chars) + "%"


def fuzzy_match(text: str, *haystacks: str) -> bool:
    """True when `text`'s characters (spaces ignored) appear in order, ignoring case, in one of
    the haystacks: the same test as fuzzy_pattern in SQL."""
    needle = [c.lower() for c in search_letters(text)]
    for haystack in haystacks:
        rest = iter(haystack.lower())
        if all(c in rest for c in needle):
            return True
    return False


# --- actions, paged in SQL ------------------------------------------------------------------


def _last_on_time(today: date, filters: TriageFilters) -> date:
    return today - timedelta(days=max(1, filters.min_days_overdue))


def _action_query(today: date, filters: TriageFilters) -> Select:
    stmt = (
        select(Action.id, Action.title, Action.owner_id, Person.name, Action.team_id, Team.name,
               Action.due_on, Case.reference, Action.source_kind, Action.version)
        .outerjoin(Person, Person.id == Action.owner_id)
        .outerjoin(Team, Team.id == Action.team_id)
        .outerjoin(Case, Case.id == Action.case_id)
        .where(*_late_and_chosen(today, filters))
    )
    if filters.text:
        pattern = fuzzy_pattern(filters.text)
        stmt = stmt.where(or_(Action.title.ilike(pattern, escape="\\"), Person.name.ilike(pattern, escape="\\"),
                              Case.reference.ilike(pattern, escape="\\")))
    return stmt


def _late_and_chosen(today: date, filters: TriageFilters) -> list[ColumnElement[bool]]:
    """Open actions late by at least the filter's days, in the filter's team and owner."""
    clauses = [Action.status == "open", Action.due_on <= _last_on_time(today, filters)]
    if filters.team_id is not None:
        clauses.append(Action.team_id == filters.team_id)
    if filters.service_id is not None:
        clauses.append(Action.team_id.in_(select(Team.id).where(Team.service_id == filters.service_id)))
    if filters.owner_id is not None:
        clauses.append(Action.owner_id == filters.owner_id)
    return clauses


def _fetch_actions(session: Session, stmt: Select, today: date) -> list[TriageRow]:
    return [TriageRow("action", id_, title, reference or "", owner_id, owner or "", team_id, team or "",
                      due_on, (today - due_on).days, True, source, version)
            for id_, title, owner_id, owner, team_id, team, due_on, reference, source, version
            in session.execute(stmt)]


def _action_rows(session: Session, today: date, filters: TriageFilters, after_key: tuple[Any, ...] | None,
                 limit: int) -> list[TriageRow]:
    if filters.sort in ("owner", "team"):
        return _action_rows_by_name(session, today, filters, after_key, limit)
    descending = filters.sort == "recent"
    stmt = _action_query(today, filters)
    if after_key is not None:
        stmt = stmt.where(_after(after_key, descending))
    order = (Action.due_on.desc(), Action.id.desc()) if descending else (Action.due_on, Action.id)
    return _fetch_actions(session, stmt.order_by(*order).limit(limit), today)


def _action_rows_by_name(session: Session, today: date, filters: TriageFilters,
                         after_key: tuple[Any, ...] | None, limit: int) -> list[TriageRow]:
    """Actions by owner or team name, then most overdue. Names are few: the owners (or teams)
    holding late actions are found first, then each name's actions are read in order on the
    owner (or team) index until the page is full, instead of sorting every late action."""
    column, named = (Action.owner_id, Person) if filters.sort == "owner" else (Action.team_id, Team)
    chosen = _late_and_chosen(today, filters)
    ids_by_name: dict[str, list[uuid.UUID | None]] = defaultdict(list)
    for id_, name in session.execute(select(named.id, named.name).where(
            select(Action.id).where(column == named.id, *chosen).exists())):
        ids_by_name[name].append(id_)
    if session.scalar(select(select(Action.id).where(column.is_(None), *chosen).exists())):
        ids_by_name[""].append(None)
    rows: list[TriageRow] = []
    for name in sorted(ids_by_name):
        if after_key is not None and name < after_key[0]:
            continue
        ids = [i for i in ids_by_name[name] if i is not None]
        in_group = column.in_(ids) if None not in ids_by_name[name] else or_(column.is_(None), column.in_(ids))
        stmt = _action_query(today, filters).where(in_group)
        if after_key is not None and name == after_key[0]:
            stmt = stmt.where(_after(after_key[1:], descending=False))
        rows += _fetch_actions(session, stmt.order_by(Action.due_on, Action.id).limit(limit - len(rows)), today)
        if len(rows) >= limit:
            break
    return rows


def _after(key: tuple[Any, ...], descending: bool) -> ColumnElement[bool]:
    """SQL for "an action sorts after the cursor (due date, kind rank, id)": actions rank 0, so
    at the cursor's own due date they come before another kind's row and are compared by id
    with an action's."""
    due, rank, last_id = key
    if descending:
        tail = Action.id < last_id if rank == KIND_RANK["action"] else true()
        # The redundant bound gives both databases a plain range on the index's due date.
        return and_(Action.due_on <= due, or_(Action.due_on < due, and_(Action.due_on == due, tail)))
    tail = Action.id > last_id if rank == KIND_RANK["action"] else false()
    return and_(Action.due_on >= due, or_(Action.due_on > due, and_(Action.due_on == due, tail)))


# --- the other kinds, computed in memory ----------------------------------------------------


@dataclass(frozen=True)
class _Who:
    name: str
    team_id: uuid.UUID | None
    manager_id: uuid.UUID | None


def other_rows(session: Session, today: date, cfg: Config, *, team_id: uuid.UUID | None = None,
               owner_id: uuid.UUID | None = None, kinds: Sequence[str] = (),
               service_id: uuid.UUID | None = None) -> tuple[TriageRow, ...]:
    """Every row of the kinds other than actions (empty `kinds`: all of them), for one team
    (or service) and owner when given, unsorted. They come from the services that own each
    rule. A late audit is also its auditor's line manager's, and a week later theirs
    (escalation.py). Names are read only for the people the rows mention."""
    filters = check_filters(TriageFilters(team_id=team_id, owner_id=owner_id, kinds=tuple(kinds),
                                          service_id=service_id))
    if not any(_wants(filters, kind) for kind in TRIAGE_KINDS if kind != "action"):
        return ()
    found: list[tuple[Any, ...]] = []

    def add(kind: str, record_id: uuid.UUID, title: str, subject: str, owner_id: uuid.UUID | None,
            team_id: uuid.UUID | None, due_on: date | None, late: bool, detail: str) -> None:
        found.append((kind, record_id, title, subject, owner_id, team_id, due_on, late, detail))

    if _wants(filters, "moderation") or _wants(filters, "finalisation"):
        _audit_rows(session, today, cfg, filters, add)
    if _wants(filters, "escalation"):
        _escalation_rows(session, today, filters, add)
    overdue = overdue_supervision(session, today, cfg, team_id=filters.team_id, supervisor_id=filters.owner_id
                                  ) if _wants(filters, "supervision") else []
    owed_observation = observations_owed(session, today, cfg, team_id=filters.team_id
                                         ) if _wants(filters, "observation") else []
    dip_owed = [d for d in dip_samples_due(session, today, team_id=filters.team_id)
                if not d.done] if _wants(filters, "dip_sample") else []
    people = _people(session, {s.worker_id for s in overdue} | {c.worker_id for c in owed_observation}
                     | {d.manager_id for d in dip_owed})

    for s in overdue:
        worker = people[s.worker_id]
        add("supervision", s.worker_id, f"Supervision overdue for {s.worker_name}", s.worker_name,
            worker.manager_id, worker.team_id, s.due_on, True, s.reason)
    # A practitioner not yet observed is late from the date observation_coverage names
    # "overdue"; for the yearly rule that is OVERDUE_WHEN_MONTHS_LEFT before the year ends.
    overdue_from = add_months(financial_year_end(today) + timedelta(days=1), -OVERDUE_WHEN_MONTHS_LEFT)
    for c in owed_observation:
        late = c.status == "overdue"
        due_on = c.next_due
        if late and (due_on is None or due_on >= today):
            due_on = overdue_from - timedelta(days=1)
        worker = people[c.worker_id]
        add("observation", c.worker_id, f"Observation owed for {c.worker_name}", c.worker_name,
            worker.manager_id, worker.team_id, due_on, late, c.reason)
    month_end = Month.of(today).last
    for d in dip_owed:
        add("dip_sample", d.manager_id, f"Dip sample for {d.month} not done", d.manager_name,
            d.manager_id, people[d.manager_id].team_id, month_end, False,
            f"{d.in_progress} in progress" if d.in_progress else "none started")

    people.update(_people(session, {f[4] for f in found if f[4] is not None} - people.keys()))
    managers = {pid: who.manager_id for pid, who in people.items()}
    above = _people(session, {m for m in managers.values() if m is not None} - people.keys())
    managers.update({pid: who.manager_id for pid, who in above.items()})
    teams = {t_id: (name, service) for t_id, name, service in session.execute(select(Team.id, Team.name,
                                                                                    Team.service_id))}
    rows = []
    for kind, record_id, title, subject, owner, team, due_on, late, detail in found:
        who = people.get(owner) if owner else None
        days = max(0, (today - due_on).days) if late and due_on else 0
        chain = escalated_to(owner, days, late, managers) if kind in ("moderation", "finalisation") else ()
        name, service = teams.get(team, ("", None)) if team else ("", None)
        rows.append(TriageRow(kind, record_id, title, subject, owner, who.name if who else "",
                              team, name, due_on, days, late, detail, escalated_to=chain, service_id=service))
    return tuple(r for r in rows if _wants(filters, r.kind) and _keeps(r, filters))


def _people(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, _Who]:
    people: dict[uuid.UUID, _Who] = {}
    wanted = list(ids)
    for start in range(0, len(wanted), 900):  # within SQLite's bound-parameter limit
        people.update({pid: _Who(name, team, manager) for pid, name, team, manager in session.execute(
            select(Person.id, Person.name, Person.team_id, Person.manager_id)
            .where(Person.id.in_(wanted[start:start + 900])))})
    return people


def _audit_rows(session: Session, today: date, cfg: Config, filters: TriageFilters, add: Any) -> None:
    worker = aliased(Person)
    stmt = (select(Audit.id, Audit.kind, Audit.status, Audit.audit_date, Audit.submitted_at, Audit.finalised_at,
                   Audit.auditor_id, Audit.team_id, Case.reference, worker.name)
            .outerjoin(Case, Case.id == Audit.case_id).outerjoin(worker, worker.id == Audit.worker_id)
            .where(Audit.status.in_(("draft", "submitted", "moderated")), Audit.audit_date < today))
    if filters.team_id is not None:
        stmt = stmt.where(Audit.team_id == filters.team_id)
    if filters.service_id is not None:
        stmt = stmt.where(Audit.team_id.in_(select(Team.id).where(Team.service_id == filters.service_id)))
    if filters.owner_id is not None:  # theirs, and their reports' and reports' reports' (escalated)
        below = select(Person.id).where(Person.manager_id == filters.owner_id)
        stmt = stmt.where(or_(Audit.auditor_id == filters.owner_id, Audit.auditor_id.in_(below),
                              Audit.auditor_id.in_(select(Person.id).where(Person.manager_id.in_(below)))))
    for a in session.execute(stmt):
        what = f"{AUDIT_KIND_LABELS.get(a.kind, a.kind)} audit of {a.reference or 'a case'}"
        subject = a.reference or a.name or ""
        if a.status == "draft" and a.kind != "dip_sample" and is_past_moderation_deadline(a, today, cfg):
            deadline = moderation_deadline_for(a.audit_date, cfg)
            add("moderation", a.id, f"{what} not sent for moderation", subject, a.auditor_id, a.team_id,
                deadline, True, f"held {a.audit_date.isoformat()}; due for moderation by {deadline.isoformat()}")
        if is_not_finalised_in_time(a, today, cfg):
            deadline = finalise_by(a.audit_date, cfg)
            add("finalisation", a.id, f"{what} not finalised", subject, a.auditor_id, a.team_id, deadline, True,
                f"{a.status}; held {a.audit_date.isoformat()}, to be finalised by {deadline.isoformat()}")


def _escalation_rows(session: Session, today: date, filters: TriageFilters, add: Any) -> None:
    """Escalations not yet answered: listed until answered, late once past the response date."""
    stmt = (select(Escalation.id, Escalation.owner_id, Escalation.reason, Escalation.respond_by, Escalation.raised_on,
                   Audit.team_id, Case.reference)
            .join(Audit, Audit.id == Escalation.audit_id).outerjoin(Case, Case.id == Audit.case_id)
            .where(Escalation.answered_on.is_(None)))
    if filters.owner_id is not None:
        stmt = stmt.where(Escalation.owner_id == filters.owner_id)
    for e in session.execute(stmt):
        reference = e.reference or "a record"
        add("escalation", e.id, f"Escalation: {reference} {REASON_LABELS.get(e.reason, e.reason)}", reference,
            e.owner_id, e.team_id, e.respond_by, e.respond_by < today,
            f"raised {e.raised_on.isoformat()}; respond by {e.respond_by.isoformat()}")


def _keeps(row: TriageRow, filters: TriageFilters) -> bool:
    if filters.team_id is not None and row.team_id != filters.team_id:
        return False
    if filters.service_id is not None and row.service_id != filters.service_id:
        return False
    if filters.owner_id is not None and row.owner_id != filters.owner_id and filters.owner_id not in row.escalated_to:
        return False
    if filters.min_days_overdue and (not row.late or row.days_overdue < filters.min_days_overdue):
        return False
    return not filters.text or fuzzy_match(filters.text, row.title, row.owner_name, row.subject)
