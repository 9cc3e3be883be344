"""Intake benchmark: cases submitted over HTTP against PostgreSQL, against a bare-insert ceiling.

    python bench/intake.py [--seconds 10] [--rounds 5] [--connections 16] [--rate 100] [--workers 2]

Needs wrk (apt-get install -y wrk), PostgreSQL and Redis on this machine. Creates a scratch
database on the local PostgreSQL (CLOSEDLOOP_BENCH_DATABASE_URL, an admin URL; default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres), migrates it, registers an enterprise and
a key, and starts two servers, each run by uvicorn in `--workers` processes of its own: the real
API (`POST /v1/cases`: auth, routing, tracking number, deadline, case row, two events, outbox
rows, one transaction) and the ceiling (bench/bare_app.py: an async endpoint on an async driver
that validates the same body and inserts one row). The API runs as docker-compose.yml runs it:
with a broker (CLOSEDLOOP_BENCH_REDIS_URL, default the local Redis, db 14), so the deadline
sweep is beat's and the worker's, and without the rate limits and the daily cap (one key
submits far beyond any person's rate on purpose; bench/flood.py measures the limits).

The load comes from wrk, compiled, with bench/intake.lua's bodies, so that no Python client
takes the cores the servers need (the reference measure is ../shared/bench/intake-vs-ceiling,
run with CLOSEDLOOP_RATE_LIMIT=off CLOSEDLOOP_DAILY_CASE_CAP=0; this script is its companion in
the repository, with CPU per request):

1. throughput: `--connections` connections submitting back to back for `--seconds`, the ceiling
   and the intake taking turns (which goes first alternates) for `--rounds` rounds. These
   machines are noisy, so each round's ratio compares two measurements seconds apart, and the
   median round is the figure. Each phase records the CPU spent per request by the server's
   processes, by PostgreSQL (all its processes) and by wrk (/proc, getrusage; Linux);
2. latency paced near `--rate` per second: ten connections, each waiting 10/rate s after each
   answer (a paced closed loop; wrk has no open-loop mode): p50, p99.

Prints Markdown tables for docs/benchmarks.md, and fails if any answer was not 2xx.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import UNLIMITED, enterprise_key, free_port, scratch_database  # noqa: E402

CEILING, INTAKE = "bare insert (ceiling)", "POST /v1/cases"


# the demands bench/intake.lua sends, for the in-process companion (bench/intake_cpu.py)
DEMANDS = [(m.group(1), m.group(2)) for m in re.finditer(r'\{"([^"]+)", "([^"]+)"\}',
                                                          (ROOT / "bench" / "intake.lua").read_text(encoding="utf-8"))]


def body(i: int, n: int) -> dict:
    """The n-th demand of a run i (different text every time, as wrk sends them)."""
    title, description = DEMANDS[(i + n) % len(DEMANDS)]
    return {"title": title, "description": f"{description}编号{i}-{n}。", "urgency": "urgent" if n % 10 == 0 else "normal"}


def create_bare_table(url: str) -> None:
    """The ceiling's table (bench/bare_app.py)."""
    with create_engine(url).begin() as conn:
        conn.execute(text("CREATE TABLE bench_bare (id bigserial PRIMARY KEY, title text NOT NULL, "
                          "description text NOT NULL, body jsonb NOT NULL, "
                          "created_at timestamptz NOT NULL DEFAULT now())"))


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


