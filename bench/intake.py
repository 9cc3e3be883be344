"""Intake benchmark: cases submitted over HTTP against PostgreSQL, against a bare-insert ceiling.

    python bench/intake.py [--seconds 15] [--concurrency 16] [--rate 100]

Creates a scratch database on the local PostgreSQL (CLOSEDLOOP_BENCH_DATABASE_URL, an admin URL;
default postgresql+psycopg://postgres@127.0.0.1:5432/postgres), migrates it, registers an
enterprise and a key, then for each of two servers — the real API (`POST /v1/cases`: auth,
routing, tracking number, deadline, case row, two events, outbox rows, one transaction) and a
bare FastAPI endpoint that inserts one row — both run by uvicorn in a process of their own:

1. throughput: `--concurrency` clients submitting back to back for `--seconds`;
2. latency at a fixed offered rate (`--rate` per second, open loop: requests are sent on
   schedule whether or not earlier ones have answered) for `--seconds`: p50, p99, max.

Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import enterprise_key, scratch_database  # noqa: E402

TITLES = ["项目用地报批进度缓慢", "中小企业贷款审批时间长", "专用变压器报装", "出口退税进度查询", "员工子女转学",
          "食品经营许可证办理", "冷链运输车辆受限", "政府采购货款未支付"]


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(app: str, port: int, env: dict, workers: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
                             "--workers", str(workers), "--log-level", "warning", "--no-access-log"], cwd=ROOT, env=env)
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/docs", timeout=0.5)
            return proc
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{app} did not start")


async def throughput(url: str, headers: dict, seconds: float, concurrency: int) -> tuple[float, int]:
    done = errors = 0
    stop = time.perf_counter() + seconds

    async def client(i: int):
        nonlocal done, errors
        async with httpx.AsyncClient(timeout=30) as c:
            n = 0
            while time.perf_counter() < stop:
                r = await c.post(url, json=body(i, n), headers=headers)
                done += r.status_code == 201
                errors += r.status_code != 201
                n += 1

    t = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    return done / (time.perf_counter() - t), errors


async def fixed_rate(url: str, headers: dict, seconds: float, rate: float) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=200)) as c:
        async def one(n: int):
            nonlocal errors
            t = time.perf_counter()
            r = await c.post(url, json=body(0, n), headers=headers)
            latencies.append((time.perf_counter() - t) * 1000)
            errors += r.status_code != 201

        tasks = []
        start_at = time.perf_counter()
        for n in range(int(seconds * rate)):
            delay = start_at + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
    return latencies, errors


def body(i: int, n: int) -> dict:
    title = TITLES[(i + n) % len(TITLES)]
    return {"title": title, "description": f"{title}，请协助解决。编号{i}-{n}，企业已多次联系相关部门但进展缓慢。"}


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn processes per server (both servers)")
    args = parser.parse_args()

    procs = []
    with scratch_database() as url:
        env = {**os.environ, "CLOSEDLOOP_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        key = enterprise_key(url)
        results = {}
        try:
            for label, app, path, headers in [
                ("bare insert (ceiling)", "bench.bare_app:app", "/bare", {}),
                ("POST /v1/cases", "service.asgi:app", "/v1/cases", {"Authorization": f"Bearer {key}"}),
            ]:
                port = free_port()
                proc = start(app, port, env, args.workers)
                procs.append(proc)
                target = f"http://127.0.0.1:{port}{path}"
                asyncio.run(throughput(target, headers, 2, args.concurrency))  # warm up
                per_s, t_err = asyncio.run(throughput(target, headers, args.seconds, args.concurrency))
                lat, r_err = asyncio.run(fixed_rate(target, headers, args.seconds, args.rate))
                results[label] = (per_s, lat, t_err + r_err)
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=20)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}; {args.workers} uvicorn process(es) per server; the load generator in its own process")
    print()
    print(f"| endpoint | per second, {args.concurrency} clients | p50 ms at {args.rate:g}/s | "
          f"p99 ms at {args.rate:g}/s | max ms | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, (per_s, lat, errors) in results.items():
        print(f"| {label} | {per_s:,.0f} | {statistics.median(lat):.1f} | {pct(lat, 99):.1f} | {max(lat):.1f} | "
              f"{errors} |")
    ceiling = results["bare insert (ceiling)"][0]
    intake, lat, _ = results["POST /v1/cases"]
    print()
    print(f"intake ÷ ceiling: {intake / ceiling:.2f} (target ≥ 0.50); p99 at {args.rate:g}/s: "
          f"{pct(lat, 99):.1f} ms (target < 50 ms)")


if __name__ == "__main__":
    main()
