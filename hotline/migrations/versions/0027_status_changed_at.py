"""to-do: when each order moved into its current status, kept on the order and indexed with the status

The centre's to-do queue ordered every waiting order by the newest step of its trail that led into
its status (one correlated max over ticket_events per order): at a million orders the reviewers'
landing page took seconds. The instant is now kept by the one write path (record_event) and filled
in here from the trail.

Revision ID: 0027
Revises: 0024
Create Date: 2026-12-06 03:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True))
    # the trail's newest step into the order's current status (the status is an enum on PostgreSQL)
    status = "CAST(tickets.status AS TEXT)" if op.get_bind().dialect.name == "postgresql" else "tickets.status"
    op.execute(f"""
        UPDATE tickets SET status_changed_at = (
            SELECT max(e.at) FROM ticket_events e
            WHERE e.ticket_id = tickets.id AND e.to_status = {status}
              AND (e.from_status IS NULL OR e.from_status <> {status}))
    """)
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_status_changed', ['status', 'status_changed_at'], unique=False)


def downgrade():
    op.drop_index('ix_tickets_status_changed', table_name='tickets')
    # SQLite (3.35 and later) drops a column in place: no copy of the orders table (which other tables name)
    op.execute("ALTER TABLE tickets DROP COLUMN status_changed_at")
