"""case facts for the performance reports (issue #13), backfilled from every case's timeline

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
import service.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_facts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lead_department', sa.String(length=40), nullable=True),
    sa.Column('district', sa.String(length=40), nullable=False),
    sa.Column('officer_id', sa.String(length=60), nullable=True),
    sa.Column('tier', sa.Integer(), nullable=False),
    sa.Column('theme', sa.String(length=40), nullable=True),
    sa.Column('category', sa.String(length=40), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('working_days', sa.Float(), nullable=True),
    sa.Column('satisfied', sa.Boolean(), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_case_facts_at_kind', 'case_facts', ['at', 'kind'], unique=False)
    op.create_index('ix_case_facts_case_kind', 'case_facts', ['case_id', 'kind'], unique=False)
    _backfill(op.get_bind())


def _backfill(conn) -> None:
    """The facts of the cases already there, replayed from their events, a thousand cases at a time."""
    from types import SimpleNamespace

    from service.reports.facts import replay
    from service.reports.models import CaseFact

    last = 0
    while True:
        cases = conn.execute(sa.text("SELECT id, district, officer_id, theme, category, lead_department, tier "
                                     "FROM cases WHERE id > :last ORDER BY id LIMIT 1000"), {"last": last}).all()
        if not cases:
            return
        events = {}
        for e in conn.execute(sa.select(sa.table("case_events", sa.column("case_id"), sa.column("type"),
                                                 sa.column("at", service.db.UTCDateTime()),
                                                 sa.column("data", service.db.JSONType), sa.column("id")))
                              .where(sa.column("case_id").between(cases[0].id, cases[-1].id))
                              .order_by(sa.column("id"))):
            events.setdefault(e.case_id, []).append(SimpleNamespace(type=e.type, at=e.at, data=e.data or {}))
        rows = [f for c in cases for f in replay(c, events.get(c.id, []))]
        if rows:
            conn.execute(sa.insert(CaseFact.__table__), rows)
        last = cases[-1].id


def downgrade() -> None:
    op.drop_index('ix_case_facts_case_kind', table_name='case_facts')
    op.drop_index('ix_case_facts_at_kind', table_name='case_facts')
    op.drop_table('case_facts')
