"""enterprises' own applications for an account, approved by their officer (issue #14)

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa
import service.db

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('registrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('district', sa.String(length=40), nullable=False),
    sa.Column('contact', sa.String(length=60), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=False),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('officer_id', sa.String(length=60), nullable=True),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['district'], ['districts.key'], ),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.key'], ),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], ),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_registrations_credit_code', 'registrations', ['credit_code'], unique=False)
    op.create_index('ix_registrations_username', 'registrations', ['username'], unique=False)
    op.create_index('ix_registrations_officer_id', 'registrations', ['officer_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_registrations_officer_id', table_name='registrations')
    op.drop_index('ix_registrations_username', table_name='registrations')
    op.drop_index('ix_registrations_credit_code', table_name='registrations')
    op.drop_table('registrations')
