"""Keep a Celery worker or beat alive across broker outages.

Celery's Redis transport has long-standing failure modes when the broker goes away: the worker
may exit with "Unrecoverable error" (celery#4652, celery#9250, kombu#582), or reconnect and then
stop consuming. Seen here in tests that kill Redis. Nothing is lost when that happens —
deadlines live in the database and every task is idempotent — but nothing moves either, until
the process is restarted. So ``closedloop worker`` and ``closedloop beat`` run Celery as a child
and restart it when it exits unexpectedly, and when the broker answers again after an outage (a
clean start instead of a half-recovered connection). A supervisor around this one (systemd,
docker's restart policy) is still welcome; it only has to restart a process that exits.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

log = logging.getLogger("closedloop.supervise")


def broker_up(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001 - any failure means "not up"
        return False


def _stop(child: subprocess.Popen, how: int = signal.SIGQUIT, grace: float = 10) -> None:
    """Cold shutdown: a running sweep is abandoned, not finished; it is redone by the next tick."""
    if child.poll() is None:
        child.send_signal(how)
        try:
            child.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def supervise(celery_args: list[str], check_every: float = 1.0) -> int:
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s: %(levelname)s/supervise] %(message)s")
    url = os.environ.get("CLOSEDLOOP_REDIS_URL") or "redis://127.0.0.1:6379/0"
    argv = [sys.executable, "-m", "celery", "-A", "workers.celery_app", *celery_args]
    stopping = False
    child: subprocess.Popen | None = None

    def on_signal(signum, _frame):
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while True:
        child = subprocess.Popen(argv)
        was_down = False
        while child.poll() is None and not stopping:
            time.sleep(check_every)
            if not broker_up(url):
                was_down = True
            elif was_down:
                log.warning("the broker is back; restarting celery %s so it reconnects cleanly", celery_args[0])
                _stop(child)
                break
        if stopping:
            try:
                return child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()
                return child.wait()
        if child.poll() is not None and child.returncode != 0:
            log.warning("celery %s exited with %s; restarting", celery_args[0], child.returncode)
        time.sleep(1)
