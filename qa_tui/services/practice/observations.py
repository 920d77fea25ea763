"""Practice observations: recording them (with a reflective follow-up for supervision), yearly and
ASYE coverage, and the themes the practice improvement team looks at."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from qa_tui.config import CASE_HOLDING_ROLES, Config
from qa_tui.dates import add_months, financial_year_end, financial_year_label, financial_year_start
from qa_tui.db.models import OBSERVATION_KINDS, FollowUp, Observation, Person, Team
from qa_tui.errors import ChangedElsewhere, NotFound, ValidationError
from qa_tui.services.practice.followups import raise_follow_up
from qa_tui.services.people.directory import PERSON_FIELDS, active_on
from qa_tui.services.people.permissions import EDIT_OBSERVATION, require, require_self

PRACTITIONER_ROLES = (*CASE_HOLDING_ROLES, "IRO")
KIND_LABELS = {
    "asye": "ASYE direct observation",
    "annual": "annual practice observation",
    "peer": "peer observation",
    "iro_review": "IRO review observation",
    "cp_conference": "CP conference observation",
    "lac_review": "looked-after child review observation",
}
# A practitioner not yet observed becomes overdue when this many months of the financial year
# are left (from 1 January): the last quarter is too late to plan an observation comfortably.
OVERDUE_WHEN_MONTHS_LEFT = 3
# The ASYE framework's default: one observation in each of months 0–3, 3–6 and 9–12.
DEFAULT_ASYE_WINDOWS = ((0, 3), (3, 6), (9, 12))
COVERAGE_STATUSES = ("covered", "due", "overdue")
# "Observed at least once a financial year by a team leader or above": peer observations and
# ones with no observer recorded do not count for the yearly rule.
OBSERVER_ROLES = ("TM", "SM", "OPS", "HOS", "AD", "DD")
ASYE_WINDOW_STATUSES = ("done", "due", "overdue", "upcoming")

TEXT_FIELDS = {"setting": 200, "went_well": None, "to_develop": None, "reflection": None}
EDITABLE_FIELDS = (*TEXT_FIELDS, "feedback_shared", "themes", "observed_on", "kind")


@dataclass(frozen=True)
class ObservationView:
    id: uuid.UUID
    version: int
    observer_id: uuid.UUID | None
    worker_id: uuid.UUID
    observed_on: date
    kind: str
    setting: str
    went_well: str
    to_develop: str
    reflection: str
    feedback_shared: bool
    themes: tuple[str, ...]
    signed_off_on: date | None = None  # signed off by the observer: their text is final


@dataclass(frozen=True)
class CoverageVerdict:
    status: str  # one of COVERAGE_STATUSES
    next_due: date | None
    reason: str


@dataclass(frozen=True)
class CoverageRow:
    worker_id: uuid.UUID
    staff_id: str
    worker_name: str
    role: str
    team_code: str | None
    observed_this_year: int
    last_observed: date | None
    status: str
    next_due: date | None
    reason: str
    asye_windows: tuple[AsyeWindowState, ...] = ()  # a newly qualified worker's windows, judged today


@dataclass(frozen=True)
class Observed:
    """One observation as the coverage rules read it."""

    day: date
    kind: str
    observer_role: str | None  # None: no observer recorded

    @property
    def counts_for_year(self) -> bool:
        return self.observer_role in OBSERVER_ROLES


@dataclass(frozen=True)
class AsyeWindowState:
    first_month: int
    last_month: int
    starts: date
    ends: date
    status: str  # one of ASYE_WINDOW_STATUSES
    observed_on: date | None

    @property
    def label(self) -> str:
        return f"months {self.first_month}–{self.last_month}"


@dataclass(frozen=True)
class ThemeCount:
    theme: str
    count: int


@dataclass(frozen=True)
class CoverageList:
    """The coverage screen's list: each practitioner's coverage, and this year's themes (every team)."""

    rows: tuple[CoverageRow, ...]
    themes: tuple[ThemeCount, ...]


@dataclass(frozen=True)
class AsyeWindow:
    first_month: int
    last_month: int
    starts: date
    ends: date  # inclusive

    @property
    def label(self) -> str:
        return f"months {self.first_month}–{self.last_month}"


# --- recording ----------------------------------------------------------------------------


