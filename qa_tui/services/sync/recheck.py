"""Sync re-checks (shared database): a laptop's bundle is held to the same permission rules as
work done here, applied to the person the laptop is bound to (qa_tui.services.people.owner). A
record that person could not have written here is refused: listed in the receipt with the
reason, never written, never kept aside as a conflict that someone could take."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_tui.db.models import Audit, AuditGrade, AuditParticipant, CaseDraw, Person, Supervision
from qa_tui.db.acting import Acting, acting_of
from qa_tui.services.people.permissions import (
    ANSWER_ESCALATION,
    DRAW,
    EDIT_OBSERVATION,
    EDIT_PEOPLE,
    FINALISE,
    MODERATE,
    SUPERVISE,
    decide,
    is_line_manager_of,
)

REFUSED = "refused"
PEOPLE_TABLES = ("person", "team", "service")


def bound_person(session: Session, owner_staff_id: str) -> Acting | None:
    """The person a bundle's laptop is bound to, as the shared database knows them; failing that
    (an older bundle, or a laptop bound to no one, names none), the person importing it. None:
    the app's own set-up imports it, unchecked (as every write of the set-up is)."""
    if owner_staff_id:
        person = session.scalar(select(Person).where(Person.staff_id == owner_staff_id))
        if person is None:
            return Acting(login=f"the laptop's owner {owner_staff_id}")  # nobody here: refused
        return Acting(login=person.login or "", person_id=person.id, staff_id=person.staff_id, name=person.name,
                      role=person.role, team_id=person.team_id)
    return acting_of(session)


def _uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def refusal(session: Session, who: Acting | None, table: str, fields: dict[str, Any],
            live: dict[str, Any] | None, record_id: Any = None) -> str:
    """Why the bound person may not make this change (a record as the laptop sent it, and the
    shared database's version of it, None for a new one), or "" when they may."""
    if who is None:
        return ""
    if who.person_id is None:
        return f"{who.login} has no staff record here, so the laptop's changes cannot be accepted"
    changed = {k for k, v in fields.items() if live is None or live.get(k) != v}
    if not changed:
        return ""

    def denied(permission: str, **about: Any) -> str:
        decision = decide(session, permission, person=who, **about)
        return "" if decision.allowed else decision.reason

    def not_self(person_id: Any, doing: str) -> str:
        if _uuid(person_id) not in (None, who.person_id):
            return f"{who.label} may not {doing} as someone else: people act only as themselves"
        return ""

    if table in PEOPLE_TABLES:
        return denied(EDIT_PEOPLE)
    if table == "moderation":
        return (not_self(fields.get("moderator_id"), "moderate") or denied(MODERATE)
                or _took_part(session, who, _uuid(fields.get("audit_id"))))
    if table == "audit":
        if problem := _status_refusal(session, who, fields, live, record_id, denied):
            return problem
        if live is None:
            return not_self(fields.get("auditor_id"), "lead an audit") or (
                denied(DRAW, team_id=_uuid(fields.get("team_id"))) if fields.get("kind") == "live" else "")
        return ""
    if table in ("case_draw", "draw_pick", "draw_pool"):
        team_id = _uuid(fields.get("team_id")) if table == "case_draw" else session.scalar(
            select(CaseDraw.team_id).where(CaseDraw.id == _uuid(fields.get("draw_id"))))
        return denied(DRAW, team_id=team_id)
    if table == "observation":
        if live is None:
            return not_self(fields.get("observer_id"), "record an observation")
        for field in sorted(changed):
            if problem := denied(EDIT_OBSERVATION, observer_id=_uuid(live.get("observer_id")),
                                 worker_id=_uuid(live.get("worker_id")), field=field,
                                 signed_off=live.get("signed_off_on") is not None):
                return problem
        return ""
    if table == "supervision":
        return not_self(fields.get("supervisor_id"), "record a supervision") or denied(
            SUPERVISE, worker_id=_uuid(fields.get("worker_id")))
    if table == "follow_up" and "supervision_id" in changed and fields.get("supervision_id"):
        worker = session.scalar(select(Supervision.worker_id).where(Supervision.id == _uuid(fields["supervision_id"])))
        return denied(SUPERVISE, worker_id=worker or _uuid(fields.get("worker_id")))
    if table == "escalation" and live is not None and changed & {"answered_on", "response"}:
        return denied(ANSWER_ESCALATION, owner_id=_uuid(live.get("owner_id")))
    if table == "worker_response":
        return not_self(fields.get("worker_id"), "respond to an audit or observation")
    if table == "record_seen":
        return not_self(fields.get("person_id"), "open a record")
    if table == "support_plan":
        manager = _uuid(fields.get("manager_id"))
        if manager != who.person_id and not is_line_manager_of(session, who.person_id, manager or who.person_id):
            return f"{who.label} may not keep a support plan for someone they do not manage"
    return ""


def _status_refusal(session: Session, who: Acting, fields: dict[str, Any], live: dict[str, Any] | None,
                    record_id: Any, denied: Any) -> str:
    """An audit's status moves only as the lifecycle lets this person move it: moderated, or sent
    back from submitted to draft, only by a moderator who took no part (the moderation itself is a
    record of its own, checked on its own, and a status without it is never taken on trust);
    finalised only by those who finalise; a finalised audit is not changed from a laptop."""
    before = None if live is None else live.get("status")
    after = fields.get("status", before)
    if before == "finalised":
        return f"{who.label} may not change a finalised audit from a laptop"
    if after == before:
        return ""
    if after == "finalised":
        return denied(FINALISE)
    if after == "moderated" or (before == "submitted" and after == "draft"):
        return denied(MODERATE) or _took_part(session, who, _uuid(record_id))
    return ""


def _took_part(session: Session, who: Acting, audit_id: uuid.UUID | None) -> str:
    audit = session.get(Audit, audit_id) if audit_id else None
    if audit is None:
        return ""
    took_part = who.person_id in (audit.auditor_id, audit.worker_id) or session.scalar(
        select(AuditParticipant.id).where(AuditParticipant.audit_id == audit.id,
                                          AuditParticipant.person_id == who.person_id)) is not None or session.scalar(
        select(AuditGrade.id).where(AuditGrade.audit_id == audit.id,
                                    AuditGrade.participant_id == who.person_id).limit(1)) is not None
    return f"{who.label} took part in this audit, so may not moderate it" if took_part else ""
