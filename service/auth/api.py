from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..deps import db, principal
from ..directory.models import Department, MeetingSeries, Officer
from ..enterprises.models import Enterprise
from ..errors import Conflict, Forbidden, Invalid
from ..fields import BodyId
from . import keys
from .models import ApiKey
from .principal import Principal

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"])


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str = Field(description="enterprise, officer, department, secretary or admin")
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
def issue_key(body: KeyIn, session: Session = Depends(db), p: Principal = Depends(principal)):
    _admin(p)
    checks = [("enterprise_id", body.enterprise_id, Enterprise), ("officer_id", body.officer_id, Officer),
              ("department", body.department, Department), ("series", body.series, MeetingSeries)]
    for field, value, model in checks:
        if value is not None and session.get(model, value) is None:
            raise Invalid(f"{field}: no such {field.replace('_id', '')} '{value}'")
    row, key = keys.issue(session, body.role, enterprise_id=body.enterprise_id, officer_id=body.officer_id,
                          department=body.department, series=body.series, label=body.label)
    session.commit()
    return {**_out(row), "key": key}


@router.get("", response_model=list[KeyOut])
def list_keys(session: Session = Depends(db), p: Principal = Depends(principal)):
    _admin(p)
    return [_out(r) for r in session.scalars(select(ApiKey).order_by(ApiKey.created_at))]


@router.delete("/{key_id}", response_model=KeyOut)
def revoke_key(key_id: str, session: Session = Depends(db), p: Principal = Depends(principal)):
    _admin(p)
    row = keys.revoke(session, key_id)
    session.commit()
    return _out(row)
