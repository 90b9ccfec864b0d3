"""similar orders: the open orders' word index takes new orders at once (GIN fastupdate off)

PostgreSQL's GIN indexes put new entries in a pending list by default, merged into the index by VACUUM
or when the list passes gin_pending_list_limit (4 MB), and every search reads the whole list. The open
orders' word index takes every new order, and autovacuum visits a table of a million rows only after
about 200,000 inserts, so the list grows to its limit between merges: each order page's similar-orders
search read it whole. At a million orders (the pages bench's data, timed in-process), 3,000 orders in
the list made that search 22 ms instead of 7. With fastupdate off an order's words go into the index when
it is registered (registering showed no cost above the noise: p50 7.3-9.5 ms either way) and searches no
longer depend on when VACUUM last ran.
SQLite's FTS5 index has no such list: nothing changes there.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07 02:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None

INDEX = "ix_ticket_texts_open_search_vector"


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(f"ALTER INDEX {INDEX} SET (fastupdate = off)")
    # what the list holds already goes into the index now (turning the option off does not merge it)
    op.execute(f"SELECT gin_clean_pending_list('{INDEX}'::regclass)")


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(f"ALTER INDEX {INDEX} RESET (fastupdate)")
