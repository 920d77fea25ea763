"""escalation answer: who answered an escalation, beside when and what

An escalation's owner, or someone above them in the line management, records what was done in
response; the escalation keeps the person who answered. A plain ALTER TABLE adding a nullable
column: no SQLite table is rebuilt and no trigger is touched; existing answers keep NULL.

Revision ID: 0014_escalation_answer
Revises: 0013_event_dates
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = '0014_escalation_answer'
down_revision = '0013_event_dates'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('escalation', sa.Column('answered_by_id', sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('escalation') as batch_op:
        batch_op.drop_column('answered_by_id')
