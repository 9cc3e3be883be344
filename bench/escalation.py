"""Escalation benchmark: 10,000 cases falling due at once among 1,000,000 open ones.

    python bench/escalation.py [--open 1000000] [--due 10000] [--interval 1]

On a scratch database of the local PostgreSQL (CLOSEDLOOP_BENCH_DATABASE_URL, an admin URL) and
the local Redis (CLOSEDLOOP_BENCH_REDIS_URL, default redis://127.0.0.1:6379/14):

1. the idle sweep — one whole tick with nothing due — at 100,000 and at `--open` open cases
   (median of 20 ticks): it must not grow with the number of open cases;
2. the ceiling: a bare `UPDATE ... RETURNING` moving the `--due` cases one tier, in one statement;
3. with one and with two Celery worker processes (each `--concurrency 1`) and a beat ticking every
   `--interval` seconds: `--due` cases fall due at the same moment; the time from that moment
   until every one is escalated with its event and outbox rows, and the lateness of each
   escalation (from the events), p50 / p99 / max;
4. steady state: a tenth of them falling due evenly over 20 s, one worker: the lateness a
   normal day sees.

Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import scratch_database  # noqa: E402
CLOSEDLOOP = Path(sys.executable).with_name("closedloop")

INSERT_OPEN = """
INSERT INTO cases (tracking_no, enterprise_id, district, officer_id, title, description, urgency, attachments,
  status, tier, lead_department, co_departments, needs_triage, priority, tags, sla_policy, theme, routing,
  due_at, warn_at, due_provisional, supervised, reopen_count, created_at, updated_at, version)
SELECT 'B-' || g, 1, 'yuanhui', 'officer-yuanhui-1', '项目用地报批进度缓慢', '土地报批材料提交已两个月', 'normal', '[]',
  'in_progress', 1, 'natural-resources', '[]', false, 'normal', '[]', 'standard', 'factor-guarantee', '{}',
  now() + interval '30 days' + (g % 1000) * interval '1 minute', now() + interval '29 days', false, false, 0,
  now(), now(), 1
FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) g
"""


def ms(fn, repeat: int = 20) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()

    redis_url = os.environ.get("CLOSEDLOOP_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    beat_schedule = Path(tempfile.mkdtemp(prefix="closedloop-escalation-")) / "beat"
    results: dict = {"idle": {}, "runs": []}
    with scratch_database() as url:
        import redis

        from service.config import Settings
        from service.escalation.sweep import sweep
        from service.migrate import load_directory_rows, upgrade
        from service.runtime import Runtime

        redis.Redis.from_url(redis_url).flushdb()
        rt = Runtime.build(Settings(database_url=url))
        upgrade(rt)
        with rt.session() as s:
            load_directory_rows(s, rt.directory)
            s.execute(text("INSERT INTO enterprises (credit_code, credit_code_flagged, name, district, "
                           "key_project_level, whitelisted, officer_id, created_at) VALUES ('914111000000000001', "
                           "false, '压测企业', 'yuanhui', 'none', false, 'officer-yuanhui-1', now())"))
            s.commit()

        loaded = 0
        for size in sorted({min(100_000, args.open), args.open}):
            t = time.perf_counter()
            with rt.engine.begin() as conn:
                for first in range(loaded + 1, size + 1, 100_000):
                    conn.execute(text(INSERT_OPEN), {"first": first, "last": min(first + 99_999, size)})
            with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE cases"))
            loaded = size
            print(f"loaded {size:,} open cases in {time.perf_counter() - t:.1f} s", file=sys.stderr)
            results["idle"][size] = ms(lambda: sweep(rt, datetime.now(timezone.utc)))

        due_ids = f"SELECT id FROM cases ORDER BY id LIMIT {args.due}"
        with rt.engine.connect() as conn:
            trans = conn.begin()
            t = time.perf_counter()
            moved = conn.execute(text(f"UPDATE cases SET tier = tier + 1, version = version + 1 "
                                      f"WHERE id IN ({due_ids}) RETURNING id")).all()
            results["ceiling_s"] = time.perf_counter() - t
            trans.rollback()
            assert len(moved) == args.due

        env = {k: v for k, v in os.environ.items() if not k.startswith("CLOSEDLOOP_")}
        env.update(CLOSEDLOOP_DATABASE_URL=url, CLOSEDLOOP_REDIS_URL=redis_url,
                   CLOSEDLOOP_SWEEP_INTERVAL=str(args.interval), CLOSEDLOOP_SWEEP_BATCH="500")
        # (workers, spread): a burst — all due at one moment — with one and two workers; then a
        # steady trickle: a tenth of them falling due evenly over 20 s, with one worker
        scenarios = [(1, 0), (2, 0), (1, 20)]
        for workers, spread in scenarios:
            count_due = args.due if spread == 0 else args.due // 10
            due_ids = f"SELECT id FROM cases ORDER BY id LIMIT {count_due}"
            with rt.engine.begin() as conn:  # the same cases, back at tier 1, due in a few seconds
                conn.execute(text("DELETE FROM outbox"))
                conn.execute(text("DELETE FROM case_events"))
                conn.execute(text("DELETE FROM case_tiers WHERE tier > 1"))
                due_at = datetime.now(timezone.utc) + timedelta(seconds=8)
                conn.execute(text(f"UPDATE cases SET tier = 1, sitting_id = NULL, escalated_at = NULL, "
                                  f"warn_at = NULL, due_at = :due + (id % 1000) * :step * interval '1 second' "
                                  f"WHERE id IN ({due_ids})"), {"due": due_at, "step": spread / 1000})
                due_at += timedelta(seconds=spread)  # when the last one falls due
            redis.Redis.from_url(redis_url).flushdb()
            procs = [subprocess.Popen([str(CLOSEDLOOP), "worker", "-c", "1", "--loglevel", "warning"], env=env,
                                      start_new_session=True) for _ in range(workers)]
            procs.append(subprocess.Popen([str(CLOSEDLOOP), "beat", "--schedule", str(beat_schedule),
                                           "--loglevel", "warning"], env=env, start_new_session=True))
            try:
                done_at = None
                deadline = time.monotonic() + 300
                while time.monotonic() < deadline:
                    with rt.engine.connect() as conn:
                        n = conn.execute(text("SELECT count(*) FROM case_events WHERE type = 'escalated'")).scalar()
                    if n >= count_due:
                        done_at = datetime.now(timezone.utc)
                        break
                    time.sleep(0.05)
                with rt.engine.connect() as conn:
                    late = conn.execute(text(
                        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY (data->>'late_seconds')::float), "
                        "percentile_cont(0.99) WITHIN GROUP (ORDER BY (data->>'late_seconds')::float), "
                        "max((data->>'late_seconds')::float), count(*) FROM case_events WHERE type = 'escalated'"
                    )).one()
                    outbox = conn.execute(text("SELECT count(*) FROM outbox WHERE event_type = 'escalated'")).scalar()
                results["runs"].append({"workers": workers, "spread": spread, "cases": count_due,
                                        "all_in_s": (done_at - due_at).total_seconds()
                                        if done_at else None, "p50": late[0], "p99": late[1], "max": late[2],
                                        "events": late[3], "outbox": outbox})
            finally:
                for p in procs:
                    os.killpg(p.pid, signal.SIGTERM)
                for p in procs:
                    try:
                        p.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        os.killpg(p.pid, signal.SIGKILL)
        rt.engine.dispose()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}; sweep interval {args.interval:g} s, batch 500")
    print()
    print("| open cases | idle sweep, ms (median of 20 ticks) |")
    print("|---:|---:|")
    for size, value in results["idle"].items():
        print(f"| {size:,} | {value:.1f} |")
    print()
    print(f"ceiling: bare `UPDATE ... RETURNING` of {args.due:,} rows: {results['ceiling_s'] * 1000:.0f} ms")
    print()
    print("| falling due | worker processes | cases | all escalated, s after the last was due | "
          "lateness p50 s | p99 s | max s | escalated events | outbox rows | ÷ ceiling |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results["runs"]:
        took = f"{r['all_in_s']:.1f}" if r["all_in_s"] is not None else "not within 300 s"
        ratio = f"{r['all_in_s'] / results['ceiling_s']:.0f}×" if r["all_in_s"] and not r["spread"] else "—"
        when = "at one moment" if not r["spread"] else f"evenly over {r['spread']} s"
        print(f"| {when} | {r['workers']} | {r['cases']:,} | {took} | {r['p50']:.2f} | {r['p99']:.2f} | "
              f"{r['max']:.2f} | {r['events']:,} | {r['outbox']:,} | {ratio} |")


if __name__ == "__main__":
    main()
