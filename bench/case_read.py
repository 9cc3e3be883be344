"""A case with its timeline at a million cases (issue #12): ``GET /v1/cases/{id}``'s work against
the three bare queries it cannot do without.

    python bench/case_read.py [--cases 1000000] [--database URL] [--keep] [--reads 2000]

On a scratch database loaded by ``bench/bigload.py`` (or one loaded before), for cases spread over
the id range, in one process, alternating:

- **the service**: what the endpoint does — the case read through the reader's access rules, its
  timeline, its delivery log, the reader's view of it, validated and serialised as the response;
- **the ceiling**: the same three reads as bare SQL on the same connection pool (the case row by
  id, its events by case, its outbox rows by case), rows fetched and nothing else.

Prints p50 and p99 in ms of each, for an admin and a department reader.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bench import bigload  # noqa: E402
from bench.scratch import pct  # noqa: E402

BARE = ["SELECT * FROM cases WHERE id = :id", "SELECT * FROM case_events WHERE case_id = :id ORDER BY id",
        "SELECT * FROM outbox WHERE case_id = :id ORDER BY id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--database", metavar="URL")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reads", type=int, default=2000)
    args = parser.parse_args()

    from fastapi import Response

    from service.auth.principal import Principal
    from service.cases.api import get_case
    from service.cases.schemas import CaseDetail
    with bigload.database(args.cases, args.database, args.keep) as (rt, _):
        with rt.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(text(
                "SELECT id, lead_department FROM cases WHERE lead_department = 'natural-resources' "
                "ORDER BY hashint8(id) LIMIT :n"), {"n": args.reads})]
            events = conn.execute(text("SELECT avg(n) FROM (SELECT count(*) n FROM case_events "
                                       "WHERE case_id = ANY(:ids) GROUP BY case_id) x"), {"ids": ids}).scalar()
        readers = {"admin": Principal("k", "admin"),
                   "department": Principal("k", "department", department="natural-resources")}

        def service(case_id: int, p: Principal) -> None:
            with rt.session() as s:
                CaseDetail.model_validate(get_case(case_id, Response(), s, p, rt)).model_dump_json()

        def bare(case_id: int, _p) -> None:
            with rt.engine.connect() as conn:
                for sql in BARE:
                    conn.execute(text(sql), {"id": case_id}).all()

        rows = []
        for name, p in readers.items():
            times: dict[str, list[float]] = {"service": [], "bare": []}
            for case_id in ids[:50]:  # warm
                service(case_id, p)
                bare(case_id, p)
            for case_id in ids:
                for kind, fn in (("service", service), ("bare", bare)):
                    t = time.perf_counter()
                    fn(case_id, p)
                    times[kind].append((time.perf_counter() - t) * 1000)
            rows.append((name, {k: (statistics.median(v), pct(v, 99)) for k, v in times.items()}))
        rt.engine.dispose()

    print(f"\n{args.reads:,} cases read by each reader, {events:.1f} events each on average\n")
    print("| reader | service p50 ms | p99 ms | bare 3 queries p50 ms | p99 ms | p99 ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in rows:
        print(f"| {name} | {r['service'][0]:.2f} | {r['service'][1]:.2f} | {r['bare'][0]:.2f} | {r['bare'][1]:.2f} "
              f"| {r['service'][1] / r['bare'][1]:.1f}× |")


if __name__ == "__main__":
    main()
