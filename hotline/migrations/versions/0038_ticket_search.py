"""the lists' keyword search: each order's letter pairs, indexed per backend

A list's keyword (`q`: a fragment of the subject or content) read every order newest first until a page
of them held it: a fragment that a few orders hold, or none, read all of them, about 0.4 s at a million
orders (4 s at ten million). Chinese has no spaces, so each pair of adjacent letters or digits of an
order is kept (workflows.search) and indexed; a search asks the index for the orders holding all its
fragment's pairs and tests the fragment on those alone.

SQLite: an FTS5 table over ticket_search.grams, kept in step by triggers.
PostgreSQL: a GIN index of the pairs as a tsvector, as they are (no parser, no dictionary).

The orders already there get their pairs here, by a copy of workflows.search.grams as it was written
(a migration does not follow later changes of the code; `hotline tickets reindex-search` does).

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-07 18:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0038'
down_revision = '0037'
branch_labels = None
depends_on = None

SQLITE_INDEX = [
    "CREATE VIRTUAL TABLE ticket_search_fts USING fts5(grams, content='ticket_search', content_rowid='ticket_id', "
    "tokenize='unicode61')",
    "INSERT INTO ticket_search_fts(ticket_search_fts) VALUES ('rebuild')",
    "CREATE TRIGGER ticket_search_fts_insert AFTER INSERT ON ticket_search BEGIN "
    "INSERT INTO ticket_search_fts(rowid, grams) VALUES (new.ticket_id, new.grams); END",
    "CREATE TRIGGER ticket_search_fts_delete AFTER DELETE ON ticket_search BEGIN "
    "INSERT INTO ticket_search_fts(ticket_search_fts, rowid, grams) VALUES ('delete', old.ticket_id, old.grams); END",
    "CREATE TRIGGER ticket_search_fts_update AFTER UPDATE OF grams ON ticket_search BEGIN "
    "INSERT INTO ticket_search_fts(ticket_search_fts, rowid, grams) VALUES ('delete', old.ticket_id, old.grams); "
    "INSERT INTO ticket_search_fts(rowid, grams) VALUES (new.ticket_id, new.grams); END",
]
POSTGRES_INDEX = [
    # on the expression: a stored vector would double the table for no gain. A new order's pairs wait in the
    # index's pending list, which every search reads through, until they are merged in bulk: a short list (256 kB,
    # not 4 MB) keeps that under a millisecond and registering as cheap as with no list (measured at 1,000,000)
    "CREATE INDEX ix_ticket_search_search_vector ON ticket_search "
    "USING gin ((array_to_tsvector(string_to_array(grams, ' ')))) WITH (gin_pending_list_limit = 256)",
]
BATCH = 10_000


def _grams(text):
    seen, previous = {}, ""
    for ch in text:
        low = ch.lower()
        ch = low if len(low) == 1 else ch
        if ch.isalnum():
            if previous:
                seen.setdefault(previous + ch, None)
            previous = ch
        else:
            previous = ""
    return " ".join(seen)


def upgrade():
    table = op.create_table(
        'ticket_search',
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('grams', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_search_ticket_id_tickets'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_ticket_search')))
    bind, last = op.get_bind(), 0
    tickets = sa.table('tickets', sa.column('id', sa.Integer), sa.column('subject', sa.Text),
                       sa.column('content', sa.Text))
    while True:  # the pairs before the index: one build instead of a million inserts into it
        rows = bind.execute(sa.select(tickets.c.id, tickets.c.subject, tickets.c.content)
                            .where(tickets.c.id > last).order_by(tickets.c.id).limit(BATCH)).all()
        if not rows:
            break
        bind.execute(table.insert(), [{"ticket_id": i, "grams": _grams(f"{s or ''}\n{c or ''}")} for i, s, c in rows])
        last = rows[-1][0]
    dialect = bind.dialect.name
    for statement in SQLITE_INDEX if dialect == 'sqlite' else POSTGRES_INDEX if dialect == 'postgresql' else []:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        for name in ('ticket_search_fts_update', 'ticket_search_fts_delete', 'ticket_search_fts_insert'):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS ticket_search_fts")
    op.drop_table('ticket_search')
