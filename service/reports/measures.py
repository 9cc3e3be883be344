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


# The period's counts per group, in one pass over its facts. ``{key}`` is the grouping column;
# a rating counts for the mean only with its confirmation. An objection is upheld when, before
# the period ends, a reassignment gives the case another lead than the one that objected.
# A case received in the period counts as resolved for the resolution rate if it was resolved
# before the period ended.
_COUNTS_SQL = """
SELECT {key} AS key,
  count(*) FILTER (WHERE kind = 'submitted') AS received,
  count(*) FILTER (WHERE kind = 'accepted') AS accepted,
  count(*) FILTER (WHERE kind = 'accepted' AND on_time) AS accepted_on_time,
  count(*) FILTER (WHERE kind = 'resolved') AS resolved,
  count(*) FILTER (WHERE kind = 'resolved' AND on_time {extension_clause}) AS resolved_on_time,
  count(*) FILTER (WHERE kind = 'submitted' AND EXISTS (
      SELECT 1 FROM case_facts r WHERE r.case_id = f.case_id AND r.kind = 'resolved' AND r.at < :end))
      AS received_resolved,
  count(*) FILTER (WHERE kind = 'closed') AS closed,
  count(*) FILTER (WHERE kind = 'withdrawn') AS withdrawn,
  count(*) FILTER (WHERE kind = 'reopened') AS reopened,
  count(*) FILTER (WHERE kind IN ('closed', 'reopened') AND satisfied IS NOT NULL) AS confirmations,
  count(*) FILTER (WHERE kind = 'closed' AND satisfied) AS satisfied,
  sum(rating) FILTER (WHERE kind IN ('closed', 'reopened') AND satisfied IS NOT NULL) AS rating_sum,
  count(rating) FILTER (WHERE kind IN ('closed', 'reopened') AND satisfied IS NOT NULL) AS rating_n,
  count(*) FILTER (WHERE kind = 'objected') AS objections,
  count(*) FILTER (WHERE kind = 'objected' AND EXISTS (
      SELECT 1 FROM case_facts r WHERE r.case_id = f.case_id AND r.kind = 'reassigned' AND r.at >= f.at
        AND r.at < :end AND r.lead_department IS NOT NULL
        AND (f.lead_department IS NULL OR r.lead_department <> f.lead_department))) AS objections_upheld,
  count(*) FILTER (WHERE kind = 'escalated' AND tier = 2) AS escalated_2,
  count(*) FILTER (WHERE kind = 'escalated' AND tier = 3) AS escalated_3,
  count(*) FILTER (WHERE kind = 'escalated' AND tier = 4) AS escalated_4,
  count(*) FILTER (WHERE kind = 'escalated' AND tier = 5) AS escalated_5,
  count(*) FILTER (WHERE kind = 'supervised') AS supervised,
  sum(working_days) FILTER (WHERE kind = 'resolved') AS days_sum,
  count(working_days) FILTER (WHERE kind = 'resolved') AS days_n
FROM case_facts f
WHERE at >= :start AND at < :end {scope}
{group}
"""
_NOT_EXTENDED = ("AND NOT EXISTS (SELECT 1 FROM case_facts x WHERE x.case_id = f.case_id AND x.kind = 'extended' "
                 "AND x.tier = f.tier AND x.at <= f.at)")
_DAYS_PG = """
SELECT {key} AS key, percentile_cont(0.5) WITHIN GROUP (ORDER BY working_days) AS median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY working_days) AS p90
FROM case_facts WHERE kind = 'resolved' AND working_days IS NOT NULL AND at >= :start AND at < :end {scope}
{group}
"""
_DAYS_ANY = """
SELECT {key} AS key, working_days FROM case_facts
WHERE kind = 'resolved' AND working_days IS NOT NULL AND at >= :start AND at < :end {scope}
"""
# overdue now: running cases past their deadline, under their present attributes
_OVERDUE_SQL = """
SELECT {key} AS key, count(*) AS n, min(due_at) AS oldest FROM cases
WHERE status IN ({running}) AND due_at < :now {scope} {group}
"""


def _key_sql(group_by: str) -> str:
    column = GROUPS[group_by]
    return "'city'" if column is None else column


def _group(group_by: str) -> str:
    column = GROUPS[group_by]
    return "" if column is None else f"GROUP BY {column}"


def _query(sql: str, district: str | None):
    """A report statement: times bound as the columns store them (SQLite keeps UTC text)."""
    stmt = text(sql.replace("{scope}", "AND district = :district" if district else ""))
    return stmt.bindparams(*(bindparam(n, type_=UTCDateTime()) for n in ("start", "end", "now") if f":{n}" in sql))


def _period_counts(session: Session, rt: Runtime, p: Period, group_by: str, extensions: str,
                   district: str | None = None) -> dict:
    start, end = _bounds(rt, p)
    key = _key_sql(group_by)
    sql = _COUNTS_SQL.format(key=key, group=_group(group_by), extension_clause=_NOT_EXTENDED if extensions == "exclude" else "",
                             scope="{scope}")
    args = {"start": start, "end": end, **({"district": district} if district else {})}
    out: dict = {}
    for row in session.execute(_query(sql, district), args).mappings():
        counts = {c: int(row[c] or 0) for c in COUNTS}
        figures = {"rating_mean": round(row["rating_sum"] / row["rating_n"], 2) if row["rating_n"] else None,
                   "days_mean": round(row["days_sum"] / row["days_n"], 2) if row["days_n"] else None}
        out[_norm(row["key"])] = (counts, figures)
    if session.get_bind().dialect.name == "postgresql":
        for row in session.execute(_query(_DAYS_PG.format(key=key, group=_group(group_by), scope="{scope}"), district), args).mappings():
            figures = out[_norm(row["key"])][1]
            figures["days_median"] = _round(row["median"])
            figures["days_p90"] = _round(row["p90"])
    else:
        values: dict = {}
        for row in session.execute(_query(_DAYS_ANY.format(key=key, group='', scope="{scope}"), district), args).mappings():
            values.setdefault(_norm(row["key"]), []).append(row["working_days"])
        for k, xs in values.items():
            out[k][1]["days_median"] = _round(percentile(xs, 0.5))
            out[k][1]["days_p90"] = _round(percentile(xs, 0.9))
    return out


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
    now = now or rt.clock()
    prev_period = p.previous()
    current = _period_counts(session, rt, p, group_by, extensions, district)
    previous = _period_counts(session, rt, prev_period, group_by, extensions, district)
    city = _period_counts(session, rt, p, "city", extensions, district).get("city", _empty())
    city_prev = _period_counts(session, rt, prev_period, "city", extensions, district).get("city", _empty())
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
    city_row = _row(None, total_name, city[0], city[1], city_prev[0],
                    _overdue(session, "city", now, district).get("city"), now)
    _rank(rows)
    return Report(p, prev_period, group_by, extensions, now, rows, city_row,
                  longest_overdue(session, rt, now, overdue_limit, district))


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
    key = _key_sql(group_by)
    running = ", ".join(f"'{s}'" for s in sorted(machine.RUNNING))
    sql = _OVERDUE_SQL.format(key=key, group=_group(group_by), running=running, scope="{scope}")
    out = {}
    for row in session.execute(_query(sql, district), {"now": now, **({"district": district} if district else {})}
                               ).mappings():
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
