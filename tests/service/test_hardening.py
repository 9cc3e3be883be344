"""The service as an attacker and a careless client would try it (issue #11): every wrong request
gets a 4xx naming the field, a database outage gets a 503, and no key can flood the service."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from service.app import create_app
from service.auth import keys
from service.auth.limits import LocalBuckets, Limiter, RedisBuckets, parse_rates
from service import paging
from service.problems import unavailable
from service.runtime import Runtime
from support import PROBLEM, refused

BIG = 2**31  # one past the largest id a PostgreSQL integer holds
STRONG = "Vq7-hT2wZk9pLx4mRb6nJc"


def agenda_case(world) -> dict:
    case = world.submit()
    return world.act(case["id"], "escalate", "admin", {"reason": "提交县区周例会"})


# ---------------------------------------------------------------------------- 1. ids beyond 32 bits
def test_ids_beyond_32_bits_are_refused_not_crashed(world):
    agenda_case(world)
    calls = [("get", f"/v1/cases/{BIG}", None, "case_id"), ("get", f"/v1/meetings/{BIG}", None, "meeting_id"),
             ("get", f"/v1/meetings/{BIG}/agenda", None, "meeting_id"),
             ("get", f"/v1/meetings/{BIG}/minutes", None, "meeting_id"),
             ("post", f"/v1/meetings/{BIG}/minutes", {"decisions": []}, "meeting_id"),
             ("get", f"/v1/meetings/{BIG}/supervision", None, "meeting_id"),
             ("post", f"/v1/meetings/{BIG}/cancel", {"reason": "取消"}, "meeting_id"),
             ("get", f"/v1/enterprises/{BIG}", None, "enterprise_id"),
             ("post", f"/v1/notifications/{BIG}/redeliver", None, "notification_id"),
             ("get", f"/v1/notifications?cursor={paging.encode_cursor('n', BIG)}", None, "cursor"),
             ("get", f"/v1/notifications?case_id={BIG}", None, "case_id"),
             ("get", f"/v1/cases?cursor={paging.encode_cursor('c', f'1764720000000000.{BIG}')}", None, "cursor"),
             ("post", "/v1/cases", {"title": "土地证", "description": "办不下来", "enterprise_id": BIG}, "enterprise_id"),
             ("post", "/v1/api-keys", {"role": "enterprise", "enterprise_id": BIG}, "enterprise_id")]
    for action in ("accept", "comment", "resolve", "escalate", "withdraw"):
        calls.append(("post", f"/v1/cases/{BIG}/{action}", {}, "case_id"))
    for method, path, body, field in calls:
        r = world.client.request(method.upper(), path, json=body, headers=world.h("admin"))
        refused(r, 422, field)
    sitting = world.case(1)["sitting_id"]
    r = world.client.post(f"/v1/meetings/{sitting}/minutes", headers=world.h("admin"),
                          json={"decisions": [{"case_id": BIG, "decision": "resolved"}]})
    refused(r, 422, "decisions.0.case_id")


# ---------------------------------------------------------------------------- 2. NUL characters
def test_nul_characters_are_refused_naming_the_field(world):
    case = world.submit()
    refused(world.client.post("/v1/cases", json={"title": "土地\u0000证", "description": "x"},
                              headers=world.h("ent")), 422, "title")
    refused(world.client.post("/v1/cases", headers=world.h("ent"), json={
        "title": "土地证", "description": "x", "attachments": [{"name": "合同\u0000.pdf"}]}), 422, "attachments.0.name")
    refused(world.client.post("/v1/enterprises", headers=world.h("admin"), json={
        "credit_code": "91411100MA40000000", "name": "漯河\u0000公司", "district": "yuanhui"}), 422, "name")
    refused(world.client.post(f"/v1/cases/{case['id']}/comment", json={"text": "a\u0000b"},
                              headers=world.h("admin")), 422, "text")
    refused(world.client.get("/v1/cases?text=a%00b", headers=world.h("admin")), 422, "text")
    refused(world.client.get("/v1/cases?department=a%00b", headers=world.h("admin")), 422, "department")
    refused(world.client.delete("/v1/api-keys/a%00b", headers=world.h("admin")), 422, "path")
    # an escaped backslash followed by u0000 is no NUL: taken as text
    world.submit(title="路径 C:\\u0000 不通", description="一个普通的反斜杠")


# ---------------------------------------------------------------------------- 3. dates out of range
def test_dates_are_bounded_to_what_the_business_allows(world):
    for starts_at in ("0001-01-01T09:00:00+08:00", "9999-12-31T23:59:59-12:00"):
        body = refused(world.client.post("/v1/meetings", headers=world.h("admin"), json={
            "series": "county-yuanhui", "starts_at": starts_at}), 422, "starts_at")
        assert "2000-2099" in body["detail"]
    two_years = (world.clock() + timedelta(days=800)).isoformat()
    body = refused(world.client.post("/v1/meetings", headers=world.h("admin"), json={
        "series": "county-yuanhui", "starts_at": two_years}), 422, "starts_at")
    assert "a year from now" in body["detail"]

    case = world.submit()
    world.act(case["id"], "accept", "land")
    refused(world.client.post(f"/v1/cases/{case['id']}/extend", headers=world.h("land"), json={
        "until": "9999-12-31T23:59:59-12:00", "reason": "需要时间"}), 422, "until")
    due = datetime.fromisoformat(world.case(case["id"])["due_at"])
    body = refused(world.client.post(f"/v1/cases/{case['id']}/extend", headers=world.h("land"), json={
        "until": (due + timedelta(days=91)).isoformat(), "reason": "需要时间"}), 422, "until")
    assert "90 days" in body["detail"]
    # nothing is left pending: a sane request can still be made and decided
    world.act(case["id"], "extend", "land", {"until": (due + timedelta(days=10)).isoformat(), "reason": "需要时间"})
    decided = world.act(case["id"], "approve-extension", "officer", {"approve": True})
    assert decided["pending_extension"] is None
    assert datetime.fromisoformat(decided["due_at"]) == due + timedelta(days=10)


# ---------------------------------------------------------------------------- 4. loose types
def test_types_are_strict(world):
    body = refused(world.client.post("/v1/enterprises", headers=world.h("admin"), json={
        "credit_code": "91411100MA40000000", "name": "漯河公司", "district": "yuanhui", "whitelisted": 0}),
        422, "whitelisted")
    assert "true or false" in body["detail"]
    refused(world.client.get("/v1/meetings?to=0.5", headers=world.h("admin")), 422, "to")
    refused(world.client.get("/v1/meetings?from=1700000000", headers=world.h("admin")), 422, "from")
    refused(world.client.post("/v1/cases", headers=world.h("admin"), json={
        "title": "土地证", "description": "办不下来", "enterprise_id": "1"}), 422, "enterprise_id")
    case = world.submit()
    refused(world.client.post(f"/v1/cases/{case['id']}/confirm", headers=world.h("ent"),
                              json={"satisfied": 1}), 422, "satisfied")
    refused(world.client.post("/v1/cases", content=b"\xff\xfe{", headers=world.h(
        "ent", **{"Content-Type": "application/json"})), 422, "body")


# ---------------------------------------------------------------------------- 5. the database away
@pytest.fixture
def proxied(pg_rt):
    """The service on PostgreSQL through a TCP proxy that the test can cut."""
    from tcpproxy import Proxy

    url = make_url(pg_rt.settings.database_url)
    proxy = Proxy((url.host or "127.0.0.1", url.port or 5432)).start()
    rt = Runtime.build(replace(pg_rt.settings, database_url=url.set(host="127.0.0.1", port=proxy.port)
                               .render_as_string(hide_password=False)), clock=pg_rt.clock)
    from conftest import World

    client = TestClient(create_app(rt))
    world = World(rt, client)
    world.key("admin", "admin")
    world.key("ent", "enterprise", enterprise_id=world.enterprise("漯河断库测试有限公司"))
    with client:
        yield world, proxy
    proxy.cut()
    rt.engine.dispose()


def test_a_database_outage_answers_503_and_loses_nothing(proxied):
    world, proxy = proxied
    accepted = [world.submit()["id"]]
    proxy.cut()
    for _ in range(3):
        r = world.client.post("/v1/cases", json={"title": "土地证办不下来", "description": "三个月了"},
                              headers=world.h("ent"))
        assert r.status_code == 503 and r.headers["content-type"] == PROBLEM, r.text
        assert int(r.headers["Retry-After"]) > 0 and r.json()["detail"].startswith("database:")
    r = world.client.get("/v1/cases", headers=world.h("ent"))
    assert r.status_code == 503 and "Retry-After" in r.headers
    ready = world.client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("unreachable")
    proxy.start()
    accepted.append(world.submit()["id"])
    assert world.client.get("/readyz").status_code == 200
    listed = world.client.get("/v1/cases", headers=world.h("ent")).json()["items"]
    assert sorted(c["id"] for c in listed) == sorted(accepted)  # nothing half-written, nothing lost


def test_a_connection_that_rested_is_pinged_and_replaced_if_dropped(pg_url, monkeypatch):
    """The pool pings only a connection that rested (db._ping_when_idle): one handed back a
    moment ago goes out unpinged, one that rested and that the database dropped meanwhile is
    replaced before the request sees it."""
    import time

    from service.db import make_engine

    engine = make_engine(pg_url, ping_when_idle=0.3)
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    pings = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(1) or real_ping(conn))
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        for _ in range(5):  # in use a moment ago: no round trip before the statement
            with engine.connect() as conn:
                assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == first
        assert pings == []
        with admin.connect() as conn:  # what a restart or a firewall does to a resting connection
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar_one()
        time.sleep(0.4)
        with engine.connect() as conn:
            again = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert pings and again != first
    finally:
        engine.dispose()
        admin.dispose()


@pytest.fixture
def pg_world(pg_rt):
    from conftest import World

    client = TestClient(create_app(pg_rt))
    world = World(pg_rt, client)
    world.key("admin", "admin")
    world.key("ent", "enterprise", enterprise_id=world.enterprise("漯河只读测试有限公司"))
    world.key("land", "department", department="natural-resources")
    with client:
        yield world


def test_a_read_only_database_answers_503_and_readiness_says_so(pg_rt, pg_world):
    """A replica after fail-over, or default_transaction_read_only: PostgreSQL's alone."""
    from conftest import PG_ADMIN_URL

    world = pg_world
    name = make_url(pg_rt.settings.database_url).database
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    case = world.submit()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
        pg_rt.engine.dispose()  # new connections take the setting
        r = world.client.post("/v1/cases", json={"title": "贷款被抽贷", "description": "银行突然抽贷"},
                              headers=world.h("ent"))
        assert r.status_code == 503 and "read-only" in r.json()["detail"] and r.headers["Retry-After"]
        r = world.client.post(f"/v1/cases/{case['id']}/accept", json={}, headers=world.h("land"))
        assert r.status_code == 503
        assert world.client.get(f"/v1/cases/{case['id']}", headers=world.h("ent")).status_code == 200  # reads go on
        ready = world.client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("read-only")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only'))
        admin.dispose()
        pg_rt.engine.dispose()
    assert world.client.get("/readyz").status_code == 200
    assert world.case(case["id"])["status"] == "open"


