"""Push benchmark ("秒推"): from the API's 201 to the webhook receiver's receipt, through Redis and a
Celery worker, against PostgreSQL; and a bare Celery round trip as the ceiling.

    python bench/push.py [--seconds 30] [--rates 50,200]

Creates a scratch database on the local PostgreSQL (CLOSEDLOOP_BENCH_DATABASE_URL, an admin URL),
uses the local Redis (CLOSEDLOOP_BENCH_REDIS_URL, default db 14, flushed), and starts, each in its
own processes: the API (uvicorn, 2 processes), one Celery worker (`closedloop worker`, 2 worker
processes), the beat (the catch-up), and a webhook receiver (bench/push_receiver.py). Every
department and officer in the directory gets a webhook channel pointing at the receiver.

For each rate, open loop (requests sent on schedule whether or not earlier ones have answered):

1. ceiling — the bench sends a bare Celery task (`closedloop.echo`) at that rate; the worker
   POSTs a token to the receiver: send → receipt, no database;
2. push — cases submitted with `POST /v1/cases`; for each, the time from its 201 to the receipt
   of the lead department's message (and of every recipient's), p50/p99/max, and how many never
   arrived (waiting up to 20 s after the run). When the API is saturated its answers reach the
   load generator late — later than the webhook, so "201 → receipt" can be negative — so the
   time from the case's creation (server clock, the start of its transaction) is shown too.

Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bigload import TITLES  # noqa: E402
from bench.intake import start  # noqa: E402
from bench.scratch import free_port, pct  # noqa: E402
from bench.scratch import UNLIMITED, enterprise_key, scratch_database  # noqa: E402

CLOSEDLOOP = Path(sys.executable).with_name("closedloop")


def directory_with_webhooks(path: Path, url: str) -> Path:
    from service.directory import DEFAULT_DIRECTORY

    data = yaml.safe_load(DEFAULT_DIRECTORY.read_text(encoding="utf-8"))
    hook = {"kind": "webhook", "url": f"{url}/hook", "secret": "${CLOSEDLOOP_SECRET_BENCH_HOOK}"}
    for section in ("departments", "officers", "meeting_series"):
        for entry in data[section]:
            entry["channels"] = [hook]
    data["enterprise_channels"] = [hook]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


async def submit_at(url: str, headers: dict, seconds: float, rate: float) -> tuple[dict, int]:
    """tracking number -> (wall time of the 201, lead department, the case's created_at)."""
    from datetime import datetime

    answered: dict[str, tuple[float, str, float]] = {}
    errors = 0
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=400)) as c:
        async def one(n: int):
            nonlocal errors
            title = TITLES[n % len(TITLES)]
            r = await c.post(url, headers=headers, json={
                "title": title, "description": f"{title}，请协助解决。压测编号{n}，企业已多次联系但进展缓慢。"})
            if r.status_code != 201:
                errors += 1
                return
            case = r.json()
            answered[case["tracking_no"]] = (time.time(), case["lead_department"],
                                             datetime.fromisoformat(case["created_at"]).timestamp())

        tasks = []
        begin = time.perf_counter()
        for n in range(int(seconds * rate)):
            delay = begin + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
    return answered, errors


def echo_at(celery_app, url: str, seconds: float, rate: float) -> dict:
    sent = {}
    begin = time.perf_counter()
    for n in range(int(seconds * rate)):
        delay = begin + n / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        token = f"e{n}-{secrets.token_hex(3)}"
        sent[token] = time.time()
        celery_app.send_task("closedloop.echo", args=(url, token))
    return sent


def receipts(receiver: str) -> list:
    return httpx.get(f"{receiver}/log", timeout=30).json()


