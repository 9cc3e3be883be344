"""Who starts a delivery right after a commit (the notifier), in each shape of deployment.

- With Redis (production): a Celery task ``closedloop.deliver`` with the new messages' ids; the
  worker claims and sends them at once. The beat's catch-up task finds anything whose hand-over
  was lost (the broker down at that moment, a worker killed).
- Embedded (no Redis): a thread in the API process does the same, and the catch-up every
  ``CLOSEDLOOP_NOTIFY_INTERVAL`` seconds.
"""

from __future__ import annotations

import logging
import queue
import threading

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
