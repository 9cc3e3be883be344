"""Who starts a delivery right after a commit (the notifier), in each shape of deployment.

- With Redis (production): a Celery task ``closedloop.deliver`` with the new messages' ids; the
  worker claims and sends them at once. The beat's catch-up task finds anything whose hand-over
  was lost (the broker down at that moment, a worker killed, a process stopped before its
  hand-over thread sent). Publishing a task costs ~0.8 ms of CPU — as much as the rest of a
  case's intake — so the ids of the commits of a few milliseconds travel in one task
  (:class:`HandOver`).
- Embedded (no Redis): a thread in the API process does the same, and the catch-up every
  ``CLOSEDLOOP_NOTIFY_INTERVAL`` seconds.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable

from ..runtime import Runtime

DELIVER_TASK = "closedloop.deliver"
log = logging.getLogger("closedloop.notifications")


class CeleryNotifier:
    def __init__(self, redis_url: str):
        from celery import Celery

        self.app = Celery("closedloop-notify", broker=redis_url, set_as_current=False)
        # A request must not hang on a broker that is down: one quick retry, then the catch-up.
        self.app.conf.update(task_publish_retry_policy={"max_retries": 1, "interval_start": 0.1,
                                                        "interval_step": 0.1, "interval_max": 0.2},
                             broker_connection_timeout=2)

    def __call__(self, ids: list[int] | None) -> None:
        self.app.send_task(DELIVER_TASK, args=(ids,), expires=3600)


class HandOver:
    """Hands committed ids to ``send`` from a thread of its own, the ids of every commit within
    ``linger`` seconds of the first in one call; a ``None`` among them (deliver whatever is due)
    makes the call ``send(None)``, which covers the ids.

    The committing thread only queues: publishing happens beside the requests, once per batch
    instead of once per commit (at 400 cases/s and 5 ms, about one task for two cases; under a
    burst, one for dozens). Nothing is lost by batching: the rows are committed before their ids
    are queued, and what a stopped process never sent is found by the catch-up. The thread is
    started on the first hand-over in each process (a forked worker does not inherit it)."""

    def __init__(self, send: Callable[[list[int] | None], None], linger: float = 0.005):
        self.send = send
        self.linger = linger
        self.queue: queue.Queue = queue.Queue()
        self._pid: int | None = None
        self._lock = threading.Lock()
        self.sent = 0  # calls of ``send``, for tests and diagnostics

    def __call__(self, ids: list[int] | None) -> None:
        if self._pid != os.getpid():
            self._start()
        self.queue.put(ids)

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self.queue = queue.Queue()  # a forked child's copy may hold its parent's ids
            threading.Thread(target=self._run, name="closedloop-hand-over", daemon=True).start()
            self._pid = os.getpid()

    def flush(self, timeout: float = 2.0) -> None:
        """Wait until what was handed over is sent (a process that stops gracefully)."""
        end = time.monotonic() + timeout
        while self._pid == os.getpid() and self.queue.unfinished_tasks and time.monotonic() < end:
            time.sleep(0.001)

    def _run(self) -> None:
        q = self.queue
        while True:
            batch = [q.get()]
            until = time.monotonic() + self.linger
            while (left := until - time.monotonic()) > 0:
                try:
                    batch.append(q.get(timeout=left))
                except queue.Empty:
                    break
            ids = None if any(b is None for b in batch) else [i for b in batch for i in b]
            try:
                self.send(ids)
                self.sent += 1
            except Exception:  # noqa: BLE001 - the broker may be down; the catch-up delivers later
                log.warning("could not hand over notifications; the catch-up sweep will deliver them",
                            exc_info=True)
            finally:
                for _ in batch:
                    q.task_done()


class InProcessNotifier:
    """A daemon thread: delivers handed-over ids at once, and catches up every ``interval``."""

    def __init__(self, rt: Runtime):
        from .channels import Sender

        self.rt = rt
        self.sender = Sender(rt.settings.notify)
        self.queue: queue.Queue = queue.Queue()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="closedloop-notify", daemon=True)

    def start(self) -> "InProcessNotifier":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.queue.put(None)
        self.thread.join(timeout=10)
        self.sender.close()

    def __call__(self, ids: list[int] | None) -> None:
        self.queue.put(ids if ids is not None else [])

    def _run(self) -> None:
        from .delivery import deliver

        interval = self.rt.settings.notify.interval
        while not self.stopped.is_set():
            try:
                batches = [self.queue.get(timeout=interval)]
            except queue.Empty:
                batches = [[]]
            while True:  # take what else queued meanwhile in the same round
                try:
                    batches.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            if self.stopped.is_set() or None in batches:
                return
            # an empty batch asks for whatever is due, which covers the others
            ids = None if any(b == [] for b in batches) else [i for b in batches for i in b]
            try:
                deliver(self.rt, self.sender, ids)
            except Exception:  # noqa: BLE001 - a failed round is logged; the next one retries
                log.exception("notification delivery failed")
