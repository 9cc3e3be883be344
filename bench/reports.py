"""Reports benchmark (issue #13): the performance report at a province's size.

    python bench/reports.py [--cases 10000000] [--rounds 5] [--try "CREATE INDEX …" | --try "SET …"]…

On a scratch database of the local PostgreSQL (CLOSEDLOOP_BENCH_DATABASE_URL, an admin URL; see
bench/scratch.py), dropped afterwards:

1. the schema from the project's migrations and the directory's rows, then ``--cases`` cases
   over ten years ending 2026-11-30 with their report facts, generated inside PostgreSQL a
   million cases per statement (bench/bigload.py), then ``VACUUM ANALYZE``; prints the load time,
   the rows written and the sizes;
2. in alternating rounds (one warm-up, then ``--rounds``): (a) the month's report 2026-11 grouped
   by department, ``measures.compute`` as the API calls it, made "now" = 2026-12-03 09:00;
   (b) the year's, 2026; (c) the bulletin: the month's report and ``documents.bulletin_docx`` (if
   that module exists; otherwise said so and skipped); and the ceilings in the same rounds: the
   bare ``SELECT lead_department, count(*) FROM case_facts WHERE at >= :start AND at < :end
   GROUP BY 1`` over the same month's and year's rows;
3. the time of every statement inside (a) and (b) (last round), and, for a target missed,
   ``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest report-count statement of that period;
4. the change proposed for service/reports/measures.py (``proposed_compute`` below), measured
   beside the service's in the same rounds (step 2) and checked to give the same reports;
5. then each of ``TRIES`` (or ``--try``) in turn, cumulative — an index, or a setting for the
   database — and both measured again.

Prints Markdown tables for docs/benchmarks.md. Targets (issue #13): month < 1 s, year < 2 s,
bulletin < 3 s.
"""

from __future__ import annotations

