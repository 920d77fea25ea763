"""The QA data model: organisation, caseload, audits, actions, observations, supervision,
follow-ups, feedback, random draws and the audit trail.

Enumerated values are stored as short strings; the allowed values live beside each model and the
services enforce them. Children are identified only by the case system's reference.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qa_tui.db.base import Base, Record, utcnow

CASE_CATEGORIES = ("EH", "CIN", "CP", "CLA", "CL")
CASE_CATEGORY_NAMES = {
    "EH": "Early help",
    "CIN": "Child in need",
    "CP": "Child protection",
    "CLA": "Child looked after",
    "CL": "Care leaver",
}
AUDIT_STATUSES = ("draft", "submitted", "moderated", "finalised")
MODERATION_OUTCOMES = ("agreed", "regraded", "returned")
ACTION_STATUSES = ("open", "done", "cancelled")
OBSERVATION_KINDS = ("asye", "annual", "peer", "iro_review")
SUPERVISION_KINDS = ("casework", "reflective")
FOLLOW_UP_SOURCES = ("audit", "observation", "dip_sample", "feedback", "other")
FEEDBACK_GIVERS = ("child", "young_person", "parent", "carer", "professional")
FEEDBACK_CHANNELS = ("form", "qr", "phone", "live_audit", "in_person", "email")


# --- organisation -------------------------------------------------------------------------


class Service(Record, Base):
    __tablename__ = "service"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))

    teams: Mapped[list[Team]] = relationship(back_populates="service")


class Team(Record, Base):
    __tablename__ = "team"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    service_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("service.id"))
    active: Mapped[bool] = mapped_column(default=True)

    service: Mapped[Service | None] = relationship(back_populates="teams")


class Person(Record, Base):
    __tablename__ = "person"

    staff_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(8))
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("team.id"), index=True)
    manager_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"))
    asye_start: Mapped[date | None]
    active_from: Mapped[date | None]
    active_to: Mapped[date | None]
    # How this person signs in: their PostgreSQL login or their operating-system account.
    login: Mapped[str | None] = mapped_column(String(120), unique=True)

    team: Mapped[Team | None] = relationship(foreign_keys=[team_id])
    manager: Mapped[Person | None] = relationship(remote_side="Person.id", foreign_keys=[manager_id])


# --- caseload -----------------------------------------------------------------------------


class Case(Record, Base):
    __tablename__ = "case_file"

    reference: Mapped[str] = mapped_column(String(60), unique=True)
    category: Mapped[str] = mapped_column(String(8))
    worker_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"))
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("team.id"))
    opened_on: Mapped[date | None]
    closed_on: Mapped[date | None]
    cp_plan_start: Mapped[date | None]
    cp_plan_end: Mapped[date | None]

    worker: Mapped[Person | None] = relationship(foreign_keys=[worker_id])
    team: Mapped[Team | None] = relationship(foreign_keys=[team_id])

    __table_args__ = (
        Index("ix_case_file_worker_open", "worker_id", "closed_on"),
        Index("ix_case_file_team_open", "team_id", "closed_on"),
    )


# --- audits -------------------------------------------------------------------------------


class AuditTemplate(Record, Base):
    """A versioned set of graded domains; an audit keeps the version it was recorded against."""

    __tablename__ = "audit_template"

    key: Mapped[str] = mapped_column(String(40))
    template_version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    scale: Mapped[list[Any]]
    domains: Mapped[list[Any]]  # [{"key": ..., "label": ...}, ...]

    __table_args__ = (UniqueConstraint("key", "template_version"),)


class Audit(Record, Base):
    __tablename__ = "audit"

    kind: Mapped[str] = mapped_column(String(20))
    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("audit_template.id"))
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("case_file.id"), index=True)
    worker_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"), index=True)
    auditor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"), index=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("team.id"))
    audit_date: Mapped[date]
    status: Mapped[str] = mapped_column(String(12), default="draft")
    draw_pick_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("draw_pick.id"))
    overall_grade: Mapped[int | None]  # index into the template's scale, 0 = best
    strengths: Mapped[str] = mapped_column(Text, default="")
    to_improve: Mapped[str] = mapped_column(Text, default="")
    lived_experience: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None]
    moderated_at: Mapped[datetime | None]
    finalised_at: Mapped[datetime | None]

    template: Mapped[AuditTemplate] = relationship()
    case: Mapped[Case | None] = relationship()
    worker: Mapped[Person | None] = relationship(foreign_keys=[worker_id])
    auditor: Mapped[Person | None] = relationship(foreign_keys=[auditor_id])

    __table_args__ = (
        CheckConstraint("status IN ('draft','submitted','moderated','finalised')", name="status"),
        Index("ix_audit_status_date", "status", "audit_date"),
    )


class AuditParticipant(Record, Base):
    """Someone who took part in an audit; they may not moderate it."""

    __tablename__ = "audit_participant"

    audit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("audit.id", ondelete="CASCADE"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"))

    __table_args__ = (UniqueConstraint("audit_id", "person_id"),)


class AuditGrade(Record, Base):
    """One grade for one domain: a participant's own grade, or the agreed grade (no participant)."""

    __tablename__ = "audit_grade"

    audit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("audit.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(40))
    participant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"))
    grade: Mapped[int | None]
    comment: Mapped[str] = mapped_column(Text, default="")


class Moderation(Record, Base):
    __tablename__ = "moderation"

    audit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("audit.id", ondelete="CASCADE"), index=True)
    moderator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"))
    outcome: Mapped[str] = mapped_column(String(12))
    overall_grade: Mapped[int | None]
    comment: Mapped[str] = mapped_column(Text, default="")
    moderated_on: Mapped[date]
    grades: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # domain → {"grade", "comment"}

    __table_args__ = (
        CheckConstraint("outcome IN ('agreed','regraded','returned')", name="outcome"),
    )


