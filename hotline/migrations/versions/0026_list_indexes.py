"""lists and board: orders by status newest first, and orders with a department in deadline order

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 02:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

WITH_DEPARTMENT_SQL = "status IN ('awaiting_sign', 'in_progress', 'returned')"


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index('ix_tickets_with_department_due', ['due_at', 'id'], unique=False,
                              postgresql_where=sa.text(WITH_DEPARTMENT_SQL), sqlite_where=sa.text(WITH_DEPARTMENT_SQL))


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_with_department_due')
        batch_op.drop_index('ix_tickets_status_created')
