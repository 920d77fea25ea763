"""programme: escalations of Inadequate findings and of a child who may be at risk now

An audit graded Inadequate (overall or in a domain), or flagging a child who may be at risk
now, is escalated to a named owner with a date to respond by. A new table: no batch alter of an
existing one, so no trigger is touched. On PostgreSQL the default privileges from 0002 give
`qa_tui_app` its rights.

Revision ID: 0007_programme
Revises: 0006_identity
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = '0007_programme'
down_revision = '0006_identity'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'escalation',
        sa.Column('audit_id', sa.Uuid(), nullable=False),
        sa.Column('owner_id', sa.Uuid(), nullable=False),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('raised_on', sa.Date(), nullable=False),
        sa.Column('respond_by', sa.Date(), nullable=False),
        sa.Column('answered_on', sa.Date(), nullable=True),
        sa.Column('response', sa.Text(), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=120), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('synced_version', sa.Integer(), nullable=True),
        sa.CheckConstraint("reason IN ('inadequate','risk_now')", name=op.f('ck_escalation_reason')),
        sa.ForeignKeyConstraint(['audit_id'], ['audit.id'], name=op.f('fk_escalation_audit_id_audit')),
        sa.ForeignKeyConstraint(['owner_id'], ['person.id'], name=op.f('fk_escalation_owner_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation')),
    )
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalation_audit_id'), ['audit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalation_audit_id'))
    op.drop_table('escalation')
