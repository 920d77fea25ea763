"""Observations owed, for triage: the practitioners the yearly rule already covers are left out in
SQL, so only those who may owe one are judged by the coverage rules."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from qa_tui.config import Config
from qa_tui.dates import financial_year_start
from qa_tui.db.models import Observation, Person
from qa_tui.services.people.directory import PERSON_FIELDS, active_on
from qa_tui.services.practice.observations import OBSERVER_ROLES, PRACTITIONER_ROLES, CoverageRow, coverage_rows


def observations_owed(session: Session, today: date, cfg: Config, team_id: uuid.UUID | None = None,
                      roles: tuple[str, ...] = PRACTITIONER_ROLES) -> list[CoverageRow]:
    """The rows of observation_coverage not covered, with the people the yearly rule covers (an
    observation by a team leader or above since 1 April) left out in SQL; the rest are judged
    by coverage_verdict as there."""
    observer = aliased(Person)
    observed_this_year = (select(Observation.id).join(observer, observer.id == Observation.observer_id)
                          .where(Observation.worker_id == Person.id, observer.role.in_(OBSERVER_ROLES),
                                 Observation.observed_on >= financial_year_start(today),
                                 Observation.observed_on <= today)
                          .correlate(Person).exists())
    yearly_rule = or_(Person.role != "NQSW", and_(Person.asye_start.is_(None), Person.active_from.is_(None)))
    stmt = select(*PERSON_FIELDS).where(Person.role.in_(roles), active_on(today),
                                        ~and_(yearly_rule, observed_this_year))
    if team_id is not None:
        stmt = stmt.where(Person.team_id == team_id)
    return [row for row in coverage_rows(session, session.execute(stmt).all(), today, cfg)
            if row.status != "covered"]
