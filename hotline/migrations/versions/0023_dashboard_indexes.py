"""reports: the dashboard's indexes: orders by registration with their category and lead department
(replaces ix_tickets_created_at), and the top-level assignments of an order

Revision ID: 0023
Revises: 0026
Create Date: 2026-12-06 02:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0026'
branch_labels = None
depends_on = None

TOP_LEVEL = 'parent_id IS NULL'


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        # every range on created_at reads this one as it read the old one; the hotspots' counts by
        # category and lead department over weeks or months read nothing else (an index-only scan)
        batch_op.create_index('ix_tickets_created_category_lead', ['created_at', 'category_id', 'lead_department_id'],
                              unique=False)
        batch_op.drop_index('ix_tickets_created_at')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_top_level_ticket', ['ticket_id'], unique=False,
                              postgresql_where=sa.text(TOP_LEVEL), sqlite_where=sa.text(TOP_LEVEL))


def downgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_top_level_ticket')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_created_at', ['created_at'], unique=False)
        batch_op.drop_index('ix_tickets_created_category_lead')
