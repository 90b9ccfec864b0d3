"""lists in deadline order: every order by its deadline

A list sorted by deadline (the order list's "due first" or "due last", as the centre or as a department)
sorted every order that matched: at a million orders the centre's list took about a second per page and
a department's 300 ms. Read in this index's order, a page stops after its rows (the centre's) or after
the department's share of the orders walked (a department's).

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-07 18:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_tickets_due', 'tickets', ['due_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_tickets_due', table_name='tickets')
