"""inbox: each group read from its own index; assignments remember when the centre sent them back

The inbox read a department's whole live work in one pass to sort it into groups and count them: 1,990
assignments for a city bureau at a million orders (5 ms), ten times that at ten million. Each group is
now read in its deadline order from its own partial index, its first cards and a capped count, so the
page costs the same however much work a department has. Whether an open assignment was sent back (its
reply rejected, its return refused) asked the replies table for every assignment; it is now a column,
set by those two steps, and the backfill sets it where the old test held.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06 23:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None

LIVE_ASSIGNMENT_SQL = "status IN ('awaiting_sign', 'in_progress', 'returned', 'replied')"
INBOX_SENT_BACK_SQL = "status IN ('awaiting_sign', 'in_progress') AND sent_back_at IS NOT NULL"
INBOX_TO_SIGN_SQL = "status = 'awaiting_sign' AND sent_back_at IS NULL"
INBOX_TO_HANDLE_SQL = "status = 'in_progress' AND sent_back_at IS NULL"


def upgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sent_back_at', sa.DateTime(timezone=True), nullable=True))
    # the old test: a return reason on an open assignment (an approved return withdraws it, so it was
    # refused), or a rejected reply; the instant is the latest rejection or refusal
    op.execute("""
        UPDATE assignments SET sent_back_at = coalesce(
            (SELECT max(replies.reviewed_at) FROM replies
              WHERE replies.assignment_id = assignments.id AND replies.status = 'rejected'),
            (SELECT max(ticket_events.at) FROM ticket_events
              WHERE ticket_events.ticket_id = assignments.ticket_id AND ticket_events.action = 'review-return'),
            assignments.dispatched_at)
        WHERE EXISTS (SELECT 1 FROM replies
                       WHERE replies.assignment_id = assignments.id AND replies.status = 'rejected')
           OR (assignments.return_reason IS NOT NULL AND assignments.status IN ('awaiting_sign', 'in_progress'))
    """)
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_live_inbox')
        batch_op.create_index('ix_assignments_inbox_to_sign', ['department_id', 'sign_due_at', 'id'], unique=False,
                              postgresql_where=sa.text(INBOX_TO_SIGN_SQL), sqlite_where=sa.text(INBOX_TO_SIGN_SQL))
        batch_op.create_index('ix_assignments_inbox_to_handle', ['department_id', 'reply_due_at', 'id'],
                              unique=False, postgresql_where=sa.text(INBOX_TO_HANDLE_SQL),
                              sqlite_where=sa.text(INBOX_TO_HANDLE_SQL))
        batch_op.create_index('ix_assignments_inbox_sent_back', ['department_id', 'id'], unique=False,
                              postgresql_where=sa.text(INBOX_SENT_BACK_SQL),
                              sqlite_where=sa.text(INBOX_SENT_BACK_SQL))
        batch_op.create_index('ix_assignments_live_dept_due', ['department_id', 'reply_due_at', 'id'], unique=False,
                              postgresql_where=sa.text(LIVE_ASSIGNMENT_SQL), sqlite_where=sa.text(LIVE_ASSIGNMENT_SQL))


def downgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_live_dept_due')
        batch_op.drop_index('ix_assignments_inbox_sent_back')
        batch_op.drop_index('ix_assignments_inbox_to_handle')
        batch_op.drop_index('ix_assignments_inbox_to_sign')
        batch_op.create_index('ix_assignments_live_inbox', ['department_id'], unique=False,
                              postgresql_include=['id', 'status', 'parent_id', 'return_reason', 'sign_due_at',
                                                  'reply_due_at'],
                              postgresql_where=sa.text(LIVE_ASSIGNMENT_SQL), sqlite_where=sa.text(LIVE_ASSIGNMENT_SQL))
    # ALTER TABLE ... DROP COLUMN on both backends (SQLite has it since 3.35): a batch would copy the table,
    # which SQLite refuses while other tables' rows point at it
    op.drop_column('assignments', 'sent_back_at')
