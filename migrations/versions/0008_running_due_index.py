"""the running cases' deadlines as one small index: the reports' "overdue now" and longest overdue
read it alone (issue #13, bench/reports.py)

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

RUNNING = "status IN ('in_progress', 'open')"


def upgrade() -> None:
    op.create_index('ix_cases_running_due', 'cases', ['due_at'], unique=False,
                    postgresql_where=sa.text(RUNNING), sqlite_where=sa.text(RUNNING),
                    postgresql_include=['lead_department', 'district', 'tier', 'officer_id', 'theme', 'category'])


def downgrade() -> None:
    op.drop_index('ix_cases_running_due', table_name='cases', postgresql_where=sa.text(RUNNING),
                  sqlite_where=sa.text(RUNNING))
