"""The sweep on real Celery worker and beat processes, real Redis and real PostgreSQL.

Processes are killed with SIGKILL, doubled, and cut off from Redis; every case must climb
exactly once per deadline. These tests take a minute or two.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select, update

from service.app import create_app
from service.auth import keys
from service.auth.principal import Principal
from service.cases import service as cases
from service.cases.models import Case, CaseEvent, CaseTier
from service.cases.schemas import CaseSubmission
from service.config import Settings
from service.directory import DEFAULT_DIRECTORY
from service.enterprises.models import Enterprise
from service.runtime import Runtime
from processes import CLOSEDLOOP, REDIS_URL, Procs, free_port, redis_ok, wait_for  # noqa: F401


FAST_RULES = """\
defaults: {sla: drill}
sla_policies:
  drill:
    description: seconds, for this test
    tiers:
      officer: {due: 3 seconds, warn: 1 seconds}
      county_meeting: {due: 3 seconds}
      department: {due: 3 seconds}
      city_meeting: {due: 3 seconds}
      joint_meeting: {due: 3 seconds}
rules:
  - {id: land, description: 用地, when: {keywords: {any: [土地]}}, then: {lead: natural-resources, theme: factor-guarantee}}
"""


def count(rt, stmt) -> int:
    with rt.session() as s:
        return s.scalar(stmt) or 0


def escalated_events(rt) -> int:
    return count(rt, select(func.count(CaseEvent.id)).where(CaseEvent.type == "escalated"))


def make_due_cases(rt, n: int) -> None:
    """n cases whose tier-1 deadline passed an hour ago."""
    with rt.session() as s:
        ent = Enterprise(credit_code="914111000000000009", name="到期测试企业", district="yuanhui",
                         officer_id="officer-yuanhui-1", created_at=rt.clock())
        s.add(ent)
        s.commit()
        who = Principal("test", "admin")
        for i in range(n):
            cases.submit(s, rt, who, CaseSubmission(title=f"土地证问题{i}", description="土地证办不下来",
                                                    enterprise_id=ent.id))
            if i % 100 == 99:
                s.commit()
        s.commit()
        s.execute(update(Case).values(due_at=datetime.now(timezone.utc) - timedelta(hours=1)))
        s.commit()


def send_sweep(broker: str) -> None:
    from workers.celery_app import SWEEP, make_celery

    make_celery(broker).send_task(SWEEP)


def assert_exactly_once(rt, n: int) -> None:
    per_case = select(CaseEvent.case_id, func.count()).where(CaseEvent.type == "escalated").group_by(CaseEvent.case_id)
    with rt.session() as s:
        counts = dict(s.execute(per_case).all())
        tiers = dict(s.execute(select(Case.tier, func.count()).group_by(Case.tier)).all())
        tier_rows = s.scalar(select(func.count(CaseTier.id)).where(CaseTier.tier == 2))
    assert len(counts) == n and set(counts.values()) == {1}
    assert tiers == {2: n} and tier_rows == n


def test_a_worker_killed_mid_sweep_loses_nothing_and_repeats_nothing(pg_rt, procs, broker):
    make_due_cases(pg_rt, 1000)
    first = procs.worker(CLOSEDLOOP_SWEEP_BATCH="10")
    send_sweep(broker)
    wait_for("the first batches", lambda: escalated_events(pg_rt) >= 100, 60, procs)
    procs.kill(first)  # SIGKILL, in the middle of the sweep
    done_when_killed = escalated_events(pg_rt)
    assert 100 <= done_when_killed < 1000, done_when_killed
    procs.worker(CLOSEDLOOP_SWEEP_BATCH="10")
    send_sweep(broker)  # what the next beat tick does
    wait_for("all 1000", lambda: escalated_events(pg_rt) >= 1000, 120, procs)
    time.sleep(2)  # a redelivered copy of the killed task may still run: it must change nothing
    assert_exactly_once(pg_rt, 1000)


def test_a_deadline_escalates_as_it_passes_not_at_the_next_interval(pg_rt, procs, broker):
    """The beat ticks every 60 s here; one tick, sent by hand, finds a deadline 5 s ahead and
    sends a tick for that moment (workers.tasks.wake_at_next). The case escalates as its deadline
    passes, long before any next interval; a second tick sends no second wake-up."""
    make_due_cases(pg_rt, 1)
    due = datetime.now(timezone.utc) + timedelta(seconds=5)
    with pg_rt.session() as s:
        s.execute(update(Case).values(due_at=due, warn_at=None))
        s.commit()
    procs.worker(CLOSEDLOOP_SWEEP_INTERVAL="60")
    send_sweep(broker)  # what a beat tick does, once
    send_sweep(broker)  # and another: the same moment, one wake-up
    wait_for("the escalation", lambda: escalated_events(pg_rt) >= 1, 30, procs)
    with pg_rt.session() as s:
        (late,) = s.scalars(select(CaseEvent.data).where(CaseEvent.type == "escalated")).all()
    # measured at well under a second; the bound only has to tell "as it passed" from "at the next
    # interval, a minute later", with room for a loaded machine
    assert 0 <= late["late_seconds"] < 10, late
    import redis

    assert len(redis.Redis.from_url(broker).keys("closedloop:wake:*")) == 1
    time.sleep(1)
    assert_exactly_once(pg_rt, 1)


def test_two_workers_and_two_beats_escalate_exactly_once(pg_rt, procs, broker):
    make_due_cases(pg_rt, 400)
    for _ in range(2):
        procs.worker(CLOSEDLOOP_SWEEP_BATCH="20")
        procs.beat(CLOSEDLOOP_SWEEP_INTERVAL="1")
    wait_for("all 400", lambda: escalated_events(pg_rt) >= 400, 120, procs)
    time.sleep(4)  # several more ticks from both beats
    assert_exactly_once(pg_rt, 400)


def test_redis_down_while_cases_fall_due(pg_rt, procs, tmp_path):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed to run a private broker for this test", pytrace=False)
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
           "--dir", str(tmp_path)]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for("private redis", lambda: redis_ok(url), 10)
    make_due_cases(pg_rt, 50)
    with pg_rt.session() as s:  # they fall due in five seconds, while Redis is down
        s.execute(update(Case).values(due_at=datetime.now(timezone.utc) + timedelta(seconds=5)))
        s.commit()
    procs.worker(CLOSEDLOOP_REDIS_URL=url)
    procs.beat(CLOSEDLOOP_REDIS_URL=url, CLOSEDLOOP_SWEEP_INTERVAL="1")
    time.sleep(2)
    server.kill()
    server.wait()
    time.sleep(8)
    assert escalated_events(pg_rt) == 0  # nothing could run: the broker was gone
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for("all 50 after Redis came back", lambda: escalated_events(pg_rt) >= 50, 90, procs)
        time.sleep(2)
        assert_exactly_once(pg_rt, 50)
    finally:
        server.kill()
        server.wait()


def test_a_case_climbs_all_five_tiers_on_real_workers(pg_rt, procs, broker, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(FAST_RULES, encoding="utf-8")
    directory = tmp_path / "directory.yaml"
    text = DEFAULT_DIRECTORY.read_text(encoding="utf-8")
    for cron in ('"0 9 * * 2"', '"0 9 * * 3"', '"0 15 * * 2"', '"0 15 * * 3"', '"0 15 * * 1"', '"0 9 * * 1"',
                 '"0 9 * * 4"', '"0 15 * * 4"', '"0 9 * * 5"', '"0 9 10 * *"'):
        # a sitting every three seconds, its agenda open until a second before
        text = text.replace(cron, '"* * * * * */3", agenda_closes_before: "1 seconds"')
    directory.write_text(text.replace(', agenda_closes_before: "3 days"', ""), encoding="utf-8")
    year = datetime.now(timezone.utc).year
    holidays = tmp_path / "holidays.yaml"  # every day a working day, so the drill runs on weekends too
    holidays.write_text("".join(f"{y}:\n  workdays: [{y}-01-01..{y}-12-31]\n" for y in (year, year + 1)))
    env = dict(CLOSEDLOOP_RULES=str(rules), CLOSEDLOOP_DIRECTORY=str(directory), CLOSEDLOOP_HOLIDAYS=str(holidays))
    rt = Runtime.build(Settings(database_url=pg_rt.settings.database_url, rules=rules, directory=directory,
                                holidays_file=holidays))
    from service.migrate import load_directory_rows

    with rt.session() as s:
        load_directory_rows(s, rt.directory)
        ent = Enterprise(credit_code="914111000000000010", name="演练企业", district="yuanhui",
                         officer_id="officer-yuanhui-1", created_at=rt.clock())
        s.add(ent)
        s.flush()
        _, key = keys.issue(s, "enterprise", enterprise_id=ent.id)
        s.commit()
    config = uvicorn.Config(create_app(rt), host="127.0.0.1", port=free_port(), log_level="warning")
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    wait_for("the API", lambda: server.started, 10)
    procs.worker(**env)
    procs.beat(CLOSEDLOOP_SWEEP_INTERVAL="1", **env)
    api = f"http://127.0.0.1:{config.port}"
    try:
        case = httpx.post(f"{api}/v1/cases", json={"title": "土地证办不下来", "description": "演练"},
                          headers={"Authorization": f"Bearer {key}"}).json()
        assert case["sla_policy"] == "drill"

        def supervised():
            c = httpx.get(f"{api}/v1/cases/{case['id']}", headers={"Authorization": f"Bearer {key}"}).json()
            return c if c["supervised"] else None

        final = wait_for("the climb to tier 5 and supervision", supervised, 120, procs)
    finally:
        server.should_exit = True
    assert final["tier"] == 5 and final["status"] == "open"
    steps = [(e["type"], e["data"].get("tier")) for e in final["timeline"] if e["type"] in ("escalated", "supervised")]
    assert steps == [("escalated", 2), ("escalated", 3), ("escalated", 4), ("escalated", 5), ("supervised", 5)]
    assert all(e["data"]["reason"] == "deadline" for e in final["timeline"] if e["type"] == "escalated")
    series = [e["data"].get("sitting", {}).get("series") for e in final["timeline"] if e["type"] == "escalated"]
    assert series == ["county-yuanhui", None, "city-factor-guarantee", "joint"]
