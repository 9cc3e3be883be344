"""Memory benchmark (issue #12, item 5): what an API process and a Celery worker child hold.

    python bench/memory.py [--requests 10000]

On a scratch database of the local PostgreSQL with the local Redis (the production shape): starts
``closedloop serve --workers 1`` and reads its resident set (VmRSS) after start and after
``--requests`` requests driven by wrk (an enterprise's submissions, lists and case reads, in
turn); then starts ``closedloop worker -c 1`` and reads its pool child's resident set after start
and after 200 sweep ticks. Beside them, the same reading of a bare process that imports only
FastAPI, SQLAlchemy and psycopg — what any such service holds before its own code.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.scratch import UNLIMITED, enterprise_key, scratch_database  # noqa: E402

CLOSEDLOOP = Path(sys.executable).with_name("closedloop")


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids = (task / "children").read_text().split()
        out += [int(k) for k in kids]
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk(url: str, key: str, requests: int, lua: str) -> int:
    """Drive ``url`` until about ``requests`` requests were answered; how many were."""
    done = 0
    while done < requests:
        out = subprocess.run(["wrk", "-t1", "-c2", "-d5s", "-s", lua, url, "--", key],
                             capture_output=True, text=True, check=True).stdout
        done += int(re.search(r"(\d+) requests in", out).group(1))
    return done


LUA = """
local key = nil
local n = 0
init = function(args) key = args[1] end
request = function()
  n = n + 1
  local h = {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}
  if n % 4 == 0 then
    return wrk.format("POST", "/v1/cases", h, '{"title": "厂区用电增容报装迟缓", "description": "申请增容两个月未批复"}')
  elseif n % 4 == 1 then
    return wrk.format("GET", "/v1/cases?limit=20", h)
  elseif n % 4 == 2 then
    return wrk.format("GET", "/v1/cases/1", h)
  end
  return wrk.format("GET", "/v1/directory", h)
end
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    args = parser.parse_args()
    redis_url = os.environ.get("CLOSEDLOOP_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}")
    bare = subprocess.run([sys.executable, "-c", "import fastapi, sqlalchemy, psycopg, uvicorn, re; "
                           "print(re.search(r'VmRSS:\\s+(\\d+)', open('/proc/self/status').read()).group(1))"],
                          capture_output=True, text=True, check=True)
    rows = [("a bare process: fastapi, sqlalchemy, psycopg, uvicorn imported", int(bare.stdout) / 1024, None)]
    lua = Path("/tmp/closedloop-memory.lua")
    lua.write_text(LUA)
    with scratch_database() as url:
        key = enterprise_key(url)
        env = {**os.environ, **UNLIMITED, "CLOSEDLOOP_DATABASE_URL": url, "CLOSEDLOOP_REDIS_URL": redis_url}
        port = free_port()
        api = subprocess.Popen([str(CLOSEDLOOP), "serve", "--port", str(port), "--workers", "1"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            for _ in range(300):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=0.5).raise_for_status()
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            httpx.post(f"http://127.0.0.1:{port}/v1/cases", headers={"Authorization": f"Bearer {key}"},
                       json={"title": "土地证办不下来", "description": "材料齐全仍未办结"}).raise_for_status()
            started = rss_mb(api.pid)
            done = wrk(f"http://127.0.0.1:{port}", key, args.requests, str(lua))
            rows.append(("API process (`closedloop serve --workers 1`)", started, (done, rss_mb(api.pid))))
        finally:
            os.killpg(api.pid, signal.SIGTERM)
            api.wait(timeout=20)

        worker = subprocess.Popen([str(CLOSEDLOOP), "worker", "-c", "1", "--loglevel", "warning"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            from workers.celery_app import SWEEP, make_celery

            app = make_celery(redis_url)
            app.send_task(SWEEP)
            time.sleep(8)  # started, and one tick done
            (child,) = [c for c in children(worker.pid)]
            started = rss_mb(child)
            for _ in range(200):
                app.send_task(SWEEP)
            time.sleep(15)
            rows.append(("Celery worker pool child (`closedloop worker -c 1`)", started, (200, rss_mb(child))))
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)

    print("\n| process | RSS after start, MB | requests or tasks | RSS after them, MB |")
    print("|---|---:|---:|---:|")
    for name, start, after in rows:
        print(f"| {name} | {start:.0f} | {after[0]:,} | {after[1]:.0f} |" if after else f"| {name} | {start:.0f} | — | — |")


if __name__ == "__main__":
    main()
