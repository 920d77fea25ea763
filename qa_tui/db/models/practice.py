"""Practice records beside audits: observations, supervision, follow-ups for the next
supervision, family feedback, good practice to celebrate, and support plans."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qa_tui.config.vocabulary import OBSERVATION_KINDS as CONFIG_OBSERVATION_KINDS
from qa_tui.db.base import Base, Record

OBSERVATION_KINDS = CONFIG_OBSERVATION_KINDS  # one list, shared with the programme's config
SUPERVISION_KINDS = ("casework", "reflective")
FOLLOW_UP_SOURCES = ("audit", "observation", "dip_sample", "feedback", "other")
FEEDBACK_GIVERS = ("child", "young_person", "parent", "carer", "professional")
FEEDBACK_CHANNELS = ("form", "qr", "phone", "live_audit", "in_person", "email")
GOOD_PRACTICE_SOURCES = ("audit", "observation", "feedback")
SUPPORT_PLAN_STATUSES = ("open", "closed")
RESPONSE_SOURCES = ("audit", "observation")
RESPONSE_STANCES = ("agree", "disagree")


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
    # The day the observer signed it off: from then on nobody changes the observer's text; the
    # worker may still add their reflection.
    signed_off_on: Mapped[date | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_observation_worker_observed", "worker_id", "observed_on"),)


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
    # When the finding's event happened (observation, audit…): ticking is allowed from this day.
    event_on: Mapped[date | None]
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


class RecordSeen(Record, Base):
    """When the worker first opened a record about their work (an observation shared with them…):
    kept beside the record, so opening it never changes the record a manager may be editing."""

    __tablename__ = "record_seen"

    source_kind: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[uuid.UUID]
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    seen_on: Mapped[date]

    __table_args__ = (UniqueConstraint("source_kind", "source_id", "person_id"),)


class WorkerResponse(Record, Base):
    """The worker's own response to an audit or observation of their work: whether they agree,
    a comment, and their reflection. One per record and worker; the manager sees it on the agenda."""

    __tablename__ = "worker_response"

    source_kind: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[uuid.UUID]
    worker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    stance: Mapped[str] = mapped_column(String(12))
    comment: Mapped[str] = mapped_column(Text, default="")
    reflection: Mapped[str] = mapped_column(Text, default="")
    responded_on: Mapped[date]

    __table_args__ = (
        CheckConstraint("source_kind IN ('audit','observation')", name="source_kind"),
        CheckConstraint("stance IN ('agree','disagree')", name="stance"),
        UniqueConstraint("source_kind", "source_id", "worker_id"),
    )
