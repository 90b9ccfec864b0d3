"""departments: the duty phone called at night for urgent orders

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 22:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('departments', sa.Column('duty_phone', sa.String(length=20), nullable=True))


def downgrade():
    op.drop_column('departments', 'duty_phone')