def test_a_serialization_failure_is_unavailable_not_a_bug(pg_rt):
    """A real 40001 from PostgreSQL is classed as 'retry', a programming error is not."""
    with pg_rt.engine.connect() as setup:
        setup.execute(text("CREATE TABLE IF NOT EXISTS _serial (id int primary key, v int)"))
        setup.execute(text("INSERT INTO _serial VALUES (1, 0) ON CONFLICT DO NOTHING"))
        setup.commit()
    first = pg_rt.engine.connect().execution_options(isolation_level="REPEATABLE READ")
    second = pg_rt.engine.connect()
    try:
        first.execute(text("SELECT v FROM _serial WHERE id = 1"))
        second.execute(text("UPDATE _serial SET v = v + 1 WHERE id = 1"))
        second.commit()
        with pytest.raises(OperationalError) as failure:
            first.execute(text("UPDATE _serial SET v = v + 1 WHERE id = 1"))
        assert unavailable(failure.value) == "the change collided with another one"
        first.rollback()
        with pytest.raises(Exception) as bug:
            first.execute(text("SELECT no_such_column FROM _serial"))
        assert unavailable(bug.value) is None
    finally:
        first.close()
        second.close()
        with pg_rt.engine.begin() as conn:
            conn.execute(text("DROP TABLE _serial"))


