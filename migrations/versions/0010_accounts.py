"""people's accounts and their sign-in sessions, for the web application (issue #14)

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa
import service.db

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('officer_id', sa.String(length=60), nullable=True),
    sa.Column('department', sa.String(length=40), nullable=True),
    sa.Column('series', sa.String(length=60), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department'], ['departments.key'], ),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], ),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.key'], ),
    sa.ForeignKeyConstraint(['series'], ['meeting_series.key'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('web_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('csrf', sa.String(length=64), nullable=False),
    sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_index('ix_web_sessions_account_id', 'web_sessions', ['account_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_web_sessions_account_id', table_name='web_sessions')
    op.drop_table('web_sessions')
    op.drop_table('accounts')
