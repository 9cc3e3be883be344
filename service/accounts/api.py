"""``/v1/accounts``: admins create, list, disable and reset people's accounts (账号管理)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit, paging
from ..auth.principal import Principal
from ..deps import db, principal, runtime
from ..errors import Forbidden
from ..fields import BodyId, Id
from ..runtime import Runtime
from . import service
from .models import Account

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=2, max_length=60, pattern=r"^[\w.@-]+$",
                          description="letters, digits, _ . @ -; how the person signs in")
    password: str = Field(min_length=service.MIN_PASSWORD, max_length=200,
                          description=f"at least {service.MIN_PASSWORD} characters, not easy to guess")
    display_name: str = Field("", max_length=100)
    role: str = Field(description="enterprise, officer, department, secretary, admin or leader (reads every case and report, changes nothing)")
    enterprise_id: BodyId | None = None
    officer_id: str | None = Field(None, max_length=60)
    department: str | None = Field(None, max_length=40)
    series: str | None = Field(None, max_length=60)


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=service.MIN_PASSWORD, max_length=200)


class AccountOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    enterprise_id: int | None
    officer_id: str | None
    department: str | None
    series: str | None
    active: bool
    created_at: datetime


class AccountList(BaseModel):
    items: list[AccountOut]
    next_cursor: str | None


def _admin(p: Principal) -> None:
    if p.role != "admin":
        raise Forbidden("only an admin manages accounts")


def _out(a: Account) -> dict:
    return AccountOut.model_validate(a, from_attributes=True).model_dump()


@router.post("", status_code=201, response_model=AccountOut)
def create_account(body: AccountIn, request: Request, session: Session = Depends(db),
                   p: Principal = Depends(principal), rt: Runtime = Depends(runtime)):
    """Create a person's account, bound to a role and its scope as a key is (创建账号)"""
    _admin(p)
    account = service.create(session, rt.clock(), body.username, body.password, body.role,
                             display_name=body.display_name, enterprise_id=body.enterprise_id,
                             officer_id=body.officer_id, department=body.department, series=body.series)
    audit.record(session, p.actor, "accounts.create", str(account.id),
                 body.model_dump(exclude={"password"}, exclude_none=True), rt.clock(), request)
    session.commit()
    return _out(account)


@router.get("", response_model=AccountList)
def list_accounts(session: Session = Depends(db), p: Principal = Depends(principal), cursor: str | None = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 100):
    """Accounts by id (never their passwords); page on with `cursor=next_cursor`"""
    _admin(p)
    query = select(Account).order_by(Account.id).limit(limit + 1)
    if cursor:
        query = query.where(Account.id > paging.decode_cursor("a", cursor))
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [_out(r) for r in rows], "next_cursor": paging.encode_cursor("a", rows[-1].id) if more else None}


@router.post("/{account_id}/disable", response_model=AccountOut)
def disable_account(account_id: Id, request: Request, session: Session = Depends(db),
                    p: Principal = Depends(principal), rt: Runtime = Depends(runtime)):
    """Disable an account (停用): it cannot sign in, and its open sessions end at once"""
    _admin(p)
    account = service.disable(session, account_id)
    audit.record(session, p.actor, "accounts.disable", str(account_id), {"username": account.username},
                 rt.clock(), request)
    session.commit()
    return _out(account)


@router.post("/{account_id}/password", response_model=AccountOut)
def reset_password(account_id: Id, body: PasswordIn, request: Request, session: Session = Depends(db),
                   p: Principal = Depends(principal), rt: Runtime = Depends(runtime)):
    """Set a new password (重置密码); the account is active again and its open sessions end"""
    _admin(p)
    account = service.reset_password(session, account_id, body.password)
    audit.record(session, p.actor, "accounts.reset_password", str(account_id), {"username": account.username},
                 rt.clock(), request)
    session.commit()
    return _out(account)
