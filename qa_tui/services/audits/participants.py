"""Who attends a live audit meeting and what each of them graded: the meeting's attendance list
(everyone attending takes part in each audit the meeting opens), and one grid per audit of every
participant's own grade for every domain and the overall grade, with people shown by first name
unless two share it."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_tui.db.models import Audit, AuditGrade, AuditParticipant, DrawPick, Person
from qa_tui.errors import ValidationError
from qa_tui.services.audits.drafts import load_draft, save_draft
from qa_tui.services.audits.record import (
    AuditState,
    add_participant,
    check_grade,
    load_audit,
    save_audit,
    set_grade,
)

OVERALL = "__overall__"  # a participant's own overall grade is stored under this domain key
ATTENDANCE_PREFIX = "meeting-attendance:"
SKIP_WORDS = {"quality", "of", "the", "for", "child", "child's", "management", "and"}


@dataclass(frozen=True)
class Attendee:
    id: uuid.UUID
    name: str  # full name
    shown: str  # first name, or the full name (and staff ID) where first names clash
    staff_id: str
    role: str


@dataclass(frozen=True)
class GridDomain:
    key: str
    label: str
    short: str  # one word that fits a column


@dataclass(frozen=True)
class ParticipantGrid:
    audit_id: uuid.UUID
    version: int
    editable: bool  # only a draft's grades can change
    scale: tuple[str, ...]
    domains: tuple[GridDomain, ...]  # every domain, then the overall grade
    people: tuple[Attendee, ...]  # everyone taking part, by name
    grades: dict[tuple[uuid.UUID, str], int | None]  # (person, domain key) → grade index


def shown_names(people: Iterable[tuple[uuid.UUID, str, str]]) -> dict[uuid.UUID, str]:
    """(id, full name, staff ID) → how to show each: the first name when nobody else here shares
    it, else the full name, and the staff ID too when the full names are the same."""
    people = list(people)
    firsts = Counter((name.split() or [""])[0].casefold() for _, name, _ in people)
    fulls = Counter(name.casefold() for _, name, _ in people)
    shown = {}
    for pid, name, staff_id in people:
        first = (name.split() or [name])[0]
        if fulls[name.casefold()] > 1:
            shown[pid] = f"{name} ({staff_id})"
        elif firsts[first.casefold()] > 1:
            shown[pid] = name
        else:
            shown[pid] = first
    return shown


def short_label(label: str) -> str:
    """One word of a domain's label for a narrow column: "Quality of recording" → "Recording"."""
    words = [w for w in label.split() if w.casefold() not in SKIP_WORDS] or label.split() or [label]
    return words[0][:10].capitalize()


def attendees(session: Session, person_ids: Sequence[uuid.UUID]) -> list[Attendee]:
    rows = session.execute(select(Person.id, Person.name, Person.staff_id, Person.role)
                           .where(Person.id.in_(list(person_ids)))).all() if person_ids else []
    shown = shown_names((pid, name, staff_id) for pid, name, staff_id, _ in rows)
    return sorted((Attendee(pid, name, shown[pid], staff_id, role) for pid, name, staff_id, role in rows),
                  key=lambda a: (a.name.casefold(), a.staff_id))


# --- the meeting's attendance list ---------------------------------------------------------


def meeting_attendance(session: Session, draw_id: uuid.UUID) -> list[Attendee]:
    """Who is attending the meeting held on this draw, by name."""
    draft = load_draft(session, ATTENDANCE_PREFIX + str(draw_id))
    ids = [uuid.UUID(str(i)) for i in (draft.payload.get("people", []) if draft else [])]
    return attendees(session, ids)


def set_meeting_attendance(session: Session, draw_id: uuid.UUID, person_ids: Sequence[uuid.UUID],
                           login: str) -> list[Attendee]:
    """Record who attends the meeting. Each attendee takes part in every draft audit the meeting
    has opened already (and, through `open_case`, every one it opens next); nobody is taken off
    an audit here, since who took part decides who may moderate it."""
    ids = list(dict.fromkeys(person_ids))
    found = set(session.scalars(select(Person.id).where(Person.id.in_(ids)))) if ids else set()
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationError("attendance", f"no person with id {missing[0]}")
    save_draft(session, ATTENDANCE_PREFIX + str(draw_id), {"people": ids}, login)
    audit_ids = session.scalars(select(Audit.id).join(DrawPick, DrawPick.id == Audit.draw_pick_id)
                                .where(DrawPick.draw_id == draw_id, Audit.status == "draft")).all()
    for audit_id in audit_ids:
        audit = load_audit(session, audit_id)
        taking_part = set(session.scalars(select(AuditParticipant.person_id)
                                          .where(AuditParticipant.audit_id == audit_id)))
        added = [AuditParticipant(audit_id=audit_id, person_id=p) for p in ids if p not in taking_part]
        if added:
            session.add_all(added)
            save_audit(session, audit, *added)
    return attendees(session, ids)


def attendance_ids(session: Session, draw_id: uuid.UUID) -> list[uuid.UUID]:
    return [a.id for a in meeting_attendance(session, draw_id)]


# --- one audit's grid of participants' grades ---------------------------------------------


def participant_grid(session: Session, audit_id: uuid.UUID) -> ParticipantGrid:
    """Every participant's own grade for every domain and the overall grade."""
    audit = load_audit(session, audit_id)
    template = audit.template
    grades = {(p, d): g for p, d, g in session.execute(
        select(AuditGrade.participant_id, AuditGrade.domain, AuditGrade.grade)
        .where(AuditGrade.audit_id == audit_id, AuditGrade.participant_id.is_not(None)))}
    ids = set(session.scalars(select(AuditParticipant.person_id).where(AuditParticipant.audit_id == audit_id)))
    ids.update(p for p, _ in grades)
    domains = tuple(GridDomain(d["key"], d["label"], short_label(d["label"])) for d in template.domains)
    return ParticipantGrid(audit.id, audit.version, audit.status == "draft", tuple(template.scale),
                           (*domains, GridDomain(OVERALL, "Overall grade", "Overall")),
                           tuple(attendees(session, list(ids))), grades)


def set_participant_grade(session: Session, audit_id: uuid.UUID, person_id: uuid.UUID, domain: str,
                          grade: int | None, *, expected_version: int | None = None) -> AuditState:
    """One participant's own grade for a domain or (`OVERALL`) the overall grade."""
    if domain != OVERALL:
        return set_grade(session, audit_id, domain, grade, participant_id=person_id,
                         expected_version=expected_version)
    add_participant(session, audit_id, person_id, expected_version=expected_version)  # checks it is a draft
    audit = load_audit(session, audit_id)
    check_grade(audit.template, grade, "overall grade")
    row = session.scalar(select(AuditGrade).where(AuditGrade.audit_id == audit_id, AuditGrade.domain == OVERALL,
                                                  AuditGrade.participant_id == person_id))
    if row is None:
        row = AuditGrade(audit_id=audit_id, domain=OVERALL, participant_id=person_id, comment="")
        session.add(row)
    row.grade = grade
    return save_audit(session, audit, row)
