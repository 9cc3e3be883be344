"""Database engine and sessions. PostgreSQL in production, SQLite for the embedded default."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import JSON, DateTime, create_engine, event, exc
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.types import TypeDecorator

# JSON columns are JSONB on PostgreSQL (indexable), plain JSON elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware one")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    pass


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# A connection handed back less than this long ago is handed out again without a ping
# (HikariCP's aliveBypassWindowMs is 500 ms): see _ping_when_idle.
PING_WHEN_IDLE = 0.5


def make_engine(url: str, ping_when_idle: float = PING_WHEN_IDLE) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn, _record):
            cur = conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        # SQLite's own transaction start is deferred; BEGIN IMMEDIATE takes the write lock up
        # front so two writers queue instead of failing half-way ("database is locked").
        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(conn, _record):
            conn.isolation_level = None

        return engine
    # A request that cannot get a connection within pool_timeout is answered 503 (app.py).
    engine = create_engine(url, pool_size=10, max_overflow=20, pool_timeout=5)
    _ping_when_idle(engine, ping_when_idle)
    return engine


def _ping_when_idle(engine: Engine, idle: float) -> None:
    """Ping a pooled connection before handing it out only if it has rested ``idle`` seconds.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout: a round trip and a statement on
    every request, a tenth of intake's time (docs/benchmarks.md). A connection handed back a
    moment ago was alive a moment ago; one that rested may have been dropped by a restart of the
    database or by a firewall, and is pinged, and replaced (with every connection of the pool
    older than it) when the ping finds it dead. The price: a restart within ``idle`` seconds of a
    connection's last use fails that one request with a 503 (problems.py), and SQLAlchemy then
    replaces the pool's connections as it does for any disconnect."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _handed_back(_dbapi_conn, record):
        record.info["handed_back_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _handed_out(dbapi_conn, record, _proxy):
        handed_back = record.info.get("handed_back_at")
        if handed_back is None or time.monotonic() - handed_back < idle:
            return  # a fresh connection, or one in use a moment ago
        try:
            dialect.do_ping(dbapi_conn)
        except dialect.loaded_dbapi.Error as err:
            if dialect.is_disconnect(err, dbapi_conn, None):
                # the pool replaces this connection and those older than it, then retries
                raise exc.InvalidatePoolError() from err
            raise


def make_sessionmaker(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
