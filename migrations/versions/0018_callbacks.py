"""回访 (issue #16): a call-back owed for each case closed by default and for a sample of
confirmed ones, on its officer's list until answered

Revision ID: 0018
Revises: 0017
"""
from alembic import op
import sqlalchemy as sa

import service.db

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'callbacks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.Column('officer_id', sa.String(length=60), nullable=True),
        sa.Column('district', sa.String(length=40), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('created_at', service.db.UTCDateTime(), nullable=False),
        sa.Column('due_at', service.db.UTCDateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('answered_at', service.db.UTCDateTime(), nullable=True),
        sa.Column('satisfied', sa.Boolean(), nullable=True),
        sa.Column('rating', sa.Integer(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('callbacks') as batch_op:
        batch_op.create_index('ix_callbacks_case_id', ['case_id'], unique=False)
        batch_op.create_index('ix_callbacks_officer_state', ['officer_id', 'state', 'due_at'], unique=False)


def downgrade() -> None:
    op.drop_table('callbacks')
