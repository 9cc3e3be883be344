"""Reports benchmark (issue #13): the performance report at a province's size.

    python bench/reports.py [--cases 10000000] [--rounds 5] [--try "CREATE INDEX …" | --try "SET …"]…

On a scratch database of the local PostgreSQL (CLOSEDLOOP_BENCH_DATABASE_URL, an admin URL; see
bench/scratch.py), dropped afterwards unless ``--keep``:

1. the schema from the project's migrations and the directory's rows, then ``--cases`` cases
   over ten years ending 2026-11-30 with their report facts, generated inside PostgreSQL a
   million cases per statement (bench/bigload.py), then ``VACUUM ANALYZE``; prints the load time,
   the rows written and the sizes;
2. the monthly rollups of every ended month (``rollups.roll_up``, as the beat runs it), timed;
3. in alternating rounds (one warm-up, then ``--rounds``): (a) the month's report 2026-11 grouped
   by department, ``measures.compute`` as the API calls it, made "now" = 2026-12-03 09:00;
   (b) the year's, 2026; (c) the bulletin: the month's report and ``documents.bulletin_docx``;
   and the ceilings in the same rounds: the bare ``SELECT lead_department, count(*) FROM
   case_facts WHERE at >= :start AND at < :end GROUP BY 1`` over the same month's and year's rows;
4. the time of every statement inside (a) and (b) (last round), and, for a target missed,
   ``EXPLAIN (ANALYZE, BUFFERS)`` of that period's three largest statements;
5. then each of ``--try`` in turn, cumulative — an index, or a setting for the database — and
   measured again.

Prints Markdown tables for docs/benchmarks.md. Targets (issue #13): month < 1 s, year < 2 s,
bulletin < 3 s.
"""

from __future__ import annotations

import argparse
from contextlib import nullcontext
import os
import platform
import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, event, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import bigload  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=TZ)
TODAY = date(2026, 12, 3)
TARGETS = {"month": 1.0, "year": 2.0, "bulletin": 3.0}
TRIES = [
    # one kind's facts of a period as one index range (received_resolved, objections, handling time)
    "CREATE INDEX ix_case_facts_kind_at ON case_facts (kind, at) INCLUDE (case_id)",
]
CEILING_SQL = ("SELECT lead_department, count(*) FROM case_facts WHERE at >= :start AND at < :end GROUP BY 1")


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


class StatementClock:
    """The time of each statement the engine runs while ``on`` (first line of SQL, seconds)."""

    def __init__(self, engine):
        self.on = False
        self.log: list[tuple[str, float]] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, params, context, executemany):
        conn.info["bench_t"] = time.perf_counter()

    def _after(self, conn, cursor, statement, params, context, executemany):
        if self.on:
            self.log.append((statement, time.perf_counter() - conn.info.pop("bench_t")))


