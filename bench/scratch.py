"""What the benchmarks share: a scratch PostgreSQL database, and one enterprise with its key."""

from __future__ import annotations

import math
import os
import secrets
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

# A bench drives one key far past any person's rate on purpose: the servers it starts run
# without rate limits or the daily cap (docs/api.md, "Limits"); bench/flood.py measures them.
UNLIMITED = {"CLOSEDLOOP_RATE_LIMIT": "off", "CLOSEDLOOP_DAILY_CASE_CAP": "0"}


@contextmanager
def scratch_database(keep: bool = False) -> Iterator[str]:
    """A fresh database on the local PostgreSQL (CLOSEDLOOP_BENCH_DATABASE_URL, an admin URL),
    dropped afterwards whatever happens unless ``keep``; yields its URL."""
    admin_url = make_url(os.environ.get("CLOSEDLOOP_BENCH_DATABASE_URL",
                                        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    name = f"closedloop_bench_{secrets.token_hex(3)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\''))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        if keep:
            print(f"kept the scratch database: {url}", flush=True)
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def enterprise_key(url: str, directory: Path | None = None) -> str:
    """Migrate, load the directory, register one enterprise (Yuanhui) and return its API key."""
    from service.auth import keys
    from service.config import Settings
    from service.enterprises.models import Enterprise
    from service.migrate import load_directory_rows, upgrade
    from service.runtime import Runtime

    settings = Settings(database_url=url, **({"directory": directory} if directory else {}))
    rt = Runtime.build(settings)
    upgrade(rt)
    with rt.session() as s:
        load_directory_rows(s, rt.directory)
        ent = Enterprise(credit_code="91411100MA00000017", name="压测企业", district="yuanhui",
                         officer_id="officer-yuanhui-1", created_at=rt.clock())
        s.add(ent)
        s.flush()
        _, key = keys.issue(s, "enterprise", enterprise_id=ent.id)
        s.commit()
    rt.engine.dispose()
    return key


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]
