"""lists of one type of order, newest first

A list filtered by a type few orders have (praise, repair requests; at most hotlines consultations and
complaints are most of them) read the orders newest first until a page of that type had turned up: where
none had lately, every order, about 110 ms at a million. This index reads them by type, newest first
(6.5 ms at a million for a type no order has). Registering measured the same with it as without (three
rounds of 400 at a million orders: 5.2-6.1 ms against 5.1-7.0).

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-07 21:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0041'
down_revision = '0040'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_tickets_type_created', 'tickets', ['type', 'created_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_tickets_type_created', table_name='tickets')