import argparse
from contextlib import nullcontext
import importlib.util
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
    # overdue now: the running cases' deadlines with what they are grouped under, index-only
    "CREATE INDEX ix_cases_running_due ON cases (due_at) INCLUDE (lead_department, district, tier, officer_id, "
    "theme, category) WHERE status IN ('open', 'in_progress')",
    # the planner's cost of random reads on an SSD whose data sits in memory; with the default (4) it
    # scans the whole of case_facts for a year rather than the year's range of ix_case_facts_at_kind
    "SET random_page_cost = 1.1",
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
    if "AS received" in s:
        return f"counts ({grouped})"
    if "kind, tier, on_time, satisfied" in s:
        return "counts per key, kind, tier, on_time, satisfied"
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
                        help="after the proposal's measurement, a CREATE INDEX or a 'SET name = value' for the "
                             "database, then measure again; repeatable, cumulative; default: the three of TRIES; "
                             "'none': none")
    parser.add_argument("--database", metavar="URL",
                        help="measure a database this script (bench/bigload.py) already loaded, as it stands "
                             "(its indexes and settings included): no load, not dropped")
    args = parser.parse_args()

    from service.config import Settings
    from service.migrate import load_directory_rows, upgrade
    from service.reports import measures
    from service.reports.measures import parse_period
    from service.runtime import Runtime

    have_docs = importlib.util.find_spec("service.reports.documents") is not None
    if have_docs:  # imported before the long load: the work tree is shared and edited meanwhile
        try:
            import service.reports.documents  # noqa: F401
        except Exception as e:  # noqa: BLE001
            print(f"service/reports/documents.py exists but does not import ({e!r}): the bulletin is not measured")
            have_docs = False
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}, "
          f"{platform.platform()}")
    with (nullcontext(args.database) if args.database else scratch_database()) as url:
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
        variants = {"service": measures.compute, "proposal": proposed_compute}

        def report(p, variant):
            with rt.session() as s:
                return variants[variant](s, rt, p, "department", now=NOW)

        def bulletin(variant):
            from service.reports.documents import bulletin_docx

            r = report(month, variant)
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

        def measure(title: str, variants_: list[str]) -> dict:
            """Alternating rounds: each variant's month, year and bulletin, and the ceilings."""
            jobs = {}
            for v in variants_:
                jobs[(v, "month")] = lambda v=v: report(month, v)
                jobs[(v, "year")] = lambda v=v: report(year, v)
                if have_docs:
                    jobs[(v, "bulletin")] = lambda v=v: bulletin(v)
            jobs[(None, "ceiling month")] = lambda: ceiling(month)
            jobs[(None, "ceiling year")] = lambda: ceiling(year)
            times: dict = {k: [] for k in jobs}
            statements: dict = {}
            bulletin.docx_s.clear()
            for rnd in range(args.rounds + 1):  # round 0 warms up
                for job, fn in jobs.items():
                    clock.log, clock.on = [], job[1] in ("month", "year")
                    t0 = time.perf_counter()
                    fn()
                    dt = time.perf_counter() - t0
                    clock.on = False
                    if rnd == 0:
                        print(f"  warm-up {job[0] or ''} {job[1]}: {dt:.3f} s", flush=True)
                        continue
                    times[job].append(dt)
                    if job[1] in ("month", "year"):
                        statements[job] = list(clock.log)
            print(f"\n{title}\n")
            print("| what | median s | range s | ceiling s | ratio | target |")
            print("|---|---:|---:|---:|---:|---|")
            ceil = {"month": "ceiling month", "year": "ceiling year", "bulletin": "ceiling month"}
            for v in variants_:
                for name in ("month", "year", "bulletin"):
                    what = f"{name} ({'2026' if name == 'year' else '2026-11'}, by department)" + (
                        ", proposal" if v == "proposal" else "")
                    if (v, name) not in times:
                        print(f"| {what} | — | — | — | — | < {TARGETS[name]:g} s: not measured (no "
                              "service/reports/documents.py) |")
                        continue
                    xs, cs = times[(v, name)], times[(None, ceil[name])]
                    m, c = statistics.median(xs), statistics.median(cs)
                    verdict = "met" if m < TARGETS[name] else "**missed**"
                    print(f"| {what} | {m:.3f} | {min(xs):.3f}–{max(xs):.3f} | {c:.3f} | {m / c:.1f}× | "
                          f"< {TARGETS[name]:g} s: {verdict} |")
            for (v, name), log in statements.items():
                print(f"\nstatements of one {name} report, {v} (last round):\n")
                print("| statement | s |\n|---|---:|")
                for stmt, dt in log:
                    print(f"| {label(stmt)} | {dt:.3f} |")
                print(f"| total in the database | {sum(dt for _, dt in log):.3f} |")
            if bulletin.docx_s:
                print(f"\nbulletin_docx alone: median {statistics.median(bulletin.docx_s):.3f} s, "
                      f"{bulletin.size / 1024:.0f} KiB")
            sys.stdout.flush()
            return {"times": times, "statements": statements}

        print(f"\nmeasuring: {args.rounds} rounds after a warm-up, alternating month, year"
              f"{', bulletin' if have_docs else ''} and the ceilings", flush=True)
        if not have_docs:
            print("no importable service/reports/documents.py: the bulletin is not measured")
        result = measure("Reports: the service as it is, and the proposal (proposed_compute, below)",
                         ["service", "proposal"])

        # where the time goes in each period whose target was missed
        missed = {name for name in ("month", "year", "bulletin")
                  if ("service", name) in result["times"]
                  and statistics.median(result["times"][("service", name)]) >= TARGETS[name]}
        for name, p in (("month", month), ("year", year)):
            if name in missed or (name == "month" and "bulletin" in missed):
                counts = [(stmt, dt) for stmt, dt in result["statements"][("service", name)] if "AS received" in stmt]
                stmt, dt = max(counts, key=lambda x: x[1])
                explain(rt, measures, measures._COUNTS_SQL, "GROUP BY" in stmt, p, f"{name} ({dt:.3f} s in the run)")

        # the proposal: the same reports?
        print("\nchecking the proposal against measures.compute …", flush=True)
        for p in (month, year, month.previous()):
            for group_by in ("department", "city", "district"):
                with rt.session() as s:
                    a = measures.compute(s, rt, p, group_by, now=NOW)
                with rt.session() as s:
                    b = proposed_compute(s, rt, p, group_by, now=NOW)
                diffs = same_report(a, b)
                print(f"  {p.label} by {group_by}: {'same report' if not diffs else 'DIFFERENT: ' + '; '.join(diffs[:5])}")
        for what, kw in (("by department, extensions excluded", {"extensions": "exclude"}),
                         ("by officer", {"group_by": "officer"}),
                         ("by department, district yuanhui", {"district": "yuanhui"})):
            kw = {"group_by": "department", **kw}
            with rt.session() as s:
                a = measures.compute(s, rt, month, now=NOW, **kw)
            with rt.session() as s:
                b = proposed_compute(s, rt, month, now=NOW, **kw)
            diffs = same_report(a, b)
            print(f"  {month.label} {what}: {'same report' if not diffs else 'DIFFERENT: ' + '; '.join(diffs[:5])}")
        explain(rt, measures, P_COUNTS, True, year, "year, proposal's count statement", proposal=True)
        explain(rt, measures, P_RECEIVED_RESOLVED, True, year, "year, proposal's received_resolved", proposal=True)

        tried = []
        for step in ([] if args.tries == ["none"] else args.tries or TRIES):
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
            measure("Reports, with " + " + ".join(f"`{t}`" for t in tried), ["service", "proposal"])
        if tried:
            explain(rt, measures, P_COUNTS, True, year, "year, proposal's count statement", proposal=True)
            explain(rt, measures, P_RECEIVED_RESOLVED, True, year, "year, proposal's received_resolved", proposal=True)
        rt.engine.dispose()


