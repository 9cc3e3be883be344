"""Celery tasks: thin shells around the domain. Each is safe to run twice, or twice at once."""

from __future__ import annotations

import logging
import os
from datetime import datetime

from celery.signals import worker_process_init

from service.escalation.sweep import SweepReport, escalate_due, sweep
from service.runtime import Runtime

from .celery_app import ESCALATE, SWEEP, app

log = logging.getLogger("closedloop.workers")
_runtime: Runtime | None = None


def runtime() -> Runtime:
    """One runtime per worker process, built after the fork (database pools do not survive it)."""
    global _runtime
    if _runtime is None:
        _runtime = Runtime.build()
    return _runtime


@worker_process_init.connect
def _fresh_runtime(**_):
    global _runtime
    _runtime = None


HELPERS = int(os.environ.get("CLOSEDLOOP_SWEEP_HELPERS", "3"))


@app.task(name=SWEEP)
def sweep_task() -> dict:
    """One tick of the deadline sweep (escalate, warn, remind, close unconfirmed)."""

    def send_helpers(now: datetime) -> None:
        for _ in range(HELPERS):
            escalate_task.apply_async((now.isoformat(),), expires=600)

    report = sweep(runtime(), on_backlog=send_helpers)
    counts = report.counts()
    if any(counts.values()):
        log.info("sweep: %s", counts)
    return counts


@app.task(name=ESCALATE)
def escalate_task(now_iso: str) -> int:
    """A helper for a tick with a backlog: escalate what was due at the tick's moment."""
    rt = runtime()
    report = SweepReport()
    escalate_due(rt, datetime.fromisoformat(now_iso), report, rt.settings.sweep_batch)
    return len(report.escalated) + len(report.supervised)


# Issues #5 and #6 add here: draining the outbox after commit, publishing agendas at cut-off.