# --- actions ------------------------------------------------------------------------------


class Action(Record, Base):
    __tablename__ = "action"

    title: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"))
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("team.id"))
    raised_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"))
    raised_on: Mapped[date]
    due_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(12), default="open")
    evidence: Mapped[str] = mapped_column(Text, default="")
    completed_on: Mapped[date | None]
    source_kind: Mapped[str] = mapped_column(String(20), default="audit")
    audit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("audit.id"), index=True)
    source_id: Mapped[uuid.UUID | None]  # observation / feedback / other record that raised it
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("case_file.id"))

    owner: Mapped[Person | None] = relationship(foreign_keys=[owner_id])

    __table_args__ = (
        CheckConstraint("status IN ('open','done','cancelled')", name="status"),
        # Triage pages open actions by due date, per team and per owner.
        Index("ix_action_open_due", "status", "due_on", "id"),
        Index("ix_action_team_due", "team_id", "status", "due_on"),
        Index("ix_action_owner_due", "owner_id", "status", "due_on"),
    )


class ActionChange(Record, Base):
    """History of an action: extensions with a reason, reassignments, completion."""

    __tablename__ = "action_change"

    action_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("action.id", ondelete="CASCADE"), index=True)
    change: Mapped[str] = mapped_column(String(20))  # extended / reassigned / done / reopened
    old_value: Mapped[str] = mapped_column(String(200), default="")
    new_value: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_on: Mapped[date]
    changed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"))


# --- observations, supervision, follow-ups, feedback ---------------------------------------


class Observation(Record, Base):
    __tablename__ = "observation"

    observer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"))
    worker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    observed_on: Mapped[date]
    kind: Mapped[str] = mapped_column(String(20))
    setting: Mapped[str] = mapped_column(String(200), default="")
    went_well: Mapped[str] = mapped_column(Text, default="")
    to_develop: Mapped[str] = mapped_column(Text, default="")
    reflection: Mapped[str] = mapped_column(Text, default="")
    feedback_shared: Mapped[bool] = mapped_column(default=False)
    themes: Mapped[list[Any]] = mapped_column(JSON, default=list)


class Supervision(Record, Base):
    __tablename__ = "supervision"

    worker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    supervisor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"))
    held_on: Mapped[date]
    kind: Mapped[str] = mapped_column(String(20), default="casework")
    notes: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_supervision_worker_held", "worker_id", "held_on"),)


class FollowUp(Record, Base):
    """A finding awaiting discussion at the worker's next supervision."""

    __tablename__ = "follow_up"

    worker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    source_kind: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[uuid.UUID | None]
    summary: Mapped[str] = mapped_column(Text)
    raised_on: Mapped[date]
    supervision_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("supervision.id"))
    discussed_note: Mapped[str] = mapped_column(Text, default="")


