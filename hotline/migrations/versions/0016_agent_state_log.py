"""agents' state log: every change of an agent's state, for the time each agent spends in each state

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-08 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agent_state_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('offline', 'ready', 'not_ready', 'ringing', 'on_call', 'after_call_work', name='agent_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reason', sa.String(length=80), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_agent_state_log_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_state_log'))
    )
    with op.batch_alter_table('agent_state_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_state_log_at'), ['at'], unique=False)
        batch_op.create_index('ix_agent_state_log_user_at', ['user_id', 'at'], unique=False)
    # the state each agent is in now starts the log, so their time is counted from today
    op.execute("INSERT INTO agent_state_log (user_id, state, reason, at) "
               "SELECT user_id, state, reason, state_since FROM agents")


def downgrade():
    with op.batch_alter_table('agent_state_log', schema=None) as batch_op:
        batch_op.drop_index('ix_agent_state_log_user_at')
        batch_op.drop_index(batch_op.f('ix_agent_state_log_at'))
    op.drop_table('agent_state_log')
