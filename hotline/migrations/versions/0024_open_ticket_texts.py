"""similar orders: the order-word index knows which orders are open, and its full-text index holds only those

ticket_texts.is_open follows the order's state (hotline.similar.operations). PostgreSQL: the GIN index
over search_vector becomes partial (open rows only), beside a B-tree of open rows by date. SQLite: the FTS5
table holds open rows only (its triggers add and remove rows as is_open changes), and an fts5vocab table
over it gives each word's number of open orders (the similar-order query leaves out the commonest words).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 02:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

#: workflows.states.FINAL as it was written here.
FINAL = "('closed', 'merged', 'cancelled')"
TRIGGERS = ('ticket_texts_fts_update', 'ticket_texts_fts_delete', 'ticket_texts_fts_insert')

SQLITE_OPEN_ONLY = [
    "CREATE TRIGGER ticket_texts_fts_insert AFTER INSERT ON ticket_texts WHEN new.is_open BEGIN "
    "INSERT INTO ticket_texts_fts(rowid, tokens) VALUES (new.ticket_id, new.tokens); END",
    "CREATE TRIGGER ticket_texts_fts_delete AFTER DELETE ON ticket_texts WHEN old.is_open BEGIN "
    "INSERT INTO ticket_texts_fts(ticket_texts_fts, rowid, tokens) VALUES ('delete', old.ticket_id, old.tokens); END",
    "CREATE TRIGGER ticket_texts_fts_update AFTER UPDATE OF tokens, is_open ON ticket_texts BEGIN "
    "INSERT INTO ticket_texts_fts(ticket_texts_fts, rowid, tokens) SELECT 'delete', old.ticket_id, old.tokens "
    "WHERE old.is_open; "
    "INSERT INTO ticket_texts_fts(rowid, tokens) SELECT new.ticket_id, new.tokens WHERE new.is_open; END",
    "INSERT INTO ticket_texts_fts(ticket_texts_fts) VALUES ('delete-all')",
    "INSERT INTO ticket_texts_fts(rowid, tokens) SELECT ticket_id, tokens FROM ticket_texts WHERE is_open",
    "CREATE VIRTUAL TABLE ticket_texts_fts_vocab USING fts5vocab(ticket_texts_fts, row)",
]
SQLITE_ALL_ROWS = [
    "DROP TABLE IF EXISTS ticket_texts_fts_vocab",
    "CREATE TRIGGER ticket_texts_fts_insert AFTER INSERT ON ticket_texts BEGIN "
    "INSERT INTO ticket_texts_fts(rowid, tokens) VALUES (new.ticket_id, new.tokens); END",
    "CREATE TRIGGER ticket_texts_fts_delete AFTER DELETE ON ticket_texts BEGIN "
    "INSERT INTO ticket_texts_fts(ticket_texts_fts, rowid, tokens) VALUES ('delete', old.ticket_id, old.tokens); END",
    "CREATE TRIGGER ticket_texts_fts_update AFTER UPDATE OF tokens ON ticket_texts BEGIN "
    "INSERT INTO ticket_texts_fts(ticket_texts_fts, rowid, tokens) VALUES ('delete', old.ticket_id, old.tokens); "
    "INSERT INTO ticket_texts_fts(rowid, tokens) VALUES (new.ticket_id, new.tokens); END",
    "INSERT INTO ticket_texts_fts(ticket_texts_fts) VALUES ('rebuild')",
]


def upgrade():
    dialect = op.get_bind().dialect.name
    op.add_column('ticket_texts', sa.Column('is_open', sa.Boolean(), nullable=False, server_default=sa.true()))
    op.execute(f"UPDATE ticket_texts SET is_open = false WHERE ticket_id IN "
               f"(SELECT id FROM tickets WHERE status IN {FINAL})")
    if dialect == 'sqlite':
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in SQLITE_OPEN_ONLY:
            op.execute(statement)
    op.create_index('ix_ticket_texts_open_created', 'ticket_texts', ['created_at'], unique=False,
                    postgresql_where=sa.text('is_open'), sqlite_where=sa.text('is_open'))
    if dialect == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_ticket_texts_search_vector")
        op.execute("CREATE INDEX ix_ticket_texts_open_search_vector ON ticket_texts USING gin (search_vector) "
                   "WHERE is_open")


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_ticket_texts_open_search_vector")
        op.execute("CREATE INDEX ix_ticket_texts_search_vector ON ticket_texts USING gin (search_vector)")
    op.drop_index('ix_ticket_texts_open_created', table_name='ticket_texts')
    if dialect == 'sqlite':
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in SQLITE_ALL_ROWS:
            op.execute(statement)
    op.drop_column('ticket_texts', 'is_open')
