"""Who may do what: every permission rule in one place (docs/permissions.md is the same table),
checked by each service that writes before it writes. The person acting comes from the session
(`qa_tui.identity.acting_of`), never from an argument a caller could fill with someone else's ID.
A session without one is the app's own bookkeeping (the demo builder, a migration, a test of the
rules themselves) and is not checked; every session of the app and the command line has one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from qa_tui.config import ROLE_NAMES, Config
from qa_tui.config.model import DEFAULT_PERMISSIONS
from qa_tui.db.models import Person, RolePermission, SyncState
from qa_tui.errors import NotAllowed
from qa_tui.db.acting import CONFIG_KEY, Acting, acting_of

ADMIN_ROLE = "qa_tui_admin"  # the PostgreSQL role whose members administer people, teams and logins

# Permission → what it lets a person do, in the words of docs/permissions.md.
EDIT_PEOPLE = "edit_people"
IMPORT_CASELOAD = "import_caseload"
DRAW = "draw"
MODERATE = "moderate"
FINALISE = "finalise"
EDIT_OBSERVATION = "edit_observation"
SUPERVISE = "supervise"
SEE_SUPPORT_PLAN = "see_support_plan"
ANSWER_ESCALATION = "answer_escalation"
OWN_WORK = "own_work"  # see records about one's work in My work, and respond to them
CHANGE = "change"  # anything at all: refused to a login linked to nobody


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""  # why not, naming the person and what they would need


ALLOWED = Decision(True)


def _refused(who: Acting, doing: str, needs: str) -> Decision:
    return Decision(False, f"{who.label} may not {doing}: {needs}.")


def _role_names(roles: tuple[str, ...]) -> str:
    return ", ".join(ROLE_NAMES.get(r, r) for r in roles) or "no role (set in [permissions])"


def managers_above(session: Session, person_id: uuid.UUID) -> list[uuid.UUID]:
    """The person's manager, their manager, and so on up the line (a loop stops the walk)."""
    chain: list[uuid.UUID] = []
    current = session.scalar(select(Person.manager_id).where(Person.id == person_id))
    while current is not None and current not in chain and current != person_id:
        chain.append(current)
        current = session.scalar(select(Person.manager_id).where(Person.id == current))
    return chain


def is_line_manager_of(session: Session, manager_id: uuid.UUID | None, worker_id: uuid.UUID) -> bool:
    return manager_id is not None and manager_id in managers_above(session, worker_id)


def is_administrator(session: Session, who: Acting) -> bool:
    """On PostgreSQL: a member of the database role qa_tui_admin (the database enforces the same),
    and only for the login itself, never for a laptop's person re-checked at import. On SQLite:
    the owner of a standalone install; a laptop's people are pulled, never edited."""
    if who is not acting_of(session):
        return False
    if session.get_bind().dialect.name == "postgresql":
        # Granted, directly or through other roles; a superuser is not one by being a superuser
        # (the database would let them, but the app goes by the grants people are given).
        return bool(session.scalar(text(
            "WITH RECURSIVE up(oid) AS (SELECT oid FROM pg_roles WHERE rolname = current_user "
            "UNION SELECT m.roleid FROM pg_auth_members m JOIN up ON m.member = up.oid) "
            "SELECT EXISTS (SELECT 1 FROM up JOIN pg_roles r ON r.oid = up.oid WHERE r.rolname = :r)"),
            {"r": ADMIN_ROLE}))
    bound_by = session.scalar(select(SyncState.value).where(SyncState.key == "owner_bound_by"))
    return who.person_id is not None and bound_by == "set-up"


ROLES_PULLED_KEY = "role_permissions_pulled"  # sync state: this laptop holds the shared database's rows


def holds_role_rows(session: Session) -> bool:
    """Whether the roles come from the database's `role_permission` rows: on PostgreSQL, and on a
    laptop whose pull copied the shared database's rows; a standalone SQLite file reads its config."""
    if session.get_bind().dialect.name == "postgresql":
        return True
    return session.scalar(select(SyncState.value).where(SyncState.key == ROLES_PULLED_KEY)) is not None


