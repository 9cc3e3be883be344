from __future__ import annotations

from datetime import datetime

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit, paging
from ..db import utcnow
from ..deps import db, principal
from ..errors import Forbidden
from ..fields import BodyId
from . import keys
from .models import ApiKey
from .principal import Principal

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"])


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str = Field(description="enterprise, officer, department, secretary, admin or leader (reads every case and report, changes nothing)")
    enterprise_id: BodyId | None = None
    officer_id: str | None = None
    department: str | None = None
    series: str | None = None
    label: str = Field("", max_length=200)


class KeyOut(BaseModel):
    id: str
    role: str
    enterprise_id: int | None
    officer_id: str | None
    department: str | None
    series: str | None
    label: str
    created_at: datetime
    revoked_at: datetime | None


class IssuedKey(KeyOut):
    key: str = Field(description="shown this once; only its hash is kept")


def _admin(p: Principal) -> None:
    if p.role != "admin":
        raise Forbidden("only an admin key manages API keys")


def _out(row: ApiKey) -> dict:
    return KeyOut.model_validate(row, from_attributes=True).model_dump()


@router.post("", status_code=201, response_model=IssuedKey)
def issue_key(body: KeyIn, request: Request, session: Session = Depends(db), p: Principal = Depends(principal)):
    """Issue an API key (签发密钥) bound to a role and its scope; the key is shown this once"""
    _admin(p)
    keys.check_scope(session, enterprise_id=body.enterprise_id, officer_id=body.officer_id,
                     department=body.department, series=body.series)
    row, key = keys.issue(session, body.role, enterprise_id=body.enterprise_id, officer_id=body.officer_id,
                          department=body.department, series=body.series, label=body.label)
    audit.record(session, p.actor, "keys.issue", row.id, body.model_dump(exclude_none=True), utcnow(), request)
    session.commit()
    return {**_out(row), "key": key}


class KeyList(BaseModel):
    items: list[KeyOut]
    next_cursor: str | None


@router.get("", response_model=KeyList)
def list_keys(session: Session = Depends(db), p: Principal = Depends(principal), cursor: str | None = None,
              limit: Annotated[int, Query(ge=1, le=500)] = 100):
    """API keys by id (never the keys themselves); page on with `cursor=next_cursor`."""
    _admin(p)
    query = select(ApiKey).order_by(ApiKey.id).limit(limit + 1)
    if cursor:
        query = query.where(ApiKey.id > paging.decode_cursor("k", cursor, numeric=False))
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [_out(r) for r in rows], "next_cursor": paging.encode_cursor("k", rows[-1].id) if more else None}


@router.delete("/{key_id}", response_model=KeyOut)
def revoke_key(key_id: str, request: Request, session: Session = Depends(db), p: Principal = Depends(principal)):
    """Revoke an API key (吊销密钥): 401 from then on; the last active admin key cannot be revoked"""
    _admin(p)
    row = keys.revoke(session, key_id)
    audit.record(session, p.actor, "keys.revoke", key_id, {"role": row.role, "label": row.label}, utcnow(), request)
    session.commit()
    return _out(row)
