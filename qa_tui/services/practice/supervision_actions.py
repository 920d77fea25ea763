"""Actions handled in a supervision: progress noted, an extension with its reason, or done with
evidence, each kept in the action's history (services/audits/actions.py) with the supervision it
was made in, and the list of them for the supervision record."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_tui.db.models import Action, ActionChange, Case, Supervision
from qa_tui.errors import NotAllowed, NotFound
from qa_tui.services.audits.actions import ActionRow, complete_action, extend_action, record_progress
from qa_tui.services.people.permissions import SUPERVISE, require, require_self

CHANGE_LABELS = {"progress": "Progress", "extended": "Extended", "done": "Done", "reassigned": "Reassigned"}


@dataclass(frozen=True)
class ActionDiscussed:
    action_id: uuid.UUID
    title: str
    case_reference: str | None
    change: str
    old_value: str
    new_value: str
    reason: str  # the progress note, the extension's reason or the evidence it was done

    @property
    def line(self) -> str:
        reason = " ".join(self.reason.split())
        if self.change == "extended":
            return f"Extended from {self.old_value} to {self.new_value}: {reason}"
        if self.change == "done":
            return f"Done; evidence: {reason}"
        return f"{CHANGE_LABELS.get(self.change, self.change)}: {reason}"


def note_action_progress(session: Session, *, action_id: uuid.UUID, supervision_id: uuid.UUID, note: str,
                         by_id: uuid.UUID | None, today: date, expected_version: int | None = None) -> ActionRow:
    """Progress on the worker's action, discussed in their supervision."""
    _check(session, action_id, supervision_id, by_id)
    return record_progress(session, action_id, note, by_id, today, expected_version=expected_version,
                           supervision_id=supervision_id)


def extend_action_in_supervision(session: Session, *, action_id: uuid.UUID, supervision_id: uuid.UUID,
                                 new_due: date, reason: str, by_id: uuid.UUID | None, today: date,
                                 expected_version: int | None = None) -> ActionRow:
    """A later due date agreed in the worker's supervision, with the reason."""
    _check(session, action_id, supervision_id, by_id)
    return extend_action(session, action_id, new_due, reason, by_id, today, expected_version=expected_version,
                         supervision_id=supervision_id)


def complete_action_in_supervision(session: Session, *, action_id: uuid.UUID, supervision_id: uuid.UUID,
                                   evidence: str, by_id: uuid.UUID | None, today: date,
                                   expected_version: int | None = None, child_outcome: str = "") -> ActionRow:
    """The action done, with the evidence seen in the worker's supervision and what changed for the child."""
    _check(session, action_id, supervision_id, by_id)
    return complete_action(session, action_id, evidence, by_id, today, expected_version=expected_version,
                           supervision_id=supervision_id, child_outcome=child_outcome)


def actions_discussed(session: Session, supervision_id: uuid.UUID) -> list[ActionDiscussed]:
    """Every change made to an action in this supervision, in the order made."""
    rows = session.execute(
        select(ActionChange, Action.title, Case.reference)
        .join(Action, Action.id == ActionChange.action_id)
        .outerjoin(Case, Case.id == Action.case_id)
        .where(ActionChange.supervision_id == supervision_id)
        .order_by(ActionChange.created_at, ActionChange.id)).all()
    return [ActionDiscussed(c.action_id, title, reference, c.change, c.old_value, c.new_value, c.reason)
            for c, title, reference in rows]


def _check(session: Session, action_id: uuid.UUID, supervision_id: uuid.UUID, by_id: uuid.UUID | None) -> None:
    """The supervision and action exist, the action is the supervised worker's, and the person
    acting is themselves and may supervise that worker (permission `supervise`)."""
    supervision = session.get(Supervision, supervision_id)
    if supervision is None:
        raise NotFound(f"Supervision {supervision_id} does not exist.")
    require_self(session, by_id, "handle an action in supervision")
    require(session, SUPERVISE, worker_id=supervision.worker_id)
    action = session.get(Action, action_id)
    if action is None:
        raise NotFound(f"Action {action_id} does not exist.")
    if action.owner_id != supervision.worker_id:
        raise NotAllowed("This action belongs to someone else; handle it in their supervision.")