def label(statement: str) -> str:
    s = " ".join(statement.split())
    both = "GROUPING SETS" in s
    grouped = "grouped + city" if both else "grouped" if "GROUP BY" in s else "city"
    if "FROM report_months" in s:
        return "rollup: " + ("received and resolved" if "first_resolved' AND" in s else "counts")
    if "AS received" in s:
        return f"counts ({grouped})"
    if "kind, tier, on_time, satisfied" in s:
        return "counts per key, kind, tier, on_time, satisfied"
    if "JOIN case_facts s" in s:
        return "received and resolved, the rest of the period"
    if "min(case_facts.at)" in s:
        return "rollups: facts since the last roll-up"
    if "report_rolled_months" in s or "report_rollup_watermark" in s:
        return "rollups: which months"
    if "case_id IN (SELECT case_id" in s:
        return "received_resolved (semi-join)"
    if "kind = 'objected' AND at" in s:
        return "objections_upheld"
    if "x.kind = 'extended'" in s:
        return "extended on-time resolutions"
    if "percentile_cont" in s:
        return f"days median/p90 ({grouped})"
    if "count(*) AS n, min(due_at)" in s:
        return f"overdue now ({grouped})"
    if "ORDER BY cases.due_at" in s:
        return "longest overdue (20)"
    if s.startswith("SET LOCAL jit"):
        return "SET LOCAL jit = off"
    return s[:60]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--try", dest="tries", action="append", default=[],
                        help="after the first measurement, a CREATE INDEX or a 'SET name = value' for the "
                             "database, then measure again; repeatable, cumulative; default: none; 'tries': the "
                             "index of TRIES")
    parser.add_argument("--database", metavar="URL",
                        help="measure a database this script (bench/bigload.py) already loaded, as it stands "
                             "(its indexes and settings included): no load, not dropped")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database (its URL is printed) "
                        "to measure again with --database")
    args = parser.parse_args()

    from service.config import Settings
    from service.migrate import load_directory_rows, upgrade
    from service.reports import measures
    from service.reports.measures import parse_period
    from service.runtime import Runtime

    import service.reports.documents  # noqa: F401  (before the long load: the work tree may change meanwhile)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}, "
          f"{platform.platform()}")
    with (nullcontext(args.database) if args.database else scratch_database(keep=args.keep)) as url:
        rt = Runtime.build(Settings(database_url=url), clock=lambda: NOW)
        with rt.engine.connect() as conn:
            print("PostgreSQL:", conn.execute(text("SHOW server_version")).scalar(), "— shared_buffers",
                  conn.execute(text("SHOW shared_buffers")).scalar(), ", work_mem",
                  conn.execute(text("SHOW work_mem")).scalar(), ", jit", conn.execute(text("SHOW jit")).scalar(),
                  ", max_parallel_workers_per_gather",
                  conn.execute(text("SHOW max_parallel_workers_per_gather")).scalar(), ", random_page_cost",
                  conn.execute(text("SHOW random_page_cost")).scalar())
        if args.database:
            with rt.engine.connect() as conn:
                n = conn.execute(text("SELECT count(*) FROM cases")).scalar()
                facts = conn.execute(text("SELECT count(*) FROM case_facts")).scalar()
                size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
            print(f"measuring {url} as it stands: {n:,} cases, {facts:,} facts, {gib(size)}")
        else:
            upgrade(rt)
            with rt.session() as s:
                load_directory_rows(s, rt.directory)
                s.commit()
            print(f"loading {args.cases:,} cases …", flush=True)
            t = time.perf_counter()
            stats = bigload.load(url, rt, args.cases, log=lambda m: print(m, flush=True))
            print(f"\nloaded in {time.perf_counter() - t:.0f} s (inserts {stats['insert_s']:.0f} s, indexes "
                  f"{stats['index_s']:.0f} s, VACUUM ANALYZE {stats['vacuum_s']:.0f} s): {args.cases:,} cases, "
                  f"{stats['facts']:,} facts; database {gib(stats['db_bytes'])} (cases {gib(stats['cases_heap'])} + "
                  f"indexes {gib(stats['cases_indexes'])}; case_facts {gib(stats['case_facts_heap'])} + indexes "
                  f"{gib(stats['case_facts_indexes'])})")
            print("facts:", ", ".join(f"{k} {v:,}" for k, v in stats["facts_by_kind"].items()))
            print("cases:", ", ".join(f"{k} {v:,}" for k, v in stats["cases_by_status"].items()), flush=True)

        from service.reports import rollups

        t = time.perf_counter()
        rolled = rollups.roll_up(rt, NOW)
        with rt.engine.connect() as conn:
            rows = conn.execute(text("SELECT count(*) FROM report_months")).scalar()
            size = conn.execute(text("SELECT pg_total_relation_size('report_months')")).scalar()
        print(f"\nroll-up (rollups.roll_up, as the beat runs it): {len(rolled)} months in "
              f"{time.perf_counter() - t:.0f} s, {rows:,} rows, {gib(size)}", flush=True)
        with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE report_months"))

        month = parse_period("2026-11", None, None, TODAY)
        year = parse_period("2026", None, None, TODAY)
        bounds = {p.label: measures._bounds(rt, p) for p in (month, year)}
        with rt.engine.connect() as conn:
            for p in (month, year, month.previous(), year.previous()):
                start, end = measures._bounds(rt, p)
                n = conn.execute(text("SELECT count(*) FROM case_facts WHERE at >= :s AND at < :e"),
                                 {"s": start, "e": end}).scalar()
                print(f"facts in {p.label} ({p.start}–{p.end}): {n:,}")
        clock = StatementClock(rt.engine)

        def report(p):
            with rt.session() as s:
                return measures.compute(s, rt, p, "department", now=NOW)

        def bulletin():
            from service.reports.documents import bulletin_docx

            r = report(month)
            t0 = time.perf_counter()
            body = bulletin_docx(r, rt)
            bulletin.docx_s.append(time.perf_counter() - t0)
            bulletin.size = len(body)
        bulletin.docx_s = []

        def ceiling(p):
            start, end = bounds[p.label]
            stmt = text(CEILING_SQL).bindparams(bindparam("start", type_=measures.UTCDateTime()),
                                                bindparam("end", type_=measures.UTCDateTime()))
            with rt.session() as s:
                return s.execute(stmt, {"start": start, "end": end}).all()

        def measure(title: str) -> dict:
            """Alternating rounds: the month, the year, the bulletin and the ceilings."""
            jobs = {"month": lambda: report(month), "year": lambda: report(year), "bulletin": bulletin,
                    "ceiling month": lambda: ceiling(month), "ceiling year": lambda: ceiling(year)}
            times: dict = {k: [] for k in jobs}
            statements: dict = {}
            bulletin.docx_s.clear()
            for rnd in range(args.rounds + 1):  # round 0 warms up
                for job, fn in jobs.items():
                    clock.log, clock.on = [], job in ("month", "year")
                    t0 = time.perf_counter()
                    fn()
                    dt = time.perf_counter() - t0
                    clock.on = False
                    if rnd == 0:
                        print(f"  warm-up {job}: {dt:.3f} s", flush=True)
                        continue
                    times[job].append(dt)
                    if job in ("month", "year"):
                        statements[job] = list(clock.log)
            print(f"\n{title}\n")
            print("| what | median s | range s | ceiling s | ratio | target |")
            print("|---|---:|---:|---:|---:|---|")
            ceil = {"month": "ceiling month", "year": "ceiling year", "bulletin": "ceiling month"}
            for name in ("month", "year", "bulletin"):
                what = f"{name} ({'2026' if name == 'year' else '2026-11'}, by department)"
                xs, cs = times[name], times[ceil[name]]
                m, c = statistics.median(xs), statistics.median(cs)
                verdict = "met" if m < TARGETS[name] else "**missed**"
                print(f"| {what} | {m:.3f} | {min(xs):.3f}–{max(xs):.3f} | {c:.3f} | {m / c:.1f}× | "
                      f"< {TARGETS[name]:g} s: {verdict} |")
            for name, log in statements.items():
                print(f"\nstatements of one {name} report (last round):\n")
                print("| statement | s |\n|---|---:|")
                for stmt, dt in log:
                    print(f"| {label(stmt)} | {dt:.3f} |")
                print(f"| total in the database | {sum(dt for _, dt in log):.3f} |")
            print(f"\nbulletin_docx alone: median {statistics.median(bulletin.docx_s):.3f} s, "
                  f"{bulletin.size / 1024:.0f} KiB")
            sys.stdout.flush()
            return times

        print(f"\nmeasuring: {args.rounds} rounds after a warm-up, alternating month, year, bulletin and the "
              "ceilings", flush=True)
        times = measure("Reports: `measures.compute` as the API calls it")
        check_rollups(rt, measures, month, year)
        for name, p in (("month", month), ("year", year)):
            if statistics.median(times[name]) >= TARGETS[name]:
                for what in ("_COUNTS_SQL", "_RECEIVED_RESOLVED_SQL", "_DAYS_PG"):
                    explain(rt, measures, what, p)

        tried = []
        for step in (TRIES if args.tries == ["tries"] else args.tries):
            print(f"\ntrying: {step}", flush=True)
            with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                if step.upper().startswith("SET "):  # a setting for the database, as a deployment would set it
                    conn.execute(text(f'ALTER DATABASE "{conn.engine.url.database}" {step}'))
                else:
                    t0 = time.perf_counter()
                    conn.execute(text("SET maintenance_work_mem = '512MB'"))
                    conn.execute(text(step))
                    name = step.split(" ON ")[0].split()[-1]
                    table_ = step.split(" ON ")[1].split()[0]
                    conn.execute(text(f"VACUUM ANALYZE {table_}"))
                    size = conn.execute(text("SELECT pg_relation_size(:n)"), {"n": name}).scalar()
                    print(f"built in {time.perf_counter() - t0:.0f} s, {gib(size)}", flush=True)
            rt.engine.dispose()  # new connections: the settings of the database apply to them
            tried.append(step.split(" ON ")[0].split()[-1] if " ON " in step else step.split(None, 1)[1])
            measure("Reports, with " + " + ".join(f"`{t}`" for t in tried))
        rt.engine.dispose()


