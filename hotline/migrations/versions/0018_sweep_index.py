"""escalation sweep: the next-look index also holds the id, so a pass walks (next_check_at, id) in index order

Revision ID: 0018
Revises: 0012
Create Date: 2026-12-05 09:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0012'
branch_labels = None
depends_on = None

WHERE = "next_check_at IS NOT NULL"


def upgrade():
    op.drop_index('ix_assignments_next_check_at', table_name='assignments', postgresql_where=sa.text(WHERE),
                  sqlite_where=sa.text(WHERE))
    op.create_index('ix_assignments_next_check', 'assignments', ['next_check_at', 'id'], unique=False,
                    postgresql_where=sa.text(WHERE), sqlite_where=sa.text(WHERE))


def downgrade():
    op.drop_index('ix_assignments_next_check', table_name='assignments', postgresql_where=sa.text(WHERE),
                  sqlite_where=sa.text(WHERE))
    op.create_index('ix_assignments_next_check_at', 'assignments', ['next_check_at'], unique=False,
                    postgresql_where=sa.text(WHERE), sqlite_where=sa.text(WHERE))
