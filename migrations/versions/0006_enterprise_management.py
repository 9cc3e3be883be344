"""enterprises managed (issue #17 item 8): an enterprise can be deactivated, and every change to
one is recorded in enterprise_changes

Revision ID: 0006
Revises: 0005

"""
from alembic import op
import sqlalchemy as sa
import service.db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('enterprises') as batch:
        # the enterprises already registered are active
        batch.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.create_table('enterprise_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('changes', service.db.JSONType, nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_enterprise_changes_enterprise_id'), 'enterprise_changes', ['enterprise_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_enterprise_changes_enterprise_id'), table_name='enterprise_changes')
    op.drop_table('enterprise_changes')
    with op.batch_alter_table('enterprises') as batch:
        batch.drop_column('active')
