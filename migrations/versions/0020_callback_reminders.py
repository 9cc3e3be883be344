"""Overdue call-backs are put to their officer once (回访逾期): when, and the index the sweep reads

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

import service.db

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

TO_REMIND = "state = 'pending' AND reminded_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table('callbacks') as batch_op:
        batch_op.add_column(sa.Column('reminded_at', service.db.UTCDateTime(), nullable=True))
    op.create_index('ix_callbacks_to_remind', 'callbacks', ['due_at', 'id'], unique=False,
                    postgresql_where=sa.text(TO_REMIND), sqlite_where=sa.text(TO_REMIND))


def downgrade() -> None:
    op.drop_index('ix_callbacks_to_remind', table_name='callbacks')
    with op.batch_alter_table('callbacks') as batch_op:
        batch_op.drop_column('reminded_at')
