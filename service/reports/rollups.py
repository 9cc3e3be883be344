"""Monthly rollups (月度汇总) of the report facts, so that a year's report reads a few thousand
rows instead of millions of facts; PostgreSQL only (the embedded SQLite computes from the facts).

Why monthly rollups written by the beat, not rows kept up to date in each change's transaction:
every submission of a day would update the same rollup rows, a lock on intake's hot path; and a
month's figures never change once it has ended (facts are written as things happen, a
correction is a change of its own day: docs/reports.md), so rolling it up once is exact.

What keeps them exact:

- a month is rolled up only an hour after it ended (``MARGIN``), when no transaction that wrote
  one of its facts can still be open;
- the watermark is the highest fact id the last run saw; a fact above it whose time lies in a
  rolled month (a backfill, a clock set back) makes that month unusable at once — reports go to
  the facts for it — and the next run rolls it again;
- two of the figures are not sums of months: "received and resolved" (a case received in one
  month and resolved in a later one counts for a period holding both) is kept as the cases
  first resolved in a month by the month they were received in; the median and p90 of
  handling time are always computed from the facts (docs/reports.md).
"""

from __future__ import annotations

import time

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, delete, func, select, text
from sqlalchemy.orm import Session

from ..db import UTCDateTime
from ..runtime import Runtime
from .models import CaseFact, ReportMonth, RolledMonth, RollupWatermark

MARGIN = timedelta(hours=1)
DIMS = {"department": "lead_department", "district": "district", "tier": "tier", "officer": "officer_id",
        "theme": "theme", "category": "category", "city": None}
_LOCK = 8_131_300  # pg_advisory_xact_lock key: one roll-up at a time, however many beats

_FACTS = """
CREATE TEMP TABLE rollup_facts ON COMMIT DROP AS
SELECT f.kind, f.lead_department, f.district, f.officer_id, f.tier, f.theme, f.category, f.on_time, f.satisfied,
       f.rating, f.working_days,
       (f.kind = 'resolved' AND coalesce(f.on_time, false) AND EXISTS (
           SELECT 1 FROM case_facts x WHERE x.case_id = f.case_id AND x.kind = 'extended' AND x.tier = f.tier
             AND x.at <= f.at)) AS extended
FROM case_facts f WHERE f.at >= :start AND f.at < :end AND f.id <= :top
"""
# a case's first resolution, under what the case was when it was received
_FIRST = """
CREATE TEMP TABLE rollup_first ON COMMIT DROP AS
SELECT s.lead_department, s.district, s.officer_id, s.tier, s.theme, s.category,
       date_trunc('month', s.at AT TIME ZONE :tz)::date AS received_month
FROM case_facts r JOIN case_facts s ON s.case_id = r.case_id AND s.kind = 'submitted'
WHERE r.kind = 'resolved' AND r.at >= :start AND r.at < :end AND r.id <= :top
  AND NOT EXISTS (SELECT 1 FROM case_facts e WHERE e.case_id = r.case_id AND e.kind = 'resolved'
                    AND (e.at < r.at OR (e.at = r.at AND e.id < r.id)))
"""
_ROLL_FACTS = """
INSERT INTO report_months (month, dim, key, kind, tier, on_time, satisfied, extended, received_month, n, rating_sum,
                           rating_n, days_sum, days_n)
SELECT :month, :dim, CAST({key} AS VARCHAR), kind, tier, on_time, satisfied, extended, NULL, count(*),
       coalesce(sum(rating), 0), count(rating), coalesce(sum(working_days), 0), count(working_days)
FROM rollup_facts GROUP BY 3, 4, 5, 6, 7, 8
"""
_ROLL_FIRST = """
INSERT INTO report_months (month, dim, key, kind, tier, on_time, satisfied, extended, received_month, n, rating_sum,
                           rating_n, days_sum, days_n)
SELECT :month, :dim, CAST({key} AS VARCHAR), 'first_resolved', 0, NULL, NULL, false, received_month, count(*),
       0, 0, 0, 0
FROM rollup_first GROUP BY 3, 9
"""


