"""The meeting pages (会议): a series' sittings, a sitting's agenda with its downloads, and the
minutes form — one decision per agenda item, recorded once. The same domain as the API: who
reads and records (meetings.access), the agenda (meetings.service.agenda), the documents
(meetings.render), the minutes applied once (meetings.minutes.apply)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts import service as accounts
from ..deps import db, runtime
from ..directory.models import Sitting
from ..errors import Problem
from ..meetings import access, render
from ..meetings import minutes as minutes_domain
from ..meetings.minutes_view import view
from ..meetings.models import Minutes
from ..meetings.service import agenda, sitting_out
from ..runtime import Runtime
from . import words
from .pages import _form, _me, _page, _redirect, _secure

router = APIRouter(include_in_schema=False)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SITTING_STATUS = {"scheduled": "议程收集中", "published": "议程已截止", "held": "已召开", "cancelled": "已取消"}
DECISIONS = [("carried_over", "结转下次会议"), ("resolved", "已解决"), ("assigned", "交办"), ("escalated", "上升一级")]


@router.get("/app/meetings")
def sittings(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime)):
    """The sittings a person may read, from a month ago on, soonest first."""
    me, ws = _me(request, session)
    p = accounts.principal_of(me)
    try:
        access.staff(p)
    except Problem:
        return _page(request, "not_found.html", 404, signed=(me, ws))
    query = (select(Sitting).where(Sitting.starts_at >= rt.clock() - timedelta(days=31))
             .order_by(Sitting.starts_at, Sitting.id).limit(60))
    if p.role == "secretary":
        query = query.where(Sitting.series_key == p.series)
    rows = [{**sitting_out(rt, s), "starts": words.local(rt, s.starts_at), "closes": words.local(rt, s.agenda_closes_at),
             "status_name": SITTING_STATUS.get(s.status, s.status)} for s in session.scalars(query)]
    return _page(request, "sittings.html", signed=(me, ws), sittings=rows)


def _sitting_page(request: Request, session: Session, rt: Runtime, sitting_id: int, errors: dict | None = None,
                  status: int = 200):
    me, ws = _me(request, session)
    p = accounts.principal_of(me)
    try:
        sitting = access.readable(session, p, sitting_id)
    except Problem:
        return _page(request, "not_found.html", 404, signed=(me, ws))
    model = agenda(session, rt, sitting, "department")
    recorded = session.get(Minutes, sitting.id)
    sheets = view(session, rt, sitting).sheets if recorded is not None else []
    form_open = access.may_record(p) and recorded is None and sitting.status != "cancelled" \
        and rt.clock() >= sitting.agenda_closes_at
    return _page(request, "sitting.html", status, signed=(me, ws), sitting=sitting_out(rt, sitting), agenda=model,
                 starts=words.local(rt, sitting.starts_at), closes=words.local(rt, sitting.agenda_closes_at),
                 status_name=SITTING_STATUS.get(sitting.status, sitting.status), recorded=recorded,
                 form_open=form_open, may_record=access.may_record(p), decisions=DECISIONS,
                 departments=rt.directory.departments, errors=errors or {}, sheets=sheets)


@router.get("/app/meetings/{sitting_id}")
def sitting_page(sitting_id: int, request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime),
                 notice: str | None = None):
    return _sitting_page(request, session, rt, sitting_id)


@router.get("/app/meetings/{sitting_id}/agenda.docx")
def agenda_docx(sitting_id: int, request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime)):
    me, ws = _me(request, session)
    try:
        sitting = access.readable(session, accounts.principal_of(me), sitting_id)
    except Problem:
        return _page(request, "not_found.html", 404, signed=(me, ws))
    model = agenda(session, rt, sitting, "department")
    return _secure(Response(render.agenda_docx(model, rt.calendar.tz), media_type=DOCX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(model.title + '议程.docx')}"}))


@router.get("/app/meetings/{sitting_id}/{document}.docx")
def minutes_docx(sitting_id: int, document: str, request: Request, session: Session = Depends(db),
                 rt: Runtime = Depends(runtime)):
    """The recorded minutes (纪要) or its supervision sheets (督办单) as Word, to the sitting's readers."""
    me, ws = _me(request, session)
    try:
        sitting = access.readable(session, accounts.principal_of(me), sitting_id)
    except Problem:
        sitting = None
    if sitting is None or document not in ("minutes", "supervision") or session.get(Minutes, sitting_id) is None:
        return _page(request, "not_found.html", 404, signed=(me, ws))
    m = view(session, rt, sitting)
    body, name = ((render.minutes_docx(m), f"{m.title}纪要.docx") if document == "minutes"
                  else (render.supervision_docx(m), f"{m.title}督办单.docx"))
    return _secure(Response(body, media_type=DOCX,
                            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}))


@router.get("/app/meetings/{sitting_id}/agenda.html")
def agenda_print(sitting_id: int, request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime)):
    """The agenda for print: its own stylesheet inline, and no script at all."""
    me, ws = _me(request, session)
    try:
        sitting = access.readable(session, accounts.principal_of(me), sitting_id)
    except Problem:
        return _page(request, "not_found.html", 404, signed=(me, ws))
    response = HTMLResponse(render.agenda_html(agenda(session, rt, sitting, "department"), rt.calendar.tz))
    _secure(response)
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    return response


@router.post("/app/meetings/{sitting_id}/minutes")
async def record_minutes(sitting_id: int, request: Request, session: Session = Depends(db),
                         rt: Runtime = Depends(runtime)):
    """The minutes form: each agenda item's decision (an assignment with its lead, co-handlers,
    due date and requirement), the summary and the attendees — applied once, as the API does."""
    me, ws = _me(request, session)
    form = await _form(request, ws)
    p = accounts.principal_of(me)
    decisions = []
    for case_id in form.get("case_ids", "").split(","):
        if not case_id.isdigit():
            continue
        name = form.get(f"decision-{case_id}", "carried_over")
        d = {"case_id": int(case_id), "decision": name, "note": form.get(f"note-{case_id}", "").strip()}
        if name == "assigned":
            d.update(lead_department=form.get(f"lead-{case_id}") or None, due=form.get(f"due-{case_id}") or None,
                     requirement=form.get(f"requirement-{case_id}", "").strip())
        decisions.append(d)
    try:
        body = minutes_domain.MinutesIn.model_validate({"decisions": decisions, "summary": form.get("summary", ""),
                                                        "attendees": form.get("attendees", "")})
    except ValidationError as exc:
        e = exc.errors()[0]
        loc = e["loc"]
        case_id = decisions[loc[1]]["case_id"] if len(loc) > 1 and loc[0] == "decisions" else None
        message = "交办须填写牵头单位和完成时限" if "assigned" in e.get("msg", "") else words.field_error(e)
        return _sitting_page(request, session, rt, sitting_id, {case_id or "form": message}, 422)
    try:
        access.writable(session, p, sitting_id)
        minutes_domain.apply(session, rt, sitting_id, body, p.actor)
        session.commit()
    except Problem as exc:
        session.rollback()
        return _sitting_page(request, session, rt, sitting_id, {"form": words.problem(exc)}, exc.status)
    return _redirect(f"/app/meetings/{sitting_id}?notice=minutes")
