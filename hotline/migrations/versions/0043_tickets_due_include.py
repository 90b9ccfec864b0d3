"""lists in deadline order with a filter: the deadline index carries what the filters ask

A list in deadline order read the orders' deadline index (migration 0037) and each order's row to test a
filter on it. Deadlines follow registration, so a list of the orders registered since a date, earliest
deadline first, passed over every order registered before (their deadlines came first): about 550 ms at a
million orders, and more the longer the history. On PostgreSQL the index now carries the registration
instant, category and type beside each deadline, and the status and closing instant a department's
visibility asks of an order, so such a walk tests them in the index (at a million, warm: the centre's
49 ms, a department's 62 ms). It grows from 30 to 72 MB a million orders. SQLite has no INCLUDE: its index
is unchanged.

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-08 00:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0043'
down_revision = '0042'
branch_labels = None
depends_on = None


def _rebuild(include: list[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index('ix_tickets_due', table_name='tickets')
    op.create_index('ix_tickets_due', 'tickets', ['due_at', 'id'], unique=False, postgresql_include=include)


def upgrade():
    _rebuild(['created_at', 'category_id', 'type', 'status', 'closed_at'])


def downgrade():
    _rebuild([])