# ---------------------------------------------------------------------------- 6. the bootstrap admin
def test_a_revoked_bootstrap_token_stays_revoked_across_restarts(world):
    rt = world.rt
    booted = replace(rt, settings=replace(rt.settings, admin_token=STRONG))
    token = {"Authorization": f"Bearer {STRONG}"}
    with TestClient(create_app(booted)) as client:
        assert client.get("/v1/directory", headers=token).status_code == 200
        assert client.delete("/v1/api-keys/admin-token", headers=world.h("admin")).status_code == 200
        assert client.get("/v1/directory", headers=token).status_code == 401
    with TestClient(create_app(booted)) as client:  # a restart with the same value
        assert client.get("/v1/directory", headers=token).status_code == 401
    with rt.session() as session:  # and `closedloop init` with it
        assert keys.ensure_bootstrap_admin(session, STRONG) is False
        session.commit()
    renewed = "Zr8-kQ3vNw5tHy7cLp2mXd"
    with TestClient(create_app(replace(rt, settings=replace(rt.settings, admin_token=renewed)))) as client:
        assert client.get("/v1/directory", headers={"Authorization": f"Bearer {renewed}"}).status_code == 200
        assert client.get("/v1/directory", headers=token).status_code == 401


@pytest.mark.parametrize("weak", ["admin", "changeme-changeme", "aaaaaaaaaaaaaaaaaaaaaaaa", "password1234567890"])
def test_a_weak_bootstrap_token_is_refused_at_start(weak, tmp_path):
    with pytest.raises(keys.WeakSecret, match="CLOSEDLOOP_ADMIN_TOKEN"):
        keys.check_admin_token(weak)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CLOSEDLOOP_")},
           "CLOSEDLOOP_DATABASE_URL": f"sqlite:///{tmp_path / 'weak.sqlite3'}", "CLOSEDLOOP_ADMIN_TOKEN": weak}
    cli = Path(sys.executable).with_name("closedloop")
    for command in (["init"], ["serve", "--port", "1"]):
        out = subprocess.run([str(cli), *command], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode != 0 and "CLOSEDLOOP_ADMIN_TOKEN" in out.stderr and weak not in out.stderr


def test_the_last_active_admin_key_cannot_be_revoked(world):
    admin_id = next(k["id"] for k in world.client.get("/v1/api-keys", headers=world.h("admin")).json()["items"]
                    if k["role"] == "admin" and k["revoked_at"] is None)
    body = refused(world.client.delete(f"/v1/api-keys/{admin_id}", headers=world.h("admin")), 409, "key_id")
    assert "last active admin key" in body["detail"]
    second = world.client.post("/v1/api-keys", json={"role": "admin", "label": "second"},
                               headers=world.h("admin")).json()
    assert world.client.delete(f"/v1/api-keys/{admin_id}", headers=world.h("admin")).status_code == 200
    r = world.client.delete(f"/v1/api-keys/{second['id']}", headers={"Authorization": f"Bearer {second['key']}"})
    assert r.status_code == 409


# ---------------------------------------------------------------------------- 7. registration
def test_a_duplicate_credit_code_names_the_enterprise_only_to_who_may_see_it(world):
    from stdnum.cn import uscc

    code = "91411100MA4" + "7K3P2Q"
    code += uscc.calc_check_digit(code)
    body = {"credit_code": code, "name": "临颍保密食品有限公司", "district": "linying", "officer_id": "officer-linying-1"}
    created = world.client.post("/v1/enterprises", json=body, headers=world.h("admin")).json()
    stranger = world.client.post("/v1/enterprises", json={**body, "officer_id": None}, headers=world.h("officer"))
    assert stranger.status_code == 409
    assert f"enterprise {created['id']}" not in stranger.json()["detail"] and "临颍保密" not in stranger.text
    assert "enterprise_id" not in stranger.json()
    own = world.client.post("/v1/enterprises", json={**body, "officer_id": None}, headers=world.h("other-officer"))
    assert own.status_code == 409 and own.json()["enterprise_id"] == created["id"] and "临颍保密" in own.text
    admin = world.client.post("/v1/enterprises", json=body, headers=world.h("admin"))
    assert admin.status_code == 409 and admin.json()["enterprise_id"] == created["id"]


# ---------------------------------------------------------------------------- 8. rate limits
def test_a_key_over_its_rate_gets_429_and_others_go_on(world, monkeypatch):
    monkeypatch.setattr(world.rt, "limiter", Limiter(parse_rates("enterprise=1/m:3"), 0, LocalBuckets()))
    for _ in range(3):
        assert world.client.get("/v1/cases", headers=world.h("ent")).status_code == 200
    r = world.client.get("/v1/cases", headers=world.h("ent"))
    assert r.status_code == 429 and r.headers["content-type"] == PROBLEM
    assert 1 <= int(r.headers["Retry-After"]) <= 60 and r.json()["retry_after"] == int(r.headers["Retry-After"])
    assert r.json()["detail"].startswith("Authorization:")
    r = world.client.post("/v1/cases", json={"title": "土地证", "description": "办不下来"}, headers=world.h("ent"))
    assert r.status_code == 429  # intake checks the same bucket
    assert world.client.get("/v1/cases", headers=world.h("other-ent")).status_code == 200
    assert world.client.get("/v1/cases", headers=world.h("admin")).status_code == 200  # no admin limit set
    # refused again at the door while it should be waiting: no key lookup, no bucket
    bucket_calls = []
    monkeypatch.setattr(world.rt.limiter.buckets, "take", lambda *a: bucket_calls.append(a) or 0.0)
    r = world.client.get("/v1/enterprises/1", headers=world.h("ent"))
    assert r.status_code == 429 and r.headers["Retry-After"] and bucket_calls == []


def test_the_daily_cap_counts_new_cases_per_enterprise_and_local_day(world, monkeypatch):
    monkeypatch.setattr(world.rt, "limiter", Limiter({}, 2, LocalBuckets()))
    first = world.client.post("/v1/cases", json={"title": "土地证", "description": "办不下来"},
                              headers=world.h("ent", **{"Idempotency-Key": "k1"}))
    world.submit()
    again = world.client.post("/v1/cases", json={"title": "土地证", "description": "办不下来"},
                              headers=world.h("ent", **{"Idempotency-Key": "k1"}))
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]  # a replay is no new case
    body = refused(world.client.post("/v1/cases", json={"title": "贷款", "description": "抽贷"},
                                     headers=world.h("ent")), 429, "enterprise_id")
    assert body["daily_case_cap"] == 2 and body["retry_after"] > 0
    world.submit("other-ent")  # another enterprise has its own count
    world.clock.advance(days=1)
    world.submit()