# ---------------------------------------------------------------------------------------------
# The change this benchmark proposes for service/reports/measures.py, measured here without
# touching the service: the same Report, checked equal to measures.compute's on the same data.
#
# 1. JIT off for the report's statements (SET LOCAL, PostgreSQL): the count statement's
#    correlated subplans make its estimated cost pass jit_optimize_above_cost, and compiling it
#    costs more than running it.
# 2. One count statement per period instead of two (grouped, then the city): it counts the
#    facts per (key, kind, tier, on_time, satisfied) — a plain hash aggregate that runs in
#    parallel workers — and Python folds those few hundred rows into the counts; the city's
#    row is the sum of the groups'.
# 3. received_resolved as a semi-join on the period's own resolved facts, not a correlated
#    EXISTS per submitted fact: a case received in [start, end) and resolved before end was
#    resolved in [start, end) (its resolution follows its submission), so the probe never has
#    to leave the period. objections_upheld (and, with extensions excluded, the extended
#    on-time resolutions) keep their EXISTS, in small statements over those rare facts only.
# 4. The handling-time median/p90 only for the period shown (the previous period's were
#    computed and thrown away), the groups and the city in one statement (GROUPING SETS).
# 5. Overdue now: the groups and the city in one statement (GROUPING SETS).
# ---------------------------------------------------------------------------------------------

P_COUNTS = """
SELECT {key} AS key, kind, tier, on_time, satisfied, count(*) AS n, sum(rating) AS rating_sum,
       count(rating) AS rating_n, sum(working_days) AS days_sum, count(working_days) AS days_n
FROM case_facts f WHERE at >= :start AND at < :end {scope}
GROUP BY 1, 2, 3, 4, 5
"""
P_RECEIVED_RESOLVED = """
SELECT {key} AS key, count(*) AS n FROM case_facts f
WHERE kind = 'submitted' AND at >= :start AND at < :end {scope}
  AND case_id IN (SELECT case_id FROM case_facts WHERE kind = 'resolved' AND at >= :start AND at < :end)
{group}
"""
P_UPHELD = """
SELECT {key} AS key, count(*) AS n FROM case_facts f
WHERE kind = 'objected' AND at >= :start AND at < :end {scope} AND EXISTS (
  SELECT 1 FROM case_facts r WHERE r.case_id = f.case_id AND r.kind = 'reassigned' AND r.at >= f.at
    AND r.at < :end AND r.lead_department IS NOT NULL
    AND (f.lead_department IS NULL OR r.lead_department <> f.lead_department))
{group}
"""
P_EXTENDED_ON_TIME = """
SELECT {key} AS key, count(*) AS n FROM case_facts f
WHERE kind = 'resolved' AND on_time AND at >= :start AND at < :end {scope} AND EXISTS (
  SELECT 1 FROM case_facts x WHERE x.case_id = f.case_id AND x.kind = 'extended' AND x.tier = f.tier AND x.at <= f.at)
{group}
"""
P_DAYS = """
SELECT {key} AS key, {total} AS total, percentile_cont(0.5) WITHIN GROUP (ORDER BY working_days) AS median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY working_days) AS p90
FROM case_facts WHERE kind = 'resolved' AND working_days IS NOT NULL AND at >= :start AND at < :end {scope}
{sets}
"""
P_OVERDUE = """
SELECT {key} AS key, {total} AS total, count(*) AS n, min(due_at) AS oldest FROM cases
WHERE status IN ({running}) AND due_at < :now {scope} {sets}
"""