def wrk(url: str, key: str, seconds: float, connections: int, pace_ms: int = 0) -> dict:
    """One wrk run (2 threads) posting to ``url``: requests per second, p50/p99 ms, answers not
    201-ish, and wrk's own CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds:g}s", "--latency",
                          "--timeout", "30s", "-s", str(ROOT / "bench" / "intake.lua"), url],
                         env={**os.environ, "INTAKE_AUTH": key, "INTAKE_PACE_MS": str(pace_ms)},
                         capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    ms = lambda v, u: float(v) * {"us": 0.001, "ms": 1, "s": 1000}[u]  # noqa: E731
    lat = {q: ms(*re.search(rf"\s{q}%\s+([\d.]+)(us|ms|s)\b", out).groups()) for q in ("50", "99")}
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)), "p50": lat["50"], "p99": lat["99"],
            "bad": int(bad.group(1)) if bad else 0, "socket_errors": errors.group(1) if errors else "",
            "cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)}


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
    writer, checkpointer, autovacuum)."""
    return {"server": _tree_cpu(server), "postgres": _tree_cpu(postmaster)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rate", type=int, default=100, help="the paced run's requests per second")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn processes per server (both servers)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("needs wrk (apt-get install -y wrk): the load comes from a compiled generator")

    servers = {}
    with scratch_database() as url:
        env = {**os.environ, **UNLIMITED, "CLOSEDLOOP_DATABASE_URL": url, "PYTHONPATH": str(ROOT),
               "CLOSEDLOOP_REDIS_URL": os.environ.get("CLOSEDLOOP_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")}
        key = enterprise_key(url)
        create_bare_table(url)  # before the ceiling's processes start: no race to create it
        rounds: list[dict] = []
        postmaster = _postmaster()
        paced = {}
        try:
            for label, app, auth in [(CEILING, "bench.bare_app:app", ""), (INTAKE, "service.asgi:app", key)]:
                port = free_port()
                proc = start(app, port, env, args.workers)
                servers[label] = (proc, f"http://127.0.0.1:{port}/v1/cases", auth)
                wrk(servers[label][1], auth, 3, args.connections)  # warm up
            for r in range(args.rounds):
                measured = {}
                order = list(servers.items()) if r % 2 == 0 else list(servers.items())[::-1]
                for label, (proc, target, auth) in order:
                    before = cpu_snapshot(proc.pid, postmaster)
                    run = wrk(target, auth, args.seconds, args.connections)
                    after = cpu_snapshot(proc.pid, postmaster)
                    n = max(run["requests"], 1)
                    run.update({f"cpu_{k}": (after[k] - before[k]) * 1000 / n for k in before},
                               cpu_wrk=run["cpu"] * 1000 / n)
                    measured[label] = run
                rounds.append(measured)
            # latency at an offered rate: each of 10 connections waits 1000 × 10 / rate ms after each
            # answer (a paced closed loop, as wrk does it: below the rate while answers are slow)
            for label, (proc, target, auth) in servers.items():
                paced[label] = wrk(target, auth, args.seconds, 10, pace_ms=10_000 // args.rate)
        finally:
            for proc, _, _ in servers.values():
                proc.send_signal(signal.SIGINT)
            for proc, _, _ in servers.values():
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}; {args.workers} uvicorn process(es) per server; wrk 2 threads, "
          f"{args.connections} connections, {args.seconds:g} s per phase")
    print()
    print("| round | endpoint | per second | p50 ms | p99 ms | not 2xx | CPU ms per request: server | PostgreSQL | wrk |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    ratios = []
    for r, measured in enumerate(rounds, 1):
        for label in (CEILING, INTAKE):
            m = measured[label]
            print(f"| {r} | {label} | {m['per_s']:,.0f} | {m['p50']:.1f} | {m['p99']:.1f} | {m['bad']} | "
                  f"{m['cpu_server']:.2f} | {m['cpu_postgres']:.2f} | {m['cpu_wrk']:.2f} |")
        ratios.append(measured[INTAKE]["per_s"] / measured[CEILING]["per_s"])
    print()
    print(f"| endpoint | paced at {args.rate}/s: per second | p50 ms | p99 ms | not 2xx |")
    print("|---|---:|---:|---:|---:|")
    for label, m in paced.items():
        print(f"| {label} | {m['per_s']:,.0f} | {m['p50']:.1f} | {m['p99']:.1f} | {m['bad']} |")
    print()
    bad = sum(m["bad"] for measured in rounds for m in measured.values())
    print(f"intake ÷ ceiling per round: {', '.join(f'{r:.2f}' for r in ratios)}; median "
          f"{statistics.median(ratios):.2f} (target ≥ 0.50); p99 paced at {args.rate}/s: "
          f"{paced[INTAKE]['p99']:.1f} ms (target < 50 ms); answers not 2xx: {bad}")
    if bad or any(m["bad"] for m in paced.values()):
        sys.exit("some answers were not 2xx: the figures above do not measure intake")


if __name__ == "__main__":
    main()
