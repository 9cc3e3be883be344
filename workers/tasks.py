"""Celery tasks: thin shells around the domain. Each is safe to run twice, or twice at once."""

from __future__ import annotations

import logging

from celery.signals import worker_process_init

from service.escalation.sweep import sweep
from service.runtime import Runtime

from .celery_app import SWEEP, app

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


@app.task(name=SWEEP)
def sweep_task() -> dict:
    """One tick of the deadline sweep (escalate, warn, remind, close unconfirmed)."""
    report = sweep(runtime())
    counts = report.counts()
    if any(counts.values()):
        log.info("sweep: %s", counts)
    return counts


# Issues #5 and #6 add here: draining the outbox after commit, publishing agendas at cut-off.
