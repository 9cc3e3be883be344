"""Real processes for the tests: Celery workers and beats in their own process groups (so that
SIGKILL takes their children), and the Redis they need."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CLOSEDLOOP = Path(sys.executable).with_name("closedloop")
REDIS_URL = os.environ.get("CLOSEDLOOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def redis_ok(url: str) -> bool:
    import redis

    try:
        return redis.Redis.from_url(url, socket_timeout=1).ping()
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture
def broker():
    if not redis_ok(REDIS_URL):
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required in CI: {REDIS_URL} does not answer", pytrace=False)
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    return REDIS_URL


class Procs:
    """Worker and beat processes, each in its own process group so SIGKILL takes its children."""

    def __init__(self, env: dict, tmp: Path):
        self.env, self.tmp, self.running = env, tmp, []

    def start(self, *args: str, **env) -> subprocess.Popen:
        log = open(self.tmp / f"{args[0]}-{len(self.running)}.log", "w")
        proc = subprocess.Popen([str(CLOSEDLOOP), *args], env={**self.env, **env}, stdout=log, stderr=log,
                                start_new_session=True)
        self.running.append(proc)
        return proc

    def worker(self, **env) -> subprocess.Popen:
        return self.start("worker", "-c", "2", "--loglevel", "warning", **env)

    def beat(self, **env) -> subprocess.Popen:
        return self.start("beat", "--schedule", str(self.tmp / f"beat-{len(self.running)}"), "--loglevel", "warning",
                          **env)

    @staticmethod
    def kill(proc: subprocess.Popen) -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.running:
            if proc.poll() is None:
                self.kill(proc)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.tmp.glob("*.log")))


@pytest.fixture
def procs(pg_rt, broker, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOSEDLOOP_")}
    env.update(CLOSEDLOOP_DATABASE_URL=pg_rt.settings.database_url, CLOSEDLOOP_REDIS_URL=broker)
    p = Procs(env, tmp_path)
    yield p
    p.stop_all()


def wait_for(what, check, timeout: float, procs: Procs | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}" + (f"\n{procs.logs()}" if procs else ""))


