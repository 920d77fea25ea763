"""event dates: a follow-up made before 0009 is dated by the finding it comes from

0009 gave follow-ups `event_on` (the observation, audit, dip sample or feedback date) so one can be
ticked at any supervision held on or after the event; rows made before it kept NULL and were read
as dated by the day they were entered, so an observation entered late still could not be ticked at
the supervision where it was discussed. This fills `event_on` from the record each row comes from.
Plain UPDATEs: on PostgreSQL each changed row is trailed by the database, with this reason.

Revision ID: 0013_event_dates
Revises: 0012_perf
Create Date: 2026-12-05
"""

from alembic import op

revision = '0013_event_dates'
down_revision = '0012_perf'
branch_labels = None
depends_on = None

# source kind → (table, date column) of the record a follow-up comes from
SOURCES = {
    "audit": ("audit", "audit_date"),
    "dip_sample": ("audit", "audit_date"),
    "observation": ("observation", "observed_on"),
    "feedback": ("feedback", "received_on"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT set_config('qa_tui.trail_detail', "
                   "'migration 0013: follow-up dated by the finding it comes from', true)")
    for kind, (table, column) in SOURCES.items():
        op.execute(
            f"UPDATE follow_up SET event_on = (SELECT s.{column} FROM {table} s WHERE s.id = follow_up.source_id) "
            f"WHERE event_on IS NULL AND source_kind = '{kind}' "
            f"AND EXISTS (SELECT 1 FROM {table} s WHERE s.id = follow_up.source_id)")


def downgrade() -> None:
    """Nothing to undo: the dates are the records' own, and NULL was read as the entry date."""
