"""Celery tasks: thin shells around the domain. Each is safe to run twice, or twice at once."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta

from celery.signals import worker_process_init

from service.escalation.sweep import SweepReport, escalate_due, next_wake, sweep
from service.runtime import Runtime

from service.notifications.channels import Sender
from service.notifications.delivery import deliver

from .celery_app import DELIVER, ESCALATE, ROLL_UP, SWEEP, app

log = logging.getLogger("closedloop.workers")
_runtime: Runtime | None = None
_sender: Sender | None = None
_redis = None


def runtime() -> Runtime:
    """One runtime per worker process, built after the fork (database pools do not survive it)."""
    global _runtime
    if _runtime is None:
        _runtime = Runtime.build()
    return _runtime


def sender() -> Sender:
    """One HTTP connection pool per worker process (keep-alive to each endpoint)."""
    global _sender
    if _sender is None:
        _sender = Sender(runtime().settings.notify)
    return _sender


@worker_process_init.connect
def _fresh_runtime(**_):
    global _runtime, _sender, _redis
    _runtime = _sender = _redis = None


HELPERS = int(os.environ.get("CLOSEDLOOP_SWEEP_HELPERS", "3"))


@app.task(name=SWEEP)
def sweep_task() -> dict:
    """One tick of the deadline sweep (escalate, warn, remind, close unconfirmed)."""

    def send_helpers(now: datetime) -> None:
        for _ in range(HELPERS):
            escalate_task.apply_async((now.isoformat(),), expires=600)

    rt = runtime()
    now = rt.clock()
    report = sweep(rt, now, on_backlog=send_helpers)
    counts = report.counts()
    if any(counts.values()):
        log.info("sweep: %s", counts)
    wake_at_next(rt, now)
    return counts


def wake_at_next(rt: Runtime, now: datetime) -> None:
    """Send a tick for the next moment that has something to do when it comes before the beat's
    next tick (sweep.next_wake), so that a deadline escalates as it passes, not up to an interval
    later. Every tick until then finds the same moment: a key in Redis lets one of them send it.
    Without Redis there is no broker either, and the beat's ticks go on as before. ``now`` is the
    tick's own moment: what fell due while the tick ran is ahead of it, so a moment already past
    sends a tick at once."""
    global _redis
    moment = next_wake(rt, now)
    if moment is None:
        return
    interval = rt.settings.sweep_interval
    try:
        if _redis is None:
            import redis

            _redis = redis.Redis.from_url(rt.settings.redis_url)
        if not _redis.set(f"closedloop:wake:{moment.isoformat()}", 1, nx=True, ex=int(interval * 2) + 60):
            return
        sweep_task.apply_async(eta=moment, expires=moment + timedelta(seconds=max(interval * 2, 5)))
    except Exception as exc:  # noqa: BLE001 - the beat's next tick does it, a little later
        log.warning("sweep: no wake-up sent for %s: %s", moment.isoformat(), exc)


@app.task(name=ESCALATE)
def escalate_task(now_iso: str) -> int:
    """A helper for a tick with a backlog: escalate what was due at the tick's moment."""
    rt = runtime()
    report = SweepReport()
    escalate_due(rt, datetime.fromisoformat(now_iso), report, rt.settings.sweep_batch)
    return len(report.escalated) + len(report.supervised)


@app.task(name=DELIVER)
def deliver_task(ids: list[int] | None = None) -> dict:
    """Deliver notifications: the given ones (sent right after their commit), or, with None,
    whatever is due — retries, and anything whose hand-over was lost (the beat's catch-up)."""
    report = deliver(runtime(), sender(), ids)
    counts = report.counts()
    if counts["retried"] or counts["dead"]:
        log.info("deliver: %s", counts)
    return counts


# Seconds a roll-up run starts months for, well inside the task's time limit (celery_app: 540 s
# soft): the first roll-up of a database with years of history (~7 min for ten years at a
# province's size, bench/reports.py) goes on in a next run queued at once, not killed half-way.
ROLL_UP_BUDGET = 300.0


@app.task(name=ROLL_UP)
def roll_up_task() -> list[str]:
    """The reports' monthly rollups of the months that have ended (service/reports/rollups.py)."""
    from service.reports.rollups import roll_up

    rt = runtime()
    rolled = roll_up(rt, rt.clock(), budget=ROLL_UP_BUDGET)
    months = [m.isoformat() for m in rolled]
    if months:
        log.info("rolled up: %s", ", ".join(months))
    if rolled.more:
        log.info("roll-up goes on in the next run")
        roll_up_task.apply_async(expires=3000)
    return months


@app.task(name="closedloop.echo")
def echo_task(url: str, token: str) -> None:
    """A bare Celery round trip with one HTTP POST: the ceiling ``bench/push.py`` compares with."""
    sender().client.post(url, json={"token": token})
