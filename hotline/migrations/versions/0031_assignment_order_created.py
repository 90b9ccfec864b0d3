"""a department's list: each assignment carries when its order was registered, indexed by department

A department's handler sees the orders its units were assigned, newest first. The list walked every
order newest first and looked for one of the department's assignments on each: with 24 departments
sharing a million orders that was about 10,000 index probes for a page of 50, and one department's
share only shrinks as the line grows. The order's registration instant never changes after it is
registered, so the assignment keeps a copy and the list reads the department's own assignments in
that order, 50 (and the page's offset) at a time; a department with sub-units walks all assignments
newest first and keeps its units' (a second index). Status and withdrawal instant are carried in the
indexes for the visibility check (a withdrawn assignment opens the order only where a merge or
cancellation ended it), so the walk reads the index alone.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06 21:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ticket_created_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE assignments SET ticket_created_at = "
               "(SELECT tickets.created_at FROM tickets WHERE tickets.id = assignments.ticket_id)")
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.alter_column('ticket_created_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.create_index('ix_assignments_dept_ticket_created',
                              ['department_id', 'ticket_created_at', 'ticket_id'], unique=False,
                              postgresql_include=['status', 'withdrawn_at'])
        batch_op.create_index('ix_assignments_ticket_created', ['ticket_created_at', 'ticket_id'], unique=False,
                              postgresql_include=['department_id', 'status', 'withdrawn_at'])


def downgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_ticket_created')
        batch_op.drop_index('ix_assignments_dept_ticket_created')
        batch_op.drop_column('ticket_created_at')
