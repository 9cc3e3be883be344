"""``/v1/meetings``: sittings, their agendas, their minutes and supervision sheets."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..deps import db, principal, runtime
from .. import audit, paging
from ..auth.principal import Principal
from ..directory.models import Sitting
from ..errors import Forbidden, Invalid
from ..fields import Id, Moment, text
from ..runtime import Runtime
from . import access
from . import minutes as minutes_domain
from . import render
from .minutes_view import view
from .service import add_extra, agenda, cancel, get_sitting, sitting_out
from .sittings import STATUSES

router = APIRouter(prefix="/v1/meetings", tags=["meetings"])

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
Format = Literal["json", "markdown", "html", "docx", "pdf"]


class SittingOut(BaseModel):
    id: int
    series: str
    series_name: str
    tier: int | None
    number: int
    title: str
    starts_at: datetime
    agenda_closes_at: datetime
    status: str
    kind: str
    published_at: datetime | None
    cancelled_reason: str | None


class SittingList(BaseModel):
    items: list[SittingOut]
    next_cursor: str | None


class ExtraSitting(BaseModel):
    series: str
    starts_at: Moment = Field(description="within a year from now")
    agenda_closes_at: Moment | None = Field(None, description="default: the series' cut-off before the start")


class CancelBody(BaseModel):
    reason: text(500)


_staff, _readable, _writable = access.staff, access.readable, access.writable


def _admin(p: Principal) -> None:
    if p.role != "admin":
        raise Forbidden("only an admin adds or cancels sittings")


def _docx(body: bytes, name: str) -> Response:
    """A .docx download; the Chinese file name per RFC 6266 (filename*=UTF-8'')."""
    return Response(body, media_type=DOCX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


def _formats(*kinds: str) -> dict:
    """The 200 answer of a document endpoint, one media type per ``format`` it serves."""
    media = {"json": ("application/json", {"type": "object"}), "markdown": ("text/markdown", {"type": "string"}),
             "html": ("text/html", {"type": "string"}), "docx": (DOCX, {"type": "string", "format": "binary"})}
    return {200: {"description": "the document in the `format` asked for",
                  "content": {media[k][0]: {"schema": media[k][1]} for k in kinds}}}


def _no_pdf(format: str) -> None:
    if format == "pdf":
        raise Invalid("format: PDF is not produced here; use format=html and print it, or format=docx")


@router.get("", response_model=SittingList)
def list_sittings(session: Session = Depends(db), p: Principal = Depends(principal), rt: Runtime = Depends(runtime),
                  series: str | None = None, tier: Annotated[int | None, Query(ge=2, le=5)] = None,
                  status: str | None = None, from_: Annotated[Moment | None, Query(alias="from")] = None,
                  to: Moment | None = None, cursor: str | None = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 100):
    """Sittings of each series, soonest first; filters `series`, `tier`, `status`, `from`, `to`."""
    _staff(p)
    query = select(Sitting).order_by(Sitting.starts_at, Sitting.id).limit(limit + 1)
    if cursor:  # keyset on (starts_at, id): the next page starts after the last row shown
        at, _, last = str(paging.decode_cursor("m", cursor, numeric=False)).rpartition("|")
        try:
            after, last_id = datetime.fromisoformat(at), int(last)
        except ValueError:
            raise Invalid("cursor: not a cursor this list gave; pass next_cursor from the previous page") from None
        query = query.where(or_(Sitting.starts_at > after, (Sitting.starts_at == after) & (Sitting.id > last_id)))
    if p.role == "secretary":
        query = query.where(Sitting.series_key == p.series)
    if series is not None:
        query = query.where(Sitting.series_key == series)
    if tier is not None:
        query = query.where(Sitting.series_key.in_([s.key for s in rt.directory.meeting_series if s.tier == tier]))
    if status is not None:
        if status not in STATUSES:
            raise Invalid(f"status: unknown sitting status '{status}'; use one of: {', '.join(STATUSES)}")
        query = query.where(Sitting.status == status)
    for value, name in ((from_, "from"), (to, "to")):
        if value is not None and value.tzinfo is None:
            raise Invalid(f"{name}: give the time zone, e.g. 2026-12-01T00:00:00+08:00")
    if from_ is not None:
        query = query.where(Sitting.starts_at >= from_)
    if to is not None:
        query = query.where(Sitting.starts_at < to)
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    return {"items": [sitting_out(rt, s) for s in rows],
            "next_cursor": paging.encode_cursor("m", f"{last.starts_at.isoformat()}|{last.id}") if more else None}


@router.post("", status_code=201, response_model=SittingOut)
def add_sitting(body: ExtraSitting, request: Request, session: Session = Depends(db),
                p: Principal = Depends(principal), rt: Runtime = Depends(runtime)):
    """An extra sitting (加开): numbered next in its series; escalations go to it while its agenda is open."""
    _admin(p)
    sitting = add_extra(session, rt, body.series, body.starts_at, body.agenda_closes_at, rt.clock())
    audit.record(session, p.actor, "meetings.add", str(sitting.id), body.model_dump(mode="json"), rt.clock(), request)
    session.commit()
    return sitting_out(rt, sitting)


@router.get("/{meeting_id}", response_model=SittingOut)
def get_one(meeting_id: Id, session: Session = Depends(db), p: Principal = Depends(principal),
            rt: Runtime = Depends(runtime)):
    """One sitting (一次会议): its series, number, time, agenda cut-off and status"""
    return sitting_out(rt, _readable(session, p, meeting_id))


@router.post("/{meeting_id}/cancel")
def cancel_sitting(meeting_id: Id, body: CancelBody, request: Request, session: Session = Depends(db),
                   p: Principal = Depends(principal), rt: Runtime = Depends(runtime)):
    """Cancel a sitting not yet held: its cases move to the series' next sitting, marked carried over."""
    _admin(p)
    sitting = get_sitting(session, meeting_id, for_update=True)
    moved = cancel(session, rt, sitting, body.reason, p.actor, rt.clock())
    audit.record(session, p.actor, "meetings.cancel", str(meeting_id), {"reason": body.reason, "moved": moved},
                 rt.clock(), request)
    session.commit()
    return {"sitting": sitting_out(rt, sitting), "moved": moved}


