"""``/v1/audit``: the audit log, for admins — JSON pages or CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import paging
from ..auth.principal import Principal
from ..deps import db, principal, runtime
from ..fields import Day
from ..errors import Forbidden
from ..runtime import Runtime
from .models import AuditEntry

router = APIRouter(prefix="/v1/audit", tags=["audit"])


class EntryOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    details: dict
    source: str | None


class EntryList(BaseModel):
    items: list[EntryOut]
    next_cursor: str | None


def _out(e: AuditEntry) -> dict:
    return {"id": e.id, "at": e.at, "actor": e.actor, "action": e.action, "target": e.target, "details": e.details,
            "source": e.source}


@router.get("", response_model=EntryList, responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def entries(session: Session = Depends(db), p: Principal = Depends(principal), rt: Runtime = Depends(runtime),
            action: Annotated[str | None, Query(max_length=60, pattern=r"^[a-z][a-z._-]*$",
                                                description="an action, or its prefix: keys.")] = None,
            actor: Annotated[str | None, Query(max_length=100)] = None,
            from_: Annotated[Day | None, Query(alias="from")] = None, to: Day | None = None,
            cursor: str | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
            format: Literal["json", "csv"] = "json"):
    """Administrative acts, newest first; filter by action (or prefix), actor and local dates."""
    if p.role != "admin":
        raise Forbidden("only an admin reads the audit log")
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if actor:
        query = query.where(AuditEntry.actor == actor)
    tz = rt.calendar.tz
    if from_:
        query = query.where(AuditEntry.at >= datetime.combine(from_, datetime.min.time(), tz))
    if to:
        query = query.where(AuditEntry.at < datetime.combine(to + timedelta(days=1), datetime.min.time(), tz))
    if cursor:
        query = query.where(AuditEntry.id < paging.decode_cursor("a", cursor))
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    if format == "csv":
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(["编号", "时间（北京时间）", "操作人", "操作", "对象", "内容", "来源地址"])
        for e in rows:
            w.writerow([e.id, e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.action, e.target or "",
                        e.details, e.source or ""])
        return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8")
    return {"items": [_out(e) for e in rows], "next_cursor": paging.encode_cursor("a", rows[-1].id) if more else None}