def month_after(m: date) -> date:
    return date(m.year + m.month // 12, m.month % 12 + 1, 1)


def _start(rt: Runtime, m: date) -> datetime:
    return datetime.combine(m, datetime.min.time(), rt.calendar.tz)


def _on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


class RollUpRun(list):
    """The months a run rolled up; ``more``: it stopped with months left (its limit or budget)."""

    more = False


def roll_up(rt: Runtime, now: datetime, limit: int | None = None, budget: float | None = None) -> RollUpRun:
    """Roll up every month that ended more than ``MARGIN`` before ``now`` and is not rolled up
    (or no longer valid), one transaction per month; the months rolled, oldest first. Safe to run
    twice, or twice at once. ``limit``: at most this many months in this run; ``budget``: start
    no month after this many seconds (at least one is rolled) — the rest next time, which
    :func:`pending` tells."""
    with rt.session() as session:
        if not _on_postgresql(session):
            return []
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
        top = session.scalar(select(func.max(CaseFact.id))) or 0
        mark = session.get(RollupWatermark, 1)
        late = earliest_between(session, mark.fact_id if mark else 0, top)
        if mark is not None and late is not None:  # unroll what a late fact fell into
            stale = [m for m in session.scalars(select(RolledMonth.month)) if _start(rt, month_after(m)) > late]
            if stale:
                session.execute(delete(ReportMonth).where(ReportMonth.month.in_(stale)))
                session.execute(delete(RolledMonth).where(RolledMonth.month.in_(stale)))
        first = session.scalar(select(func.min(CaseFact.at)).where(CaseFact.id <= top))
        rolled = set(session.scalars(select(RolledMonth.month)))
        session.commit()
    if first is None:
        return []
    todo = []
    local = first.astimezone(rt.calendar.tz)
    m = date(local.year, local.month, 1)
    while _start(rt, month_after(m)) + MARGIN <= now:
        if m not in rolled:
            todo.append(m)
        m = month_after(m)
    done = RollUpRun()
    started = time.monotonic()
    for m in todo[:limit] if limit is not None else todo:
        if budget is not None and done and time.monotonic() - started > budget:
            done.more = True  # out of time: the rest, and the watermark, next time
            break
        with rt.session() as session:
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
            if session.get(RolledMonth, m) is None:  # a second run may have rolled it meanwhile
                _roll(session, rt, m, top, now)
                done.append(m)
            session.commit()
    if limit is not None and len(todo) > limit:
        done.more = True
    if not done.more:
        with rt.session() as session:
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
            mark = session.get(RollupWatermark, 1)
            if mark is None:
                session.add(RollupWatermark(id=1, fact_id=top))
            elif mark.fact_id < top:
                mark.fact_id = top
            session.commit()
    return done


def _roll(session: Session, rt: Runtime, m: date, top: int, now: datetime) -> None:
    times = {"start": _start(rt, m), "end": _start(rt, month_after(m))}
    bound = [bindparam(n, type_=UTCDateTime()) for n in times]
    session.execute(text(_FACTS).bindparams(*bound), {**times, "top": top})
    session.execute(text(_FIRST).bindparams(*bound), {**times, "top": top, "tz": rt.calendar.tz.key})
    for dim, column in DIMS.items():
        key = "'city'" if column is None else column
        for sql in (_ROLL_FACTS, _ROLL_FIRST):
            session.execute(text(sql.format(key=key)), {"month": m, "dim": dim})
    session.add(RolledMonth(month=m, rolled_at=now))


@dataclass(frozen=True)
class Rolled:
    """The months of a period that may be read from the rollups: ``first`` to ``last`` (month
    starts), the period's first months without a gap; the rest of the period, from ``tail``
    (an instant), is read from the facts."""

    first: date
    last: date
    tail: datetime


def earliest_between(session: Session, after_id: int, up_to_id: int | None = None) -> datetime | None:
    """The earliest moment among the facts with ids in (after_id, up_to_id]: those facts read by
    their ids first (a range of the primary key, usually empty), then their minimum. Asked as one
    ``min(at) … WHERE id > …``, PostgreSQL may walk the whole index on ``at`` looking for the first
    fact past the mark — 0.1 s at a million cases to find none, twelve times in a dashboard."""
    ids = select(CaseFact.at).where(CaseFact.id > after_id)
    if up_to_id is not None:
        ids = ids.where(CaseFact.id <= up_to_id)
    late = ids.cte("late").prefix_with("MATERIALIZED", dialect="postgresql")
    return session.scalar(select(func.min(late.c.at)))


def usable(session: Session, rt: Runtime, start: date, end: datetime) -> Rolled | None:
    """The rolled months that open a period starting on the local day ``start`` and ending at the
    instant ``end``, or None: only a period that starts on the first of a month, only months
    wholly inside it, rolled up and not touched by a fact that came after."""
    if start.day != 1 or not _on_postgresql(session):
        return None
    mark = session.get(RollupWatermark, 1)
    if mark is None:
        return None
    rolled = set(session.scalars(select(RolledMonth.month).where(RolledMonth.month >= start)))
    # facts written since the last run: their earliest time bounds what the rollups may answer
    late = earliest_between(session, mark.fact_id)
    earliest = session.scalar(select(func.min(CaseFact.at)))
    last = None
    m = start
    while _start(rt, month_after(m)) <= end and (late is None or _start(rt, month_after(m)) <= late):
        empty_before_any_fact = earliest is None or _start(rt, month_after(m)) <= earliest
        if m not in rolled and not empty_before_any_fact:
            break
        last, m = m, month_after(m)
    if last is None:
        return None
    return Rolled(start, last, _start(rt, month_after(last)))
