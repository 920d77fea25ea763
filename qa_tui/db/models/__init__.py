"""The QA data model: organisation and caseload, audits (with actions, the random draw and
themes), practice records (observations, supervision, follow-ups, feedback), and the audit trail
with offline-sync bookkeeping.

Every model is imported here, so importing `qa_tui.db.models` registers every table with the
declarative base (Alembic and `metadata.create_all` need them all); import models from here.
Enumerated values are stored as short strings; the allowed values live beside each model and the
services enforce them.
"""

from __future__ import annotations

from qa_tui.db.base import Record
from qa_tui.db.models.audits import (
    ACTION_STATUSES,
    AUDIT_STATUSES,
    ESCALATION_REASONS,
    MODERATION_OUTCOMES,
    THEME_KINDS,
    THEME_STATUSES,
    Action,
    ActionChange,
    AgencyFinding,
    Audit,
    AuditGrade,
    AuditParticipant,
    AuditTemplate,
    CaseDraw,
    DrawPick,
    DrawPool,
    Escalation,
    Moderation,
    Theme,
    ThemeCase,
)
from qa_tui.db.models.people import (
    CASE_CATEGORIES,
    CASE_CATEGORY_NAMES,
    Case,
    CpPlan,
    Person,
    RolePermission,
    Service,
    Team,
)
from qa_tui.db.models.practice import (
    FEEDBACK_CHANNELS,
    FEEDBACK_GIVERS,
    FOLLOW_UP_SOURCES,
    GOOD_PRACTICE_SOURCES,
    OBSERVATION_KINDS,
    SUPERVISION_KINDS,
    RESPONSE_SOURCES,
    RESPONSE_STANCES,
    SUPPORT_PLAN_STATUSES,
    Feedback,
    FollowUp,
    GoodPractice,
    Observation,
    Supervision,
    SupportPlan,
    RecordSeen,
    SupportStep,
    WorkerResponse,
)
from qa_tui.db.models.trail_and_sync import (
    SYNC_RESOLUTIONS,
    AuditEvent,
    Draft,
    SyncConflict,
    SyncImport,
    SyncState,
    SyncTombstone,
)

# The records people edit (versioned, synced, kept in the trail), parents before children.
EDITABLE_MODELS: tuple[type[Record], ...] = (
    Service, Team, Person, Case, CpPlan, AuditTemplate, Audit, AuditParticipant, AuditGrade, Moderation,
    Escalation, Action, ActionChange, Observation, Supervision, FollowUp, Feedback, CaseDraw, DrawPool, DrawPick,
    Theme, ThemeCase, AgencyFinding, GoodPractice, SupportPlan, SupportStep,
    RecordSeen, WorkerResponse,
)

__all__ = [
    "ACTION_STATUSES", "AUDIT_STATUSES", "CASE_CATEGORIES", "CASE_CATEGORY_NAMES", "EDITABLE_MODELS",
    "FEEDBACK_CHANNELS", "FEEDBACK_GIVERS", "FOLLOW_UP_SOURCES", "GOOD_PRACTICE_SOURCES", "MODERATION_OUTCOMES",
    "OBSERVATION_KINDS", "RESPONSE_SOURCES", "RESPONSE_STANCES", "SUPERVISION_KINDS", "SUPPORT_PLAN_STATUSES", "SYNC_RESOLUTIONS", "THEME_KINDS",
    "THEME_STATUSES", "Action", "ActionChange", "AgencyFinding", "Audit", "AuditEvent", "AuditGrade",
    "AuditParticipant", "AuditTemplate", "Case", "CaseDraw", "CpPlan", "Draft", "ESCALATION_REASONS", "Escalation", "DrawPick", "DrawPool", "Feedback",
    "FollowUp", "GoodPractice", "Moderation", "Observation", "Person", "RecordSeen", "RolePermission", "Service", "Supervision", "SupportPlan",
    "SupportStep", "SyncConflict", "SyncImport", "SyncState", "SyncTombstone", "Team", "Theme", "ThemeCase",
    "WorkerResponse",
]
