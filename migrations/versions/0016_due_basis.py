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


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch_op:
        batch_op.drop_column('due_basis')