def check_rollups(rt, measures, month, year) -> None:
    """The reports read from the rollups against the same reports computed from the facts alone."""
    from service.reports import rollups

    print("\nthe rollups against the facts (the same reports, rollups turned off):", flush=True)
    usable = rollups.usable
    for p, group_by, extensions in ((month, "department", "count"), (year, "department", "count"),
                                    (year, "city", "exclude"), (year, "district", "count"),
                                    (year.previous(), "officer", "count"), (month.previous(), "category", "exclude")):
        with rt.session() as s:
            a = measures.compute(s, rt, p, group_by, extensions, now=NOW)
        rollups.usable = lambda *args: None
        try:
            t0 = time.perf_counter()
            with rt.session() as s:
                b = measures.compute(s, rt, p, group_by, extensions, now=NOW)
            direct_s = time.perf_counter() - t0
        finally:
            rollups.usable = usable
        diffs = [f"{x.key}: {x.counts} != {y.counts}" for x, y in zip([*a.rows, a.city], [*b.rows, b.city])
                 if x.counts != y.counts or x.rates != y.rates or x.rank != y.rank]
        print(f"  {p.label} by {group_by}, extensions {extensions}: "
              f"{'the same counts, rates and ranks' if not diffs else 'DIFFERENT: ' + '; '.join(diffs[:3])} "
              f"(from the facts alone: {direct_s:.1f} s)", flush=True)


def explain(rt, measures, name: str, p) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of one report statement by department, under the report's settings."""
    start, end = measures._bounds(rt, p)
    print(f"\nEXPLAIN (ANALYZE, BUFFERS) of measures.{name}, by department, {p.label}:\n")
    with rt.session() as s:
        for setting in measures._PG_SETTINGS:
            s.execute(text(setting))
        q = measures._sql("EXPLAIN (ANALYZE, BUFFERS) " + getattr(measures, name), "department", None)
        for (line,) in s.execute(q, {"start": start, "end": end}):
            print("    " + line)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