def record_observation(session: Session, *, observer_id: uuid.UUID | None, worker_id: uuid.UUID,
                       observed_on: date, kind: str, setting: str = "", went_well: str = "",
                       to_develop: str = "", reflection: str = "", feedback_shared: bool = False,
                       themes: Iterable[str] = (), today: date) -> ObservationView:
    """Record an observation and raise a follow-up for a shared reflective review of it at the
    worker's next supervision. ASYE observations are only for newly qualified workers."""
    worker = session.get(Person, worker_id)
    if worker is None:
        raise NotFound(f"Worker {worker_id} does not exist.")
    require_self(session, observer_id, "record an observation")
    if observer_id is not None:
        if session.get(Person, observer_id) is None:
            raise NotFound(f"Observer {observer_id} does not exist.")
        if observer_id == worker_id:
            raise ValidationError("observer", "a worker cannot observe their own practice")
    values = {
        "observed_on": _check_observed_on(observed_on, today),
        "kind": _check_kind(kind, worker),
        "setting": _check_text("setting", setting),
        "went_well": _check_text("went_well", went_well),
        "to_develop": _check_text("to_develop", to_develop),
        "reflection": _check_text("reflection", reflection),
        "feedback_shared": _check_bool("feedback_shared", feedback_shared),
        "themes": clean_themes(themes),
    }
    observation = Observation(id=uuid.uuid4(), observer_id=observer_id, worker_id=worker_id, **values)
    session.add(observation)
    raise_follow_up(session, worker_id=worker_id, source_kind="observation",
                    source_id=observation.id, summary=_review_summary(observation), today=today,
                    event_on=observation.observed_on)
    session.flush()
    return _view(observation)


def get_observation(session: Session, obs_id: uuid.UUID) -> ObservationView:
    """One observation, for opening its form."""
    return _view(_load(session, obs_id))


def update_observation_field(session: Session, obs_id: uuid.UUID, field: str, value: Any,
                             expected_version: int | None = None, *,
                             today: date | None = None) -> ObservationView:
    """Save one field of an observation form as the user goes; returns the new version.

    `expected_version` is the version the form was loaded at: a different stored version means
    someone else saved in between (ChangedElsewhere). `today` is needed only to change
    `observed_on` (future dates are refused)."""
    if field not in EDITABLE_FIELDS:
        raise ValidationError(field, f"not an observation field; expected one of {', '.join(EDITABLE_FIELDS)}")
    observation = _load(session, obs_id)
    require(session, EDIT_OBSERVATION, observer_id=observation.observer_id, worker_id=observation.worker_id,
            field=field, signed_off=observation.signed_off_on is not None)
    if expected_version is not None and observation.version != expected_version:
        raise ChangedElsewhere("This observation")
    if field in TEXT_FIELDS:
        checked: Any = _check_text(field, value)
    elif field == "feedback_shared":
        checked = _check_bool(field, value)
    elif field == "themes":
        checked = clean_themes(value)
    elif field == "observed_on":
        if today is None:
            raise TypeError("update_observation_field needs today= to change observed_on")
        checked = _check_observed_on(value, today)
    else:
        checked = _check_kind(value, session.get(Person, observation.worker_id))
    setattr(observation, field, checked)
    if field in ("observed_on", "kind", "setting"):
        _refresh_review_summary(session, observation)
    try:
        session.flush()
    except StaleDataError:
        raise ChangedElsewhere("This observation") from None
    return _view(observation)


def field_save(obs_id: uuid.UUID, field: str, value: Any, *, today: date,
               version: Callable[[], int | None]) -> Callable[[Session], ObservationView]:
    """One field's save, for a form that saves as the user types. Saves wait in line one behind
    another, so the version to expect is asked for when this one runs (by then, the version the
    previous save returned), not when it was queued."""

    def save(session: Session) -> ObservationView:
        return update_observation_field(session, obs_id, field, value, expected_version=version(), today=today)

    return save


def clean_themes(themes: Any) -> list[str]:
    """Themes as entered, trimmed, blanks dropped, repeats (ignoring case) removed."""
    if isinstance(themes, str) or not isinstance(themes, Iterable):
        raise ValidationError("themes", "expected a list of themes")
    cleaned: list[str] = []
    seen: set[str] = set()
    for theme in themes:
        if not isinstance(theme, str):
            raise ValidationError("themes", f"expected text for each theme, got {theme!r}")
        text = " ".join(theme.split())
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            cleaned.append(text)
    return cleaned


