"""similar orders: the open orders' word counts are counted by the worker and stored

The similar-order search leaves out an order's commonest words and asks for its rarest, by how many open
orders hold each word. Each web process counted them itself every ten minutes, reading every open order's
words in the request that found its count too old: 0.3 s at a million orders, 2.6 s at ten million (633,000
open). The worker now counts them every ten minutes (similar.count_words) into this table, and a page reads
the newest row.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07 03:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'similar_word_counts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('counted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('open_orders', sa.Integer(), nullable=False),
        sa.Column('counts', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_similar_word_counts')),
    )


def downgrade():
    op.drop_table('similar_word_counts')
