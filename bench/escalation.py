"""Escalation benchmark (issues #4, #12): the sweep at a million cases of the realistic mix.

    python bench/escalation.py [--cases 1000000] [--due 10000] [--interval 4] [--database URL] [--keep]
                               [--profile]

On a scratch database of the local PostgreSQL (CLOSEDLOOP_BENCH_DATABASE_URL, an admin URL)
loaded by ``bench/bigload.py`` (~70% closed, ~20% running, ~2% supervised at tier 5 and past
due, their events and tier records) — or one loaded before, with ``--database`` — and the local
Redis (CLOSEDLOOP_BENCH_REDIS_URL, default redis://127.0.0.1:6379/14):

1. **settle**: the running cases' deadlines that have passed are moved a month ahead, past warnings
   marked given, past reminders moved ahead — so that "now" is a quiet moment (the supervised
   cases stay past due: that is what they are);
2. **the idle tick** — a whole sweep with nothing to do — median of 20, with the statements it
   sends and the rows each claim reads (``EXPLAIN ANALYZE``); then the same with the indexes the
   sweep had before migration 0014 (single-column ``due_at`` and ``warn_at``), swapped in and
   back out, for the comparison;
3. **the ceiling**: a bare ``UPDATE ... RETURNING`` moving ``--due`` running cases one tier, in
   one statement (rolled back);
4. **a burst in one process**: ``--due`` cases at tiers 1–4 (a quarter each) fall due at once;
   one ``sweep()`` escalates them all — how long that tick takes (``--profile``: where);
5. **with Celery**: the same kind of burst with one and with two worker processes
   (``--concurrency 1`` each) and a real beat ticking every ``--interval`` s — the time from the
   common due moment until every case is escalated with its event and outbox rows, and each
   escalation's lateness (from the events); then a tenth of them falling due evenly over 20 s.

Prints Markdown tables for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import event, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import bigload  # noqa: E402

CLOSEDLOOP = Path(sys.executable).with_name("closedloop")

SETTLE = [
    # a quiet moment: nothing running is past due or past its warning, no reminder is owed
    "UPDATE cases SET due_at = :now + interval '30 days' + (id % 1000) * interval '1 minute', "
    "warn_at = :now + interval '28 days' WHERE due_at <= :now + interval '1 hour' AND supervised IS false",
    "UPDATE cases SET warned_tier = tier WHERE warn_at <= :now + interval '1 hour' "
    "AND warned_tier IS DISTINCT FROM tier",
    "UPDATE cases SET supervision_next_at = :now + interval '7 days' + (id % 1000) * interval '1 minute' "
    "WHERE supervision_next_at <= :now + interval '1 hour' AND supervised AND status IN ('open', 'in_progress')",
    "UPDATE cases SET confirm_due_at = :now + interval '7 days' WHERE confirm_due_at <= :now + interval '1 hour'",
]
OLD_INDEXES = ["CREATE INDEX ix_cases_due ON cases (due_at)", "CREATE INDEX ix_cases_warn ON cases (warn_at)"]
NEW_INDEXES = ["ix_cases_to_escalate", "ix_cases_to_warn"]
CLAIMS = ("escalate", "warn", "remind", "close")  # a tick's claims, in the order the sweep sends them


def statements_of(rt, work):
    """``work()``'s result, and the statements it sent to the database with their parameters."""
    sent: list[tuple[str, dict]] = []
    grab = lambda conn, cursor, statement, parameters, *_: sent.append((statement, parameters))  # noqa: E731
    event.listen(rt.engine, "before_cursor_execute", grab)
    try:
        return work(), sent
    finally:
        event.remove(rt.engine, "before_cursor_execute", grab)


def quiet_tick(rt, now: datetime) -> tuple[dict[str, tuple[str, dict]], int]:
    """One sweep tick at a quiet moment, as it went to the database: its claiming statements
    (``SELECT … FROM cases … FOR UPDATE``) with their parameters, by what they claim for, and the
    number of statements it sent in all. Read off the tick itself, so that what is explained is
    what the sweep sends (tests/service/test_sweep_plans.py checks the same)."""
    from service.escalation.sweep import sweep

    report, sent = statements_of(rt, lambda: sweep(rt, now))
    assert not any(report.counts().values()), f"not a quiet moment: {report.counts()}"
    claims = [(s, p) for s, p in sent if "FOR UPDATE" in s and "FROM cases" in s]
    assert len(claims) == len(CLAIMS), [s for s, _ in claims]
    return dict(zip(CLAIMS, claims, strict=True)), len(sent)


