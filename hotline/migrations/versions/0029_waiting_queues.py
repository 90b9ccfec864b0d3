"""to-do and inbox: every order's "waiting since" set, and the waiting queues read in order from indexes

The centre's to-do sorted every waiting order by coalesce(status_changed_at, updated_at): no index gives
that order, so each page sorted the whole queue (31,112 orders at a million: ~60 ms a page). Orders whose
trail held no step into their status (loaded in bulk) get their last change here, once, and the to-do
reads status_changed_at alone, in the order of ix_tickets_status_changed. Pending extension requests and
the department inbox's "with the centre" group (its returns and replies under review) get partial
indexes in their list order: the inbox read that group by walking every assignment in deadline order.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 04:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

WAITING_ASSIGNMENT_SQL = "parent_id IS NULL AND status IN ('returned', 'replied')"
PENDING_EXTENSION_SQL = "status = 'pending'"


def upgrade():
    op.execute("UPDATE tickets SET status_changed_at = updated_at WHERE status_changed_at IS NULL")
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_waiting_dept_due', ['department_id', 'reply_due_at', 'id'], unique=False,
                              postgresql_where=sa.text(WAITING_ASSIGNMENT_SQL),
                              sqlite_where=sa.text(WAITING_ASSIGNMENT_SQL))
    with op.batch_alter_table('extension_requests', schema=None) as batch_op:
        batch_op.create_index('ix_extension_requests_pending', ['requested_at', 'id'], unique=False,
                              postgresql_where=sa.text(PENDING_EXTENSION_SQL),
                              sqlite_where=sa.text(PENDING_EXTENSION_SQL))


def downgrade():
    with op.batch_alter_table('extension_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_extension_requests_pending')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_waiting_dept_due')
    # the filled instants stay: they are what the to-do showed for those orders before
