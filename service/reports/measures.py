"""The performance measures (绩效指标): one definition each, computed from the case facts of a
period (docs/reports.md gives every formula and the facts it counts).

A period is a span of local days [start, end] in the city's time zone. Everything counted is a
fact whose moment lies in the period, grouped under what the case was at that moment, so a past
period's report does not change when later events happen. Two figures are of now, not of the
period: the cases overdue now and the longest overdue (the report says when it was made).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Literal

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from ..cases import machine
from ..db import UTCDateTime
from ..errors import Invalid
from ..runtime import Runtime
from . import facts, rollups

GROUPS = {"department": "lead_department", "district": "district", "tier": "tier", "officer": "officer_id",
          "theme": "theme", "category": "category", "city": None}
GroupBy = Literal["department", "district", "tier", "officer", "theme", "category", "city"]
Extensions = Literal["count", "exclude"]
MAX_YEARS = 10

# rate -> (numerator, denominator, what a higher value means: +1 better, -1 worse)
RATES = {
    "response_rate": ("accepted_on_time", "accepted", 1),          # 响应率
    "resolution_rate": ("received_resolved", "received", 1),       # 办结率
    "on_time_rate": ("resolved_on_time", "resolved", 1),           # 按时办结率
    "satisfaction_rate": ("satisfied", "confirmations", 1),        # 满意率
    "reopen_rate": ("reopened", "resolved", -1),                   # 重办率
    "objection_rate": ("objections_upheld", "received", -1),       # 异议率
}
COUNTS = ("received", "accepted", "accepted_on_time", "resolved", "resolved_on_time", "received_resolved",
          "closed", "withdrawn", "reopened", "confirmations", "satisfied", "objections", "objections_upheld",
          "escalated_2", "escalated_3", "escalated_4", "escalated_5", "supervised")
FIGURES = ("rating_mean", "days_median", "days_p90", "days_mean", "overdue_now", "longest_overdue_days")


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Period":
        """The period of the same kind just before: the previous month for a month, else the same
        number of days."""
        if self.start.day == 1 and (self.end + timedelta(days=1)).day == 1 and self.label.count("-") == 1 \
                and "W" not in self.label and "Q" not in self.label:
            end = self.start - timedelta(days=1)
            return Period(end.replace(day=1), end, f"{end.year}-{end.month:02d}")
        end = self.start - timedelta(days=1)
        start = end - timedelta(days=self.days - 1)
        return Period(start, end, f"{start.isoformat()}..{end.isoformat()}")


def parse_period(period: str | None, start: date | None, end: date | None, today: date) -> Period:
    """``period`` (2026-11-30, 2026-W48, 2026-11, 2026-Q4, 2026) or ``from``/``to`` dates
    (inclusive); the last 30 days to today when neither is given (what a dashboard shows: a full
    month's worth whatever the day of the month)."""
    if period is not None and (start is not None or end is not None):
        raise Invalid("period: give either period or from/to, not both")
    if period is None and start is None and end is None:
        return Period(today - timedelta(days=29), today, "last-30-days")
    if period is not None:
        p = period.strip()
        try:
            if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", p):
                d = date(int(m[1]), int(m[2]), int(m[3]))
                return _bounded(Period(d, d, p))
            if m := re.fullmatch(r"(\d{4})-W(\d{2})", p):
                d = date.fromisocalendar(int(m[1]), int(m[2]), 1)
                return _bounded(Period(d, d + timedelta(days=6), p))
            if m := re.fullmatch(r"(\d{4})-(\d{2})", p):
                first = date(int(m[1]), int(m[2]), 1)
                nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
                return _bounded(Period(first, nxt - timedelta(days=1), p))
            if m := re.fullmatch(r"(\d{4})-Q([1-4])", p):
                first = date(int(m[1]), 3 * int(m[2]) - 2, 1)
                nxt = date(first.year + (first.month + 3 > 12), (first.month + 2) % 12 + 1, 1)
                return _bounded(Period(first, nxt - timedelta(days=1), p))
            if m := re.fullmatch(r"(\d{4})", p):
                return _bounded(Period(date(int(m[1]), 1, 1), date(int(m[1]), 12, 31), p))
        except ValueError:
            pass
        raise Invalid(f"period: cannot read '{period}'; use a day (2026-11-30), an ISO week (2026-W48), a month "
                      "(2026-11), a quarter (2026-Q4) or a year (2026), or from/to dates")
    if start is None or end is None:
        raise Invalid(f"{'to' if start is not None else 'from'}: give both from and to (dates, both included)")
    if start > end:
        raise Invalid(f"from: {start.isoformat()} is after to {end.isoformat()}; swap them")
    return _bounded(Period(start, end, f"{start.isoformat()}..{end.isoformat()}"))


def _bounded(p: Period) -> Period:
    if p.start.year < 2000 or p.end.year > 2099:
        raise Invalid("period: must lie in the years 2000-2099")
    if p.days > MAX_YEARS * 366:
        raise Invalid(f"to: a report covers at most {MAX_YEARS} years; ask for a shorter period")
    return p


@dataclass
class Row:
    """One group's figures (or the city's, ``key`` None)."""

    key: str | None
    name: str
    counts: dict[str, int] = field(default_factory=dict)
    figures: dict[str, float | None] = field(default_factory=dict)
    rates: dict[str, float | None] = field(default_factory=dict)
    previous: dict[str, float | None] = field(default_factory=dict)
    change: dict[str, float | None] = field(default_factory=dict)  # percentage points against previous
    rank: dict[str, int | None] = field(default_factory=dict)      # 1 = best; None without a rate


@dataclass
class OverdueCase:
    case_id: int
    tracking_no: str
    title: str
    lead_department: str | None
    lead_name: str
    district: str
    tier: int
    due_at: datetime
    days_overdue: float


@dataclass
class Report:
    period: Period
    previous_period: Period
    group_by: str
    extensions: str
    made_at: datetime
    rows: list[Row]
    city: Row
    overdue: list[OverdueCase]


def rate(counts: dict, name: str) -> float | None:
    num, den, _ = RATES[name]
    return round(counts[num] / counts[den], 4) if counts.get(den) else None


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between the order statistics: PostgreSQL's percentile_cont."""
    if not values:
        return None
    xs = sorted(values)
    pos = q * (len(xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _bounds(rt: Runtime, p: Period) -> tuple[datetime, datetime]:
    tz = rt.calendar.tz
    start = datetime.combine(p.start, datetime.min.time(), tz)
    end = datetime.combine(p.end + timedelta(days=1), datetime.min.time(), tz)
    return start, end


# The period's facts counted per group and per (kind, tier, on_time, satisfied), in one pass
# that runs in PostgreSQL's parallel workers; _fold turns those few hundred rows into the counts,
# and the city's row is the sum of the groups'. A rating counts for the mean only with its
# confirmation.
_COUNTS_SQL = """
SELECT {key} AS key, kind, tier, on_time, satisfied, count(*) AS n, sum(rating) AS rating_sum,
       count(rating) AS rating_n, sum(working_days) AS days_sum, count(working_days) AS days_n
FROM case_facts f WHERE at >= :start AND at < :end {scope}
GROUP BY 1, 2, 3, 4, 5
"""
# A case received in the period counts as resolved for the resolution rate if it was resolved
# before the period ended; its resolution follows its submission, so it was resolved within
# the period: a semi-join on the period's own resolutions, nothing outside the period probed.
_RECEIVED_RESOLVED_SQL = """
SELECT {key} AS key, count(*) AS n FROM case_facts f
WHERE kind = 'submitted' AND at >= :start AND at < :end {scope}
  AND case_id IN (SELECT case_id FROM case_facts WHERE kind = 'resolved' AND at >= :start AND at < :end)
{group}
"""
# With the period's first months read from the rollups (rollups.py): the cases first resolved in
# the rest of the period, from :tail, that were received in the period
_TAIL_RECEIVED_RESOLVED_SQL = """
SELECT {skey} AS key, count(*) AS n
FROM case_facts r JOIN case_facts s ON s.case_id = r.case_id AND s.kind = 'submitted'
WHERE r.kind = 'resolved' AND r.at >= :tail AND r.at < :end AND s.at >= :start
  AND NOT EXISTS (SELECT 1 FROM case_facts e WHERE e.case_id = r.case_id AND e.kind = 'resolved'
                    AND (e.at < r.at OR (e.at = r.at AND e.id < r.id)))
{sgroup}
"""
_ROLLED_SQL = """
SELECT key, kind, tier, on_time, satisfied, extended, sum(n) AS n, sum(rating_sum) AS rating_sum,
       sum(rating_n) AS rating_n, sum(days_sum) AS days_sum, sum(days_n) AS days_n
FROM report_months WHERE dim = :dim AND month >= :first AND month <= :last AND kind <> 'first_resolved'
GROUP BY key, kind, tier, on_time, satisfied, extended
"""
_ROLLED_RECEIVED_RESOLVED_SQL = """
SELECT key, sum(n) AS n FROM report_months
WHERE dim = :dim AND month >= :first AND month <= :last AND kind = 'first_resolved' AND received_month >= :first
GROUP BY key
"""
# An objection is upheld when, before the period ends, a reassignment gives the case another
# lead than the one that objected.
_UPHELD_SQL = """
SELECT {key} AS key, count(*) AS n FROM case_facts f
WHERE kind = 'objected' AND at >= :start AND at < :end {scope} AND EXISTS (
  SELECT 1 FROM case_facts r WHERE r.case_id = f.case_id AND r.kind = 'reassigned' AND r.at >= f.at
    AND r.at < :end AND r.lead_department IS NOT NULL
    AND (f.lead_department IS NULL OR r.lead_department <> f.lead_department))
{group}
"""
# with extensions excluded: the on-time resolutions whose tier's deadline had been extended
_EXTENDED_ON_TIME_SQL = """
SELECT {key} AS key, count(*) AS n FROM case_facts f
WHERE kind = 'resolved' AND on_time AND at >= :start AND at < :end {scope} AND EXISTS (
  SELECT 1 FROM case_facts x WHERE x.case_id = f.case_id AND x.kind = 'extended' AND x.tier = f.tier
    AND x.at <= f.at)
{group}
"""
# handling time: the groups' and the city's median and p90 in one statement (PostgreSQL)
_DAYS_PG = """
SELECT {key} AS key, {total} AS total, percentile_cont(0.5) WITHIN GROUP (ORDER BY working_days) AS median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY working_days) AS p90
FROM case_facts WHERE kind = 'resolved' AND working_days IS NOT NULL AND at >= :start AND at < :end {scope}
{sets}
"""
_DAYS_ANY = """
SELECT {key} AS key, working_days FROM case_facts
WHERE kind = 'resolved' AND working_days IS NOT NULL AND at >= :start AND at < :end {scope}
"""
# overdue now: running cases past their deadline, under their present attributes
# (ix_cases_running_due makes it an index-only scan)
_OVERDUE_SQL = """
SELECT {key} AS key, count(*) AS n, min(due_at) AS oldest FROM cases
WHERE status IN ({running}) AND due_at < :now {scope} {group}
"""
# What the report's statements run under on PostgreSQL, and why:
# - jit: the statements are short; compiling them cost more than running them (bench/reports.py);
# - random_page_cost: a period is a range of ix_case_facts_at_kind over facts written in time
#   order, read from memory; at the default (4) the planner scans the whole table for a year;
# - work_mem: a year's handling times are sorted, and its resolved cases hashed, in memory.
_PG_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL random_page_cost = 1.1", "SET LOCAL work_mem = '64MB'")

# fact kind -> the count it adds to, whatever its other columns
_PLAIN = {"submitted": "received", "accepted": "accepted", "resolved": "resolved", "closed": "closed",
          "withdrawn": "withdrawn", "reopened": "reopened", "objected": "objections", "supervised": "supervised"}


def _sql(template: str, group_by: str, district: str | None, **parts):
    """A report statement for a grouping and a scope: ``{key}`` the grouping column, ``{group}``
    its GROUP BY, ``{sets}``/``{total}`` the groups and the total in one, ``{scope}`` the
    district; times bound as the columns store them (SQLite keeps UTC text)."""
    column = GROUPS[group_by]
    sql = template.format(key="'city'" if column is None else column,
                          group="" if column is None else f"GROUP BY {column}",
                          skey="'city'" if column is None else f"s.{column}",
                          sgroup="" if column is None else f"GROUP BY s.{column}",
                          total="1" if column is None else f"GROUPING({column})",
                          sets="" if column is None else f"GROUP BY GROUPING SETS (({column}), ())",
                          scope="AND district = :district" if district else "", **parts)
    return text(sql).bindparams(*(bindparam(n, type_=UTCDateTime()) for n in ("start", "end", "now", "tail")
                                  if f":{n}" in sql))


def _fold(counts: dict, sums: dict, row) -> None:
    """Add one (key, kind, tier, on_time, satisfied) row of _COUNTS_SQL to a group's counts."""
    kind, n = row["kind"], int(row["n"])
    if kind in _PLAIN:
        counts[_PLAIN[kind]] += n
    if kind in ("accepted", "resolved") and row["on_time"]:
        counts[f"{kind}_on_time"] += n
    # an answer on satisfaction: a confirmation (closed or reopened), or a reached call-back (回访)
    if kind in facts.ANSWERS and row["satisfied"] is not None:
        counts["confirmations"] += n
        counts["satisfied"] += n if kind in ("closed", "called_back") and row["satisfied"] else 0
        sums["rating_sum"] += int(row["rating_sum"] or 0)
        sums["rating_n"] += int(row["rating_n"] or 0)
    if kind == "escalated" and row["tier"] in (2, 3, 4, 5):
        counts[f"escalated_{row['tier']}"] += n
    if kind == "resolved":
        sums["days_sum"] += float(row["days_sum"] or 0)
        sums["days_n"] += int(row["days_n"] or 0)


def _period_counts(session: Session, rt: Runtime, p: Period, group_by: str, extensions: str,
                   district: str | None = None, days: bool = True) -> tuple[dict, tuple[dict, dict]]:
    """({key: (counts, figures)}, the total's (counts, figures)) of period ``p``; the handling
    time's median and p90 only with ``days`` (the previous period's are never shown). The
    period's first months come from the rollups where they are usable (a city-wide report on
    PostgreSQL), the rest from the facts."""
    start, end = _bounds(rt, p)
    rolled = None if district else rollups.usable(session, rt, p.start, end)
    tail = rolled.tail if rolled else start
    args = {"start": start, "end": end, "tail": tail, **({"district": district} if district else {})}
    raw: dict = {}

    def group(key) -> tuple[dict, dict]:
        return raw.setdefault(_norm(key), ({c: 0 for c in COUNTS},
                                           {"rating_sum": 0, "rating_n": 0, "days_sum": 0.0, "days_n": 0}))

    if rolled:
        months = {"dim": group_by, "first": rolled.first, "last": rolled.last}
        for row in session.execute(text(_ROLLED_SQL), months).mappings():
            counts, sums = group(row["key"])
            _fold(counts, sums, row)
            if extensions == "exclude" and row["extended"]:
                counts["resolved_on_time"] -= int(row["n"])
        for row in session.execute(text(_ROLLED_RECEIVED_RESOLVED_SQL), months).mappings():
            group(row["key"])[0]["received_resolved"] += int(row["n"])
    if tail < end:  # the rest of the period (all of it without rollups), from the facts
        from_tail = {**args, "start": tail}
        for row in session.execute(_sql(_COUNTS_SQL, group_by, district), from_tail).mappings():
            _fold(*group(row["key"]), row)
        received = _TAIL_RECEIVED_RESOLVED_SQL if rolled else _RECEIVED_RESOLVED_SQL
        for row in session.execute(_sql(received, group_by, district), args).mappings():
            group(row["key"])[0]["received_resolved"] += int(row["n"])
        if extensions == "exclude":
            for row in session.execute(_sql(_EXTENDED_ON_TIME_SQL, group_by, district), from_tail).mappings():
                group(row["key"])[0]["resolved_on_time"] -= int(row["n"])
    for row in session.execute(_sql(_UPHELD_SQL, group_by, district), args).mappings():
        group(row["key"])[0]["objections_upheld"] += int(row["n"])
    if not raw:
        return {}, _empty()
    total = ({c: sum(v[0][c] for v in raw.values()) for c in COUNTS},
             {s: sum(v[1][s] for v in raw.values()) for s in ("rating_sum", "rating_n", "days_sum", "days_n")})
    out = {k: (c, _means(s)) for k, (c, s) in raw.items()}
    city = (total[0], _means(total[1]))
    if not days:
        return out, city
    if session.get_bind().dialect.name == "postgresql":
        for row in session.execute(_sql(_DAYS_PG, group_by, district), args).mappings():
            figures = city[1] if row["total"] else out[_norm(row["key"])][1]
            figures["days_median"], figures["days_p90"] = _round(row["median"]), _round(row["p90"])
    else:  # SQLite has neither percentile_cont nor GROUPING SETS
        values: dict = {}
        for row in session.execute(_sql(_DAYS_ANY, group_by, district), args).mappings():
            values.setdefault(_norm(row["key"]), []).append(row["working_days"])
        everything = [x for xs in values.values() for x in xs]
        for figures, xs in [*((out[k][1], xs) for k, xs in values.items()), (city[1], everything)]:
            figures["days_median"], figures["days_p90"] = _round(percentile(xs, 0.5)), _round(percentile(xs, 0.9))
    return out, city


def _means(sums: dict) -> dict:
    return {"rating_mean": round(sums["rating_sum"] / sums["rating_n"], 2) if sums["rating_n"] else None,
            "days_mean": round(sums["days_sum"] / sums["days_n"], 2) if sums["days_n"] else None}


def _round(x) -> float | None:
    return None if x is None else round(float(x), 2)


def _norm(key) -> str | None:
    return None if key is None else str(key)


def _names(rt: Runtime, group_by: str) -> dict[str, str]:
    d = rt.directory
    return {"department": {x.key: x.name for x in d.departments}, "district": {x.key: x.name for x in d.districts},
            "tier": {str(t.number): f"第{t.number}级 {t.name}" for t in d.tiers},
            "officer": {o.key: o.name for o in d.officers}, "theme": {t.key: t.name for t in d.themes},
            "category": {c.key: c.name for c in d.categories}, "city": {"city": d.city.name}}[group_by]


def _empty() -> tuple[dict, dict]:
    return {c: 0 for c in COUNTS}, {}


def compute(session: Session, rt: Runtime, p: Period, group_by: str = "department", extensions: str = "count",
            now: datetime | None = None, overdue_limit: int = 20, district: str | None = None) -> Report:
    """The report of period ``p``, grouped; the city's row; change against the previous period and
    the rank of each group on each rate. ``district``: only that district's facts and cases (a
    county's report; its total row stands where the city's would)."""
    if group_by not in GROUPS:
        raise Invalid(f"group_by: unknown grouping '{group_by}'; use one of: {', '.join(GROUPS)}")
    _tune(session)
    now = now or rt.clock()
    prev_period = p.previous()
    current, city = _period_counts(session, rt, p, group_by, extensions, district)
    previous, city_prev = _period_counts(session, rt, prev_period, group_by, extensions, district, days=False)
    overdue = _overdue(session, group_by, now, district)
    names = _names(rt, group_by)
    everyone = set() if district else set(names)  # in a county's report, only what it holds
    keys = sorted(set(current) | set(overdue) | everyone, key=lambda k: (k is None, k or ""))
    rows = []
    for k in keys:
        if group_by == "city":
            break
        counts, figures = current.get(k, _empty())
        rows.append(_row(k, names.get(k, k or "（未定）"), counts, figures, previous.get(k, _empty())[0],
                         overdue.get(k), now))
    total_name = _names(rt, "district").get(district, district) if district else rt.directory.city.name
    overdue_total = (sum(n for n, _ in overdue.values()), min((o for _, o in overdue.values()), default=None))
    city_row = _row(None, total_name, city[0], city[1], city_prev[0], overdue_total, now)
    _rank(rows)
    return Report(p, prev_period, group_by, extensions, now, rows, city_row,
                  longest_overdue(session, rt, now, overdue_limit, district))


def _tune(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        for setting in _PG_SETTINGS:
            session.execute(text(setting))


def at_a_glance(session: Session, rt: Runtime, p: Period, now: datetime) -> tuple[dict, dict]:
    """(the city's rates in ``p``, {lead department: cases overdue now}) — what a dashboard or a
    Prometheus scrape shows, without the rest of a report (previous period, medians, rankings)."""
    _tune(session)
    _, (counts, _) = _period_counts(session, rt, p, "city", "count", days=False)
    return ({name: rate(counts, name) for name in RATES},
            {k: n for k, (n, _) in _overdue(session, "department", now).items()})


def rates_of(session: Session, rt: Runtime, p: Period, district: str | None = None) -> dict:
    """The city's (or a district's) rates in ``p`` alone: a point of a dashboard's trend."""
    _tune(session)
    _, (counts, _) = _period_counts(session, rt, p, "city", "count", district, days=False)
    return {name: rate(counts, name) for name in RATES}


def _row(key, name, counts, figures, prev_counts, overdue, now) -> Row:
    row = Row(key, name, dict(counts), {f: figures.get(f) for f in FIGURES})
    n, oldest = overdue if overdue else (0, None)
    row.figures["overdue_now"] = n
    row.figures["longest_overdue_days"] = round((now - oldest).total_seconds() / 86400, 1) if oldest else None
    for name_ in RATES:
        row.rates[name_] = rate(counts, name_)
        row.previous[name_] = rate(prev_counts, name_)
        cur, before = row.rates[name_], row.previous[name_]
        row.change[name_] = round((cur - before) * 100, 2) if cur is not None and before is not None else None
    return row


def _rank(rows: list[Row]) -> None:
    """Competition ranking (1, 2, 2, 4) on each rate, best first; groups without the rate unranked."""
    for name, (_, _, better) in RATES.items():
        ranked = sorted((r for r in rows if r.rates[name] is not None), key=lambda r: -better * r.rates[name])
        for r in rows:
            r.rank[name] = None
        for i, r in enumerate(ranked):
            same = i > 0 and ranked[i - 1].rates[name] == r.rates[name]
            r.rank[name] = ranked[i - 1].rank[name] if same else i + 1


def _overdue(session: Session, group_by: str, now: datetime, district: str | None = None) -> dict:
    running = ", ".join(f"'{s}'" for s in sorted(machine.RUNNING))
    out = {}
    for row in session.execute(_sql(_OVERDUE_SQL, group_by, district, running=running),
                               {"now": now, **({"district": district} if district else {})}).mappings():
        oldest = row["oldest"]
        if isinstance(oldest, str):  # SQLite hands min() of the stored text back
            oldest = datetime.fromisoformat(oldest)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=timezone.utc)
        out[_norm(row["key"])] = (int(row["n"]), oldest)
    return out


def longest_overdue(session: Session, rt: Runtime, now: datetime, limit: int,
                    district: str | None = None) -> list[OverdueCase]:
    from sqlalchemy import select

    from ..cases.models import Case

    names = {d.key: d.name for d in rt.directory.departments}
    query = (select(Case.id, Case.tracking_no, Case.title, Case.lead_department, Case.district, Case.tier,
                    Case.due_at).where(Case.status.in_(machine.RUNNING), Case.due_at < now)
             .order_by(Case.due_at, Case.id).limit(limit))
    if district:
        query = query.where(Case.district == district)
    rows = session.execute(query)
    return [OverdueCase(r.id, r.tracking_no or "", r.title, r.lead_department,
                        names.get(r.lead_department or "", "（待分办）"), r.district, r.tier, r.due_at,
                        round((now - r.due_at).total_seconds() / 86400, 1)) for r in rows]
