"""near-duplicate demands (共性问题, issue #15): each case's MinHash band keys, written by the
sweep after intake from a queue that intake fills; cases sharing a key are candidates for "the
same problem"

Revision ID: 0017
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa

import service.db

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'similarity_queue',
        sa.Column('case_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('case_id'),
    )
    # the cases open now are indexed by the sweep's next ticks, like new ones
    op.execute("INSERT INTO similarity_queue (case_id) SELECT id FROM cases "
               "WHERE status IN ('open', 'in_progress', 'waiting_enterprise', 'resolved')")
    op.create_table(
        'case_signatures',
        sa.Column('case_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('keys', service.db.JSONType, nullable=False),
        sa.Column('indexed_at', service.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('case_id'),
    )
    op.create_table(
        'case_bands',
        sa.Column('key', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('case_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('key', 'case_id'),
    )


def downgrade() -> None:
    op.drop_table('case_bands')
    op.drop_table('case_signatures')
    op.drop_table('similarity_queue')
