"""Alembic migrations for closedloop; run by `closedloop init` (service/migrate.py)."""
