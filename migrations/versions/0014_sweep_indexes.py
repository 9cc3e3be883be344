"""the sweep reads only what it will act on (issue #12): escalation from a partial index of the
deadlines that may fall due (a supervised case past its deadline is reminded, not escalated),
warnings from one of the cases not yet warned at their tier; a closed or withdrawn case keeps no
reminder date

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

TO_ESCALATE = "due_at IS NOT NULL AND supervised IS false"
TO_WARN = "warn_at IS NOT NULL AND warned_tier IS DISTINCT FROM tier"


def upgrade() -> None:
    op.execute("UPDATE cases SET supervision_next_at = NULL "
               "WHERE supervision_next_at IS NOT NULL AND status IN ('closed', 'withdrawn')")
    op.create_index('ix_cases_to_escalate', 'cases', ['due_at', 'id'], unique=False,
                    postgresql_where=sa.text(TO_ESCALATE), sqlite_where=sa.text(TO_ESCALATE.replace("false", "0")))
    op.create_index('ix_cases_to_warn', 'cases', ['warn_at', 'id'], unique=False,
                    postgresql_where=sa.text(TO_WARN),
                    sqlite_where=sa.text(TO_WARN.replace("IS DISTINCT FROM", "IS NOT")))
    op.drop_index('ix_cases_due', table_name='cases')
    op.drop_index('ix_cases_warn', table_name='cases')


def downgrade() -> None:
    op.create_index('ix_cases_warn', 'cases', ['warn_at'], unique=False)
    op.create_index('ix_cases_due', 'cases', ['due_at'], unique=False)
    op.drop_index('ix_cases_to_warn', table_name='cases')
    op.drop_index('ix_cases_to_escalate', table_name='cases')
