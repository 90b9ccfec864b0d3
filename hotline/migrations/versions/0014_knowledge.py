"""the knowledge base: articles, their versions, synonyms, uses, and a full-text index per backend

SQLite: an FTS5 table over the articles' pre-segmented tokens, kept in step by triggers.
PostgreSQL: a generated tsvector ('simple' configuration over the same tokens) with a GIN index.

Revision ID: 0014
Revises: 0018
Create Date: 2026-12-06 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0018'
branch_labels = None
depends_on = None

STATES = ('draft', 'in_review', 'published', 'archived')
SQLITE_INDEX = [
    "CREATE VIRTUAL TABLE knowledge_fts USING fts5(title_tokens, body_tokens, content='knowledge_articles', "
    "content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER knowledge_fts_insert AFTER INSERT ON knowledge_articles BEGIN "
    "INSERT INTO knowledge_fts(rowid, title_tokens, body_tokens) VALUES (new.id, new.title_tokens, new.body_tokens); "
    "END",
    "CREATE TRIGGER knowledge_fts_delete AFTER DELETE ON knowledge_articles BEGIN "
    "INSERT INTO knowledge_fts(knowledge_fts, rowid, title_tokens, body_tokens) "
    "VALUES ('delete', old.id, old.title_tokens, old.body_tokens); END",
    "CREATE TRIGGER knowledge_fts_update AFTER UPDATE OF title_tokens, body_tokens ON knowledge_articles BEGIN "
    "INSERT INTO knowledge_fts(knowledge_fts, rowid, title_tokens, body_tokens) "
    "VALUES ('delete', old.id, old.title_tokens, old.body_tokens); "
    "INSERT INTO knowledge_fts(rowid, title_tokens, body_tokens) VALUES (new.id, new.title_tokens, new.body_tokens); "
    "END",
]
POSTGRES_INDEX = [
    "ALTER TABLE knowledge_articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', title_tokens), 'A') || setweight(to_tsvector('simple', body_tokens), 'B')"
    ") STORED",
    "CREATE INDEX ix_knowledge_articles_search_vector ON knowledge_articles USING gin (search_vector)",
]


def upgrade():
    op.create_table('knowledge_articles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('owner_department_id', sa.Integer(), nullable=False),
    sa.Column('source_document', sa.String(length=200), nullable=True),
    sa.Column('source_office', sa.String(length=120), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('state', sa.Enum(*STATES, name='knowledge_article_state', native_enum=False, create_constraint=True,
                               length=32), nullable=False),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('use_count', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title_tokens', sa.Text(), nullable=False),
    sa.Column('body_tokens', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_note', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_knowledge_articles_category_id_categories')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_knowledge_articles_created_by_id_users')),
    sa.ForeignKeyConstraint(['owner_department_id'], ['departments.id'],
                            name=op.f('fk_knowledge_articles_owner_department_id_departments')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_knowledge_articles_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_knowledge_articles_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_articles'))
    )
    with op.batch_alter_table('knowledge_articles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_knowledge_articles_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_knowledge_articles_owner_department_id'), ['owner_department_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_knowledge_articles_updated_at'), ['updated_at'], unique=False)
        batch_op.create_index('ix_knowledge_articles_state_valid_until', ['state', 'valid_until'], unique=False)

    op.create_table('knowledge_article_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('edited_by_id', sa.Integer(), nullable=True),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['knowledge_articles.id'],
                            name=op.f('fk_knowledge_article_versions_article_id_knowledge_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['edited_by_id'], ['users.id'], name=op.f('fk_knowledge_article_versions_edited_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_article_versions')),
    sa.UniqueConstraint('article_id', 'number', name='uq_knowledge_article_versions_number')
    )
    with op.batch_alter_table('knowledge_article_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_knowledge_article_versions_article_id'), ['article_id'], unique=False)

    op.create_table('knowledge_synonyms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('words', sa.String(length=300), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_knowledge_synonyms_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_synonyms'))
    )

    op.create_table('knowledge_uses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['knowledge_articles.id'],
                            name=op.f('fk_knowledge_uses_article_id_knowledge_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_knowledge_uses_ticket_id_tickets')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_knowledge_uses_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_uses'))
    )
    with op.batch_alter_table('knowledge_uses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_knowledge_uses_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_knowledge_uses_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index('ix_knowledge_uses_used_at_article_id', ['used_at', 'article_id'], unique=False)

    dialect = op.get_bind().dialect.name
    for statement in SQLITE_INDEX if dialect == 'sqlite' else POSTGRES_INDEX if dialect == 'postgresql' else []:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        for name in ('knowledge_fts_update', 'knowledge_fts_delete', 'knowledge_fts_insert'):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS knowledge_fts")
    op.drop_table('knowledge_uses')
    op.drop_table('knowledge_synonyms')
    op.drop_table('knowledge_article_versions')
    op.drop_table('knowledge_articles')