def _sets(group_by: str) -> tuple[str, str]:
    """(the 'total' column, the GROUP BY) for the groups and the city in one statement."""
    from service.reports.measures import GROUPS

    column = GROUPS[group_by]
    if column is None:
        return "1", ""
    return f"GROUPING({column})", f"GROUP BY GROUPING SETS (({column}), ())"


def _fold(counts: dict, kind: str, tier, on_time, satisfied, n: int) -> None:
    plain = {"submitted": "received", "accepted": "accepted", "resolved": "resolved", "closed": "closed",
             "withdrawn": "withdrawn", "reopened": "reopened", "objected": "objections", "supervised": "supervised"}
    if kind in plain:
        counts[plain[kind]] += n
    if kind == "accepted" and on_time:
        counts["accepted_on_time"] += n
    if kind == "resolved" and on_time:
        counts["resolved_on_time"] += n
    if kind in ("closed", "reopened") and satisfied is not None:
        counts["confirmations"] += n
    if kind == "closed" and satisfied:
        counts["satisfied"] += n
    if kind == "escalated" and tier in (2, 3, 4, 5):
        counts[f"escalated_{tier}"] += n


def proposed_period_counts(session, rt, p, group_by: str, extensions: str, district=None, days: bool = True):
    """({key: (counts, figures)}, city's (counts, figures)) of period ``p``."""
    from service.reports import measures as m

    start, end = m._bounds(rt, p)
    key, group = m._key_sql(group_by), m._group(group_by)
    args = {"start": start, "end": end, **({"district": district} if district else {})}
    raw: dict = {}

    def acc(k):
        if k not in raw:
            raw[k] = ({c: 0 for c in m.COUNTS}, {"rating_sum": 0, "rating_n": 0, "days_sum": 0.0, "days_n": 0})
        return raw[k]

    for row in session.execute(m._query(P_COUNTS.format(key=key, scope="{scope}"), district), args).mappings():
        counts, sums = acc(m._norm(row["key"]))
        _fold(counts, row["kind"], row["tier"], row["on_time"], row["satisfied"], int(row["n"]))
        if row["kind"] in ("closed", "reopened") and row["satisfied"] is not None:
            sums["rating_sum"] += int(row["rating_sum"] or 0)
            sums["rating_n"] += int(row["rating_n"] or 0)
        if row["kind"] == "resolved":
            sums["days_sum"] += float(row["days_sum"] or 0)
            sums["days_n"] += int(row["days_n"] or 0)
    extra = [(P_RECEIVED_RESOLVED, "received_resolved", 1), (P_UPHELD, "objections_upheld", 1)]
    if extensions == "exclude":
        extra.append((P_EXTENDED_ON_TIME, "resolved_on_time", -1))
    for sql, name, sign in extra:
        for row in session.execute(m._query(sql.format(key=key, group=group, scope="{scope}"), district),
                                   args).mappings():
            acc(m._norm(row["key"]))[0][name] += sign * int(row["n"])
    city_counts = {c: sum(v[0][c] for v in raw.values()) for c in m.COUNTS}
    city_sums = {s: sum(v[1][s] for v in raw.values()) for s in ("rating_sum", "rating_n", "days_sum", "days_n")}

    def figures(sums):
        return {"rating_mean": round(sums["rating_sum"] / sums["rating_n"], 2) if sums["rating_n"] else None,
                "days_mean": round(sums["days_sum"] / sums["days_n"], 2) if sums["days_n"] else None}

    out = {k: (c, figures(s)) for k, (c, s) in raw.items()}
    city = (city_counts, figures(city_sums))
    if days and raw:
        total, sets = _sets(group_by)
        sql = P_DAYS.format(key=key, total=total, sets=sets, scope="{scope}")
        for row in session.execute(m._query(sql, district), args).mappings():
            target = city[1] if row["total"] else out[m._norm(row["key"])][1]
            target["days_median"], target["days_p90"] = m._round(row["median"]), m._round(row["p90"])
    return out, (city if raw else m._empty())


