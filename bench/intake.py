"""Intake benchmark: cases submitted over HTTP against PostgreSQL, against a bare-insert ceiling.

    python bench/intake.py [--seconds 10] [--rounds 3] [--concurrency 16] [--rate 100] [--workers 2]

Creates a scratch database on the local PostgreSQL (CLOSEDLOOP_BENCH_DATABASE_URL, an admin URL;
default postgresql+psycopg://postgres@127.0.0.1:5432/postgres), migrates it, registers an
enterprise and a key, and starts two servers, each run by uvicorn in processes of its own: the
real API (`POST /v1/cases`: auth, routing, tracking number, deadline, case row, two events,
outbox rows, one transaction) and a bare FastAPI endpoint that inserts one row (the ceiling).
The API runs as docker-compose.yml runs it: with a broker (CLOSEDLOOP_BENCH_REDIS_URL, default
the local Redis, db 14), so the deadline sweep is beat's and the worker's, not the API's (the
embedded default without Redis sweeps inside the API process: see docs/operations.md).

1. throughput: `--concurrency` clients submitting back to back for `--seconds`, the ceiling and
   the intake taking turns for `--rounds` rounds. These machines are noisy (shared cores, steal
   time), so each round's ratio compares two measurements seconds apart, and the median round
   is the figure. Each phase also records the CPU seconds spent per request by the server's
   processes, by PostgreSQL (all its processes) and by the load generator (/proc; Linux);
2. latency at a fixed offered rate (`--rate` per second, open loop: requests are sent on
   schedule whether or not earlier ones have answered) for `--seconds`: p50, p99, max.

Prints Markdown tables for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import UNLIMITED, enterprise_key, free_port, scratch_database  # noqa: E402

TITLES = ["项目用地报批进度缓慢", "中小企业贷款审批时间长", "专用变压器报装", "出口退税进度查询", "员工子女转学",
          "食品经营许可证办理", "冷链运输车辆受限", "政府采购货款未支付"]


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


_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a process tree so far, including children that have exited: a parent's
    cutime/cstime hold what its reaped children used (PostgreSQL's backends and autovacuum
    workers come and go)."""
    try:
        fields = _stat(pid)
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0  # exited since: its time is in its parent's cutime/cstime once reaped
    own = sum(int(f) for f in fields[11:15]) / _TICK  # utime, stime, cutime, cstime
    return own + sum(_tree_cpu(int(child)) for child in children)


def _postmaster() -> int:
    """The PostgreSQL server's parent process (the one postgres process whose parent is not one)."""
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                parent = int(_stat(int(entry.name))[1])
                if Path(f"/proc/{parent}/comm").read_text().strip() != "postgres":
                    return int(entry.name)
        except OSError:
            continue
    raise RuntimeError("no local PostgreSQL process found: CPU per request needs the server on this machine")


def cpu_snapshot(server: int, postmaster: int) -> dict[str, float]:
    """CPU seconds so far: the server's processes, PostgreSQL's (all of them: backends, WAL
    writer, checkpointer, autovacuum), this load generator."""
    return {"server": _tree_cpu(server), "postgres": _tree_cpu(postmaster), "client": time.process_time()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn processes per server (both servers)")
    args = parser.parse_args()

    servers = {}
    with scratch_database() as url:
        env = {**os.environ, **UNLIMITED, "CLOSEDLOOP_DATABASE_URL": url, "PYTHONPATH": str(ROOT),
               "CLOSEDLOOP_REDIS_URL": os.environ.get("CLOSEDLOOP_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")}
        key = enterprise_key(url)
        rounds: list[dict] = []
        postmaster = _postmaster()
        latency = {}
        try:
            for label, app, path, headers in [
                ("bare insert (ceiling)", "bench.bare_app:app", "/bare", {}),
                ("POST /v1/cases", "service.asgi:app", "/v1/cases", {"Authorization": f"Bearer {key}"}),
            ]:
                port = free_port()
                proc = start(app, port, env, args.workers)
                servers[label] = (proc, f"http://127.0.0.1:{port}{path}", headers)
                asyncio.run(throughput(servers[label][1], headers, 2, args.concurrency))  # warm up
            for _ in range(args.rounds):
                measured = {}
                for label, (proc, target, headers) in servers.items():
                    before = cpu_snapshot(proc.pid, postmaster)
                    per_s, errors = asyncio.run(throughput(target, headers, args.seconds, args.concurrency))
                    after = cpu_snapshot(proc.pid, postmaster)
                    n = per_s * args.seconds
                    cpu = {k: (after[k] - before[k]) * 1000 / n for k in before}
                    measured[label] = (per_s, errors, cpu)
                rounds.append(measured)
            for label, (proc, target, headers) in servers.items():
                latency[label] = asyncio.run(fixed_rate(target, headers, args.seconds, args.rate))
        finally:
            for proc, _, _ in servers.values():
                proc.send_signal(signal.SIGINT)
            for proc, _, _ in servers.values():
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}; {args.workers} uvicorn process(es) per server; the load generator in its own "
          f"process; {args.concurrency} clients, {args.seconds:g} s per phase")
    print()
    print("| round | endpoint | per second | errors | CPU ms per request: server | PostgreSQL | load generator |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    ratios = []
    for r, measured in enumerate(rounds, 1):
        for label, (per_s, errors, cpu) in measured.items():
            print(f"| {r} | {label} | {per_s:,.0f} | {errors} | {cpu['server']:.2f} | {cpu['postgres']:.2f} | "
                  f"{cpu['client']:.2f} |")
        ratios.append(measured["POST /v1/cases"][0] / measured["bare insert (ceiling)"][0])
    print()
    print(f"| endpoint | p50 ms at {args.rate:g}/s | p99 ms at {args.rate:g}/s | max ms | errors |")
    print("|---|---:|---:|---:|---:|")
    for label, (lat, errors) in latency.items():
        print(f"| {label} | {statistics.median(lat):.1f} | {pct(lat, 99):.1f} | {max(lat):.1f} | {errors} |")
    lat = latency["POST /v1/cases"][0]
    print()
    print(f"intake ÷ ceiling per round: {', '.join(f'{r:.2f}' for r in ratios)}; median "
          f"{statistics.median(ratios):.2f} (target ≥ 0.50); p99 at {args.rate:g}/s: {pct(lat, 99):.1f} ms "
          "(target < 50 ms)")


if __name__ == "__main__":
    main()
