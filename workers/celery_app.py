"""The Celery application (任务队列): broker settings from ``CLOSEDLOOP_REDIS_URL``, the beat
schedule from ``CLOSEDLOOP_SWEEP_INTERVAL``.

Settings, and why:

- ``task_acks_late`` + ``task_reject_on_worker_lost``: a task is acknowledged only when it has
  run; a worker killed mid-task leaves it to be delivered again. Every task is idempotent (the
  sweep re-reads the database under row locks), so a second run changes nothing;
- ``worker_prefetch_multiplier = 1``: a worker holds one sweep at a time, not a backlog;
- ``visibility_timeout`` well above the time limit, so Redis does not hand a running task to a
  second worker; and a short ``expires`` on the sweep, so ticks queued while the workers were
  down do not all run when they return — one catches up, the rest are dropped;
- no ETA or countdown tasks for deadlines: those live in the database (DESIGN.md, Celery's Redis
  caveats), the beat only ticks.
"""

from __future__ import annotations

import os

from celery import Celery

SWEEP = "closedloop.sweep"
ESCALATE = "closedloop.escalate"
DELIVER = "closedloop.deliver"  # = service.notifications.dispatch.DELIVER_TASK
ROLL_UP = "closedloop.roll_up"


def make_celery(redis_url: str | None = None, sweep_interval: float | None = None) -> Celery:
    redis_url = redis_url or os.environ.get("CLOSEDLOOP_REDIS_URL") or "redis://127.0.0.1:6379/0"
    interval = float(sweep_interval or os.environ.get("CLOSEDLOOP_SWEEP_INTERVAL") or 30)
    catch_up = float(os.environ.get("CLOSEDLOOP_NOTIFY_INTERVAL") or 5)
    app = Celery("closedloop", broker=redis_url, include=["workers.tasks"])
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_time_limit=600,
        task_soft_time_limit=540,
        broker_transport_options={"visibility_timeout": 3600},
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # Redis down: keep trying, never give up
        worker_hijack_root_logger=False,
        timezone=os.environ.get("CLOSEDLOOP_TIMEZONE", "Asia/Shanghai"),
        beat_schedule={
            "sweep": {"task": SWEEP, "schedule": interval, "options": {"expires": max(interval * 2, 5)}},
            # the catch-up of notifications whose hand-over after commit was lost, and retries
            "deliver": {"task": DELIVER, "schedule": catch_up, "args": (None,),
                        "options": {"expires": max(catch_up * 2, 5)}},
            # the reports' monthly rollups: a month is rolled up an hour after it ends
            "roll-up": {"task": ROLL_UP, "schedule": 3600, "options": {"expires": 3000}},
        },
    )
    return app


app = make_celery()
