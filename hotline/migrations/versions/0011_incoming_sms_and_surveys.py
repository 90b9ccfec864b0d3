"""incoming text messages from citizens, and return visits by SMS

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('incoming_sms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=False),
    sa.Column('sender', sa.String(length=20), nullable=False),
    sa.Column('receiver', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.Enum('registered', 'appended', 'survey_answer', 'ignored', name='incoming_sms_outcome', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_incoming_sms_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incoming_sms')),
    sa.UniqueConstraint('provider_id', name=op.f('uq_incoming_sms_provider_id'))
    )
    with op.batch_alter_table('incoming_sms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incoming_sms_sender'), ['sender'], unique=False)
        batch_op.create_index(batch_op.f('ix_incoming_sms_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('sms_surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('state', sa.Enum('pending', 'answered', 'expired', name='sms_survey_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answer', sa.String(length=1), nullable=True),
    sa.Column('needs_review', sa.Boolean(), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_sms_surveys_message_id_messages')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_sms_surveys_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_sms_surveys_sent_by_id_users')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_sms_surveys_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_surveys'))
    )
    with op.batch_alter_table('sms_surveys', schema=None) as batch_op:
        batch_op.create_index('ix_sms_surveys_phone_state', ['phone', 'state'], unique=False)
        batch_op.create_index('ix_sms_surveys_state_expires_at', ['state', 'expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_surveys_ticket_id'), ['ticket_id'], unique=False)


def downgrade():
    op.drop_table('sms_surveys')
    op.drop_table('incoming_sms')