def test_rate_limits_are_shared_through_redis(broker):
    """Two API processes' limiters on one Redis draw from one bucket."""
    from service.auth.principal import Principal

    rate = parse_rates("enterprise=1/m:2")
    a, b = (Limiter(rate, 0, RedisBuckets(broker)) for _ in range(2))
    p = Principal("key-shared", "enterprise", 1, None, None, None)
    a.admit(p)
    b.admit(p)
    with pytest.raises(Exception) as over:
        a.admit(p)
    assert over.value.status == 429
    # Redis gone: each process falls back to its own bucket rather than refusing everyone
    down = Limiter(rate, 0, RedisBuckets("redis://127.0.0.1:1/0"))
    down.admit(p)


def test_rate_limit_settings_are_read_or_refused():
    assert parse_rates("off") == {}
    rates = parse_rates("enterprise=5/s:30, admin=120/m")
    assert rates["enterprise"].per_second == 5 and rates["enterprise"].burst == 30 and rates["admin"].burst == 2
    with pytest.raises(ValueError, match="enterprise=fast"):
        parse_rates("enterprise=fast")


# ---------------------------------------------------------------------------- 11. the contract
def test_every_operation_declares_its_problem_answers(world):
    doc = world.client.get("/openapi.json").json()
    assert "Problem" in doc["components"]["schemas"] and "HTTPValidationError" not in doc["components"]["schemas"]
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            declared = {int(code) for code in op["responses"] if code[0] in "45"}
            if path.startswith("/v1/"):
                assert {401, 403, 429, 503} <= declared, (method, path)
            if "{" in path:
                assert 404 in declared, (method, path)
            if op.get("parameters") or "requestBody" in op:
                assert 422 in declared, (method, path)
            if "requestBody" in op:
                assert 413 in declared, (method, path)
            if path.startswith("/v1/cases/{case_id}/") and "/files" not in path and not path.endswith("/similar"):  # the actions
                assert 412 in declared and 409 in declared, (method, path)
            for code in declared:
                assert list(op["responses"][str(code)]["content"]) == [PROBLEM], (method, path, code)
    agenda = doc["paths"]["/v1/meetings/{meeting_id}/agenda"]["get"]["responses"]["200"]["content"]
    assert set(agenda) == {"application/json", "text/markdown", "text/html",
                           "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