def median_ms(fn, repeat: int = 20) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def idle(rt, now: datetime) -> dict:
    """One quiet tick: median time, statements sent, and per claim the rows its plan read."""
    from service.escalation.sweep import sweep

    sweep(rt, now)  # warm
    claims, statements = quiet_tick(rt, now)
    out = {"ms": median_ms(lambda: sweep(rt, now)), "statements": statements, "claims": {}}
    with rt.engine.connect() as conn:
        for name, (statement, parameters) in claims.items():
            plan = [r[0] for r in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) " + statement,
                                                       parameters)]
            read = sum(int(line.split("Rows Removed by Filter: ")[1]) for line in plan
                       if "Rows Removed by Filter: " in line)
            index = next((m.group(1) for line in plan if (m := re.search(r"(?:using|Index Scan on) (\w+)", line))),
                         "—")
            ms = float(next(line for line in plan if line.startswith("Execution Time")).split(": ")[1].split()[0])
            out["claims"][name] = {"index": index, "filtered": read, "ms": ms}
        conn.rollback()
    return out


def burst_cases(rt, count: int, after_id: int, due_at: datetime, spread: float) -> int:
    """``count`` running tier-1 cases (ids above ``after_id``) set at tiers 1–4, a quarter each,
    falling due at ``due_at`` (or evenly over ``spread`` s from it); the last id taken."""
    with rt.engine.begin() as conn:
        ids = [r[0] for r in conn.execute(text(
            "SELECT id FROM cases WHERE status IN ('open', 'in_progress') AND tier = 1 AND supervised IS false "
            "AND id > :after ORDER BY id LIMIT :n"), {"after": after_id, "n": count})]
        conn.execute(text(
            "UPDATE cases SET tier = 1 + (id % 4), sitting_id = NULL, escalated_at = NULL, warned_tier = 1 + (id % 4), "
            "due_at = :due + (id % 1000) * :step * interval '1 second', warn_at = :due - interval '1 hour' "
            "WHERE id = ANY(:ids)"), {"due": due_at, "step": spread / 1000, "ids": ids})
    return ids[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=4.0)
    parser.add_argument("--database", metavar="URL", help="a database bench/bigload.py loaded (it is changed)")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--profile", action="store_true", help="print where the in-process burst spends its time")
    args = parser.parse_args()

    import redis

    from service.escalation.sweep import sweep

    redis_url = os.environ.get("CLOSEDLOOP_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    beat_schedule = Path(tempfile.mkdtemp(prefix="closedloop-escalation-")) / "beat"
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}",
          flush=True)
    results: dict = {"runs": []}
    with bigload.database(args.cases, args.database, args.keep, sweep_batch=500) as (rt, loaded):
        url = rt.settings.database_url
        if loaded:
            print(f"cases: {loaded['cases_by_status']}", flush=True)
        now = datetime.now(timezone.utc)
        with rt.engine.begin() as conn:
            for sql in SETTLE:
                conn.execute(text(sql), {"now": now})
        with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE cases"))
            counts = conn.execute(text(
                "SELECT count(*), count(*) FILTER (WHERE status IN ('open', 'in_progress')), "
                "count(*) FILTER (WHERE supervised AND due_at <= :now) FROM cases"), {"now": now}).one()
        results["counts"] = counts
        print(f"{counts[0]:,} cases, {counts[1]:,} running, {counts[2]:,} supervised past due", flush=True)

        results["idle"] = idle(rt, now)
        with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for sql in OLD_INDEXES:
                conn.execute(text(sql))
            for name in NEW_INDEXES:
                conn.execute(text(f"DROP INDEX {name}"))
            conn.execute(text("ANALYZE cases"))
        try:
            results["idle_before"] = idle(rt, now)
        finally:
            with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for sql in OLD_INDEXES:
                    conn.execute(text(f"DROP INDEX {sql.split()[2]}"))
            with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                from service.cases.models import Case

                for index in Case.__table__.indexes:  # as migration 0014 makes them
                    if index.name in NEW_INDEXES:
                        index.create(conn, checkfirst=True)
                conn.execute(text("ANALYZE cases"))
        print(f"idle tick: {results['idle']['ms']:.1f} ms, {results['idle']['statements']} statements "
              f"(before 0014: {results['idle_before']['ms']:.1f} ms)", flush=True)

        with rt.engine.connect() as conn:
            trans = conn.begin()
            t = time.perf_counter()
            moved = conn.execute(text(
                "UPDATE cases SET tier = tier + 1, version = version + 1 WHERE id IN (SELECT id FROM cases "
                "WHERE status IN ('open', 'in_progress') AND tier = 1 ORDER BY id LIMIT :n) RETURNING id"),
                {"n": args.due}).all()
            results["ceiling_s"] = time.perf_counter() - t
            trans.rollback()
            assert len(moved) == args.due

        # 4. in one process: one tick escalates the burst
        due_at = datetime.now(timezone.utc) + timedelta(seconds=1)
        last_id = burst_cases(rt, args.due, 0, due_at, 0)
        time.sleep(max(0.0, (due_at - datetime.now(timezone.utc)).total_seconds()) + 0.1)
        profile = cProfile.Profile() if args.profile else None
        t = time.perf_counter()
        if profile:
            profile.enable()
        report = sweep(rt, datetime.now(timezone.utc))
        if profile:
            profile.disable()
        results["in_process_s"] = time.perf_counter() - t
        results["in_process_n"] = len(report.escalated) + len(report.supervised)
        print(f"in-process burst: {results['in_process_n']:,} escalated in {results['in_process_s']:.2f} s",
              flush=True)
        if profile:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(35)

        # 5. with Celery: (workers, spread) — bursts with one and two workers, then a trickle
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLOSEDLOOP_")}
        env.update(CLOSEDLOOP_DATABASE_URL=url, CLOSEDLOOP_REDIS_URL=redis_url,
                   CLOSEDLOOP_SWEEP_INTERVAL=str(args.interval), CLOSEDLOOP_SWEEP_BATCH="500")
        for workers, spread in [(1, 0), (2, 0), (1, 20)]:
            count_due = args.due if spread == 0 else args.due // 10
            redis.Redis.from_url(redis_url).flushdb()
            start = datetime.now(timezone.utc)
            due_at = start + timedelta(seconds=10)
            first_id = last_id
            last_id = burst_cases(rt, count_due, last_id, due_at, spread)
            due_at += timedelta(seconds=spread)  # when the last one falls due
            mine = "case_id > :first AND case_id <= :last AND type = 'escalated' AND at >= :start"
            ids = {"first": first_id, "last": last_id, "start": start}
            procs = [subprocess.Popen([str(CLOSEDLOOP), "worker", "-c", "1", "--loglevel", "warning"], env=env,
                                      start_new_session=True) for _ in range(workers)]
            procs.append(subprocess.Popen([str(CLOSEDLOOP), "beat", "--schedule", str(beat_schedule),
                                           "--loglevel", "warning"], env=env, start_new_session=True))
            try:
                done_at = None
                deadline = time.monotonic() + 300
                while time.monotonic() < deadline:
                    with rt.engine.connect() as conn:
                        n = conn.execute(text(f"SELECT count(*) FROM case_events WHERE {mine}"), ids).scalar()
                    if n >= count_due:
                        done_at = datetime.now(timezone.utc)
                        break
                    time.sleep(0.05)
                with rt.engine.connect() as conn:
                    late = conn.execute(text(
                        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY (data->>'late_seconds')::float), "
                        "percentile_cont(0.99) WITHIN GROUP (ORDER BY (data->>'late_seconds')::float), "
                        f"max((data->>'late_seconds')::float), count(*) FROM case_events WHERE {mine}"), ids).one()
                    outbox = conn.execute(text(
                        "SELECT count(*) FROM outbox WHERE event_type = 'escalated' AND created_at >= :start "
                        "AND case_id > :first AND case_id <= :last"), ids).scalar()
                results["runs"].append({"workers": workers, "spread": spread, "cases": count_due,
                                        "all_in_s": (done_at - due_at).total_seconds() if done_at else None,
                                        "p50": late[0], "p99": late[1], "max": late[2], "events": late[3],
                                        "outbox": outbox})
                print(results["runs"][-1], flush=True)
            finally:
                for p in procs:
                    os.killpg(p.pid, signal.SIGTERM)
                for p in procs:
                    try:
                        p.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        os.killpg(p.pid, signal.SIGKILL)
        rt.engine.dispose()

    c = results["counts"]
    print(f"\n{c[0]:,} cases ({c[1]:,} running, {c[2]:,} supervised past due); sweep interval "
          f"{args.interval:g} s, batch 500\n")
    print("| idle tick | median ms (20 ticks) | statements | escalate claim: index, rows filtered, ms | "
          "warn claim | remind claim | close claim |")
    print("|---|---:|---:|---|---|---|---|")
    for label, key in (("now (migration 0014)", "idle"), ("before (single-column due_at, warn_at)", "idle_before")):
        r = results[key]
        cells = [f"`{v['index']}`, {v['filtered']:,}, {v['ms']:.2f}" for v in r["claims"].values()]
        print(f"| {label} | {r['ms']:.1f} | {r['statements']} | " + " | ".join(cells) + " |")
    print(f"\nceiling: bare `UPDATE ... RETURNING` of {args.due:,} rows: {results['ceiling_s'] * 1000:.0f} ms; "
          f"one tick in one process escalating {results['in_process_n']:,} cases at tiers 1–4: "
          f"{results['in_process_s']:.2f} s ({results['in_process_s'] / results['ceiling_s']:.0f}× the ceiling)\n")
    print("| falling due | worker processes | cases | all escalated, s after the last was due | "
          "lateness p50 s | p99 s | max s | escalated events | outbox rows |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results["runs"]:
        took = f"{r['all_in_s']:.1f}" if r["all_in_s"] is not None else "not within 300 s"
        when = "at one moment, tiers 1–4" if not r["spread"] else f"evenly over {r['spread']} s"
        print(f"| {when} | {r['workers']} | {r['cases']:,} | {took} | {r['p50']:.2f} | {r['p99']:.2f} | "
              f"{r['max']:.2f} | {r['events']:,} | {r['outbox']:,} |")


if __name__ == "__main__":
    main()