def roles_for(session: Session, permission: str, cfg: Config | None = None) -> tuple[str, ...]:
    """The roles holding a role-level permission (PERMISSION_ROLES). On PostgreSQL the database's
    `role_permission` rows, which only an administrator may change (an empty table: the built-in
    defaults), never the person's own config, where anyone could widen their own permissions; on a
    laptop the same rows as its last pull copied them, so a council's restriction holds offline. On
    a standalone SQLite file the config's [permissions] (`cfg`, else the session's)."""
    if holds_role_rows(session):
        rows = session.execute(select(RolePermission.permission, RolePermission.role)
                               .order_by(RolePermission.role)).all()
        if not rows:
            return DEFAULT_PERMISSIONS[permission]
        return tuple(role for held, role in rows if held == permission)
    return (cfg or session.info.get(CONFIG_KEY) or Config()).roles_for(permission)


def _current(session: Session, who: Acting) -> Person | None:
    """The acting person's record as stored now (their role and team may have changed)."""
    return session.get(Person, who.person_id) if who.person_id is not None else None


def decide(session: Session, permission: str, cfg: Config | None = None, *, team_id: uuid.UUID | None = None,
           worker_id: uuid.UUID | None = None, observer_id: uuid.UUID | None = None, field: str = "",
           manager_id: uuid.UUID | None = None, owner_id: uuid.UUID | None = None, signed_off: bool = False,
           person: Acting | None = None) -> Decision:
    """Whether the person acting in `session` may do `permission` (to the record described by the
    keyword arguments), and why not. The app's own bookkeeping (no person in the session) may.
    `cfg`: on SQLite the council's [permissions] (the session's without one); on PostgreSQL the
    database's rows are read instead (roles_for)."""
    who = person or acting_of(session)  # `person`: someone else's work re-checked (a laptop's bundle)
    if who is None:
        return ALLOWED
    me = _current(session, who)
    if me is None:
        return Decision(False, f"The login {who.login} is not linked to a staff record, so it may look "
                               "but not change anything. Ask an administrator to link it.")
    if permission == CHANGE:
        return ALLOWED
    if permission == EDIT_PEOPLE:
        if is_administrator(session, who):
            return ALLOWED
        return _refused(who, "change people, teams, roles or logins", "only an administrator may "
                        f"(on the shared database, a member of {ADMIN_ROLE}; on a laptop, nobody: pull again)")
    if permission == IMPORT_CASELOAD:
        roles = roles_for(session, IMPORT_CASELOAD, cfg)
        if me.role in roles or is_administrator(session, who):
            return ALLOWED
        return _refused(who, "import caseload extracts", f"that needs the role {_role_names(roles)} or an administrator")
    if permission == DRAW:
        return _may_draw(session, who, me, cfg, team_id)
    if permission == MODERATE:
        roles = roles_for(session, MODERATE, cfg)
        if me.role in roles:
            return ALLOWED
        return _refused(who, "moderate audits", f"their role ({ROLE_NAMES.get(me.role, me.role)}) is not a "
                        f"moderator role ({_role_names(roles)})")
    if permission == FINALISE:
        roles = roles_for(session, FINALISE, cfg)
        if me.role in roles:
            return ALLOWED
        return _refused(who, "finalise audits", f"that is for {_role_names(roles)}")
    if permission == EDIT_OBSERVATION:
        return _may_edit_observation(who, me, observer_id, worker_id, field, signed_off)
    if permission == SUPERVISE:
        if worker_id is not None and is_line_manager_of(session, me.id, worker_id):
            return ALLOWED
        return _refused(who, "record a supervision or tick agenda items for this worker",
                        "only the worker's supervisor or line manager may")
    if permission == SEE_SUPPORT_PLAN:
        # The line management only: not the worker (whose plan it is), nor a peer.
        if manager_id is not None and (me.id == manager_id or is_line_manager_of(session, me.id, manager_id)):
            return ALLOWED
        if worker_id is not None and me.id != worker_id and is_line_manager_of(session, me.id, worker_id):
            return ALLOWED
        return _refused(who, "see this support plan", "only the worker's line management may")
    if permission == ANSWER_ESCALATION:
        # Its owner; or, managing the escalations of their people, anyone above them in the line
        # (when the owner is away, say): the answer keeps who gave it.
        if owner_id is not None and (me.id == owner_id or is_line_manager_of(session, me.id, owner_id)):
            return ALLOWED
        return _refused(who, "answer this escalation", "only its owner (the person it was escalated to), or "
                        "someone above them in the line management, may")
    if permission == OWN_WORK:
        if worker_id is not None and me.id == worker_id:
            return ALLOWED
        return _refused(who, "see or respond to records about someone else's work in My work",
                        "only the worker whose work it is may")
    raise ValueError(f"unknown permission {permission!r}")


