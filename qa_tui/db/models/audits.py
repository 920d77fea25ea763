"""Audits and what follows them: templates, audits with their participants, grades and
moderation, actions and their history, the monthly random draw, and themed and multi-agency
audits."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qa_tui.db.base import Base, Record
from qa_tui.db.models.people import Case, Person

AUDIT_STATUSES = ("draft", "submitted", "moderated", "finalised")
MODERATION_OUTCOMES = ("agreed", "regraded", "returned")
ACTION_STATUSES = ("open", "done", "cancelled")
THEME_KINDS = ("themed", "multi_agency")
THEME_STATUSES = ("open", "closed")


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
    # The case system's reference of a record that is not a child's case (a carer's file); never a name.
    record_reference: Mapped[str | None] = mapped_column(String(40))
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
        Index("ix_audit_date_case", "audit_date", "case_id"),  # the draw: cases audited since a date
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
        Index("ix_moderation_audit_latest", "audit_id", "moderated_on", "created_at"),  # an audit's latest moderation
    )


# One audit per drawn pick: two laptops starting the same pick resume one record, not two.
Index("uq_audit_draw_pick_id", Audit.draw_pick_id, unique=True)


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
    # What changed for the child, said when the action was done. Filled by the database when not
    # given, so an insert made before 0011_impact (which lacks the column) still works.
    child_outcome: Mapped[str] = mapped_column(Text, server_default="")
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
    change: Mapped[str] = mapped_column(String(20))  # extended / reassigned / done / progress / reopened
    old_value: Mapped[str] = mapped_column(String(200), default="")
    new_value: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_on: Mapped[date]
    changed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"))
    supervision_id: Mapped[uuid.UUID | None] = mapped_column(index=True)  # the supervision it was made in


ESCALATION_REASONS = ("inadequate", "risk_now")


class Escalation(Record, Base):
    """An audit that found a child's case Inadequate (overall or in a domain), or a child who may
    be at risk now, escalated to a named owner who must respond by a date."""

    __tablename__ = "escalation"

    audit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("audit.id"), index=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"))
    reason: Mapped[str] = mapped_column(String(20))  # one of ESCALATION_REASONS
    note: Mapped[str] = mapped_column(Text, default="")
    raised_on: Mapped[date]
    respond_by: Mapped[date]
    answered_on: Mapped[date | None]
    answered_by_id: Mapped[uuid.UUID | None]  # the owner, or someone above them in the line, who answered
    response: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (CheckConstraint("reason IN ('inadequate','risk_now')", name="reason"),)


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
    # At most one current draw per team and month (a partial unique index on both databases).
    is_current: Mapped[bool] = mapped_column(server_default=true())

    __table_args__ = (
        Index("ix_case_draw_team_month", "team_id", "month"),
        Index("uq_case_draw_current", "team_id", "month", unique=True,
              sqlite_where=text("is_current"), postgresql_where=text("is_current")),
    )


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


# "Already drawn this month" looks picks up by case for every case of a team.
Index("ix_draw_pick_case_id", DrawPick.case_id)
# Two people re-drawing the same worker at once: the second insert of that round fails.
Index("uq_draw_pick_round", DrawPick.draw_id, DrawPick.worker_id, DrawPick.round, unique=True)


# --- themed and multi-agency audits -------------------------------------------------------


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
