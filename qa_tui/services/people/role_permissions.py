"""Which roles hold each role-level permission, as the shared database keeps it (PostgreSQL): shown
to anyone, set by an administrator from the [permissions] of a config used only by them at
set-up. Each row added or removed is in the audit trail."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_tui.config.model import PERMISSION_ROLES
from qa_tui.db.models import RolePermission
from qa_tui.services.people.permissions import EDIT_PEOPLE, require, roles_for


@dataclass(frozen=True)
class RoleRow:
    permission: str
    roles: tuple[str, ...]


def role_permission_rows(session: Session) -> list[RoleRow]:
    """Each role-level permission and the roles holding it, as the session's database decides."""
    return [RoleRow(p, roles_for(session, p)) for p in PERMISSION_ROLES]


def store_role_permissions(session: Session, permissions: Mapping[str, Sequence[str]]) -> list[RoleRow]:
    """Make the database's rows say `permissions` (permission → roles; a permission left out keeps
    its rows). Administrators only: the database grants the change to qa_tui_admin alone."""
    require(session, EDIT_PEOPLE)
    # Every permission is written out (the ones not asked about as they stand), so that a table
    # that was empty (read as the defaults) never ends up holding some permissions and not others.
    now = {row.permission: row.roles for row in role_permission_rows(session)}
    _make_rows(session, {(p, role) for p in PERMISSION_ROLES for role in permissions.get(p, now[p])})
    return role_permission_rows(session)


def _make_rows(session: Session, wanted: set[tuple[str, str]]) -> None:
    """Remove the rows not `wanted` and add the missing ones, (permission, role) each."""
    stored = {(r.permission, r.role): r for r in session.scalars(select(RolePermission))}
    for key, row in stored.items():
        if key not in wanted:
            session.delete(row)
    session.add_all(RolePermission(permission=p, role=role) for p, role in sorted(wanted - stored.keys()))
    session.flush()


def shared_role_rows(session: Session) -> tuple[tuple[str, str], ...]:
    """The database's own rows as (permission, role) pairs, as a pull copies them (none: the defaults)."""
    return tuple((p, r) for p, r in session.execute(
        select(RolePermission.permission, RolePermission.role).order_by(RolePermission.permission, RolePermission.role)))


def copy_pulled_role_permissions(session: Session, pairs: Sequence[tuple[str, str]]) -> None:
    """At a pull (laptop): make this database's rows exactly the shared database's, whatever was
    here; the pull then marks them as the ones in force (permissions.ROLES_PULLED_KEY). Each row
    added or removed is in the trail; the shared database still re-checks every bundle on import."""
    _make_rows(session, set(pairs))
