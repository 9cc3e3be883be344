"""An officer's cases in one district, newest first (issue #12: the one list over 20 ms at a
million cases)

Revision ID: 0019
Revises: 0018
"""
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch_op:
        batch_op.create_index('ix_cases_officer_district_newest', ['officer_id', 'district', 'created_at', 'id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch_op:
        batch_op.drop_index('ix_cases_officer_district_newest')
