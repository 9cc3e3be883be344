"""the audit log of administration (append-only); duplicates (重复件) closed into an original; cases'
search form (normalised like routing)

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa
import service.db

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('target', sa.String(length=100), nullable=True),
    sa.Column('details', service.db.JSONType, nullable=False),
    sa.Column('source', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_audit_log_at', 'audit_log', ['at'], unique=False)
    op.create_index('ix_audit_log_action', 'audit_log', ['action'], unique=False)
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('duplicate_of', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('search_text', sa.Text(), nullable=True))
    _search_forms(op.get_bind())
    if op.get_bind().dialect.name == "postgresql":
        # append-only for everyone who connects as the application: a record that can be edited
        # records nothing
        op.execute("""
            CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP; END $$;
            CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
        """)


def _search_forms(conn) -> None:
    """The search form of the cases already there, a thousand at a time."""
    from service.cases.service import search_form

    last = 0
    while True:
        rows = conn.execute(sa.text("SELECT id, title, description FROM cases WHERE id > :last ORDER BY id LIMIT 1000"),
                            {"last": last}).all()
        if not rows:
            return
        conn.execute(sa.text("UPDATE cases SET search_text = :s WHERE id = :id"),
                     [{"id": r.id, "s": search_form(r.title, r.description)} for r in rows])
        last = rows[-1].id


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log; DROP FUNCTION audit_log_append_only();")
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('search_text')
        batch.drop_column('duplicate_of')
    op.drop_index('ix_audit_log_action', table_name='audit_log')
    op.drop_index('ix_audit_log_at', table_name='audit_log')
    op.drop_table('audit_log')
