"""message parts: each part of a long SMS with the gateway's id of it and its own delivery report

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('message_parts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=True),
    sa.Column('state', sa.Enum('sent', 'delivered', 'failed', name='message_part_state', native_enum=False,
                               create_constraint=True, length=32), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_message_parts_message_id_messages'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_parts')),
    sa.UniqueConstraint('message_id', 'number', name=op.f('uq_message_parts_message_id'))
    )
    with op.batch_alter_table('message_parts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_parts_provider_id'), ['provider_id'], unique=False)


def downgrade():
    with op.batch_alter_table('message_parts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_parts_provider_id'))
    op.drop_table('message_parts')
