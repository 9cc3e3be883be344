"""Who reads which report (谁看什么): the scope of each reader, applied to the report it asks for
(docs/access.md has the matrix, tested cell by cell)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..errors import Forbidden
from ..runtime import Runtime
from .measures import Report, compute, parse_period, rates_of


def scope(rt: Runtime, p: Principal, group_by: str) -> tuple[str | None, str | None]:
    """(district, department) the reader is limited to. Admins read everything; a department its
    own row (grouped by department), the city's totals and its rank; an officer, or a county
    meeting's secretary, its district; a city meeting's secretary everything; an enterprise nothing."""
    if p.role in ("admin", "leader"):
        return None, None
    if p.role == "department":
        if group_by != "department":
            raise Forbidden("group_by: a department reads its own row of the department report; use "
                            "group_by=department")
        return None, p.department
    if p.role == "officer":
        officer = next((o for o in rt.directory.officers if o.key == p.officer_id), None)
        if officer is None or officer.district is None:
            raise Forbidden("an officer without a district in the directory reads no report")
        return officer.district, None
    if p.role == "secretary":
        series = next((s for s in rt.directory.meeting_series if s.key == p.series), None)
        return (series.district if series else None), None
    raise Forbidden("performance reports are read by the city's offices, not by enterprises")


def report_for(session: Session, rt: Runtime, p: Principal, period: str | None, start: date | None,
               end: date | None, group_by: str, extensions: str) -> Report:
    district, department = scope(rt, p, group_by)
    report = compute(session, rt, parse_period(period, start, end, rt.calendar.local_date(rt.clock())), group_by,
                     extensions, district=district)
    if department is not None:
        report.rows = [r for r in report.rows if r.key == department]
        report.overdue = [c for c in report.overdue if c.lead_department == department]
    return report


def bulletin_report(session: Session, rt: Runtime, p: Principal, month: str) -> Report:
    """The month's report by department, as the bulletin (月度通报) prints it: issued by an admin
    or a meeting secretary (a county's secretary, its district's)."""
    if p.role not in ("admin", "secretary", "leader"):
        raise Forbidden("the bulletin is issued by an admin or a meeting secretary, and read by leaders")
    return report_for(session, rt, p, month, None, None, "department", "count")


def overdue_by_tier(session: Session, rt: Runtime, p: Principal) -> list[tuple[str, int]]:
    """Overdue now at each tier, in the reader's scope (the dashboard's chart: the report's own
    count, without the rest of a report by tier)."""
    from .measures import _overdue

    district, _ = scope(rt, p, "tier")
    counts = _overdue(session, "tier", rt.clock(), district)
    return [(f"第{t.number}级 {t.name}", counts.get(str(t.number), (0, None))[0]) for t in rt.directory.tiers]


def trend_for(session: Session, rt: Runtime, p: Principal, months: int = 12) -> list[tuple[str, dict]]:
    """The rates of the last ``months`` months (this one last, so far), in the reader's scope: a
    district's for its officer or secretary, the city's otherwise. (month, rates)."""
    district, _ = scope(rt, p, "department")
    today = rt.calendar.local_date(rt.clock())
    out = []
    for back in range(months - 1, -1, -1):
        y, m = divmod(today.year * 12 + today.month - 1 - back, 12)
        label = f"{y}-{m + 1:02d}"
        out.append((label, rates_of(session, rt, parse_period(label, None, None, today), district)))
    return out
