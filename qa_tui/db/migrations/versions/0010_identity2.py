"""identity2: observations are signed off; who holds a role-level permission is kept in the
database; every audited table is trailed by the database

- observation gains `signed_off_on` (plain ALTER TABLE, nullable: no SQLite table is rebuilt).
- role_permission: one row per permission and role (docs/permissions.md), seeded with the
  defaults. On PostgreSQL the app reads it instead of each person's own config, and only
  qa_tui_admin (and the database's owner) may change it: qa_tui_app keeps SELECT only.
- PostgreSQL: every table the app trails (every record people edit, role_permission included) now
  has the row trigger 0006_identity gave five of them, so raw SQL changes to any of them write a
  trail event with the server's login and time; the app's role may not insert a row-change event
  for any table that has such a trigger. The trigger keeps the note a bulk write names for its
  transaction (`qa_tui.trail_detail`: a laptop bundle's import says whose work it was).

Revision ID: 0010_identity2
Revises: 0009_worker
Create Date: 2026-12-05
"""

import importlib.util
import uuid
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = '0010_identity2'
down_revision = '0009_worker'
branch_labels = None
depends_on = None

ADMIN_ROLE = "qa_tui_admin"
APP_ROLE = "qa_tui_app"
# Trailed by 0006_identity's triggers already.
TRAILED_BEFORE = ("audit", "audit_grade", "moderation", "person", "team")
NEWLY_TRAILED = (
    "action", "action_change", "agency_finding", "audit_participant", "audit_template", "case_draw", "case_file",
    "cp_plan", "draw_pick", "draw_pool", "escalation", "feedback", "follow_up", "good_practice", "observation",
    "record_seen", "role_permission", "service", "supervision", "support_plan", "support_step", "theme",
    "theme_case", "worker_response",
)
# The defaults of qa_tui.config.model.DEFAULT_PERMISSIONS when this revision was written.
DEFAULT_PERMISSIONS = {
    "import_caseload": ("PI",),
    "draw": ("TM", "SM"),
    "draw_senior": ("OPS", "HOS", "AD", "DD"),
    "moderate": ("OPS", "HOS", "AD", "DD", "SM"),
    "finalise": ("PI",),
}


def _stamp(refused_when: str) -> str:
    """0006_identity's stamp on every audit event, refusing a row-change event `refused_when`."""
    return f"""
    CREATE OR REPLACE FUNCTION qa_tui_audit_event_stamp() RETURNS trigger LANGUAGE plpgsql SET TimeZone = 'UTC' AS $$
    DECLARE superuser boolean := (SELECT rolsuper FROM pg_roles WHERE rolname = current_user);
    BEGIN
        IF NOT superuser THEN
            IF pg_trigger_depth() = 1 AND NEW.action IN ('insert', 'update', 'delete') AND {refused_when} THEN
                RAISE EXCEPTION 'audit_event: row changes of % are written by the database itself', NEW.table_name
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            NEW.actor := current_user;
            NEW.at := now();
            SELECT p.staff_id, p.name INTO NEW.person_staff_id, NEW.person_name
                FROM person p WHERE p.login = current_user;
        END IF;
        RETURN NEW;
    END $$
    """


# Any table with the trail trigger: tables trailed later are covered without changing the stamp.
HAS_TRAIL_TRIGGER = ("EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(NEW.table_name) "
                     "AND tgname = NEW.table_name || '_trail')")
OLD_REFUSED_WHEN = f"NEW.table_name IN ({', '.join(repr(t) for t in TRAILED_BEFORE)})"


def _trail_row_function(detail: str) -> str:
    """0006_identity's row trigger function (as it was written there), keeping `detail` as each
    event's note."""
    spec = importlib.util.spec_from_file_location("identity_0006", Path(__file__).with_name("0006_identity.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    [function] = [sql for sql in module.POSTGRESQL_UPGRADE if "CREATE FUNCTION qa_tui_trail_row()" in sql]
    written = "before::json, after::json, '', staff, named"
    assert written in function
    return function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION").replace(
        written, f"before::json, after::json, {detail}, staff, named")


TRAIL_DETAIL = "coalesce(current_setting('qa_tui.trail_detail', true), '')"


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("observation", sa.Column("signed_off_on", sa.Date(), nullable=True))
    table = op.create_table(
        "role_permission",
        sa.Column("permission", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("synced_version", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_permission")),
        sa.UniqueConstraint("permission", "role", name=op.f("uq_role_permission_permission_role")),
    )
    now = datetime.now(timezone.utc)
    op.bulk_insert(table, [
        {"permission": permission, "role": role, "id": uuid.uuid4(), "created_at": now, "updated_at": now,
         "updated_by": "set-up", "version": 1}
        for permission, roles in DEFAULT_PERMISSIONS.items() for role in roles])
    if bind.dialect.name != "postgresql":
        return
    op.execute(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON role_permission FROM {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON role_permission TO {ADMIN_ROLE}")
    op.execute(_stamp(HAS_TRAIL_TRIGGER))
    op.execute(_trail_row_function(TRAIL_DETAIL))
    for name in NEWLY_TRAILED:
        op.execute(f"CREATE TRIGGER {name}_trail AFTER INSERT OR UPDATE OR DELETE ON {name} "
                   "FOR EACH ROW EXECUTE FUNCTION qa_tui_trail_row()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in NEWLY_TRAILED:
            op.execute(f"DROP TRIGGER IF EXISTS {name}_trail ON {name}")
        op.execute(_stamp(OLD_REFUSED_WHEN))
        op.execute(_trail_row_function("''"))
    op.drop_table("role_permission")
    with op.batch_alter_table("observation") as batch:
        batch.drop_column("signed_off_on")
