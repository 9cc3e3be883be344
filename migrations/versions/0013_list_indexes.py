"""the case lists' indexes (issue #12): every list reads its page in order (created_at, id) from an
index that holds its scope or its filter first, with the columns the filters read; on PostgreSQL
a department's co-handled cases by their position in the list; the triage queue and the rare
priorities in small partial indexes; only a running case has a deadline (a check)

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_REPLACED = {  # old single-column index: its new composite
    'ix_cases_created_at': ('ix_cases_newest', ['created_at', 'id']),
    'ix_cases_lead': ('ix_cases_lead_newest', ['lead_department', 'created_at', 'id']),
    'ix_cases_officer_id': ('ix_cases_officer_newest', ['officer_id', 'created_at', 'id']),
    'ix_cases_district': ('ix_cases_district_newest', ['district', 'created_at', 'id']),
    'ix_cases_enterprise_id': ('ix_cases_enterprise_newest', ['enterprise_id', 'created_at', 'id']),
}
# the filters' columns, carried by the scope indexes (PostgreSQL): decided without the table
_FILTERS = ['status', 'tier', 'due_at', 'needs_triage', 'category', 'theme', 'district']
_INCLUDE = {'ix_cases_lead_newest': _FILTERS, 'ix_cases_officer_newest': _FILTERS + ['lead_department']}
_OLD_COLUMNS = {'ix_cases_created_at': ['created_at'], 'ix_cases_lead': ['lead_department'],
                'ix_cases_officer_id': ['officer_id'], 'ix_cases_district': ['district'],
                'ix_cases_enterprise_id': ['enterprise_id']}


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    if postgres:  # only a running case has a deadline (checked; the app never wrote another)
        op.execute("UPDATE cases SET due_at = NULL, warn_at = NULL "
                   "WHERE due_at IS NOT NULL AND status NOT IN ('in_progress', 'open')")
        op.create_check_constraint('ck_cases_deadline_running', 'cases',
                                   "due_at IS NULL OR status IN ('in_progress', 'open')")
    for old, (new, columns) in _REPLACED.items():
        op.create_index(new, 'cases', columns, unique=False, postgresql_include=_INCLUDE.get(new, []))
        op.drop_index(old, table_name='cases')
    op.create_index('ix_cases_triage_newest', 'cases', ['created_at', 'id'], unique=False,
                    postgresql_where=sa.text('needs_triage IS true'), sqlite_where=sa.text('needs_triage IS 1'),
                    postgresql_include=_FILTERS + ['officer_id', 'lead_department'])
    op.create_index('ix_cases_priority_newest', 'cases', ['priority', 'created_at', 'id'], unique=False,
                    postgresql_where=sa.text("priority <> 'normal'"), sqlite_where=sa.text("priority <> 'normal'"))
    if postgres:
        for k in range(3):  # a department's co-handled cases, in order, by the position it holds
            op.create_index(f'ix_cases_co{k}_newest', 'cases', [sa.text(f'(co_departments ->> {k})'), 'created_at', 'id'],
                            unique=False, postgresql_where=sa.text(f'jsonb_array_length(co_departments) > {k}'),
                            postgresql_include=_FILTERS + ['lead_department'])
        op.create_index('ix_cases_co_many_newest', 'cases', ['created_at', 'id'], unique=False,
                        postgresql_where=sa.text('jsonb_array_length(co_departments) > 3'))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint('ck_cases_deadline_running', 'cases', type_='check')
        op.drop_index('ix_cases_co_many_newest', table_name='cases')
        for k in range(3):
            op.drop_index(f'ix_cases_co{k}_newest', table_name='cases')
    op.drop_index('ix_cases_priority_newest', table_name='cases')
    op.drop_index('ix_cases_triage_newest', table_name='cases')
    for old, (new, _) in _REPLACED.items():
        op.create_index(old, 'cases', _OLD_COLUMNS[old], unique=False)
        op.drop_index(new, table_name='cases')