def count_themes(theme_lists: Iterable[Sequence[str]]) -> list[ThemeCount]:
    """Counts per theme, ignoring case (shown as first written), most frequent first."""
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for themes in theme_lists:
        for theme in themes:
            key = theme.casefold()
            shown.setdefault(key, theme)
            counts[key] += 1
    return [ThemeCount(shown[key], n) for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def observation_themes(session: Session, since: date, until: date) -> list[ThemeCount]:
    """Theme counts over observations made from `since` to `until` inclusive."""
    rows = session.scalars(select(Observation.themes).where(
        Observation.observed_on >= since, Observation.observed_on <= until))
    return count_themes(rows)


def _load(session: Session, obs_id: uuid.UUID) -> Observation:
    observation = session.get(Observation, obs_id)
    if observation is None:
        raise NotFound(f"Observation {obs_id} does not exist.")
    return observation


def _check_observed_on(value: Any, today: date) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationError("observed_on", f"expected a date, got {value!r}")
    if value > today:
        raise ValidationError("observed_on", f"{value.isoformat()} is in the future; record an observation once it has happened")
    return value


def _check_kind(kind: Any, worker: Person | None) -> str:
    if kind not in OBSERVATION_KINDS:
        raise ValidationError("kind", f"expected one of {', '.join(OBSERVATION_KINDS)}, got {kind!r}")
    if kind == "asye" and (worker is None or worker.role != "NQSW"):
        role = worker.role if worker else "unknown"
        raise ValidationError("kind", f"ASYE observations are only for newly qualified workers (NQSW); this worker's role is {role}")
    return kind


def _check_text(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError(field, f"expected text, got {type(value).__name__}")
    limit = TEXT_FIELDS[field]
    if limit is not None and len(value) > limit:
        raise ValidationError(field, f"at most {limit} characters, got {len(value)}")
    return value


def _check_bool(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(field, f"expected yes or no, got {value!r}")
    return value


def _review_summary(observation: Observation) -> str:
    where = f" ({observation.setting.strip()})" if observation.setting.strip() else ""
    return (f"Reflective review of the {KIND_LABELS[observation.kind]} on "
            f"{observation.observed_on.isoformat()}{where}")


def _refresh_review_summary(session: Session, observation: Observation) -> None:
    """Keep the wording of a not-yet-discussed review follow-up in step with the observation."""
    for item in session.scalars(select(FollowUp).where(
            FollowUp.source_kind == "observation", FollowUp.source_id == observation.id,
            FollowUp.supervision_id.is_(None))):
        item.summary = _review_summary(observation)
        item.event_on = observation.observed_on


def _view(o: Observation) -> ObservationView:
    return ObservationView(
        id=o.id, version=o.version, observer_id=o.observer_id, worker_id=o.worker_id,
        observed_on=o.observed_on, kind=o.kind, setting=o.setting, went_well=o.went_well,
        to_develop=o.to_develop, reflection=o.reflection, feedback_shared=o.feedback_shared,
        themes=tuple(o.themes or ()), signed_off_on=o.signed_off_on,
    )


# --- coverage rules (pure) ------------------------------------------------------------------


def asye_windows(asye_start: date, per_year: int) -> tuple[AsyeWindow, ...]:
    """The periods of the ASYE year in which one observation each is expected.

    Three a year (the default) follows the framework: months 0–3, 3–6 and 9–12. Any other
    number splits the twelve months into that many equal whole-month periods."""
    if per_year == len(DEFAULT_ASYE_WINDOWS):
        spans = DEFAULT_ASYE_WINDOWS
    else:
        bounds = [round(12 * i / per_year) for i in range(per_year + 1)]
        spans = tuple(zip(bounds, bounds[1:]))
    return tuple(
        AsyeWindow(a, b, add_months(asye_start, a), add_months(asye_start, b) - timedelta(days=1))
        for a, b in spans
    )


def practitioner_verdict(observed: Sequence[date], today: date, active_from: date | None) -> CoverageVerdict:
    """At least one observation each financial year (1 April – 31 March).

    Covered: observed on or after 1 April of the current year. Otherwise due by 31 March, and
    overdue from 1 January (fewer than OVERDUE_WHEN_MONTHS_LEFT months left) unless the worker
    only started on or after that day."""
    fy_start, fy_end = financial_year_start(today), financial_year_end(today)
    label = financial_year_label(today)
    this_year = [d for d in observed if fy_start <= d <= today]
    if this_year:
        return CoverageVerdict("covered", financial_year_end(fy_end + timedelta(days=1)),
                               f"observed on {max(this_year).isoformat()} in {label}")
    overdue_from = add_months(fy_end + timedelta(days=1), -OVERDUE_WHEN_MONTHS_LEFT)
    joined_late = active_from is not None and active_from >= overdue_from
    if today >= overdue_from and not joined_late:
        return CoverageVerdict("overdue", fy_end,
                               f"not observed in {label}; fewer than {OVERDUE_WHEN_MONTHS_LEFT} months left")
    return CoverageVerdict("due", fy_end, f"not yet observed in {label}; due by {fy_end.isoformat()}")


def asye_verdict(asye_start: date, asye_observed: Sequence[date], observed: Sequence[date],
                 today: date, per_year: int, active_from: date | None = None) -> CoverageVerdict:
    """One ASYE observation (kind "asye") in each window of the ASYE year.

    Overdue when a window has ended without one (earliest such window named); due while the
    current window has none yet; covered otherwise. Once the ASYE year is over with every
    window met, the yearly practitioner rule applies."""
    windows = asye_windows(asye_start, per_year)
    if today < asye_start:
        return CoverageVerdict("covered", windows[0].ends, f"ASYE year starts on {asye_start.isoformat()}")
    met = [any(w.starts <= d <= w.ends for d in asye_observed) for w in windows]
    for window, ok in zip(windows, met):
        if not ok and window.ends < today:
            return CoverageVerdict("overdue", window.ends,
                                   f"no ASYE observation in {window.label} "
                                   f"({window.starts.isoformat()} to {window.ends.isoformat()})")
    for window, ok in zip(windows, met):
        if window.starts <= today <= window.ends:
            if ok:
                break
            return CoverageVerdict("due", window.ends,
                                   f"ASYE observation for {window.label} due by {window.ends.isoformat()}")
    upcoming = [w for w, ok in zip(windows, met) if not ok and w.starts > today]
    if upcoming:
        return CoverageVerdict("covered", upcoming[0].ends,
                               f"ASYE observations up to date; next window opens {upcoming[0].starts.isoformat()}")
    if today <= windows[-1].ends:
        return CoverageVerdict("covered", None, "all ASYE observations done")
    return practitioner_verdict(observed, today, active_from)


def asye_window_states(asye_start: date, asye_observed: Sequence[date], today: date,
                       per_year: int) -> tuple[AsyeWindowState, ...]:
    """Each ASYE window on `today`: done (an ASYE observation in it), overdue (ended without
    one), due (open now) or upcoming."""
    states = []
    for w in asye_windows(asye_start, per_year):
        seen = sorted(d for d in asye_observed if w.starts <= d <= w.ends)
        status = ("done" if seen else "overdue" if w.ends < today else "due" if w.starts <= today
                  else "upcoming")
        states.append(AsyeWindowState(w.first_month, w.last_month, w.starts, w.ends, status,
                                      seen[0] if seen else None))
    return tuple(states)


def in_asye_year(role: str, asye_start: date | None, day: date, per_year: int) -> bool:
    """Whether the ASYE windows (not the yearly rule) judge this person on `day`."""
    return role == "NQSW" and asye_start is not None and day <= asye_windows(asye_start, per_year)[-1].ends


def coverage_verdict(role: str, asye_start: date | None, active_from: date | None,
                     observed: Sequence[Observed], today: date, per_year: int) -> CoverageVerdict:
    """The one observation rule, used by the coverage screen, triage, reports and the programme.
    Newly qualified workers follow their ASYE windows (ASYE observations) from `asye_start`;
    everyone else, and an NQSW once the ASYE year is over, the yearly rule, which counts only
    observations by a team leader or above (OBSERVER_ROLES)."""
    yearly = [o.day for o in observed if o.counts_for_year and o.day <= today]
    if role == "NQSW" and asye_start is not None:
        asye_days = [o.day for o in observed if o.kind == "asye" and o.day <= today]
        return asye_verdict(asye_start, asye_days, yearly, today, per_year, active_from)
    verdict = practitioner_verdict(yearly, today, active_from)
    if role == "NQSW":
        return CoverageVerdict(verdict.status, verdict.next_due, f"{verdict.reason} (no ASYE start date recorded)")
    return verdict


# --- coverage report ------------------------------------------------------------------------


def observation_coverage(session: Session, today: date, cfg: Config, team_id: uuid.UUID | None = None,
                         roles: tuple[str, ...] = PRACTITIONER_ROLES) -> list[CoverageRow]:
    """Observation coverage for the financial year containing `today`, for every active person
    in `roles` (practitioners: case-holding roles and IROs), ordered by team then name.

    Newly qualified workers follow their ASYE windows from `asye_start` (or `active_from` when
    no ASYE start is recorded); everyone else the yearly rule (see practitioner_verdict)."""
    stmt = select(*PERSON_FIELDS).where(Person.role.in_(roles), active_on(today)).order_by(Person.name, Person.staff_id)
    if team_id is not None:
        stmt = stmt.where(Person.team_id == team_id)
    return coverage_rows(session, session.execute(stmt).all(), today, cfg)


def coverage_rows(session: Session, people: Sequence[Any], today: date, cfg: Config) -> list[CoverageRow]:
    """observation_coverage's rows for `people` (PERSON_FIELDS), ordered by team then name."""
    if not people:
        return []
    observed = load_observed(session, [p.id for p in people], today)
    team_codes = dict(session.execute(select(Team.id, Team.code)).all())
    fy_start = financial_year_start(today)

    rows = []
    for p in people:
        mine = observed.get(p.id, [])
        days = [o.day for o in mine if o.counts_for_year or (p.role == "NQSW" and o.kind == "asye")]
        start = p.asye_start or p.active_from
        verdict = coverage_verdict(p.role, start, p.active_from, mine, today, cfg.nqsw_observations_per_year)
        windows = asye_window_states(start, [o.day for o in mine if o.kind == "asye"], today,
                                     cfg.nqsw_observations_per_year) if p.role == "NQSW" and start else ()
        rows.append(CoverageRow(
            worker_id=p.id, staff_id=p.staff_id, worker_name=p.name, role=p.role, team_code=team_codes.get(p.team_id), observed_this_year=sum(d >= fy_start for d in days),
            last_observed=max(days, default=None), status=verdict.status, next_due=verdict.next_due,
            reason=verdict.reason, asye_windows=windows,
        ))
    rows.sort(key=lambda r: (r.team_code or "", r.worker_name, r.staff_id))
    return rows


def load_observed(session: Session, worker_ids: Sequence[uuid.UUID] | None, until: date,
                  since: date | None = None) -> dict[uuid.UUID, list[Observed]]:
    """Observations of the workers (every worker when None) up to `until`, with the observer's role."""
    observer = aliased(Person)
    stmt = (select(Observation.worker_id, Observation.observed_on, Observation.kind, observer.role)
            .outerjoin(observer, observer.id == Observation.observer_id).where(Observation.observed_on <= until))
    if since is not None:
        stmt = stmt.where(Observation.observed_on >= since)
    ids = list(worker_ids) if worker_ids is not None else None
    observed: dict[uuid.UUID, list[Observed]] = defaultdict(list)
    for chunk in ([None] if ids is None else [ids[i:i + 500] for i in range(0, len(ids), 500)]):
        for worker_id, day, kind, role in session.execute(
                stmt if chunk is None else stmt.where(Observation.worker_id.in_(chunk))):
            observed[worker_id].append(Observed(day, kind, role))
    return observed


def coverage_list(session: Session, today: date, cfg: Config, team_id: uuid.UUID | None = None) -> CoverageList:
    """Coverage for the financial year containing `today` (one team, or every team when None) and
    the themes tagged so far this year across every team."""
    return CoverageList(rows=tuple(observation_coverage(session, today, cfg, team_id=team_id)),
                        themes=tuple(observation_themes(session, financial_year_start(today), today)))
