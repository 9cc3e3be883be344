"""The embedded default: no Redis, the sweep runs inside the API process; and the sweep command."""

import os
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import update

from processes import REDIS_URL
from service.app import create_app
from service.cases.models import Case

CLOSEDLOOP = Path(sys.executable).with_name("closedloop")


def test_serve_sweeps_in_process_without_redis(world):
    c = world.submit()
    with world.rt.session() as s:
        s.execute(update(Case).values(due_at=world.clock() - timedelta(minutes=1)))
        s.commit()
    rt = replace(world.rt, settings=replace(world.rt.settings, sweep_interval=0.2))
    with TestClient(create_app(rt, scheduler=True)):
        deadline = time.monotonic() + 10
        while world.case(c["id"])["tier"] != 2:
            assert time.monotonic() < deadline, "the in-process sweep did not escalate the case"
            time.sleep(0.1)
    assert [e["type"] for e in world.case(c["id"])["timeline"]].count("escalated") == 1


def test_no_in_process_sweep_when_redis_is_configured(world):
    c = world.submit()
    with world.rt.session() as s:
        s.execute(update(Case).values(due_at=world.clock() - timedelta(minutes=1)))
        s.commit()
    settings = replace(world.rt.settings, sweep_interval=0.1, redis_url=REDIS_URL)
    with TestClient(create_app(replace(world.rt, settings=settings), scheduler=True)) as client:
        time.sleep(0.5)
        assert client.get("/readyz").json()["checks"] == {"database": "ok", "broker": "ok"}
    assert world.case(c["id"])["tier"] == 1  # Celery's beat is in charge, not this process


def test_readiness_reports_an_unreachable_broker(world):
    settings = replace(world.rt.settings, redis_url="redis://127.0.0.1:1/0")
    with TestClient(create_app(replace(world.rt, settings=settings))) as client:
        r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["checks"]["broker"].startswith("unreachable")


def test_sweep_command_dry_run_then_once(pg_rt, tmp_path):
    from service.auth.principal import Principal
    from service.cases import service as cases
    from service.cases.schemas import CaseSubmission
    from service.enterprises.models import Enterprise

    with pg_rt.session() as s:
        ent = Enterprise(credit_code="914111000000000011", name="命令行测试企业", district="yuanhui",
                         officer_id="officer-yuanhui-1", created_at=pg_rt.clock())
        s.add(ent)
        s.flush()
        case, _ = cases.submit(s, pg_rt, Principal("t", "admin"),
                               CaseSubmission(title="土地证", description="办不下来", enterprise_id=ent.id))
        s.commit()
        s.execute(update(Case).values(due_at=datetime.now(timezone.utc) - timedelta(minutes=5)))
        s.commit()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CLOSEDLOOP_")},
           "CLOSEDLOOP_DATABASE_URL": pg_rt.settings.database_url}
    dry = subprocess.run([str(CLOSEDLOOP), "sweep", "--once", "--dry-run"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert dry.returncode == 0, dry.stderr
    assert f'"tracking_no": "{case.tracking_no}"' in dry.stdout and "1 case(s) would escalate" in dry.stdout
    once = subprocess.run([str(CLOSEDLOOP), "sweep", "--once"], env=env, capture_output=True, text=True, timeout=60)
    assert once.returncode == 0, once.stderr
    assert f"escalated {case.tracking_no} to tier 2" in once.stdout
    again = subprocess.run([str(CLOSEDLOOP), "sweep", "--once"], env=env, capture_output=True, text=True, timeout=60)
    assert "escalated 0" in again.stdout