def proposed_overdue(session, group_by: str, now, district=None) -> tuple[dict, tuple | None]:
    from datetime import timezone as tz_

    from service.cases import machine
    from service.reports import measures as m

    total, sets = _sets(group_by)
    running = ", ".join(f"'{s}'" for s in sorted(machine.RUNNING))
    sql = P_OVERDUE.format(key=m._key_sql(group_by), total=total, sets=sets, running=running, scope="{scope}")
    out, city = {}, None
    for row in session.execute(m._query(sql, district), {"now": now, **({"district": district} if district else {})}
                               ).mappings():
        oldest = row["oldest"]
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=tz_.utc)
        if row["total"]:
            city = (int(row["n"]), oldest)
        else:
            out[m._norm(row["key"])] = (int(row["n"]), oldest)
    return out, city


def proposed_compute(session, rt, p, group_by: str = "department", extensions: str = "count", now=None,
                     overdue_limit: int = 20, district=None):
    """measures.compute with the changes above; the same Report."""
    from service.errors import Invalid
    from service.reports import measures as m

    if group_by not in m.GROUPS:
        raise Invalid(f"group_by: unknown grouping '{group_by}'; use one of: {', '.join(m.GROUPS)}")
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))
    now = now or rt.clock()
    prev_period = p.previous()
    current, city = proposed_period_counts(session, rt, p, group_by, extensions, district)
    previous, city_prev = proposed_period_counts(session, rt, prev_period, group_by, extensions, district, days=False)
    overdue, overdue_city = proposed_overdue(session, group_by, now, district)
    names = m._names(rt, group_by)
    everyone = set() if district else set(names)
    keys = sorted(set(current) | set(overdue) | everyone, key=lambda k: (k is None, k or ""))
    rows = []
    for k in keys:
        if group_by == "city":
            break
        counts, figures = current.get(k, m._empty())
        rows.append(m._row(k, names.get(k, k or "（未定）"), counts, figures, previous.get(k, m._empty())[0],
                           overdue.get(k), now))
    total_name = m._names(rt, "district").get(district, district) if district else rt.directory.city.name
    city_row = m._row(None, total_name, city[0], city[1], city_prev[0], overdue_city, now)
    m._rank(rows)
    return m.Report(p, prev_period, group_by, extensions, now, rows, city_row,
                    m.longest_overdue(session, rt, now, overdue_limit, district))


def same_report(a, b) -> list[str]:
    """Where two Reports differ (figures to within 0.01: sums of floats in another order)."""
    diffs = []

    def close(x, y):
        return x == y or (x is not None and y is not None and abs(x - y) <= 0.011)

    ra = {r.key: r for r in [*a.rows, a.city]}
    rb = {r.key: r for r in [*b.rows, b.city]}
    if [r.key for r in a.rows] != [r.key for r in b.rows]:
        diffs.append(f"row keys {[r.key for r in a.rows]} != {[r.key for r in b.rows]}")
    for k in ra:
        x, y = ra[k], rb.get(k)
        if y is None:
            continue
        for attr in ("counts", "rates", "previous", "change", "rank"):
            if getattr(x, attr) != getattr(y, attr):
                diffs.append(f"{k} {attr}: {getattr(x, attr)} != {getattr(y, attr)}")
        for f, v in x.figures.items():
            if not close(v, y.figures.get(f)):
                diffs.append(f"{k} figure {f}: {v} != {y.figures.get(f)}")
    if [c.case_id for c in a.overdue] != [c.case_id for c in b.overdue]:
        diffs.append("longest overdue differ")
    return diffs



def explain(rt, measures, sql: str, grouped: bool, p, title: str, proposal: bool = False,
            overdue: bool = False) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of one report statement, with the settings the report runs under."""
    from service.cases import machine

    start, end = measures._bounds(rt, p)
    group_by = "department" if grouped else "city"
    key = measures._key_sql(group_by)
    if overdue:
        running = ", ".join(f"'{s}'" for s in sorted(machine.RUNNING))
        sql = sql.format(key=key, group=measures._group(group_by), running=running, scope="{scope}")
    else:
        sql = sql.format(key=key, group=measures._group(group_by), extension_clause="", scope="{scope}")
    print(f"\nEXPLAIN (ANALYZE, BUFFERS) of {title}, {'grouped' if grouped else 'city'}, {p.label}:\n")
    with rt.session() as s:
        if proposal:
            s.execute(text("SET LOCAL jit = off"))
        q = measures._query("EXPLAIN (ANALYZE, BUFFERS) " + sql, None)
        for (line,) in s.execute(q, {"start": start, "end": end, "now": NOW}):
            print("    " + line)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
