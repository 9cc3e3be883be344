"""The push on real processes: API → Redis → Celery worker → a loopback webhook, on PostgreSQL;
and a worker killed in the middle of a delivery."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from receivers import SECRETS, HTTPReceiver, channel_directory
from service.app import create_app
from service.config import NotifySettings, Settings
from service.notifications.models import OutboxMessage
from service.runtime import Runtime
from processes import wait_for
from conftest import World

LAND = "/department/natural-resources"


@pytest.fixture
def push(pg_rt, procs, broker, tmp_path, monkeypatch):
    receiver = HTTPReceiver().start()
    directory = channel_directory(tmp_path / "directory.yaml", receiver.url, email=False)
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    procs.env.update(SECRETS, CLOSEDLOOP_DIRECTORY=str(directory), CLOSEDLOOP_NOTIFY_LEASE="3",
                     CLOSEDLOOP_NOTIFY_INTERVAL="1", CLOSEDLOOP_NOTIFY_TIMEOUT="60", CLOSEDLOOP_SWEEP_INTERVAL="3600")
    # the API side: its commits hand the new ids to Celery
    rt = Runtime.build(Settings(database_url=pg_rt.settings.database_url, redis_url=broker, directory=directory,
                                notify=NotifySettings(timeout=60)))
    world = World(rt, TestClient(create_app(rt)))
    world.key("ent", "enterprise", enterprise_id=world.enterprise("漯河推送测试有限公司"))
    yield world, receiver
    receiver.stop()
    rt.engine.dispose()


def _rows(rt, **where):
    with rt.session() as s:
        q = select(OutboxMessage).order_by(OutboxMessage.id)
        for k, v in where.items():
            q = q.where(getattr(OutboxMessage, k) == v)
        return list(s.scalars(q))


def test_a_submitted_case_is_pushed_by_the_worker_at_once(push, procs):
    world, receiver = push
    procs.worker()
    time.sleep(3)  # the worker is up (no beat: only the hand-over after commit can deliver)
    c = world.submit()
    started = time.time()
    got = wait_for("the lead department's message", lambda: receiver.on(LAND), 15, procs)
    assert got[0].json()["case"]["tracking_no"] == c["tracking_no"]
    print(f"pushed {got[0].at - started:.3f} s after the 201")
    wait_for("every message delivered",
             lambda: all(m.status == "delivered" for m in _rows(world.rt, case_id=c["id"])), 10, procs)


def test_a_worker_killed_mid_delivery_delivers_after_restart(push, procs):
    world, receiver = push
    receiver.script(LAND, "hang")
    receiver.hang_seconds = 60
    worker = procs.worker()
    procs.beat()
    time.sleep(3)
    c = world.submit()
    wait_for("the delivery in flight", lambda: receiver.arrivals >= 1 and not receiver.on(LAND), 15, procs)
    procs.kill(worker)  # SIGKILL, mid-request
    (row,) = _rows(world.rt, case_id=c["id"], channel="department:natural-resources/webhook", event_type="routed")
    assert row.status == "sending"  # claimed, never recorded
    receiver.release.set()
    procs.worker()
    got = wait_for("the message, sent again after the lease", lambda: receiver.on(LAND), 30, procs)
    assert got[0].headers["X-Closedloop-Delivery-Id"] == str(row.id)
    wait_for("recorded as delivered", lambda: _rows(world.rt, id=row.id)[0].status == "delivered", 10, procs)
    assert len(receiver.on(LAND)) == 1
    logs = procs.logs()
    assert logs and not any(secret in logs for secret in SECRETS.values())  # nor in the workers' logs