def wait_until(predicate, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline and not predicate():
        time.sleep(0.5)


def stats(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"{pct(ms, 50):.0f} | {pct(ms, 99):.0f} | {max(ms):.0f}" if ms else "– | – | –"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rates", default="50,200")
    parser.add_argument("--api-workers", type=int, default=2)
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]

    redis_url = os.environ.get("CLOSEDLOOP_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    tmp = Path(tempfile.mkdtemp(prefix="closedloop-push-"))
    rport = free_port()
    receiver = f"http://127.0.0.1:{rport}"
    directory = directory_with_webhooks(tmp / "directory.yaml", receiver)
    procs: list[subprocess.Popen] = []
    rows = []
    with scratch_database() as url:
        env = {**os.environ, **UNLIMITED, "CLOSEDLOOP_DATABASE_URL": url, "CLOSEDLOOP_REDIS_URL": redis_url,
               "CLOSEDLOOP_DIRECTORY": str(directory), "CLOSEDLOOP_SECRET_BENCH_HOOK": secrets.token_hex(16),
               "CLOSEDLOOP_SWEEP_INTERVAL": "3600", "PYTHONPATH": str(ROOT)}
        key = enterprise_key(url, directory)
        try:
            from celery import Celery

            procs.append(start("bench.push_receiver:app", rport, env, 1))
            log = open(tmp / "worker.log", "w")
            for cmd in (["worker", "-c", "2", "--loglevel", "warning"],
                        ["beat", "--schedule", str(tmp / "beat"), "--loglevel", "warning"]):
                procs.append(subprocess.Popen([str(CLOSEDLOOP), *cmd], env=env, stdout=log, stderr=log,
                                              start_new_session=True))
            api_port = free_port()
            procs.append(start("service.asgi:app", api_port, env, args.api_workers))
            api = f"http://127.0.0.1:{api_port}/v1/cases"
            headers = {"Authorization": f"Bearer {key}"}
            celery_app = Celery("bench", broker=redis_url)
            time.sleep(3)  # the worker is up
            asyncio.run(submit_at(api, headers, 2, 20))  # warm up every process
            echo_at(celery_app, f"{receiver}/hook", 1, 20)
            time.sleep(3)

            for rate in rates:
                seen = len(receipts(receiver))
                sent = echo_at(celery_app, f"{receiver}/hook", args.seconds, rate)
                wait_until(lambda: sum(1 for r in receipts(receiver)[seen:] if r[1] in sent) >= len(sent), 20)
                got = {r[1]: r[3] for r in receipts(receiver)[seen:] if r[0] == "echo" and r[1] in sent}
                ceiling = [got[t] - sent[t] for t in got]

                seen = len(receipts(receiver))
                answered, errors = asyncio.run(submit_at(api, headers, args.seconds, rate))

                def arrived() -> dict:
                    out: dict = {}
                    for kind, tracking, recipient, at in receipts(receiver)[seen:]:
                        if kind == "routed" and tracking in answered:
                            out.setdefault(tracking, {})[recipient] = at
                    return out

                wait_until(lambda: len(arrived()) >= len(answered) and
                           all(f"department:{answered[t][1]}" in r for t, r in arrived().items()), 20)
                got_cases = arrived()
                lead = [got_cases[t][f"department:{lead}"] - at for t, (at, lead, _) in answered.items()
                        if f"department:{lead}" in got_cases.get(t, {})]
                created = [got_cases[t][f"department:{lead}"] - born for t, (_, lead, born) in answered.items()
                           if f"department:{lead}" in got_cases.get(t, {})]
                every = [a - answered[t][0] for t, r in got_cases.items() for a in r.values()]
                lost = len(answered) - len(lead)
                rows.append((rate, ceiling, len(sent) - len(ceiling), lead, every, lost, errors, len(answered), created))
        finally:
            for p in procs:
                if p.poll() is None:
                    try:
                        os.killpg(p.pid, signal.SIGTERM) if p.args[0] == str(CLOSEDLOOP) else p.send_signal(signal.SIGINT)
                        p.wait(timeout=20)
                    except (ProcessLookupError, subprocess.TimeoutExpired):
                        p.kill()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}; API {args.api_workers} uvicorn processes, 1 Celery worker (2 processes), "
          f"PostgreSQL and Redis local; {args.seconds:g} s per rate")
    print()
    print("| offered rate | path | p50 ms | p99 ms | max ms | lost |")
    print("|---:|---|---:|---:|---:|---:|")
    for rate, ceiling, c_lost, lead, every, lost, errors, n, created in rows:
        print(f"| {rate:g}/s | bare Celery round trip (ceiling) | {stats(ceiling)} | {c_lost} |")
        print(f"| {rate:g}/s | 201 → lead department's webhook ({n} cases, {errors} API errors) | {stats(lead)} | {lost} |")
        print(f"| {rate:g}/s | 201 → every recipient's webhook | {stats(every)} | |")
        print(f"| {rate:g}/s | case created (server) → lead department's webhook | {stats(created)} | |")
    print()
    for rate, ceiling, _, lead, *_ in rows:
        if ceiling and lead:
            print(f"at {rate:g}/s: push p99 ÷ ceiling p99 = {pct(lead, 99) / pct(ceiling, 99):.1f}; "
                  f"push p99 {pct(lead, 99) * 1000:.0f} ms (target < 1000 ms, aim 250 ms)")


if __name__ == "__main__":
    main()
