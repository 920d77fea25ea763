"""The ASYE view per newly qualified worker: each observation window of their ASYE year done,
due, overdue or upcoming, and how many of them are done ("2 of 3"), from the one observation rule."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_tui.config import Config
from qa_tui.db.models import Person, Team
from qa_tui.services.people.directory import PERSON_FIELDS, active_on
from qa_tui.services.practice.observations import (
    AsyeWindowState,
    asye_window_states,
    load_observed,
)


def asye_summary(windows: Sequence[AsyeWindowState]) -> str:
    """"1 of 3; overdue: months 0–3; due by 2027-05-31"."""
    text = f"{sum(w.status == 'done' for w in windows)} of {len(windows)}"
    overdue = [w.label for w in windows if w.status == "overdue"]
    due = [w for w in windows if w.status == "due"]
    if overdue:
        text += f"; overdue: {', '.join(overdue)}"
    if due:
        text += f"; due by {due[0].ends.isoformat()}"
    return text


@dataclass(frozen=True)
class AsyeProgress:
    worker_id: uuid.UUID
    staff_id: str
    worker_name: str
    team_code: str
    asye_start: date | None  # None: neither an ASYE start nor a start date is recorded
    windows: tuple[AsyeWindowState, ...]

    @property
    def done(self) -> int:
        return sum(w.status == "done" for w in self.windows)

    @property
    def summary(self) -> str:
        """"n of 3", with what is overdue or due now."""
        return asye_summary(self.windows) if self.asye_start is not None else "no ASYE start date recorded"


def asye_progress(session: Session, today: date, cfg: Config, *, team_id: uuid.UUID | None = None,
                  worker_id: uuid.UUID | None = None) -> list[AsyeProgress]:
    """Every active newly qualified worker (of one team, or one worker), by team then name, with
    their ASYE windows judged on `today` (ASYE observations, counted from `asye_start`, or the
    start date when none is recorded)."""
    stmt = select(*PERSON_FIELDS).where(Person.role == "NQSW", active_on(today))
    if team_id is not None:
        stmt = stmt.where(Person.team_id == team_id)
    if worker_id is not None:
        stmt = stmt.where(Person.id == worker_id)
    people = session.execute(stmt).all()
    observed = load_observed(session, [p.id for p in people], today)
    team_codes = dict(session.execute(select(Team.id, Team.code)).all())
    rows = []
    for p in people:
        start = p.asye_start or p.active_from
        windows = () if start is None else asye_window_states(
            start, [o.day for o in observed.get(p.id, []) if o.kind == "asye"], today, cfg.nqsw_observations_per_year)
        rows.append(AsyeProgress(p.id, p.staff_id, p.name, team_codes.get(p.team_id) or "", start, windows))
    rows.sort(key=lambda r: (r.team_code, r.worker_name, r.staff_id))
    return rows