class Feedback(Record, Base):
    __tablename__ = "feedback"

    received_on: Mapped[date]
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("case_file.id"))
    worker_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"), index=True)
    giver: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    rating: Mapped[int | None]  # 1 (poor) to 5 (excellent)
    said: Mapped[str] = mapped_column(Text, default="")
    themes: Mapped[list[Any]] = mapped_column(JSON, default=list)


# --- the random draw ----------------------------------------------------------------------


class CaseDraw(Record, Base):
    """One random draw for a team and month: the seed, rules and algorithm that made it."""

    __tablename__ = "case_draw"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("team.id"))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    seed: Mapped[str] = mapped_column(String(80))
    algorithm: Mapped[str] = mapped_column(String(40))
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    drawn_on: Mapped[date]
    drawn_by: Mapped[str] = mapped_column(String(120), default="")

    __table_args__ = (Index("ix_case_draw_team_month", "team_id", "month"),)


class DrawPool(Record, Base):
    """A worker's eligible pool at draw time, ordered by case reference, or why it was empty."""

    __tablename__ = "draw_pool"

    draw_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_draw.id", ondelete="CASCADE"), index=True)
    worker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"))
    worker_key: Mapped[str] = mapped_column(String(40))  # the worker's staff ID, part of the derivation
    eligible: Mapped[list[Any]] = mapped_column(JSON)  # case references in order
    empty_reason: Mapped[str] = mapped_column(Text, default="")


class DrawPick(Record, Base):
    """A worker's picked case. A re-draw is a new pick pointing at the one it replaces."""

    __tablename__ = "draw_pick"

    draw_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_draw.id", ondelete="CASCADE"), index=True)
    worker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"))
    case_reference: Mapped[str] = mapped_column(String(60))
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("case_file.id"))
    round: Mapped[int] = mapped_column(default=0)  # 0 = original pick, n = n-th re-draw
    replaces_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("draw_pick.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String(120), default="")


# --- app state ----------------------------------------------------------------------------


class Draft(Base):
    """Unsaved form text kept between keystrokes so a killed session can be resumed."""

    __tablename__ = "draft"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    owner: Mapped[str] = mapped_column(String(120), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """The audit trail: who changed what and when, old and new values. Append-only."""

    __tablename__ = "audit_event"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(20))  # insert / update / delete / import / export / ...
    table_name: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[str | None] = mapped_column(String(40), index=True)
    old: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    new: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    detail: Mapped[str] = mapped_column(Text, default="")


EDITABLE_MODELS: tuple[type[Record], ...] = (
    Service, Team, Person, Case, AuditTemplate, Audit, AuditParticipant, AuditGrade, Moderation,
    Action, ActionChange, Observation, Supervision, FollowUp, Feedback, CaseDraw, DrawPool, DrawPick,
)


# --- audits and moderation (issue 3) ------------------------------------------------------

# One audit per drawn pick: two laptops starting the same pick resume one record, not two.
Index("uq_audit_draw_pick_id", Audit.draw_pick_id, unique=True)


# --- offline sync (issue 6) ---------------------------------------------------------------

SYNC_RESOLUTIONS = ("shared", "incoming", "merged")


class SyncImport(Base):
    """The import log: one row per bundle imported here, holding the receipt it produced. The
    bundle ID as primary key makes a repeated or concurrent import of the same bundle a no-op."""

    __tablename__ = "sync_import"

    bundle_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    receipt: Mapped[dict[str, Any]] = mapped_column(JSON)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    device: Mapped[str] = mapped_column(String(80))
    exported_by: Mapped[str] = mapped_column(String(120))


class SyncConflict(Base):
    """An incoming record kept aside, with the live row left alone, until a manager decides."""

    __tablename__ = "sync_conflict"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    table_name: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[uuid.UUID]
    reason: Mapped[str] = mapped_column(String(20))  # qa_tui.services.sync.conflicts.REASONS
    incoming: Mapped[dict[str, Any]] = mapped_column(JSON)  # the laptop's fields, as in the bundle
    incoming_hash: Mapped[str] = mapped_column(String(64))
    base_version: Mapped[int | None]
    live_version: Mapped[int | None]  # None: the record did not exist here at import
    bundle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sync_import.bundle_id"))
    status: Mapped[str] = mapped_column(String(12), default="open")
    resolution: Mapped[str | None] = mapped_column(String(12))
    resolved_by: Mapped[str | None] = mapped_column(String(120))
    resolved_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("status IN ('open','resolved')", name="status"),
        CheckConstraint("resolution IS NULL OR resolution IN ('shared','incoming','merged')", name="resolution"),
        Index("ix_sync_conflict_status_record", "status", "table_name", "record_id"),
    )


