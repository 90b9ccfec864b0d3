"""knowledge: files attached to articles (the files themselves are kept under ATTACHMENT_DIR by SHA-256)

Revision ID: 0025
Revises: 0020
Create Date: 2026-12-05 19:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('knowledge_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['knowledge_articles.id'],
                            name=op.f('fk_knowledge_attachments_article_id_knowledge_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'],
                            name=op.f('fk_knowledge_attachments_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_attachments'))
    )
    with op.batch_alter_table('knowledge_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_knowledge_attachments_article_id'), ['article_id'], unique=False)


def downgrade():
    with op.batch_alter_table('knowledge_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_knowledge_attachments_article_id'))
    op.drop_table('knowledge_attachments')
