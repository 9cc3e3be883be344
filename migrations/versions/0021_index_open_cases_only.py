"""The near-duplicate index holds open cases only: take out the closed and withdrawn ones

Until now a case's signature and band rows stayed after it closed (similarity/membership.py says
why they no longer do); this removes the rows of cases closed before it.

Revision ID: 0021
Revises: 0020
"""
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

FINAL = "SELECT id FROM cases WHERE status IN ('closed', 'withdrawn')"


def upgrade() -> None:
    for table in ('case_bands', 'case_signatures', 'similarity_queue'):
        op.execute(f"DELETE FROM {table} WHERE case_id IN ({FINAL})")


def downgrade() -> None:
    pass  # the rows are not needed to go back: a closed case was never anyone's similar open case
