"""cin: every child protection plan of a case, from the CIN census

A case keeps its latest CP plan in `case_file.cp_plan_start`/`cp_plan_end`; `cp_plan` keeps each
plan a statutory return gave (start and end dates only), so a plan that ended early and was
followed by another is still known. A new table: no batch alter of an existing one, so no
trigger is touched. On PostgreSQL the default privileges from 0002 give `qa_tui_app` its rights.

Revision ID: 0005_cin
Revises: 0002_security
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = '0005_cin'
down_revision = '0002_security'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'cp_plan',
        sa.Column('case_id', sa.Uuid(), nullable=False),
        sa.Column('started_on', sa.Date(), nullable=False),
        sa.Column('ended_on', sa.Date(), nullable=True),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=120), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('synced_version', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_cp_plan_case_id_case_file')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cp_plan')),
        sa.UniqueConstraint('case_id', 'started_on', name=op.f('uq_cp_plan_case_id_started_on')),
    )
    with op.batch_alter_table('cp_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cp_plan_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cp_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cp_plan_case_id'))
    op.drop_table('cp_plan')
