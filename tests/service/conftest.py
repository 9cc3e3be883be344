"""Service tests run on SQLite and on the real PostgreSQL; each session gets a fresh database.

PostgreSQL comes from CLOSEDLOOP_TEST_DATABASE_URL (an admin URL; a database is created beside
it and dropped afterwards), defaulting to the local server. In CI (CI=true) an unreachable
PostgreSQL fails the run; elsewhere those tests are skipped with the reason.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service.app import create_app
from service.auth import keys
from service.auth.limits import LocalBuckets
from service.config import Settings
from service.enterprises.models import Enterprise
from service.migrate import load_directory_rows, upgrade
from service.models import Base
from service.runtime import Runtime
from support import Clock

PG_ADMIN_URL = os.environ.get("CLOSEDLOOP_TEST_DATABASE_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not reachable: {reason}")


@pytest.fixture(scope="session")
def pg_url():
    admin_url = make_url(PG_ADMIN_URL)
    name = f"closedloop_test_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
    except Exception as exc:  # noqa: BLE001
        admin.dispose()
        _unavailable(f"{type(exc).__name__}: {exc}".splitlines()[0])
    yield admin_url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'closedloop.sqlite3'}"


_runtimes: dict[str, Runtime] = {}


def _runtime(url: str) -> Runtime:
    if url not in _runtimes:
        # no rate limits here: tests submit faster than any person; test_limits.py sets its own
        rt = Runtime.build(Settings(database_url=url, rate_limit="off", daily_case_cap=0), clock=Clock())
        upgrade(rt)
        _runtimes[url] = rt
    return _runtimes[url]


def _wipe(rt: Runtime) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with rt.engine.begin() as conn:
        if rt.engine.dialect.name == "postgresql":
            # the audit log refuses TRUNCATE to the application (migration 0007); the test's
            # superuser lifts that for the wipe alone
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
        else:
            for t in tables:
                conn.execute(text(f"DELETE FROM {t}"))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.fixture
def rt(request, backend):
    url = request.getfixturevalue("pg_url" if backend == "postgresql" else "sqlite_url")
    runtime = _runtime(url)
    _wipe(runtime)
    runtime.clock = Clock()
    runtime.limiter.buckets = LocalBuckets()  # each test's sign-in attempts counted afresh
    runtime.rules.reload()
    with runtime.session() as session:
        load_directory_rows(session, runtime.directory)
        session.commit()
    return runtime


def bigloaded(url: str, cases: int = 3000) -> Runtime:
    """The runtime of ``url`` wiped, its directory loaded and ``cases`` of bench/bigload.py's mix
    (co-handled, triaged, supervised, every status): the plan tests' small copy of the scale."""
    from bench import bigload

    rt = _runtime(url)
    _wipe(rt)
    with rt.session() as session:
        load_directory_rows(session, rt.directory)
        session.commit()
    bigload.load(url, rt, cases, log=lambda _: None)
    return rt


@pytest.fixture
def pg_rt(pg_url):
    runtime = _runtime(pg_url)
    _wipe(runtime)
    runtime.clock = Clock()
    runtime.limiter.buckets = LocalBuckets()
    with runtime.session() as session:
        load_directory_rows(session, runtime.directory)
        session.commit()
    return runtime


@dataclass
class World:
    """A client and the keys of a small cast, made through the domain."""

    rt: Runtime
    client: TestClient
    keys: dict[str, str] = field(default_factory=dict)
    enterprises: dict[str, int] = field(default_factory=dict)

    @property
    def clock(self) -> Clock:
        return self.rt.clock  # type: ignore[return-value]

    def h(self, who: str, **extra) -> dict:
        return {"Authorization": f"Bearer {self.keys[who]}", **extra}

    def key(self, name: str, role: str, **scope) -> str:
        with self.rt.session() as session:
            _, k = keys.issue(session, role, label=name, **scope)
            session.commit()
        self.keys[name] = k
        return k

    def enterprise(self, name: str, district: str = "yuanhui", officer: str | None = "officer-yuanhui-1",
                   **attrs) -> int:
        with self.rt.session() as session:
            ent = Enterprise(credit_code=f"91411100{len(self.enterprises):09d}X"[:18], name=name, district=district,
                             officer_id=officer, created_at=self.rt.clock(), **attrs)
            session.add(ent)
            session.commit()
            self.enterprises[name] = ent.id
        return ent.id

    def submit(self, who: str = "ent", title: str = "土地证办不下来", description: str = "企业土地证迟迟办不下来",
               expect: int = 201, **fields) -> dict:
        r = self.client.post("/v1/cases", json={"title": title, "description": description, **fields},
                             headers=self.h(who))
        assert r.status_code == expect, r.text
        return r.json()

    def act(self, case_id: int, action: str, who: str, body: dict | None = None, expect: int = 200, **headers):
        r = self.client.post(f"/v1/cases/{case_id}/{action}", json=body or {}, headers=self.h(who, **headers))
        assert r.status_code == expect, r.text
        return r.json()

    def to_top(self, case_id: int) -> None:
        """Escalated by the officer, tier by tier, to tier 5."""
        for n in range(4):
            self.act(case_id, "escalate", "officer", {"reason": f"第{n + 2}级"})

    def refused_at_top(self, case_id: int) -> None:
        """At tier 5, resolved and not accepted by the enterprise: reopened under supervision."""
        self.to_top(case_id)
        self.act(case_id, "accept", "land")
        self.act(case_id, "resolve", "land", {"resolution": "已办结"})
        self.act(case_id, "confirm", "ent", {"satisfied": False, "rating": 1})

    def case(self, case_id: int, who: str = "admin") -> dict:
        r = self.client.get(f"/v1/cases/{case_id}", headers=self.h(who))
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def world(rt):
    """Admin; enterprise 'ent' (Yuanhui, officer-yuanhui-1) and 'other'; their officers; departments."""
    client = TestClient(create_app(rt))
    w = World(rt, client)
    w.key("admin", "admin")
    ent = w.enterprise("漯河测试食品有限公司")
    other = w.enterprise("临颍测试物流有限公司", district="linying", officer="officer-linying-1")
    w.key("ent", "enterprise", enterprise_id=ent)
    w.key("other-ent", "enterprise", enterprise_id=other)
    w.key("officer", "officer", officer_id="officer-yuanhui-1")
    w.key("other-officer", "officer", officer_id="officer-linying-1")
    w.key("land", "department", department="natural-resources")
    w.key("finance", "department", department="financial-regulation")
    w.key("tax", "department", department="taxation")
    w.key("secretary", "secretary", series="county-yuanhui")
    w.key("other-secretary", "secretary", series="county-linying")
    w.key("leader", "leader")
    with client:
        yield w


# real worker processes and their broker (tests/service/processes.py)
from processes import broker, procs  # noqa: E402, F401
