"""users: mobile number and text-message preference for notices

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 18:28:51.515912

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('mobile', sa.String(length=20), nullable=True))
    op.add_column('users', sa.Column('wants_sms', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    # plain ALTERs (SQLite 3.35+ drops a column in place): a batch rebuild of `users` fails once
    # other tables point at it
    op.drop_column('users', 'wants_sms')
    op.drop_column('users', 'mobile')
