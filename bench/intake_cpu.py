"""Intake CPU: what one `POST /v1/cases` costs against one bare insert, without HTTP or a load
generator — the steadier companion of bench/intake.py on a noisy machine.

    python bench/intake_cpu.py [--requests 1000] [--blocks 6]

Creates a scratch database on the local PostgreSQL (as bench/intake.py), builds both apps in
this process (the API in its production shape: a broker URL, so no sweep runs inside it) and
calls them as ASGI applications, one request at a time:

1. Python CPU and wall time per request, the two endpoints taking turns request by request
   (`time.process_time` covers every thread of this process: the endpoints' worker threads
   too), median of `--requests` each;
2. PostgreSQL CPU per request (all its processes, /proc; Linux), the endpoints taking turns in
   blocks of 400 requests, median of `--blocks` blocks each.

Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import _postmaster, _tree_cpu, body, create_bare_table  # noqa: E402
from bench.scratch import UNLIMITED, enterprise_key, scratch_database  # noqa: E402

BLOCK = 400


async def call(app, path: str, payload: dict, headers: dict) -> int:
    """One POST through the ASGI app; returns the status."""
    raw = json.dumps(payload, ensure_ascii=False).encode()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
             + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {}}
    sent = False
    status: list[int] = []

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects

    async def send(message):
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--blocks", type=int, default=6)
    args = parser.parse_args()

    with scratch_database() as url:
        os.environ["CLOSEDLOOP_DATABASE_URL"] = url
        os.environ.update(UNLIMITED)
        os.environ["CLOSEDLOOP_REDIS_URL"] = os.environ.get("CLOSEDLOOP_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
        key = enterprise_key(url)
        create_bare_table(url)
        from bench.bare_app import app as bare
        from service.app import create_app

        api = create_app()
        postmaster = _postmaster()
        targets = {"bare insert (ceiling)": (bare, "/v1/cases", {}),
                   "POST /v1/cases": (api, "/v1/cases", {"Authorization": f"Bearer {key}"})}

        async def run():
            async with api.router.lifespan_context(api), bare.router.lifespan_context(bare):
                for app, path, headers in targets.values():  # warm up: caches, prepared statements
                    for n in range(100):
                        assert await call(app, path, body(0, n), headers) == 201
                cpu = {label: [] for label in targets}
                wall = {label: [] for label in targets}
                for n in range(args.requests):
                    for label, (app, path, headers) in targets.items():
                        c, w = time.process_time(), time.perf_counter()
                        status = await call(app, path, body(1, n), headers)
                        cpu[label].append(time.process_time() - c)
                        wall[label].append(time.perf_counter() - w)
                        assert status == 201, status
                pg = {label: [] for label in targets}
                for b in range(args.blocks):
                    for label, (app, path, headers) in targets.items():
                        before = _tree_cpu(postmaster)
                        for n in range(BLOCK):
                            await call(app, path, body(2 + b, n), headers)
                        pg[label].append((_tree_cpu(postmaster) - before) / BLOCK)
                return cpu, wall, pg

        cpu, wall, pg = asyncio.run(run())
        api.state.rt.engine.dispose()

    def ms(values):
        return statistics.median(values) * 1000

    print(f"{args.requests} requests each, taking turns; PostgreSQL: {args.blocks} blocks of {BLOCK} each")
    print()
    print("| endpoint | Python CPU ms | wall ms | PostgreSQL CPU ms |")
    print("|---|---:|---:|---:|")
    for label in targets:
        print(f"| {label} | {ms(cpu[label]):.2f} | {ms(wall[label]):.2f} | {ms(pg[label]):.2f} |")
    ceiling, intake = targets
    print()
    print(f"intake ÷ ceiling: Python CPU {ms(cpu[intake]) / ms(cpu[ceiling]):.2f}×, wall "
          f"{ms(wall[intake]) / ms(wall[ceiling]):.2f}×, PostgreSQL CPU {ms(pg[intake]) / ms(pg[ceiling]):.2f}×")


if __name__ == "__main__":
    main()
