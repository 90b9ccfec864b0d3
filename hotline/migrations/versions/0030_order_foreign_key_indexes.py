"""indexes on the order's other foreign keys: outbound calls, callbacks, merged orders

An order's page asks for the latest call placed from it (outbound_requests by ticket, newest
first); callbacks and merged orders are looked up by their order too. Without an index each of
these read the whole table, which grows with the orders (about one return-visit call per order).

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 06:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbound_requests', schema=None) as batch_op:
        batch_op.create_index('ix_outbound_requests_ticket', ['ticket_id', 'id'], unique=False)
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callbacks_ticket_id'), ['ticket_id'], unique=False)
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_merged_into_id'), ['merged_into_id'], unique=False)


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_merged_into_id'))
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callbacks_ticket_id'))
    with op.batch_alter_table('outbound_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_outbound_requests_ticket')
