"""monthly rollups of the report facts (issue #13): report_months, the months rolled, the watermark;
the resolved facts' handling times and the rare kinds indexed for the reports

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa
import service.db

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

RESOLVED = "kind = 'resolved'"
RARE = "kind IN ('extended', 'objected', 'reassigned')"


def upgrade() -> None:
    op.create_table('report_months',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('dim', sa.String(length=12), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('tier', sa.Integer(), nullable=False),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('satisfied', sa.Boolean(), nullable=True),
    sa.Column('extended', sa.Boolean(), nullable=False),
    sa.Column('received_month', sa.Date(), nullable=True),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('rating_sum', sa.Integer(), nullable=False),
    sa.Column('rating_n', sa.Integer(), nullable=False),
    sa.Column('days_sum', sa.Float(), nullable=False),
    sa.Column('days_n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_report_months_dim_month', 'report_months', ['dim', 'month'], unique=False)
    op.create_table('report_rolled_months',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('rolled_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('month')
    )
    op.create_table('report_rollup_watermark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fact_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_case_facts_resolved', 'case_facts', ['at'], unique=False,
                    postgresql_where=sa.text(RESOLVED), sqlite_where=sa.text(RESOLVED),
                    postgresql_include=['working_days', 'lead_department', 'district', 'officer_id', 'tier', 'theme',
                                        'category'])
    op.create_index('ix_case_facts_rare', 'case_facts', ['kind', 'at'], unique=False,
                    postgresql_where=sa.text(RARE), sqlite_where=sa.text(RARE))


def downgrade() -> None:
    op.drop_index('ix_case_facts_rare', table_name='case_facts', postgresql_where=sa.text(RARE),
                  sqlite_where=sa.text(RARE))
    op.drop_index('ix_case_facts_resolved', table_name='case_facts', postgresql_where=sa.text(RESOLVED),
                  sqlite_where=sa.text(RESOLVED))
    op.drop_table('report_rollup_watermark')
    op.drop_table('report_rolled_months')
    op.drop_index('ix_report_months_dim_month', table_name='report_months')
    op.drop_table('report_months')
