"""Listing benchmark (issue #12): every role's case list, with every filter the API offers, at a
million cases.

    python bench/listing.py [--cases 1000000] [--rounds 30] [--database URL] [--keep] [--explain]

On a scratch database of the local PostgreSQL (bench/scratch.py), dropped afterwards unless
``--keep`` (or an existing one loaded by this script or bench/reports.py, with ``--database``):

1. the schema from the migrations, the directory's rows, and ``--cases`` cases generated inside
   PostgreSQL (bench/bigload.py: ~70% closed, ~20% running, ~2% supervised at tier 5, ~8%
   co-handled, ten years of submissions), then ``VACUUM ANALYZE``; the load time printed;
2. for each reader — admin, leader, a department (the land bureau, the busiest), an officer
   (Yuanhui's), an enterprise — and each filter in FILTERS: ``cases.list_cases`` exactly as
   ``GET /v1/cases`` calls it (its own session, the ORM objects built, a page of 50), in
   ``--rounds`` alternating rounds after a warm-up; also the second page (keyset cursor) and the
   department's queue by deadline (the web page's default);
3. prints p50 and p99 per row (milliseconds), marks those above the target (p99 < 20 ms), and with
   ``--explain`` the ``EXPLAIN (ANALYZE, BUFFERS)`` of each row above the target.

Latency of one query at a time, timed in the process that makes it: this measures how long one
list takes, not throughput (which is wrk's job, bench/intake.py). Prints Markdown for
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from bench import bigload  # noqa: E402
from bench.scratch import pct  # noqa: E402

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TARGET_MS = 20.0
FILTERS: list[tuple[str, dict]] = [
    ("(none)", {}),
    ("status=open", {"status": "open"}),
    ("status=in_progress&tier=1&overdue=false", {"status": "in_progress", "tier": 1, "overdue": False}),
    ("tier=2", {"tier": 2}),
    ("tier=5", {"tier": 5}),
    ("overdue=true", {"overdue": True}),
    ("overdue=false", {"overdue": False}),
    ("status=closed", {"status": "closed"}),
    ("status=withdrawn", {"status": "withdrawn"}),
    ("triage=true", {"triage": True}),
    ("district=linying", {"district": "linying"}),
    ("department=natural-resources", {"department": "natural-resources"}),
    ("category=land", {"category": "land"}),
    ("theme=(first)", {"theme": "__first_theme__"}),
    ("priority=high", {"priority": "high"}),
    ("created_from=2026-11-01", {"created_from": date(2026, 11, 1)}),
    ("created 2019-03", {"created_from": date(2019, 3, 1), "created_to": date(2019, 3, 31)}),
    ("page 2 (cursor)", {"__page2__": True}),
    ("queue by deadline", {"by_deadline": True}),
]


def readers():
    from service.auth.principal import Principal

    return [("admin", Principal("bench-admin", "admin")),
            ("leader", Principal("bench-leader", "leader")),
            ("department", Principal("bench-land", "department", department="natural-resources")),
            ("officer", Principal("bench-officer", "officer", officer_id="officer-yuanhui-1")),
            ("enterprise", Principal("bench-ent", "enterprise", enterprise_id=9))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database", metavar="URL", help="a database bench/bigload.py loaded: measured as it stands")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN (ANALYZE, BUFFERS) of each row above target")
    parser.add_argument("--only", help="measure only the readers named, comma-separated")
    args = parser.parse_args()

    from service.cases import service as cases

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}")
    with bigload.database(args.cases, args.database, args.keep, clock=lambda: NOW) as (rt, stats):
        if stats:
            print("cases:", ", ".join(f"{k} {v:,}" for k, v in stats["cases_by_status"].items()), flush=True)
        with rt.engine.connect() as conn:
            print("PostgreSQL", conn.execute(text("SHOW server_version")).scalar(), "—",
                  conn.execute(text("SELECT count(*) FROM cases")).scalar(), "cases;",
                  conn.execute(text("SELECT count(*) FROM cases WHERE co_departments::text <> '[]'")).scalar(),
                  "co-handled")
        theme = rt.directory.themes[0].key
        only = set(args.only.split(",")) if args.only else None
        chosen = [(n, p) for n, p in readers() if only is None or n in only]

        def run(p, f: dict, cursor=None):
            f = {k: (theme if v == "__first_theme__" else v) for k, v in f.items() if not k.startswith("__")}
            with rt.session() as s:
                rows, nxt = cases.list_cases(s, rt, p, limit=50, cursor=cursor, **f)
                return rows, nxt

        cursors = {}
        for name, p in chosen:  # the second page's cursor: where the first page ended
            cursors[name] = run(p, {})[1]

        timings: dict[tuple[str, str], list[float]] = {}
        for rnd in range(args.rounds + 1):
            if rnd == 1:  # after the warm-up, as the served process does once started (service/app.py)
                gc.collect()
                gc.freeze()
            order = [(n, p, fl, f) for n, p in chosen for fl, f in FILTERS]
            if rnd % 2:
                order.reverse()
            for name, p, label, f in order:
                t = time.perf_counter()
                run(p, f, cursors[name] if f.get("__page2__") else None)
                if rnd:  # round 0 warms the caches
                    timings.setdefault((name, label), []).append((time.perf_counter() - t) * 1000)

        print("\n| reader | filter | p50 ms | p99 ms | |\n| --- | --- | ---: | ---: | --- |")
        slow = []
        for (name, label), ts in timings.items():
            p50, p99 = statistics.median(ts), pct(ts, 99)
            mark = "" if p99 < TARGET_MS else "**over**"
            if mark:
                slow.append((name, label))
            print(f"| {name} | {label} | {p50:.1f} | {p99:.1f} | {mark} |")
        print(f"\n{len(timings) - len(slow)} of {len(timings)} lists under {TARGET_MS:.0f} ms p99", flush=True)
        if args.explain and slow:
            from sqlalchemy import event

            for name, label in slow:
                p = dict(chosen)[name]
                f = dict(FILTERS)[label]
                captured = []
                def grab(conn, cursor, statement, parameters, context, executemany):
                    captured.append((statement, parameters))

                event.listen(rt.engine, "before_cursor_execute", grab)
                try:
                    run(p, f, cursors[name] if f.get("__page2__") else None)
                finally:
                    event.remove(rt.engine, "before_cursor_execute", grab)
                statement, parameters = captured[-1]
                with rt.engine.connect() as conn:
                    plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).scalars().all()
                print(f"\n#### {name}, {label}\n\n```\n" + "\n".join(plan) + "\n```", flush=True)


if __name__ == "__main__":
    main()