def _may_edit_observation(who: Acting, me: Person, observer_id: uuid.UUID | None, worker_id: uuid.UUID | None,
                          field: str, signed_off: bool) -> Decision:
    """The observer writes it until they sign it off (`field` "signed_off_on": signing it off);
    the observed worker adds their reflection, before or after; after sign-off nobody changes the
    observer's text."""
    what = field.replace("_", " ") or "this observation"
    if me.id == worker_id and me.id != observer_id:
        if field == "reflection":
            return ALLOWED
        return _refused(who, f"change {what} of an observation of their own practice",
                        "the worker adds their reflection only; the observer writes the rest")
    if me.id != observer_id:
        return _refused(who, "change this observation", "only its observer may (and the worker, their reflection)")
    if signed_off:
        return _refused(who, f"change {what} of an observation that was signed off",
                        "after sign-off nobody changes it; the worker may still add their reflection")
    return ALLOWED


def _may_draw(session: Session, who: Acting, me: Person, cfg: Config | None, team_id: uuid.UUID | None) -> Decision:
    roles, senior = roles_for(session, DRAW, cfg), roles_for(session, "draw_senior", cfg)
    if me.role in roles and team_id is not None and me.team_id == team_id:
        return ALLOWED
    if me.role in senior and team_id is not None:
        members = session.scalars(select(Person.id).where(Person.team_id == team_id))
        if any(is_line_manager_of(session, me.id, member) for member in members):
            return ALLOWED
    return _refused(who, "draw cases or run a live audit for this team",
                    f"that is for the team's {_role_names(roles)}, or a {_role_names(senior)} above the team")


def require(session: Session, permission: str, cfg: Config | None = None, **about: uuid.UUID | str | None) -> None:
    """Raise NotAllowed, with the reason, unless the person acting may do `permission`."""
    decision = decide(session, permission, cfg, **about)  # type: ignore[arg-type]
    if not decision.allowed:
        raise NotAllowed(decision.reason)


def require_self(session: Session, person_id: uuid.UUID | None, doing: str) -> None:
    """Raise NotAllowed unless `person_id` is the person acting: nobody records work as someone else."""
    who = acting_of(session)
    if who is None or person_id is None or who.person_id == person_id:
        return
    name = session.scalar(select(Person.name).where(Person.id == person_id)) or str(person_id)
    raise NotAllowed(f"{who.label} may not {doing} as {name}: people act only as themselves.")


def moderator_roles_in(session: Session) -> tuple[str, ...]:
    """The roles that may moderate for `session` (roles_for)."""
    return roles_for(session, MODERATE)


# The permissions a person holds by their role alone (before looking at a record), for the screens
# to grey out what cannot succeed; every service still decides for itself.
ROLE_LEVEL = (EDIT_PEOPLE, IMPORT_CASELOAD, DRAW, MODERATE, FINALISE)


def role_permissions(session: Session, cfg: Config | None = None) -> frozenset[str]:
    """Which of ROLE_LEVEL the person acting in `session` may do on some record."""
    return permissions_of(session, acting_of(session), cfg)


def permissions_of(session: Session, who: Acting | None, cfg: Config | None = None) -> frozenset[str]:
    """Which of ROLE_LEVEL `who` may do on some record (None: the app's own set-up, everything)."""
    if who is None:
        return frozenset(ROLE_LEVEL)
    me = _current(session, who)
    if me is None:
        return frozenset()
    held = {p for p in (IMPORT_CASELOAD, MODERATE, FINALISE) if me.role in roles_for(session, p, cfg)}
    if me.role in roles_for(session, DRAW, cfg) or me.role in roles_for(session, "draw_senior", cfg):
        held.add(DRAW)
    if is_administrator(session, who):
        held |= {EDIT_PEOPLE, IMPORT_CASELOAD}
    return frozenset(held)
