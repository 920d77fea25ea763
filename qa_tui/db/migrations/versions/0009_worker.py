"""worker: closing the loop with the worker

Follow-ups keep the date of the event they come from; `record_seen` keeps when the worker first
opened a record about their work (beside it, so the record's version is not changed); a person keeps the last supervision an import gave; an action's change keeps the
supervision it was made in; `worker_response` holds a worker's response to an audit or an
observation. Columns are added with plain ALTER TABLE (all nullable, no foreign key), so no
SQLite table is rebuilt and no trigger is touched.

Revision ID: 0009_worker
Revises: 0008_sync
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = '0009_worker'
down_revision = '0008_sync'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('follow_up', sa.Column('event_on', sa.Date(), nullable=True))
    op.add_column('person', sa.Column('last_supervised_on', sa.Date(), nullable=True))
    op.add_column('action_change', sa.Column('supervision_id', sa.Uuid(), nullable=True))
    op.create_index(op.f('ix_action_change_supervision_id'), 'action_change', ['supervision_id'], unique=False)
    op.create_table(
        'worker_response',
        sa.Column('source_kind', sa.String(length=20), nullable=False),
        sa.Column('source_id', sa.Uuid(), nullable=False),
        sa.Column('worker_id', sa.Uuid(), nullable=False),
        sa.Column('stance', sa.String(length=12), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('reflection', sa.Text(), nullable=False),
        sa.Column('responded_on', sa.Date(), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=120), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('synced_version', sa.Integer(), nullable=True),
        sa.CheckConstraint("source_kind IN ('audit','observation')", name=op.f('ck_worker_response_source_kind')),
        sa.CheckConstraint("stance IN ('agree','disagree')", name=op.f('ck_worker_response_stance')),
        sa.ForeignKeyConstraint(['worker_id'], ['person.id'], name=op.f('fk_worker_response_worker_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_worker_response')),
        sa.UniqueConstraint('source_kind', 'source_id', 'worker_id',
                            name=op.f('uq_worker_response_source_kind_source_id_worker_id')),
    )
    op.create_index(op.f('ix_worker_response_worker_id'), 'worker_response', ['worker_id'], unique=False)
    op.create_table(
        'record_seen',
        sa.Column('source_kind', sa.String(length=20), nullable=False),
        sa.Column('source_id', sa.Uuid(), nullable=False),
        sa.Column('person_id', sa.Uuid(), nullable=False),
        sa.Column('seen_on', sa.Date(), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=120), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('synced_version', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_record_seen_person_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_record_seen')),
        sa.UniqueConstraint('source_kind', 'source_id', 'person_id',
                            name=op.f('uq_record_seen_source_kind_source_id_person_id')),
    )
    op.create_index(op.f('ix_record_seen_person_id'), 'record_seen', ['person_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_record_seen_person_id'), table_name='record_seen')
    op.drop_table('record_seen')
    op.drop_index(op.f('ix_worker_response_worker_id'), table_name='worker_response')
    op.drop_table('worker_response')
    op.drop_index(op.f('ix_action_change_supervision_id'), table_name='action_change')
    with op.batch_alter_table('action_change') as batch_op:
        batch_op.drop_column('supervision_id')
    with op.batch_alter_table('person') as batch_op:
        batch_op.drop_column('last_supervised_on')
    with op.batch_alter_table('follow_up') as batch_op:
        batch_op.drop_column('event_on')
