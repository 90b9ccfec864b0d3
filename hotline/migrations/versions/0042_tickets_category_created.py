"""lists of one category, newest first

A list filtered by a category (and everything under it) asked for the orders whose category was in a
subquery, which the planner could not see into: it read every order newest first until a page of the
category had turned up, so a category few orders have (a new one, a rare one) read all of them, about
800 ms at a million. The list now asks for the category's ids themselves, and this index (which replaces
ix_tickets_category_id, whose lookups it serves as well) reads one category's orders newest first.

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-08 00:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0042'
down_revision = '0041'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_tickets_category_created', 'tickets', ['category_id', 'created_at', 'id'], unique=False)
    op.drop_index('ix_tickets_category_id', table_name='tickets')


def downgrade():
    op.create_index('ix_tickets_category_id', 'tickets', ['category_id'], unique=False)
    op.drop_index('ix_tickets_category_created', table_name='tickets')
