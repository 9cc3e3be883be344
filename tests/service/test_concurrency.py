"""Concurrency on the real PostgreSQL, through a live HTTP server (uvicorn in a thread)."""

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from service.app import create_app
from service.auth import keys
from service.cases.models import Case, CaseEvent
from service.cases.service import next_in_sequence, next_tracking_no
from service.enterprises.models import Enterprise


@pytest.fixture
def server(pg_rt, request, monkeypatch):
    threads = getattr(request, "param", None)  # the API's request threads (Settings.request_threads)
    if threads is not None:
        monkeypatch.setattr(pg_rt, "settings", replace(pg_rt.settings, request_threads=threads))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    config = uvicorn.Config(create_app(pg_rt), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    with pg_rt.session() as s:
        ent = Enterprise(credit_code="914111000000000001", name="并发测试企业", district="yuanhui",
                         officer_id="officer-yuanhui-1", created_at=pg_rt.clock())
        s.add(ent)
        s.flush()
        _, ent_key = keys.issue(s, "enterprise", enterprise_id=ent.id)
        _, land_key = keys.issue(s, "department", department="natural-resources")
        _, officer_key = keys.issue(s, "officer", officer_id="officer-yuanhui-1")
        s.commit()
    yield {"url": f"http://127.0.0.1:{port}", "ent": ent_key, "land": land_key, "officer": officer_key, "rt": pg_rt}
    srv.should_exit = True
    thread.join(timeout=10)


def together(n, fn):
    """Run fn(i) in n threads released at the same moment."""
    barrier = threading.Barrier(n)

    def run(i):
        with httpx.Client(timeout=30) as client:
            barrier.wait()
            return fn(client, i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def auth(key, **extra):
    return {"Authorization": f"Bearer {key}", **extra}


def db_count(rt, stmt):
    with rt.session() as s:
        return s.scalar(stmt)


def test_concurrent_idempotent_submits_make_one_case(server):
    body = {"title": "土地证办不下来", "description": "同一请求重复提交"}
    h = auth(server["ent"], **{"Idempotency-Key": "same-key"})
    answers = together(12, lambda c, i: c.post(f"{server['url']}/v1/cases", json=body, headers=h))
    assert {r.status_code for r in answers} == {201}
    assert len({r.json()["id"] for r in answers}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in answers) == 11
    assert db_count(server["rt"], select(func.count(Case.id))) == 1
    assert db_count(server["rt"], select(func.count(CaseEvent.id))) == 2


def test_concurrent_accepts_exactly_one_wins(server):
    with httpx.Client() as c:
        case = c.post(f"{server['url']}/v1/cases", json={"title": "土地证", "description": "办不下来"},
                      headers=auth(server["ent"])).json()
    answers = together(8, lambda c, i: c.post(f"{server['url']}/v1/cases/{case['id']}/accept", json={},
                                              headers=auth(server["land"])))
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] + [409] * 7
    assert all(r.json()["current_status"] == "in_progress" for r in answers if r.status_code == 409)
    accepted = select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case["id"], CaseEvent.type == "accepted")
    assert db_count(server["rt"], accepted) == 1


def test_concurrent_escalations_with_the_same_version_one_wins(server):
    with httpx.Client() as c:
        case = c.post(f"{server['url']}/v1/cases", json={"title": "土地证", "description": "办不下来"},
                      headers=auth(server["ent"])).json()
    h = auth(server["officer"], **{"If-Match": '"1"'})
    answers = together(6, lambda c, i: c.post(f"{server['url']}/v1/cases/{case['id']}/escalate",
                                              json={"reason": f"升级{i}"}, headers=h))
    assert sorted(r.status_code for r in answers) == [200] + [412] * 5
    with httpx.Client() as c:
        assert c.get(f"{server['url']}/v1/cases/{case['id']}", headers=auth(server["officer"])).json()["tier"] == 2


@pytest.mark.parametrize("server", [2], indirect=True)
def test_requests_that_fail_holding_a_lock_roll_back_with_every_thread_taken(server):
    """Two request threads, eight escalations of one case with one version: each loser fails
    (412) holding the case's row lock while the others' threads wait on it. Its rollback must not
    wait for one of those threads (deps._rollbacks), or every request would hang."""
    with httpx.Client() as c:
        case = c.post(f"{server['url']}/v1/cases", json={"title": "土地证", "description": "办不下来"},
                      headers=auth(server["ent"])).json()
    h = auth(server["officer"], **{"If-Match": '"1"'})
    answers = together(8, lambda c, i: c.post(f"{server['url']}/v1/cases/{case['id']}/escalate",
                                              json={"reason": f"升级{i}"}, headers=h, timeout=20))
    assert sorted(r.status_code for r in answers) == [200] + [412] * 7


def test_concurrent_submissions_get_gapless_tracking_numbers(server):
    def submit_five(c, i):
        return [c.post(f"{server['url']}/v1/cases", json={"title": f"电费异常{i}-{j}", "description": "电费高"},
                       headers=auth(server["ent"])).json()["tracking_no"] for j in range(5)]

    numbers = sorted(n for batch in together(8, submit_five) for n in batch)
    assert numbers == [f"LH-2026-{k:06d}" for k in range(1, 41)]


def test_a_rolled_back_submission_gives_its_number_back(pg_rt):
    with pg_rt.session() as s:
        assert next_tracking_no(s, "LH", 2026) == "LH-2026-000001"
        s.commit()
    with pg_rt.session() as s:
        assert next_tracking_no(s, "LH", 2026) == "LH-2026-000002"
        s.rollback()
    with pg_rt.session() as s:
        assert next_tracking_no(s, "LH", 2026) == "LH-2026-000002"
        s.commit()


def test_an_offices_sheet_numbers_are_gapless_when_its_meetings_record_at_once(pg_rt):
    """Twelve transactions of one office (the city's weekly meetings share 漯企督) take numbers
    at once; every third rolls back and gives its number back: the committed numbers are 1…8."""
    barrier = threading.Barrier(12)

    def take(i):
        with pg_rt.session() as s:
            barrier.wait()
            n = next_in_sequence(s, pg_rt.directory.sheet_prefix("city-investment" if i % 2 else "city-key-projects"),
                                 2026)
            time.sleep(0.01)  # hold the office's counter while others queue for it
            if i % 3 == 0:
                s.rollback()
                return None
            s.commit()
            return n

    with ThreadPoolExecutor(12) as pool:
        got = [n for n in pool.map(take, range(12)) if n is not None]
    assert sorted(got) == list(range(1, 9))


def test_chinese_text_is_stored_as_sent_in_postgresql(server):
    title = "項(xiàng)目用地 𠀀 🏭 ＡＢＣ"
    with httpx.Client() as c:
        case = c.post(f"{server['url']}/v1/cases", json={"title": title, "description": title},
                      headers=auth(server["ent"])).json()
    with server["rt"].session() as s:
        assert s.get(Case, case["id"]).title == title
