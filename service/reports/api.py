"""``/v1/reports/performance``: the rates and rankings (JSON, CSV, Excel) and the monthly bulletin
(DOCX), each reader scoped to what it may see (docs/access.md)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..deps import db, principal, runtime
from ..fields import Day
from ..errors import Forbidden
from ..runtime import Runtime
from . import render
from .measures import Extensions, GroupBy, Report, compute, parse_period

router = APIRouter(prefix="/v1/reports", tags=["reports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def scope(rt: Runtime, p: Principal, group_by: str) -> tuple[str | None, str | None]:
    """(district, department) the reader is limited to. Admins read everything; a department its
    own row (grouped by department), the city's totals and its rank; an officer, or a county
    meeting's secretary, its district; a city meeting's secretary everything; an enterprise nothing."""
    if p.role == "admin":
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


def _download(body: bytes, media: str, name: str) -> Response:
    return Response(body, media_type=media, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


_FORMATS = {200: {"description": "the report in the `format` asked for", "content": {
    "application/json": {"schema": {"type": "object"}}, "text/csv": {"schema": {"type": "string"}},
    XLSX: {"schema": {"type": "string", "format": "binary"}}}}}


@router.get("/performance", responses=_FORMATS)
def performance(session: Session = Depends(db), p: Principal = Depends(principal), rt: Runtime = Depends(runtime),
                period: Annotated[str | None, Query(min_length=4, max_length=20, description="2026-11-30, 2026-W48, 2026-11, "
                                                    "2026-Q4 or 2026; default: the last 30 days")] = None,
                from_: Annotated[Day | None, Query(alias="from", description="first day, with `to`")] = None,
                to: Annotated[Day | None, Query(description="last day (included)")] = None,
                group_by: GroupBy = "department", extensions: Extensions = "count",
                format: Literal["json", "csv", "xlsx"] = "json"):
    """受理量、响应率、办结率、按时办结率、满意率、重办率、异议率, escalations, overdue, handling time;
    grouped, with the city's totals, change against the previous period and the rank (docs/reports.md)."""
    report = report_for(session, rt, p, period, from_, to, group_by, extensions)
    if format == "csv":
        return Response(render.report_csv(report), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(render.file_name(report))}.csv"})
    if format == "xlsx":
        from .documents import report_xlsx

        return _download(report_xlsx(report, rt), XLSX, f"{render.file_name(report)}.xlsx")
    return render.report_json(report)


@router.get("/bulletin", responses={200: {"description": "the bulletin (月度通报) as DOCX",
                                          "content": {DOCX: {"schema": {"type": "string", "format": "binary"}}}}})
def bulletin(session: Session = Depends(db), p: Principal = Depends(principal), rt: Runtime = Depends(runtime),
             period: Annotated[str | None, Query(min_length=4, max_length=20,
                                                 description="a month, 2026-11; default: last month")]
             = None):
    """The monthly bulletin (月度通报): headline figures, rankings with arrows against last month,
    the three best and three last departments, the cases overdue longest."""
    if p.role not in ("admin", "secretary"):
        raise Forbidden("the bulletin is issued by an admin or a meeting secretary")
    from .documents import bulletin_docx

    report = report_for(session, rt, p, period or render.last_month(rt), None, None, "department", "count")
    return _download(bulletin_docx(report, rt), DOCX, f"{render.file_name(report)}通报.docx")
