"""escalation sweep: when to look at each assignment next, a lock for periodic jobs, urge/escalate policy rows

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 17:38:14.202416

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('periodic_locks',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=128), nullable=False),
    sa.Column('held_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rules', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_periodic_locks'))
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_check_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_assignments_next_check_at', ['next_check_at'], unique=False, postgresql_where=sa.text('next_check_at IS NOT NULL'), sqlite_where=sa.text('next_check_at IS NOT NULL'))

    with op.batch_alter_table('sla_policies', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_sla_policies_step_known'), type_='check')
        batch_op.create_check_constraint('step_known', sa.text(
            "step IN ('sign','reply','return_window','extension_max','visit','urge','escalate')"))
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_events_system_assignment', ['assignment_id'], unique=False,
                              postgresql_where=sa.text('actor_id IS NULL'), sqlite_where=sa.text('actor_id IS NULL'))
    # every open assignment gets its first look at the next sweep
    op.execute("UPDATE assignments SET next_check_at = dispatched_at "
               "WHERE status IN ('awaiting_sign', 'in_progress')")
    # DOMAIN.md's chasing delays, as policy rows an administrator edits beside the deadlines
    policies = sa.table('sla_policies', sa.column('step', sa.String), sa.column('urgency', sa.String),
                        sa.column('ticket_type', sa.String), sa.column('amount', sa.Integer),
                        sa.column('unit', sa.String), sa.column('updated_at', sa.DateTime(timezone=True)))
    from datetime import datetime, timezone
    now = datetime.now(timezone.utc)
    existing = op.get_bind().execute(sa.text("SELECT count(*) FROM sla_policies")).scalar()
    if existing:  # a fresh database gets every default row from `install_default_policies` instead
        op.bulk_insert(policies, [
            {"step": step, "urgency": urgency, "ticket_type": None, "amount": amount, "unit": unit, "updated_at": now}
            for step, urgency, amount, unit in (
                ("urge", "urgent", 0, "minutes"), ("urge", "utilities", 0, "minutes"),
                ("urge", "general", 1, "working_days"), ("escalate", "urgent", 60, "minutes"),
                ("escalate", "utilities", 240, "minutes"), ("escalate", "general", 5, "working_days"))])


def downgrade():
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_events_system_assignment', postgresql_where=sa.text('actor_id IS NULL'),
                            sqlite_where=sa.text('actor_id IS NULL'))
    op.execute("DELETE FROM sla_policies WHERE step IN ('urge', 'escalate')")
    with op.batch_alter_table('sla_policies', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_sla_policies_step_known'), type_='check')
        batch_op.create_check_constraint('step_known', sa.text(
            "step IN ('sign','reply','return_window','extension_max','visit')"))
    op.drop_index('ix_assignments_next_check_at', table_name='assignments')
    # a plain ALTER (SQLite 3.35+ drops a column in place): a batch rebuild of `assignments` fails
    # once other tables point at it
    op.drop_column('assignments', 'next_check_at')

    op.drop_table('periodic_locks')
