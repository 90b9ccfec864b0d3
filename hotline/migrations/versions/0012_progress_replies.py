"""progress replies (过程回复): when each assignment last showed progress, and citizens' SMS preference

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

QUIET = "status = 'in_progress'"


def upgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_progress_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_assignments_quiet', ['last_progress_at'], unique=False,
                              postgresql_where=sa.text(QUIET), sqlite_where=sa.text(QUIET))
    # until now a department's last word was its sign-for or its reply
    op.execute("UPDATE assignments SET last_progress_at = COALESCE(replied_at, signed_at)")
    op.add_column('citizens', sa.Column('wants_sms', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade():
    # plain ALTERs (SQLite 3.35+ drops a column in place): a batch rebuild of `citizens` fails once
    # other tables point at it
    op.drop_column('citizens', 'wants_sms')
    op.drop_index('ix_assignments_quiet', table_name='assignments', postgresql_where=sa.text(QUIET),
                  sqlite_where=sa.text(QUIET))
    op.drop_column('assignments', 'last_progress_at')
