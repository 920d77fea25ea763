"""sync: deletions travel as tombstones; a history row is held with its record's conflict

`sync_tombstone` keeps, on a laptop, each deleted record the shared database knows until a receipt
accounts for it. `sync_conflict` gains `deletion` (the incoming version is a deletion) and
`held_by` (a history row held with the conflict of the record it belongs to). Columns are added
with plain ALTER TABLE ... ADD COLUMN (no batch copy), so no trigger is touched. On PostgreSQL the
default privileges from 0002 give `qa_tui_app` its rights on the new table.

Revision ID: 0008_sync
Revises: 0007_programme
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = '0008_sync'
down_revision = '0007_programme'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sync_tombstone',
        sa.Column('table_name', sa.String(length=60), nullable=False),
        sa.Column('record_id', sa.Uuid(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('base_version', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('deleted_by', sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint('table_name', 'record_id', name=op.f('pk_sync_tombstone')),
    )
    op.add_column('sync_conflict', sa.Column('deletion', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('sync_conflict', sa.Column('held_by', sa.Uuid(), nullable=True))
    op.create_index(op.f('ix_sync_conflict_held_by'), 'sync_conflict', ['held_by'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_sync_conflict_held_by'), table_name='sync_conflict')
    with op.batch_alter_table('sync_conflict', schema=None) as batch_op:
        batch_op.drop_column('held_by')
        batch_op.drop_column('deletion')
    op.drop_table('sync_tombstone')
