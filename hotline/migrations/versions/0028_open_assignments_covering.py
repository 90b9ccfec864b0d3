"""a department's overdue orders: the open-assignments index also holds each assignment's order

The API's list of a department's overdue orders keeps an exact total. Counting it read every
matching assignment row from the table (and at a million orders the planner started parallel
workers for it); the index now carries the order id (PostgreSQL: INCLUDE), so the count is read
from the index alone, and the assignment id as a last key gives the page its exact order.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 04:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

OPEN_ASSIGNMENT_SQL = "status IN ('awaiting_sign', 'in_progress', 'returned')"


def _create(columns: list[str], **include) -> None:
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_open_dept_due', columns, unique=False,
                              postgresql_where=sa.text(OPEN_ASSIGNMENT_SQL), sqlite_where=sa.text(OPEN_ASSIGNMENT_SQL),
                              **include)


def _drop() -> None:
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_open_dept_due')


def upgrade():
    _drop()
    _create(['department_id', 'reply_due_at', 'id'], postgresql_include=['ticket_id'])


def downgrade():
    _drop()
    _create(['department_id', 'reply_due_at'])
