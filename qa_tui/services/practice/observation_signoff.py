"""Signing off an observation: its observer says their text is final. From then on nobody changes
it (docs/permissions.md, `edit_observation`); the observed worker may still add their reflection."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from qa_tui.db.models import Observation
from qa_tui.errors import ChangedElsewhere, NotFound
from qa_tui.services.people.permissions import EDIT_OBSERVATION, decide, require
from qa_tui.services.practice.observations import EDITABLE_FIELDS, ObservationView, get_observation


@dataclass(frozen=True)
class ObservationAccess:
    """What the person acting may do to one observation, for its form."""

    editable: frozenset[str]  # the fields they may change (of EDITABLE_FIELDS)
    may_sign_off: bool
    note: str  # why the rest is read-only, "" when everything is open to them


def observation_access(session: Session, obs_id: uuid.UUID) -> ObservationAccess:
    """Which fields of the observation the person acting may change, and whether they may sign
    it off: the same decisions update_observation_field and sign_off_observation make."""
    observation = session.get(Observation, obs_id)
    if observation is None:
        raise NotFound(f"Observation {obs_id} does not exist.")

    def decision(field: str):  # noqa: ANN202
        return decide(session, EDIT_OBSERVATION, observer_id=observation.observer_id,
                      worker_id=observation.worker_id, field=field, signed_off=observation.signed_off_on is not None)

    editable = frozenset(f for f in EDITABLE_FIELDS if decision(f).allowed)
    sign_off = decision("signed_off_on")
    refused = next((decision(f).reason for f in EDITABLE_FIELDS if f not in editable), "")
    if observation.signed_off_on is not None:
        refused = (f"Signed off on {observation.signed_off_on:%-d %b %Y}: nobody changes the observer's text; "
                   "the worker may still add their reflection.")
    return ObservationAccess(editable=editable, may_sign_off=sign_off.allowed, note=refused)


def sign_off_observation(session: Session, obs_id: uuid.UUID, *, today: date,
                         expected_version: int | None = None) -> ObservationView:
    """The observer signs the observation off today (once: a second sign-off is refused, as any
    change after sign-off is). `expected_version`: the version the form shows."""
    observation = session.get(Observation, obs_id)
    if observation is None:
        raise NotFound(f"Observation {obs_id} does not exist.")
    require(session, EDIT_OBSERVATION, observer_id=observation.observer_id, worker_id=observation.worker_id,
            field="signed_off_on", signed_off=observation.signed_off_on is not None)
    if expected_version is not None and observation.version != expected_version:
        raise ChangedElsewhere("This observation")
    observation.signed_off_on = today
    try:
        session.flush()
    except StaleDataError:
        raise ChangedElsewhere("This observation") from None
    return get_observation(session, obs_id)