class SyncState(Base):
    """This database's own sync bookkeeping: its device ID, the last acknowledged bundle, where it
    last pulled from, and one `acked:<bundle id>` key per acknowledged receipt."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# --- the random draw (issue 3) ------------------------------------------------------------

# "Already drawn this month" looks picks up by case for every case of a team.
Index("ix_draw_pick_case_id", DrawPick.case_id)
# Two people re-drawing the same worker at once: the second insert of that round fails.
Index("uq_draw_pick_round", DrawPick.draw_id, DrawPick.worker_id, DrawPick.round, unique=True)


# --- other kinds of audit, learning and celebration (issue 10) ------------------------------

THEME_KINDS = ("themed", "multi_agency")
THEME_STATUSES = ("open", "closed")
GOOD_PRACTICE_SOURCES = ("audit", "observation", "feedback")
SUPPORT_PLAN_STATUSES = ("open", "closed")


class Theme(Record, Base):
    """A themed or multi-agency audit: what it looks at, who asked, the template its audits use,
    and (multi-agency) the agencies taking part and the learning fed back."""

    __tablename__ = "theme"

    kind: Mapped[str] = mapped_column(String(20), default="themed")
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    template_key: Mapped[str] = mapped_column(String(40))
    requested_by: Mapped[str] = mapped_column(String(200), default="")
    created_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(12), default="open")
    rules: Mapped[list[Any]] = mapped_column(JSON, default=list)  # the rules cases were chosen by
    agencies: Mapped[list[Any]] = mapped_column(JSON, default=list)
    learning: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        CheckConstraint("kind IN ('themed','multi_agency')", name="kind"),
        CheckConstraint("status IN ('open','closed')", name="status"),
    )


class ThemeCase(Record, Base):
    """A case in a theme's list, the auditor it is given to, and its audit once started."""

    __tablename__ = "theme_case"

    theme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("theme.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_file.id"))
    auditor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"))
    audit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("audit.id"))
    added_by_rule: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (UniqueConstraint("theme_id", "case_id"),)


class AgencyFinding(Record, Base):
    """What a multi-agency audit found about one agency's part, and the learning fed back to it."""

    __tablename__ = "agency_finding"

    audit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("audit.id", ondelete="CASCADE"), index=True)
    agency: Mapped[str] = mapped_column(String(120))
    finding: Mapped[str] = mapped_column(Text, default="")
    learning: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (UniqueConstraint("audit_id", "agency"),)


class GoodPractice(Record, Base):
    """An audit, observation or piece of feedback marked as good practice to celebrate."""

    __tablename__ = "good_practice"

    source_kind: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[uuid.UUID]
    worker_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"))
    why: Mapped[str] = mapped_column(Text)
    marked_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"))
    marked_on: Mapped[date] = mapped_column(index=True)

    __table_args__ = (
        CheckConstraint("source_kind IN ('audit','observation','feedback')", name="source_kind"),
        UniqueConstraint("source_kind", "source_id"),
    )


class SupportPlan(Record, Base):
    """A worker's individual support plan for improving performance, kept by their manager."""

    __tablename__ = "support_plan"

    worker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    manager_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"))
    aim: Mapped[str] = mapped_column(Text)
    started_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(12), default="open")
    closed_on: Mapped[date | None]
    outcome: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (CheckConstraint("status IN ('open','closed')", name="status"),)


class SupportStep(Record, Base):
    """One dated step of a support plan; its follow-up puts it on the worker's supervision agenda."""

    __tablename__ = "support_step"

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("support_plan.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date]
    done_on: Mapped[date | None]
    follow_up_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("follow_up.id"))


EDITABLE_MODELS = (*EDITABLE_MODELS, Theme, ThemeCase, AgencyFinding, GoodPractice, SupportPlan, SupportStep)
