"""security: separation of duties and an append-only audit trail enforced by the database

The database refuses a moderation by anyone who took part in the audit (auditor, audited worker,
participant, or participant who gave grades), whatever wrote it, and refuses any change to an
audit event except the retention purge's redaction (old and new values emptied, the event kept);
deleting an audit event is always refused. On PostgreSQL it also creates the NOLOGIN role
`qa_tui_app` (people's logins are granted it) with the rights to do the app's work, and only
SELECT and INSERT on audit_event.

Hand-written. On SQLite a batch ("move and copy") alter of moderation or audit_event drops these
triggers: a later migration that does one must create them again (a test checks they exist).

Revision ID: 0002_security
Revises: 0001_initial
Create Date: 2026-11-24
"""

from alembic import op

revision = '0002_security'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

APP_ROLE = "qa_tui_app"

# Who took part in audit NEW.audit_id, in the service's sense (qa_tui.services.audits.moderation).
TOOK_PART = """
    EXISTS (SELECT 1 FROM audit a WHERE a.id = NEW.audit_id
            AND (a.auditor_id = NEW.moderator_id OR a.worker_id = NEW.moderator_id))
    OR EXISTS (SELECT 1 FROM audit_participant p WHERE p.audit_id = NEW.audit_id AND p.person_id = NEW.moderator_id)
    OR EXISTS (SELECT 1 FROM audit_grade g WHERE g.audit_id = NEW.audit_id AND g.participant_id = NEW.moderator_id)
"""

# An UPDATE of an audit event that only empties its old and new values (the retention purge).
REDACTION = """
    NEW.old IS NULL AND NEW.new IS NULL AND NEW.id = OLD.id AND NEW.at = OLD.at
    AND NEW.actor = OLD.actor AND NEW.action = OLD.action AND NEW.table_name = OLD.table_name
    AND NEW.record_id IS NOT DISTINCT FROM OLD.record_id AND NEW.detail = OLD.detail
"""

SEPARATION_MESSAGE = "separation of duties: the moderator took part in this audit"
APPEND_ONLY_MESSAGE = "audit_event is append-only"

POSTGRESQL_UPGRADE = (
    f"""
    DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            BEGIN
                CREATE ROLE {APP_ROLE} NOLOGIN;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- another database in this cluster created it at the same moment
            END;
        END IF;
    END $$
    """,
    f"""
    DO $$ DECLARE s text := current_schema(); BEGIN
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO {APP_ROLE}', s);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO {APP_ROLE}', s);
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I '
                       'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}', s);
    END $$
    """,
    f"REVOKE ALL ON alembic_version FROM PUBLIC, {APP_ROLE}",
    f"GRANT SELECT ON alembic_version TO {APP_ROLE}",
    f"REVOKE ALL ON audit_event FROM PUBLIC, {APP_ROLE}",
    f"GRANT SELECT, INSERT ON audit_event TO {APP_ROLE}",
    f"""
    CREATE FUNCTION qa_tui_moderation_separation() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF {TOOK_PART} THEN
            RAISE EXCEPTION '{SEPARATION_MESSAGE}'
                USING ERRCODE = 'check_violation',
                      DETAIL = format('person %s, audit %s', NEW.moderator_id, NEW.audit_id);
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER moderation_separation_of_duties
        BEFORE INSERT OR UPDATE OF audit_id, moderator_id ON moderation
        FOR EACH ROW EXECUTE FUNCTION qa_tui_moderation_separation()
    """,
    f"""
    CREATE FUNCTION qa_tui_audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND {REDACTION} THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}: % refused', TG_OP USING ERRCODE = 'restrict_violation';
    END $$
    """,
    """
    CREATE TRIGGER audit_event_append_only
        BEFORE UPDATE OR DELETE ON audit_event
        FOR EACH ROW EXECUTE FUNCTION qa_tui_audit_event_append_only()
    """,
)

POSTGRESQL_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
    "DROP FUNCTION IF EXISTS qa_tui_audit_event_append_only()",
    "DROP TRIGGER IF EXISTS moderation_separation_of_duties ON moderation",
    "DROP FUNCTION IF EXISTS qa_tui_moderation_separation()",
    f"""
    DO $$ DECLARE s text := current_schema(); BEGIN
        IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I '
                           'REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {APP_ROLE}', s);
            EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM {APP_ROLE}', s);
            EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM {APP_ROLE}', s);
        END IF;
    END $$
    """,
)

# SQLite compares NULLs with IS; the rest of the redaction test reads the same.
SQLITE_UPGRADE = tuple(
    f"""
    CREATE TRIGGER moderation_separation_of_duties_{name}
        BEFORE {when} ON moderation
        WHEN {TOOK_PART}
    BEGIN
        SELECT RAISE(ABORT, '{SEPARATION_MESSAGE}');
    END
    """
    for name, when in (("insert", "INSERT"), ("update", "UPDATE OF audit_id, moderator_id"))
) + (
    f"""
    CREATE TRIGGER audit_event_append_only_update BEFORE UPDATE ON audit_event
        WHEN NOT ({REDACTION.replace("IS NOT DISTINCT FROM", "IS")})
    BEGIN
        SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}: UPDATE refused');
    END
    """,
    f"""
    CREATE TRIGGER audit_event_append_only_delete BEFORE DELETE ON audit_event
    BEGIN
        SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}: DELETE refused');
    END
    """,
)

SQLITE_DOWNGRADE = tuple(
    f"DROP TRIGGER IF EXISTS {name}" for name in (
        "moderation_separation_of_duties_insert", "moderation_separation_of_duties_update",
        "audit_event_append_only_update", "audit_event_append_only_delete")
)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_UPGRADE if postgresql else SQLITE_UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_DOWNGRADE if postgresql else SQLITE_DOWNGRADE:
        op.execute(statement)
