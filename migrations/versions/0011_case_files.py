"""files attached to cases (issue #14): their names, checked types, sizes and storage keys

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa
import service.db

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by', sa.String(length=100), nullable=False),
    sa.Column('uploaded_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_case_files_case_id', 'case_files', ['case_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_case_files_case_id', table_name='case_files')
    op.drop_table('case_files')
