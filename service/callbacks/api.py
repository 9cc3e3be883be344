"""The officer's call-back list (回访清单) over the API. Recording a call is the case action
``POST /v1/cases/{id}/callback`` (cases/api.py, from the state machine's table)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..deps import db, principal
from ..fields import Id
from . import PENDING, listed


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
    items, next_after = listed(session, p, state, after, limit)
    return {"items": [{**i, "due_at": i["due_at"].isoformat()} for i in items], "next_after": next_after}
