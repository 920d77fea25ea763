"""perf: indexes for the set-based draw and triage

The draw finds the cases audited since a date (audit by date, with the case) and each audit's
latest moderation (for re-audits for impact); triage finds who has been observed this year
(observation by worker and date). Indexes only: no table is rebuilt, no data changes.

Revision ID: 0012_perf
Revises: 0011_impact
Create Date: 2026-12-05
"""

from alembic import op

revision = '0012_perf'
down_revision = '0011_impact'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_audit_date_case', 'audit', ['audit_date', 'case_id'], unique=False)
    op.create_index('ix_moderation_audit_latest', 'moderation', ['audit_id', 'moderated_on', 'created_at'],
                    unique=False)
    op.create_index('ix_observation_worker_observed', 'observation', ['worker_id', 'observed_on'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_observation_worker_observed', table_name='observation')
    op.drop_index('ix_moderation_audit_latest', table_name='moderation')
    op.drop_index('ix_audit_date_case', table_name='audit')
