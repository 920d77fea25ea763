"""impact: what changed for the child, kept with a done action; the reference of a record audited

Completing an action records what changed for the child in its own column, so the impact report
reads it beside the grades rather than searching the evidence text. An audit of a record that is
not a child's case (a foster carer's or adopter's file) keeps that record's reference from the
case system (never a name). Plain ALTER TABLEs (an empty default; a nullable column): no SQLite
table is rebuilt and no trigger is touched; existing rows keep "" and NULL.

Revision ID: 0011_impact
Revises: 0010_identity2
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = '0011_impact'
down_revision = '0010_identity2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('action', sa.Column('child_outcome', sa.Text(), nullable=False, server_default=''))
    op.add_column('audit', sa.Column('record_reference', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit') as batch_op:
        batch_op.drop_column('record_reference')
    with op.batch_alter_table('action') as batch_op:
        batch_op.drop_column('child_outcome')
