"""telephony web: one active user per extension; order call ids as long as SIP's

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 08:29:34.337753

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

ACTIVE_EXTENSION = sa.text('is_active AND extension IS NOT NULL')


def upgrade():
    taken = op.get_bind().execute(sa.text(
        "SELECT extension FROM users WHERE is_active AND extension IS NOT NULL "
        "GROUP BY extension HAVING count(*) > 1")).scalars().all()
    if taken:
        raise RuntimeError("several active users share the extensions %s; give each user their own "
                           "(UPDATE users SET extension = ...) and run the upgrade again" % ", ".join(taken))
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.alter_column('call_id',
               existing_type=sa.VARCHAR(length=64),
               type_=sa.String(length=128),
               existing_nullable=True)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('uq_users_extension_active', ['extension'], unique=True,
                              sqlite_where=ACTIVE_EXTENSION, postgresql_where=ACTIVE_EXTENSION)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('uq_users_extension_active', sqlite_where=ACTIVE_EXTENSION,
                            postgresql_where=ACTIVE_EXTENSION)

    # a call id cut short would match no call; the longer ones are dropped, not mangled
    op.execute("UPDATE tickets SET call_id = NULL WHERE length(call_id) > 64")
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.alter_column('call_id',
               existing_type=sa.String(length=128),
               type_=sa.VARCHAR(length=64),
               existing_nullable=True)
