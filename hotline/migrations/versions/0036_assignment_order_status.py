"""a department's list filtered by status: each assignment carries its order's status, indexed by department

A department's handler filtering its list by status (in hand, replied, awaiting a visit) read the orders of
that status of every department and asked each for one of the department's assignments: at a million orders
that was about 10,000 index probes for a page of 50 and 40 ms and more for the rarer statuses, several
hundred when the pages were cold. The assignment now keeps its order's status (the ORM writes it with the
order, tickets.models) and the list reads the department's own assignments of orders in that status, newest
first, a page at a time.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-07 18:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None

STATUSES = ('registered', 'awaiting_sign', 'returned', 'in_progress', 'replied', 'awaiting_visit',
            'closed', 'merged', 'cancelled')


def upgrade():
    # ALTER TABLE ... ADD COLUMN on both backends: a batch would copy the table, which SQLite refuses while other
    # tables' rows point at it. The rows already there need a value to be NOT NULL: the default, then their own.
    op.add_column('assignments', sa.Column('ticket_status', sa.String(32), nullable=False,
                                           server_default='registered'))
    op.execute("UPDATE assignments SET ticket_status = "
               "(SELECT tickets.status FROM tickets WHERE tickets.id = assignments.ticket_id)")
    if op.get_bind().dialect.name == 'postgresql':
        # SQLite cannot add either to a table it keeps (the ORM writes every value, validated as an enum)
        op.alter_column('assignments', 'ticket_status', server_default=None)
        op.create_check_constraint('ticket_status', 'assignments',
                                   "ticket_status IN (%s)" % ", ".join(f"'{s}'" for s in STATUSES))
    op.create_index('ix_assignments_dept_ticket_status', 'assignments',
                    ['department_id', 'ticket_status', 'ticket_created_at', 'ticket_id'], unique=False,
                    postgresql_include=['status', 'withdrawn_at'])


def downgrade():
    op.drop_index('ix_assignments_dept_ticket_status', table_name='assignments')
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint('ticket_status', 'assignments', type_='check')  # ck_assignments_ticket_status
    op.drop_column('assignments', 'ticket_status')
