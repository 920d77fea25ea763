"""initial schema

Revision ID: 0001_initial
Revises: 
Create Date: 2026-11-24
"""

from alembic import op
import sqlalchemy as sa


revision = '0001_initial'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('table_name', sa.String(length=60), nullable=False),
    sa.Column('record_id', sa.String(length=40), nullable=True),
    sa.Column('old', sa.JSON(), nullable=True),
    sa.Column('new', sa.JSON(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_record_id'), ['record_id'], unique=False)

    op.create_table('audit_template',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('template_version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('scale', sa.JSON(), nullable=False),
    sa.Column('domains', sa.JSON(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_template')),
    sa.UniqueConstraint('key', 'template_version', name=op.f('uq_audit_template_key_template_version'))
    )
    op.create_table('draft',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('owner', sa.String(length=120), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_draft'))
    )
    op.create_table('service',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service')),
    sa.UniqueConstraint('code', name=op.f('uq_service_code'))
    )
    op.create_table('sync_import',
    sa.Column('bundle_id', sa.Uuid(), nullable=False),
    sa.Column('receipt', sa.JSON(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('device', sa.String(length=80), nullable=False),
    sa.Column('exported_by', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('bundle_id', name=op.f('pk_sync_import'))
    )
    op.create_table('sync_state',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_sync_state'))
    )
    op.create_table('theme',
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('template_key', sa.String(length=40), nullable=False),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('agencies', sa.JSON(), nullable=False),
    sa.Column('learning', sa.Text(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('themed','multi_agency')", name=op.f('ck_theme_kind')),
    sa.CheckConstraint("status IN ('open','closed')", name=op.f('ck_theme_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_theme'))
    )
    op.create_table('sync_conflict',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('table_name', sa.String(length=60), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('incoming', sa.JSON(), nullable=False),
    sa.Column('incoming_hash', sa.String(length=64), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=True),
    sa.Column('live_version', sa.Integer(), nullable=True),
    sa.Column('bundle_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('resolution', sa.String(length=12), nullable=True),
    sa.Column('resolved_by', sa.String(length=120), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("resolution IS NULL OR resolution IN ('shared','incoming','merged')", name=op.f('ck_sync_conflict_resolution')),
    sa.CheckConstraint("status IN ('open','resolved')", name=op.f('ck_sync_conflict_status')),
    sa.ForeignKeyConstraint(['bundle_id'], ['sync_import.bundle_id'], name=op.f('fk_sync_conflict_bundle_id_sync_import')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_conflict'))
    )
    with op.batch_alter_table('sync_conflict', schema=None) as batch_op:
        batch_op.create_index('ix_sync_conflict_status_record', ['status', 'table_name', 'record_id'], unique=False)

    op.create_table('team',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('service_id', sa.Uuid(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_team_service_id_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team')),
    sa.UniqueConstraint('code', name=op.f('uq_team_code'))
    )
    op.create_table('case_draw',
    sa.Column('team_id', sa.Uuid(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('seed', sa.String(length=80), nullable=False),
    sa.Column('algorithm', sa.String(length=40), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('drawn_on', sa.Date(), nullable=False),
    sa.Column('drawn_by', sa.String(length=120), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_case_draw_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_draw'))
    )
    with op.batch_alter_table('case_draw', schema=None) as batch_op:
        batch_op.create_index('ix_case_draw_team_month', ['team_id', 'month'], unique=False)

    op.create_table('person',
    sa.Column('staff_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    sa.Column('manager_id', sa.Uuid(), nullable=True),
    sa.Column('asye_start', sa.Date(), nullable=True),
    sa.Column('active_from', sa.Date(), nullable=True),
    sa.Column('active_to', sa.Date(), nullable=True),
    sa.Column('login', sa.String(length=120), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['manager_id'], ['person.id'], name=op.f('fk_person_manager_id_person')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_person_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
    sa.UniqueConstraint('login', name=op.f('uq_person_login')),
    sa.UniqueConstraint('staff_id', name=op.f('uq_person_staff_id'))
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_team_id'), ['team_id'], unique=False)

    op.create_table('case_file',
    sa.Column('reference', sa.String(length=60), nullable=False),
    sa.Column('category', sa.String(length=8), nullable=False),
    sa.Column('worker_id', sa.Uuid(), nullable=True),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    sa.Column('opened_on', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('cp_plan_start', sa.Date(), nullable=True),
    sa.Column('cp_plan_end', sa.Date(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_case_file_team_id_team')),
    sa.ForeignKeyConstraint(['worker_id'], ['person.id'], name=op.f('fk_case_file_worker_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_file')),
    sa.UniqueConstraint('reference', name=op.f('uq_case_file_reference'))
    )
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.create_index('ix_case_file_team_open', ['team_id', 'closed_on'], unique=False)
        batch_op.create_index('ix_case_file_worker_open', ['worker_id', 'closed_on'], unique=False)

    op.create_table('draw_pool',
    sa.Column('draw_id', sa.Uuid(), nullable=False),
    sa.Column('worker_id', sa.Uuid(), nullable=False),
    sa.Column('worker_key', sa.String(length=40), nullable=False),
    sa.Column('eligible', sa.JSON(), nullable=False),
    sa.Column('empty_reason', sa.Text(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['draw_id'], ['case_draw.id'], name=op.f('fk_draw_pool_draw_id_case_draw'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['worker_id'], ['person.id'], name=op.f('fk_draw_pool_worker_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draw_pool'))
    )
    with op.batch_alter_table('draw_pool', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_draw_pool_draw_id'), ['draw_id'], unique=False)

    op.create_table('good_practice',
    sa.Column('source_kind', sa.String(length=20), nullable=False),
    sa.Column('source_id', sa.Uuid(), nullable=False),
    sa.Column('worker_id', sa.Uuid(), nullable=True),
    sa.Column('why', sa.Text(), nullable=False),
    sa.Column('marked_by_id', sa.Uuid(), nullable=True),
    sa.Column('marked_on', sa.Date(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.CheckConstraint("source_kind IN ('audit','observation','feedback')", name=op.f('ck_good_practice_source_kind')),
    sa.ForeignKeyConstraint(['marked_by_id'], ['person.id'], name=op.f('fk_good_practice_marked_by_id_person')),
    sa.ForeignKeyConstraint(['worker_id'], ['person.id'], name=op.f('fk_good_practice_worker_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_good_practice')),
    sa.UniqueConstraint('source_kind', 'source_id', name=op.f('uq_good_practice_source_kind_source_id'))
    )
    with op.batch_alter_table('good_practice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_good_practice_marked_on'), ['marked_on'], unique=False)

    op.create_table('observation',
    sa.Column('observer_id', sa.Uuid(), nullable=True),
    sa.Column('worker_id', sa.Uuid(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('setting', sa.String(length=200), nullable=False),
    sa.Column('went_well', sa.Text(), nullable=False),
    sa.Column('to_develop', sa.Text(), nullable=False),
    sa.Column('reflection', sa.Text(), nullable=False),
    sa.Column('feedback_shared', sa.Boolean(), nullable=False),
    sa.Column('themes', sa.JSON(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['observer_id'], ['person.id'], name=op.f('fk_observation_observer_id_person')),
    sa.ForeignKeyConstraint(['worker_id'], ['person.id'], name=op.f('fk_observation_worker_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observation'))
    )
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_observation_worker_id'), ['worker_id'], unique=False)

    op.create_table('supervision',
    sa.Column('worker_id', sa.Uuid(), nullable=False),
    sa.Column('supervisor_id', sa.Uuid(), nullable=True),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['supervisor_id'], ['person.id'], name=op.f('fk_supervision_supervisor_id_person')),
    sa.ForeignKeyConstraint(['worker_id'], ['person.id'], name=op.f('fk_supervision_worker_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision'))
    )
    with op.batch_alter_table('supervision', schema=None) as batch_op:
        batch_op.create_index('ix_supervision_worker_held', ['worker_id', 'held_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_worker_id'), ['worker_id'], unique=False)

    op.create_table('support_plan',
    sa.Column('worker_id', sa.Uuid(), nullable=False),
    sa.Column('manager_id', sa.Uuid(), nullable=False),
    sa.Column('aim', sa.Text(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('open','closed')", name=op.f('ck_support_plan_status')),
    sa.ForeignKeyConstraint(['manager_id'], ['person.id'], name=op.f('fk_support_plan_manager_id_person')),
    sa.ForeignKeyConstraint(['worker_id'], ['person.id'], name=op.f('fk_support_plan_worker_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_plan'))
    )
    with op.batch_alter_table('support_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_plan_worker_id'), ['worker_id'], unique=False)

    op.create_table('draw_pick',
    sa.Column('draw_id', sa.Uuid(), nullable=False),
    sa.Column('worker_id', sa.Uuid(), nullable=False),
    sa.Column('case_reference', sa.String(length=60), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('replaces_id', sa.Uuid(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_by', sa.String(length=120), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_draw_pick_case_id_case_file')),
    sa.ForeignKeyConstraint(['draw_id'], ['case_draw.id'], name=op.f('fk_draw_pick_draw_id_case_draw'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['replaces_id'], ['draw_pick.id'], name=op.f('fk_draw_pick_replaces_id_draw_pick')),
    sa.ForeignKeyConstraint(['worker_id'], ['person.id'], name=op.f('fk_draw_pick_worker_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draw_pick'))
    )
    with op.batch_alter_table('draw_pick', schema=None) as batch_op:
        batch_op.create_index('ix_draw_pick_case_id', ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_draw_pick_draw_id'), ['draw_id'], unique=False)
        batch_op.create_index('uq_draw_pick_round', ['draw_id', 'worker_id', 'round'], unique=True)

    op.create_table('feedback',
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('worker_id', sa.Uuid(), nullable=True),
    sa.Column('giver', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('said', sa.Text(), nullable=False),
    sa.Column('themes', sa.JSON(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_feedback_case_id_case_file')),
    sa.ForeignKeyConstraint(['worker_id'], ['person.id'], name=op.f('fk_feedback_worker_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback'))
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_worker_id'), ['worker_id'], unique=False)

    op.create_table('follow_up',
    sa.Column('worker_id', sa.Uuid(), nullable=False),
    sa.Column('source_kind', sa.String(length=20), nullable=False),
    sa.Column('source_id', sa.Uuid(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('raised_on', sa.Date(), nullable=False),
    sa.Column('supervision_id', sa.Uuid(), nullable=True),
    sa.Column('discussed_note', sa.Text(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['supervision_id'], ['supervision.id'], name=op.f('fk_follow_up_supervision_id_supervision')),
    sa.ForeignKeyConstraint(['worker_id'], ['person.id'], name=op.f('fk_follow_up_worker_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up'))
    )
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_worker_id'), ['worker_id'], unique=False)

    op.create_table('audit',
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('template_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('worker_id', sa.Uuid(), nullable=True),
    sa.Column('auditor_id', sa.Uuid(), nullable=True),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    sa.Column('audit_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('draw_pick_id', sa.Uuid(), nullable=True),
    sa.Column('overall_grade', sa.Integer(), nullable=True),
    sa.Column('strengths', sa.Text(), nullable=False),
    sa.Column('to_improve', sa.Text(), nullable=False),
    sa.Column('lived_experience', sa.Text(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('moderated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finalised_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('draft','submitted','moderated','finalised')", name=op.f('ck_audit_status')),
    sa.ForeignKeyConstraint(['auditor_id'], ['person.id'], name=op.f('fk_audit_auditor_id_person')),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_audit_case_id_case_file')),
    sa.ForeignKeyConstraint(['draw_pick_id'], ['draw_pick.id'], name=op.f('fk_audit_draw_pick_id_draw_pick')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_audit_team_id_team')),
    sa.ForeignKeyConstraint(['template_id'], ['audit_template.id'], name=op.f('fk_audit_template_id_audit_template')),
    sa.ForeignKeyConstraint(['worker_id'], ['person.id'], name=op.f('fk_audit_worker_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit'))
    )
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_auditor_id'), ['auditor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_audit_status_date', ['status', 'audit_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_worker_id'), ['worker_id'], unique=False)
        batch_op.create_index('uq_audit_draw_pick_id', ['draw_pick_id'], unique=True)

    op.create_table('support_step',
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('step', sa.Text(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.Column('follow_up_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['follow_up_id'], ['follow_up.id'], name=op.f('fk_support_step_follow_up_id_follow_up')),
    sa.ForeignKeyConstraint(['plan_id'], ['support_plan.id'], name=op.f('fk_support_step_plan_id_support_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_step'))
    )
    with op.batch_alter_table('support_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_step_plan_id'), ['plan_id'], unique=False)

    op.create_table('action',
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    sa.Column('raised_by_id', sa.Uuid(), nullable=True),
    sa.Column('raised_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('source_kind', sa.String(length=20), nullable=False),
    sa.Column('audit_id', sa.Uuid(), nullable=True),
    sa.Column('source_id', sa.Uuid(), nullable=True),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('open','done','cancelled')", name=op.f('ck_action_status')),
    sa.ForeignKeyConstraint(['audit_id'], ['audit.id'], name=op.f('fk_action_audit_id_audit')),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_action_case_id_case_file')),
    sa.ForeignKeyConstraint(['owner_id'], ['person.id'], name=op.f('fk_action_owner_id_person')),
    sa.ForeignKeyConstraint(['raised_by_id'], ['person.id'], name=op.f('fk_action_raised_by_id_person')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_action_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action'))
    )
    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_audit_id'), ['audit_id'], unique=False)
        batch_op.create_index('ix_action_open_due', ['status', 'due_on', 'id'], unique=False)
        batch_op.create_index('ix_action_owner_due', ['owner_id', 'status', 'due_on'], unique=False)
        batch_op.create_index('ix_action_team_due', ['team_id', 'status', 'due_on'], unique=False)

    op.create_table('agency_finding',
    sa.Column('audit_id', sa.Uuid(), nullable=False),
    sa.Column('agency', sa.String(length=120), nullable=False),
    sa.Column('finding', sa.Text(), nullable=False),
    sa.Column('learning', sa.Text(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['audit_id'], ['audit.id'], name=op.f('fk_agency_finding_audit_id_audit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_finding')),
    sa.UniqueConstraint('audit_id', 'agency', name=op.f('uq_agency_finding_audit_id_agency'))
    )
    with op.batch_alter_table('agency_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_finding_audit_id'), ['audit_id'], unique=False)

    op.create_table('audit_grade',
    sa.Column('audit_id', sa.Uuid(), nullable=False),
    sa.Column('domain', sa.String(length=40), nullable=False),
    sa.Column('participant_id', sa.Uuid(), nullable=True),
    sa.Column('grade', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['audit_id'], ['audit.id'], name=op.f('fk_audit_grade_audit_id_audit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['person.id'], name=op.f('fk_audit_grade_participant_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_grade'))
    )
    with op.batch_alter_table('audit_grade', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_grade_audit_id'), ['audit_id'], unique=False)

    op.create_table('audit_participant',
    sa.Column('audit_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['audit_id'], ['audit.id'], name=op.f('fk_audit_participant_audit_id_audit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_audit_participant_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_participant')),
    sa.UniqueConstraint('audit_id', 'person_id', name=op.f('uq_audit_participant_audit_id_person_id'))
    )
    op.create_table('moderation',
    sa.Column('audit_id', sa.Uuid(), nullable=False),
    sa.Column('moderator_id', sa.Uuid(), nullable=False),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('overall_grade', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('moderated_on', sa.Date(), nullable=False),
    sa.Column('grades', sa.JSON(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.CheckConstraint("outcome IN ('agreed','regraded','returned')", name=op.f('ck_moderation_outcome')),
    sa.ForeignKeyConstraint(['audit_id'], ['audit.id'], name=op.f('fk_moderation_audit_id_audit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['moderator_id'], ['person.id'], name=op.f('fk_moderation_moderator_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation'))
    )
    with op.batch_alter_table('moderation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_moderation_audit_id'), ['audit_id'], unique=False)

    op.create_table('theme_case',
    sa.Column('theme_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('auditor_id', sa.Uuid(), nullable=True),
    sa.Column('audit_id', sa.Uuid(), nullable=True),
    sa.Column('added_by_rule', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['audit_id'], ['audit.id'], name=op.f('fk_theme_case_audit_id_audit')),
    sa.ForeignKeyConstraint(['auditor_id'], ['person.id'], name=op.f('fk_theme_case_auditor_id_person')),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_theme_case_case_id_case_file')),
    sa.ForeignKeyConstraint(['theme_id'], ['theme.id'], name=op.f('fk_theme_case_theme_id_theme'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_theme_case')),
    sa.UniqueConstraint('theme_id', 'case_id', name=op.f('uq_theme_case_theme_id_case_id'))
    )
    with op.batch_alter_table('theme_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_theme_case_theme_id'), ['theme_id'], unique=False)

    op.create_table('action_change',
    sa.Column('action_id', sa.Uuid(), nullable=False),
    sa.Column('change', sa.String(length=20), nullable=False),
    sa.Column('old_value', sa.String(length=200), nullable=False),
    sa.Column('new_value', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changed_on', sa.Date(), nullable=False),
    sa.Column('changed_by_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['action_id'], ['action.id'], name=op.f('fk_action_change_action_id_action'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['changed_by_id'], ['person.id'], name=op.f('fk_action_change_changed_by_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_change'))
    )
    with op.batch_alter_table('action_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_change_action_id'), ['action_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('action_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_change_action_id'))

    op.drop_table('action_change')
    with op.batch_alter_table('theme_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_theme_case_theme_id'))

    op.drop_table('theme_case')
    with op.batch_alter_table('moderation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_moderation_audit_id'))

    op.drop_table('moderation')
    op.drop_table('audit_participant')
    with op.batch_alter_table('audit_grade', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_grade_audit_id'))

    op.drop_table('audit_grade')
    with op.batch_alter_table('agency_finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_finding_audit_id'))

    op.drop_table('agency_finding')
    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.drop_index('ix_action_team_due')
        batch_op.drop_index('ix_action_owner_due')
        batch_op.drop_index('ix_action_open_due')
        batch_op.drop_index(batch_op.f('ix_action_audit_id'))

    op.drop_table('action')
    with op.batch_alter_table('support_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_step_plan_id'))

    op.drop_table('support_step')
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.drop_index('uq_audit_draw_pick_id')
        batch_op.drop_index(batch_op.f('ix_audit_worker_id'))
        batch_op.drop_index('ix_audit_status_date')
        batch_op.drop_index(batch_op.f('ix_audit_case_id'))
        batch_op.drop_index(batch_op.f('ix_audit_auditor_id'))

    op.drop_table('audit')
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_worker_id'))

    op.drop_table('follow_up')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_worker_id'))

    op.drop_table('feedback')
    with op.batch_alter_table('draw_pick', schema=None) as batch_op:
        batch_op.drop_index('uq_draw_pick_round')
        batch_op.drop_index(batch_op.f('ix_draw_pick_draw_id'))
        batch_op.drop_index('ix_draw_pick_case_id')

    op.drop_table('draw_pick')
    with op.batch_alter_table('support_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_plan_worker_id'))

    op.drop_table('support_plan')
    with op.batch_alter_table('supervision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_worker_id'))
        batch_op.drop_index('ix_supervision_worker_held')

    op.drop_table('supervision')
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_observation_worker_id'))

    op.drop_table('observation')
    with op.batch_alter_table('good_practice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_good_practice_marked_on'))

    op.drop_table('good_practice')
    with op.batch_alter_table('draw_pool', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_draw_pool_draw_id'))

    op.drop_table('draw_pool')
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.drop_index('ix_case_file_worker_open')
        batch_op.drop_index('ix_case_file_team_open')

    op.drop_table('case_file')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_team_id'))

    op.drop_table('person')
    with op.batch_alter_table('case_draw', schema=None) as batch_op:
        batch_op.drop_index('ix_case_draw_team_month')

    op.drop_table('case_draw')
    op.drop_table('team')
    with op.batch_alter_table('sync_conflict', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_conflict_status_record')

    op.drop_table('sync_conflict')
    op.drop_table('theme')
    op.drop_table('sync_state')
    op.drop_table('sync_import')
    op.drop_table('service')
    op.drop_table('draft')
    op.drop_table('audit_template')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_record_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))

    op.drop_table('audit_event')
