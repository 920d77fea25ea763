"""identity: every trail event names the person; the database guards who people are and keeps the
trail; one current draw per team and month

- audit_event gains the person (staff ID and name) beside the login, and on SQLite the hash
  chain (`content_hash`, `chain_hash`; qa_tui.db.chain), sealed here for the events already there.
  The SQLite append-only trigger is made again to allow only the purge's redaction and the seal.
- case_draw gains `is_current`; a partial unique index allows one current draw per team and month
  on both databases (earlier duplicates: the newest stays current).
- PostgreSQL: the NOLOGIN role qa_tui_admin (granted qa_tui_app). Only its members (and
  superusers) may give a person a login, change a person's role, login or team, or delete one.
  Row changes of audit, audit_grade, moderation, person and team are written to the trail by
  triggers, raw SQL included; an event's actor, person and time are what the server says
  (current_user, now()), whatever an INSERT names, and the app's role cannot insert a row-change
  event for those tables itself. A superuser's own session keeps the actor the app sets
  (`qa_tui.actor`): a superuser could drop any of this anyway. The retention purge and the demo
  builder, run by one who may rewrite the trail anyway, set `qa_tui.untrailed` for their bulk
  writes, which keep one summary event instead.

Revision ID: 0006_identity
Revises: 0005_cin
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = '0006_identity'
down_revision = '0005_cin'
branch_labels = None
depends_on = None

ADMIN_ROLE = "qa_tui_admin"
APP_ROLE = "qa_tui_app"
TRAILED = ("audit", "audit_grade", "moderation", "person", "team")
SKIP = "ARRAY['created_at','updated_at','updated_by','version','synced_version']"

# Who acts: the session's own role; for a superuser, the login the app names.
ACTOR = """CASE WHEN (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
                THEN coalesce(nullif(current_setting('qa_tui.actor', true), ''), current_user::text)
                ELSE current_user::text END"""

POSTGRESQL_UPGRADE = (
    f"""
    DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ADMIN_ROLE}') THEN
            BEGIN
                CREATE ROLE {ADMIN_ROLE} NOLOGIN;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
    END $$
    """,
    f"GRANT {APP_ROLE} TO {ADMIN_ROLE}",
    f"""
    CREATE FUNCTION qa_tui_person_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF pg_has_role(current_user, '{ADMIN_ROLE}', 'MEMBER') THEN
            RETURN coalesce(NEW, OLD);
        END IF;
        IF TG_OP = 'DELETE'
           OR (TG_OP = 'INSERT' AND NEW.login IS NOT NULL)
           OR (TG_OP = 'UPDATE' AND (NEW.role IS DISTINCT FROM OLD.role OR NEW.login IS DISTINCT FROM OLD.login
                                     OR NEW.team_id IS DISTINCT FROM OLD.team_id)) THEN
            RAISE EXCEPTION 'only an administrator ({ADMIN_ROLE}) may change who a person is: their role, login or team'
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = format('%s on person %s by %s', TG_OP, coalesce(NEW.staff_id, OLD.staff_id), current_user);
        END IF;
        RETURN coalesce(NEW, OLD);
    END $$
    """,
    """
    CREATE TRIGGER person_identity_guard BEFORE INSERT OR UPDATE OR DELETE ON person
        FOR EACH ROW EXECUTE FUNCTION qa_tui_person_guard()
    """,
    f"""
    CREATE FUNCTION qa_tui_audit_event_stamp() RETURNS trigger LANGUAGE plpgsql SET TimeZone = 'UTC' AS $$
    DECLARE superuser boolean := (SELECT rolsuper FROM pg_roles WHERE rolname = current_user);
    BEGIN
        IF NOT superuser THEN
            IF pg_trigger_depth() = 1 AND NEW.action IN ('insert', 'update', 'delete')
               AND NEW.table_name IN ({", ".join(f"'{t}'" for t in TRAILED)}) THEN
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
    """,
    """
    CREATE TRIGGER audit_event_stamp BEFORE INSERT ON audit_event
        FOR EACH ROW EXECUTE FUNCTION qa_tui_audit_event_stamp()
    """,
    f"""
    CREATE FUNCTION qa_tui_trail_row() RETURNS trigger LANGUAGE plpgsql SET TimeZone = 'UTC' AS $$
    DECLARE
        before jsonb; after jsonb; old_changed jsonb := '{{}}'; new_changed jsonb := '{{}}'; k text;
        who text := {ACTOR};
        staff text; named text;
    BEGIN
        -- Bulk writes that keep their own summary (the retention purge, the demo builder), by
        -- whoever may rewrite the trail anyway (not the app's role).
        IF current_setting('qa_tui.untrailed', true) = 'on' AND has_table_privilege('audit_event', 'UPDATE') THEN
            RETURN NULL;
        END IF;
        IF TG_OP <> 'INSERT' THEN before := to_jsonb(OLD) - {SKIP}; END IF;
        IF TG_OP <> 'DELETE' THEN after := to_jsonb(NEW) - {SKIP}; END IF;
        IF TG_OP = 'UPDATE' THEN
            FOR k IN SELECT jsonb_object_keys(after) LOOP
                IF after -> k IS DISTINCT FROM before -> k THEN
                    old_changed := old_changed || jsonb_build_object(k, before -> k);
                    new_changed := new_changed || jsonb_build_object(k, after -> k);
                END IF;
            END LOOP;
            IF new_changed = '{{}}' THEN RETURN NULL; END IF;
            before := old_changed; after := new_changed;
        END IF;
        SELECT p.staff_id, p.name INTO staff, named FROM person p WHERE p.login = who;
        IF staff IS NULL THEN
            staff := nullif(current_setting('qa_tui.person_staff_id', true), '');
            named := nullif(current_setting('qa_tui.person_name', true), '');
        END IF;
        INSERT INTO audit_event (id, at, actor, action, table_name, record_id, old, new, detail,
                                 person_staff_id, person_name)
        VALUES (gen_random_uuid(), now(), who, lower(TG_OP), TG_TABLE_NAME,
                coalesce(NEW.id, OLD.id)::text, before::json, after::json, '', staff, named);
        RETURN NULL;
    END $$
    """,
) + tuple(
    f"""
    CREATE TRIGGER {table}_trail AFTER INSERT OR UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION qa_tui_trail_row()
    """
    for table in TRAILED
)

POSTGRESQL_DOWNGRADE = tuple(f"DROP TRIGGER IF EXISTS {table}_trail ON {table}" for table in TRAILED) + (
    "DROP FUNCTION IF EXISTS qa_tui_trail_row()",
    "DROP TRIGGER IF EXISTS audit_event_stamp ON audit_event",
    "DROP FUNCTION IF EXISTS qa_tui_audit_event_stamp()",
    "DROP TRIGGER IF EXISTS person_identity_guard ON person",
    "DROP FUNCTION IF EXISTS qa_tui_person_guard()",
)

# SQLite: the purge's redaction (old and new emptied, all else kept) or the seal (the two hash
# columns set once, all else kept); anything else is refused.
KEPT = ("NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.actor = OLD.actor AND NEW.action = OLD.action "
        "AND NEW.table_name = OLD.table_name AND NEW.record_id IS OLD.record_id AND NEW.detail = OLD.detail "
        "AND NEW.person_staff_id IS OLD.person_staff_id AND NEW.person_name IS OLD.person_name")
REDACTION = f"NEW.old IS NULL AND NEW.new IS NULL AND NEW.content_hash IS OLD.content_hash AND NEW.chain_hash IS OLD.chain_hash AND {KEPT}"
SEAL = (f"OLD.chain_hash IS NULL AND NEW.chain_hash IS NOT NULL AND NEW.old IS OLD.old AND NEW.new IS OLD.new "
        f"AND {KEPT}")
SQLITE_TRIGGER = f"""
    CREATE TRIGGER audit_event_append_only_update BEFORE UPDATE ON audit_event
        WHEN NOT (({REDACTION}) OR ({SEAL}))
    BEGIN
        SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused');
    END
"""
OLD_SQLITE_TRIGGER = """
    CREATE TRIGGER audit_event_append_only_update BEFORE UPDATE ON audit_event
        WHEN NOT (NEW.old IS NULL AND NEW.new IS NULL AND NEW.id = OLD.id AND NEW.at = OLD.at
        AND NEW.actor = OLD.actor AND NEW.action = OLD.action AND NEW.table_name = OLD.table_name
        AND NEW.record_id IS OLD.record_id AND NEW.detail = OLD.detail)
    BEGIN
        SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused');
    END
"""


def upgrade() -> None:
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    for name, length in (("person_staff_id", 40), ("person_name", 200), ("content_hash", 64), ("chain_hash", 64)):
        op.add_column("audit_event", sa.Column(name, sa.String(length=length), nullable=True))
    op.add_column("case_draw", sa.Column("is_current", sa.Boolean(), nullable=False, server_default=sa.true()))
    # Earlier duplicates: only the newest draw of a team and month stays current.
    op.execute("""
        UPDATE case_draw SET is_current = false WHERE EXISTS (
            SELECT 1 FROM case_draw newer WHERE newer.team_id = case_draw.team_id AND newer.month = case_draw.month
            AND (newer.created_at > case_draw.created_at
                 OR (newer.created_at = case_draw.created_at AND newer.id > case_draw.id)))
    """)
    op.create_index("uq_case_draw_current", "case_draw", ["team_id", "month"], unique=True,
                    sqlite_where=sa.text("is_current"), postgresql_where=sa.text("is_current"))
    if postgresql:
        for statement in POSTGRESQL_UPGRADE:
            op.execute(statement)
        return
    op.execute("DROP TRIGGER IF EXISTS audit_event_append_only_update")
    op.execute(SQLITE_TRIGGER)
    from qa_tui.db.chain import seal

    seal(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for statement in POSTGRESQL_DOWNGRADE:
            op.execute(statement)
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only_update")
    op.drop_index("uq_case_draw_current", table_name="case_draw")
    with op.batch_alter_table("case_draw") as batch:
        batch.drop_column("is_current")
    with op.batch_alter_table("audit_event") as batch:
        for name in ("chain_hash", "content_hash", "person_name", "person_staff_id"):
            batch.drop_column(name)
    if bind.dialect.name != "postgresql":
        op.execute(OLD_SQLITE_TRIGGER)
