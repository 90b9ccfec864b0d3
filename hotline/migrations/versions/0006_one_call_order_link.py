"""one link between a call and an order: calls.ticket_id; tickets.call_id goes

Every order's call id becomes the link on the call it names (where that call names no order
yet); the downgrade puts back the column and fills it from the incoming call that names each order.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    # the first order registered on a call is the one it names (as registration linked them)
    op.execute("""
        UPDATE calls SET ticket_id = (
            SELECT min(tickets.id) FROM tickets WHERE tickets.call_id = calls.sip_call_id)
        WHERE ticket_id IS NULL
          AND EXISTS (SELECT 1 FROM tickets WHERE tickets.call_id = calls.sip_call_id)
    """)
    # a plain ALTER (SQLite 3.35+ drops a column in place): a batch rebuild would drop the tickets
    # table, which the foreign keys of every order's rows refuse once there are any
    op.drop_column('tickets', 'call_id')


def downgrade():
    op.add_column('tickets', sa.Column('call_id', sa.String(length=128), nullable=True))
    # the call an order was taken on: the first incoming call naming it (calls placed about
    # an order, such as surveys, name it too but were never its call id)
    op.execute("""
        UPDATE tickets SET call_id = (
            SELECT calls.sip_call_id FROM calls WHERE calls.ticket_id = tickets.id AND calls.leg = 'inbound'
            ORDER BY calls.started_at, calls.id LIMIT 1)
        WHERE EXISTS (SELECT 1 FROM calls WHERE calls.ticket_id = tickets.id AND calls.leg = 'inbound')
    """)
