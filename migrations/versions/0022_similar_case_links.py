"""Similar cases found once, when a case is indexed, and kept as links (case_links)

A lookup used to read and verify every candidate that shared a band with the case — hundreds when
a template many firms submit fills a band — at every reading of a case page or an agenda. The
sweep now verifies them once, when it indexes a case, and writes the pairs; a lookup reads them.
The cases indexed before have no links: they are queued again, and the sweep's next ticks index
them anew, links and all.

Revision ID: 0022
Revises: 0021
"""
from alembic import op
import sqlalchemy as sa

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'case_links',
        sa.Column('case_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('other_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('similarity', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.ForeignKeyConstraint(['other_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('case_id', 'other_id'),
    )
    op.execute("INSERT INTO similarity_queue (case_id) SELECT case_id FROM case_signatures "
               "WHERE case_id NOT IN (SELECT case_id FROM similarity_queue)")
    op.execute("DELETE FROM case_bands")
    op.execute("DELETE FROM case_signatures")


def downgrade() -> None:
    op.drop_table('case_links')  # the bands stay: the code before reads them at every lookup
