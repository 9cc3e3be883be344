"""``/v1/reports/performance``: the rates and rankings (JSON, CSV, Excel) and the monthly bulletin
(DOCX), each reader scoped to what it may see (docs/access.md)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..deps import db, principal, runtime
from ..fields import Day
from ..runtime import Runtime
from . import render
from .measures import Extensions, GroupBy
from .readers import bulletin_report, report_for

router = APIRouter(prefix="/v1/reports", tags=["reports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


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
    from .documents import bulletin_docx

    report = bulletin_report(session, rt, p, period or render.last_month(rt))
    return _download(bulletin_docx(report, rt), DOCX, f"{render.file_name(report)}通报.docx")
