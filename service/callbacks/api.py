"""The officer's call-back list (回访清单) over the API. Recording a call is the case action
``POST /v1/cases/{id}/callback`` (cases/api.py, from the state machine's table)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..cases.models import Case
from ..deps import db, principal
from ..enterprises.models import Enterprise
from ..errors import Forbidden
from ..fields import Id
from . import PENDING
from .models import Callback


class CallbackOut(BaseModel):
    id: int
    case_id: int
    tracking_no: str | None
    title: str
    enterprise: str
    reason: str
    state: str
    due_at: str
    attempts: int
    satisfied: bool | None
    rating: int | None


class CallbackList(BaseModel):
    items: list[CallbackOut]
    next_after: int | None


router = APIRouter(prefix="/v1/callbacks", tags=["cases"])


@router.get("", response_model=CallbackList)
def callbacks(session: Session = Depends(db), p: Principal = Depends(principal),
              state: Literal["pending", "done", "unreached"] = PENDING, after: Id | None = None,
              limit: Annotated[int, Query(ge=1, le=200)] = 50):
    """The call-backs owed (回访): an officer's own enterprises' (the admin's: all), oldest owed
    first; ``after`` the last ``id`` of a page for the next."""
    if p.role not in ("officer", "admin"):
        raise Forbidden("the call-back list is the chief service officers' (and the admin's)")
    q = (select(Callback, Case.tracking_no, Case.title, Enterprise.name).join(Case, Case.id == Callback.case_id)
         .join(Enterprise, Enterprise.id == Case.enterprise_id).where(Callback.state == state))
    if p.role == "officer":
        q = q.where(Callback.officer_id == p.officer_id)
    if after is not None:
        q = q.where(Callback.id > after)
    rows = session.execute(q.order_by(Callback.id).limit(limit + 1)).all()
    items = [{"id": c.id, "case_id": c.case_id, "tracking_no": no, "title": title, "enterprise": name,
              "reason": c.reason, "state": c.state, "due_at": c.due_at.isoformat(), "attempts": c.attempts,
              "satisfied": c.satisfied, "rating": c.rating} for c, no, title, name in rows[:limit]]
    return {"items": items, "next_after": items[-1]["id"] if len(rows) > limit else None}
