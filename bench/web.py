"""Web benchmark (issue #14): every role's main page at a million cases, against the JSON API over
the same data, both driven by wrk.

    python bench/web.py [--cases 1000000] [--database URL] [--keep] [--seconds 5] [--connections 1]

On a scratch database of the local PostgreSQL (bench/scratch.py) loaded by bench/bigload.py — or
one loaded before, with ``--database`` — with the monthly rollups written as the beat writes them:

1. one account and one API key per reader: the city's admin, a leader, the land bureau, Yuanhui's
   chief service officer, and the enterprise with the most cases;
2. the service (``uvicorn service.asgi:app``, one process, PostgreSQL, no rate limits, no sweep in
   the process) signed in with each account's session cookie;
3. for each page its API twin, in alternating order, ``wrk -t1 -c<connections> -d<seconds>``: the
   case list of each reader (``/app/cases`` — a department's by deadline — vs ``GET /v1/cases``),
   a case page (``/app/cases/{id}`` vs ``GET /v1/cases/{id}``), the sittings (``/app/meetings``
   vs ``GET /v1/meetings``) and the leader's dashboard (``/app/dashboard``: the month's report,
   the ranking, overdue by department and by tier, twelve months' trend — vs ``GET
   /v1/reports/performance`` for the month by department);
4. prints p50 and p99 (ms) and requests per second of each; targets: a page under 100 ms p99, the
   dashboard under 300 ms.

The pages are server-rendered HTML from the same domain calls as the API; the difference between
a page and its twin is the template and what else the page shows (the dashboard makes four
reports where the API makes one).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench import bigload  # noqa: E402
from bench.scratch import UNLIMITED  # noqa: E402

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PASSWORD = "bench web 基准 Lantern-88 quiet"
PAGE_MS, DASHBOARD_MS = 100.0, 300.0


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk(url: str, header: str, seconds: float, connections: int) -> dict:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "30s",
                          "-H", header, url], capture_output=True, text=True, check=True).stdout
    ms = lambda v, u: float(v) * {"us": 0.001, "ms": 1, "s": 1000}[u]  # noqa: E731
    lat = {q: ms(*re.search(rf"\s{q}%\s+([\d.]+)(us|ms|s)\b", out).groups()) for q in ("50", "99")}
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": lat["50"],
            "p99": lat["99"], "bad": int(bad.group(1)) if bad else 0}


def readers(rt, session):
    """(name, account scope, key scope) for each reader; the enterprise: the one with most cases."""
    busiest = session.execute(text("SELECT enterprise_id FROM cases GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")).scalar()
    return [("admin", "admin", {}), ("leader", "leader", {}),
            ("department", "department", {"department": "natural-resources"}),
            ("officer", "officer", {"officer_id": "officer-yuanhui-1"}),
            ("enterprise", "enterprise", {"enterprise_id": busiest})]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--database", metavar="URL", help="a database bench/bigload.py loaded, measured as it stands")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=1,
                        help="1: the latency one person sees (more queue behind each other in one process)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("needs wrk (apt-get install -y wrk): the load comes from a compiled generator")

    from service.accounts import service as accounts
    from service.auth import keys
    from service.reports import rollups

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}")
    with bigload.database(args.cases, args.database, args.keep, clock=lambda: NOW) as (rt, _):
        url = rt.settings.database_url
        t = time.perf_counter()
        rolled = rollups.roll_up(rt, NOW)
        print(f"rollups: {len(rolled)} months written in {time.perf_counter() - t:.0f} s (as the beat does)", flush=True)

        auth: dict[str, tuple[str, str]] = {}  # reader: (cookie header, key header)
        with rt.session() as s:
            count = s.execute(text("SELECT count(*) FROM cases")).scalar()
            case_id = s.execute(text("SELECT max(id) FROM cases WHERE lead_department = 'natural-resources'")).scalar()
            chosen = readers(rt, s)
            suffix = os.urandom(3).hex()
            for name, role, scope in chosen:
                accounts.create(s, rt.clock(), f"bench-{name}-{suffix}", PASSWORD, role, **scope)
                _, key = keys.issue(s, role, label="bench/web.py", **scope)
                auth[name] = ("", f"Authorization: Bearer {key}")
            s.commit()
        print(f"{count:,} cases; the case page: {case_id}", flush=True)

        port = free_port()
        env = {**os.environ, **UNLIMITED, "CLOSEDLOOP_DATABASE_URL": url, "CLOSEDLOOP_SWEEP_INTERVAL": "0"}
        env.pop("CLOSEDLOOP_REDIS_URL", None)
        server = subprocess.Popen([sys.executable, "-m", "uvicorn", "service.asgi:app", "--host", "127.0.0.1",
                                   "--port", str(port), "--workers", "1", "--log-level", "warning",
                                   "--no-access-log"], cwd=ROOT, env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    httpx.get(f"{base}/healthz", timeout=0.5)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            for name, _, _ in chosen:
                r = httpx.post(f"{base}/login", data={"username": f"bench-{name}-{suffix}", "password": PASSWORD})
                assert r.status_code == 303, (name, r.status_code)
                auth[name] = (f"Cookie: closedloop_session={r.cookies['closedloop_session']}", auth[name][1])
            pairs = []  # (label, reader, page path, api path, target)
            for name, _, _ in chosen:
                pairs.append((f"case list — {name}", name, "/app/cases", "/v1/cases", PAGE_MS))
            pairs += [("case page — department", "department", f"/app/cases/{case_id}", f"/v1/cases/{case_id}", PAGE_MS),
                      ("case page — admin", "admin", f"/app/cases/{case_id}", f"/v1/cases/{case_id}", PAGE_MS),
                      ("sittings — officer", "officer", "/app/meetings", "/v1/meetings", PAGE_MS),
                      ("dashboard — leader", "leader", "/app/dashboard",
                       "/v1/reports/performance?period=2026-12&group_by=department", DASHBOARD_MS)]
            rows = []
            for i, (label, name, page, api, target) in enumerate(pairs):
                cookie, key = auth[name]
                for path, header in ((page, cookie), (api, key)):  # each status checked once by hand
                    h = dict([header.split(": ", 1)])
                    r = httpx.get(base + path, headers=h, timeout=60)
                    assert r.status_code == 200, (path, r.status_code, r.text[:300])
                order = [("page", page, cookie), ("API", api, key)]
                if i % 2:
                    order.reverse()
                got = {}
                for kind, path, header in order:
                    wrk(base + path, header, 1, args.connections)  # warm
                    got[kind] = wrk(base + path, header, args.seconds, args.connections)
                rows.append((label, page, api, target, got["page"], got["API"]))
                print(f"  {label}: page p99 {got['page']['p99']:.1f} ms, API p99 {got['API']['p99']:.1f} ms", flush=True)
        finally:
            server.terminate()
            server.wait(10)

        print(f"\nwrk -t1 -c{args.connections} -d{args.seconds:g}s per row, one uvicorn process, {count:,} cases\n")
        print("| what | page | p50 ms | p99 ms | per s | API twin | p50 ms | p99 ms | per s | page p99 target |")
        print("| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |")
        for label, page, api, target, pg, ap in rows:
            ok = "met" if pg["p99"] < target and not pg["bad"] else "**missed**"
            print(f"| {label} | `{page}` | {pg['p50']:.1f} | {pg['p99']:.1f} | {pg['per_s']:.0f} | `{api}` | "
                  f"{ap['p50']:.1f} | {ap['p99']:.1f} | {ap['per_s']:.0f} | < {target:.0f} ms: {ok} |")


if __name__ == "__main__":
    main()
