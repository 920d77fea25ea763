"""The organisation and its caseload: services, teams, people and cases. Children are identified
only by the case system's reference."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qa_tui.db.base import Base, Record

CASE_CATEGORIES = ("EH", "CIN", "CP", "CLA", "CL")
CASE_CATEGORY_NAMES = {
    "EH": "Early help",
    "CIN": "Child in need",
    "CP": "Child protection",
    "CLA": "Child looked after",
    "CL": "Care leaver",
}


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
    # The last supervision before qa-tui kept them (from an import); recorded ones count after it.
    last_supervised_on: Mapped[date | None]
    # How this person signs in: their PostgreSQL login or their operating-system account.
    login: Mapped[str | None] = mapped_column(String(120), unique=True)

    team: Mapped[Team | None] = relationship(foreign_keys=[team_id])
    manager: Mapped[Person | None] = relationship(remote_side="Person.id", foreign_keys=[manager_id])


class RolePermission(Record, Base):
    """On PostgreSQL, which roles hold a role-level permission (docs/permissions.md): one row per
    permission and role, changed only by an administrator (the database grants it to no one else),
    so nobody widens their own permissions from their own config. SQLite reads [permissions]."""

    __tablename__ = "role_permission"

    permission: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(8))

    __table_args__ = (UniqueConstraint("permission", "role"),)


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


class CpPlan(Record, Base):
    """One child protection plan of a case, as a statutory return gave it (the CIN census carries
    every plan a child had in the year). The case's own `cp_plan_start`/`cp_plan_end` hold its
    latest plan; these rows keep the earlier ones too, so a short plan followed by a new one is
    still known. Only dates: nothing else about the plan or the child."""

    __tablename__ = "cp_plan"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_file.id"), index=True)
    started_on: Mapped[date]
    ended_on: Mapped[date | None]

    __table_args__ = (UniqueConstraint("case_id", "started_on"),)
