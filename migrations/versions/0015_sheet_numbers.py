"""supervision sheets numbered as an office numbers its documents (issue #16): the issuing office's
code, the year, a gapless yearly sequence per office (漯企督〔2026〕17号), unique; sheets issued
before keep the number they were issued with

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('assignments') as batch_op:
        batch_op.add_column(sa.Column('sheet_prefix', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('sheet_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sheet_no', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint('uq_assignment_sheet', ['sheet_prefix', 'sheet_year', 'sheet_no'])


def downgrade() -> None:
    with op.batch_alter_table('assignments') as batch_op:
        batch_op.drop_constraint('uq_assignment_sheet', type_='unique')
        batch_op.drop_column('sheet_no')
        batch_op.drop_column('sheet_year')
        batch_op.drop_column('sheet_prefix')