@router.get("/{meeting_id}/agenda", responses=_formats("json", "markdown", "html", "docx"))
def get_agenda(meeting_id: Id, session: Session = Depends(db), p: Principal = Depends(principal),
               rt: Runtime = Depends(runtime), format: Format = "json",
               group_by: Literal["department", "district"] = "department"):
    """The agenda: as published at the cut-off, or the draft before it. `format`: json, markdown,
    html or docx; `group_by`: department (default) or district."""
    _no_pdf(format)
    sitting = _readable(session, p, meeting_id)
    model = agenda(session, rt, sitting, group_by)
    tz = rt.calendar.tz
    name = f"{model.title}议程"
    if format == "markdown":
        return PlainTextResponse(render.agenda_markdown(model, tz), media_type="text/markdown; charset=utf-8")
    if format == "html":
        return HTMLResponse(render.agenda_html(model, tz))
    if format == "docx":
        return _docx(render.agenda_docx(model, tz), f"{name}.docx")
    return render.agenda_json(model)


@router.post("/{meeting_id}/minutes")
def post_minutes(meeting_id: Id, body: minutes_domain.MinutesIn, response: Response, session: Session = Depends(db),
                 p: Principal = Depends(principal), rt: Runtime = Depends(runtime)):
    """The sitting's decisions, one per case, applied once (see docs/meetings.md)."""
    _writable(session, p, meeting_id)
    minutes, replayed = minutes_domain.apply(session, rt, meeting_id, body, p.actor)
    session.commit()
    response.status_code = 200 if replayed else 201
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return {"sitting_id": meeting_id, "recorded_at": minutes.recorded_at, "recorded_by": minutes.recorded_by,
            "outcome": minutes.outcome}


@router.get("/{meeting_id}/minutes", responses=_formats("json", "markdown", "docx"))
def get_minutes(meeting_id: Id, session: Session = Depends(db), p: Principal = Depends(principal),
                rt: Runtime = Depends(runtime), format: Literal["json", "markdown", "docx"] = "json"):
    """The minutes (会议纪要) with their decisions and supervision sheets."""
    m = view(session, rt, _readable(session, p, meeting_id))
    if format == "markdown":
        return PlainTextResponse(render.minutes_markdown(m), media_type="text/markdown; charset=utf-8")
    if format == "docx":
        return _docx(render.minutes_docx(m), f"{m.title}纪要.docx")
    return m.model_dump(mode="json")


@router.get("/{meeting_id}/supervision", responses=_formats("json", "markdown", "docx"))
def get_supervision(meeting_id: Id, session: Session = Depends(db), p: Principal = Depends(principal),
                    rt: Runtime = Depends(runtime), format: Literal["json", "markdown", "docx"] = "json"):
    """The supervision sheets (督办单) of the items the sitting assigned, with progress and status."""
    m = view(session, rt, _readable(session, p, meeting_id))
    if format == "markdown":
        return PlainTextResponse(render.supervision_markdown(m), media_type="text/markdown; charset=utf-8")
    if format == "docx":
        return _docx(render.supervision_docx(m), f"{m.title}督办单.docx")
    return {"sitting_id": m.sitting_id, "title": m.title, "sheets": [s.model_dump(mode="json") for s in m.sheets]}

