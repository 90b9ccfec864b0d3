"""similar orders and the department suggestion: each order's words (jieba tokens of subject and content),
its address key, and a full-text index per backend; the suggestion model's stored parameters

SQLite: an FTS5 table over ticket_texts.tokens, kept in step by triggers.
PostgreSQL: a generated tsvector ('simple' configuration over the same tokens) with a GIN index.

Revision ID: 0019
Revises: 0022
Create Date: 2026-12-05 10:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0022'
branch_labels = None
depends_on = None

SQLITE_INDEX = [
    "CREATE VIRTUAL TABLE ticket_texts_fts USING fts5(tokens, content='ticket_texts', content_rowid='ticket_id', "
    "tokenize='unicode61')",
    "CREATE TRIGGER ticket_texts_fts_insert AFTER INSERT ON ticket_texts BEGIN "
    "INSERT INTO ticket_texts_fts(rowid, tokens) VALUES (new.ticket_id, new.tokens); END",
    "CREATE TRIGGER ticket_texts_fts_delete AFTER DELETE ON ticket_texts BEGIN "
    "INSERT INTO ticket_texts_fts(ticket_texts_fts, rowid, tokens) VALUES ('delete', old.ticket_id, old.tokens); END",
    "CREATE TRIGGER ticket_texts_fts_update AFTER UPDATE OF tokens ON ticket_texts BEGIN "
    "INSERT INTO ticket_texts_fts(ticket_texts_fts, rowid, tokens) VALUES ('delete', old.ticket_id, old.tokens); "
    "INSERT INTO ticket_texts_fts(rowid, tokens) VALUES (new.ticket_id, new.tokens); END",
]
POSTGRES_INDEX = [
    "ALTER TABLE ticket_texts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple', tokens)) STORED",
    "CREATE INDEX ix_ticket_texts_search_vector ON ticket_texts USING gin (search_vector)",
]


def upgrade():
    op.create_table('ticket_texts',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tokens', sa.Text(), nullable=False),
    sa.Column('address_key', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_texts_ticket_id_tickets'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_ticket_texts'))
    )
    with op.batch_alter_table('ticket_texts', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_texts_address_created', ['address_key', 'created_at'], unique=False)
        batch_op.create_index('ix_ticket_texts_created_at', ['created_at'], unique=False)
    op.create_table('suggestion_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trained_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('samples', sa.Integer(), nullable=False),
    sa.Column('parameters', sa.Text(), nullable=False),
    sa.Column('evaluation', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_models'))
    )
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_INDEX if dialect == 'sqlite' else POSTGRES_INDEX if dialect == 'postgresql' else []:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        for name in ('ticket_texts_fts_update', 'ticket_texts_fts_delete', 'ticket_texts_fts_insert'):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS ticket_texts_fts")
    op.drop_table('suggestion_models')
    op.drop_table('ticket_texts')
