"""what a provisional deadline was counted from (issue #16): the start and the span, so that a
deadline computed from a guessed calendar is recomputed when the year's holidays arrive

Revision ID: 0016
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa

import service.db

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch_op:
        batch_op.add_column(sa.Column('due_basis', service.db.JSONType, nullable=True))
    # the few running provisional deadlines, found without reading the table (recalendar.py)
    op.create_index('ix_cases_provisional', 'cases', ['id'], unique=False,
                    postgresql_where=sa.text('due_provisional AND due_at IS NOT NULL'),
                    sqlite_where=sa.text('due_provisional AND due_at IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_cases_provisional', table_name='cases')
    with op.batch_alter_table('cases') as batch_op:
        batch_op.drop_column('due_basis')
