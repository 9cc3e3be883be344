"""Enterprise endpoints: register, read, list, change, the record of changes, and the sheet import.
Thin: each calls the domain (service.py, importing.py) and commits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from sqlalchemy.orm import Session

from .. import audit
from ..auth.principal import Principal
from ..deps import db, principal, runtime
from ..fields import Id
from ..paging import known_query
from ..runtime import Runtime
from . import importing, service
from .importing import ImportOut
from .service import (ChangeList, ChangeOut, EnterpriseIn, EnterpriseList, EnterpriseOut, EnterprisePatch,
                      KeyProjectLevel)

# known_query: a misspelt filter (?distrct=) is refused, not silently ignored into the whole list
router = APIRouter(prefix="/v1/enterprises", tags=["enterprises"], dependencies=[Depends(known_query)])


def _out(ent) -> EnterpriseOut:
    return EnterpriseOut.model_validate(ent, from_attributes=True)


@router.post("", status_code=201, response_model=EnterpriseOut)
def register(body: EnterpriseIn, request: Request, session: Session = Depends(db), p: Principal = Depends(principal),
             rt: Runtime = Depends(runtime)):
    """Register an enterprise (企业登记) by its unified social credit code"""
    ent = service.register(session, rt, p, body)
    session.flush()
    audit.record(session, p.actor, "enterprises.register", str(ent.id),
                 {"credit_code": ent.credit_code, "name": ent.name}, rt.clock(), request)
    session.commit()
    return _out(ent)


@router.get("", response_model=EnterpriseList)
def list_enterprises(
        session: Session = Depends(db), p: Principal = Depends(principal), rt: Runtime = Depends(runtime),
        q: Annotated[str | None, Query(max_length=100,
                                       description="a part of the name, or the start of the credit code")] = None,
        district: Annotated[str | None, Query(max_length=40, description="a district key")] = None,
        officer_id: Annotated[str | None, Query(max_length=60)] = None,
        key_project_level: KeyProjectLevel | None = None, whitelisted: bool | None = None,
        active: bool | None = None, cursor: Annotated[str | None, Query(max_length=100)] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50):
    """The enterprises an admin manages (all) or an officer serves (its own), in the order they
    were registered; filters combine; `next_cursor` pages on."""
    rows, next_cursor = service.list_enterprises(
        session, rt, p, q=q, district=district, officer_id=officer_id,
        key_project_level=key_project_level, whitelisted=whitelisted, active=active, cursor=cursor, limit=limit)
    return {"items": [_out(e) for e in rows], "next_cursor": next_cursor}


@router.post("/import", response_model=ImportOut)
def import_sheet(
        dry_run: Annotated[bool, Query(description="true: check every row and write nothing")],
        request: Request,
        file: Annotated[UploadFile, File(description="the .xlsx sheet; header row 企业名称, 统一社会信用代码, 所属县区, "
                                                     "行业, 重点项目级别, 白名单, 首席服务官")],
        session: Session = Depends(db), p: Principal = Depends(principal), rt: Runtime = Depends(runtime)):
    """Import enterprises from an Excel sheet (admin). Every row's result is listed; without
    `dry_run` the sheet is imported only if no row has an error (all or nothing)."""
    answer = importing.run(session, rt, p, file.file.read(), dry_run)
    if not dry_run:
        audit.record(session, p.actor, "enterprises.import", file.filename,
                     {"created": answer["created"], "exists": answer["exists"]}, rt.clock(), request)
    session.commit()
    return answer


@router.get("/{enterprise_id}", response_model=EnterpriseOut)
def get(enterprise_id: Id, session: Session = Depends(db), p: Principal = Depends(principal)):
    """One enterprise (企业信息), to an admin, to itself or to its officer"""
    return _out(service.get(session, p, enterprise_id))


@router.patch("/{enterprise_id}", response_model=EnterpriseOut)
def patch(enterprise_id: Id, body: EnterprisePatch, request: Request, session: Session = Depends(db),
          p: Principal = Depends(principal), rt: Runtime = Depends(runtime)):
    """Change an enterprise (admin: any field; its officer: industry, key_project_level,
    whitelisted). `"active": false` deactivates it. Each change is recorded."""
    ent = service.patch(session, rt, p, enterprise_id, body)
    audit.record(session, p.actor, "enterprises.change", str(enterprise_id), body.model_dump(exclude_unset=True),
                 rt.clock(), request)
    session.commit()
    return _out(ent)


@router.get("/{enterprise_id}/changes", response_model=ChangeList)
def changes(enterprise_id: Id, session: Session = Depends(db), p: Principal = Depends(principal),
            cursor: Annotated[str | None, Query(max_length=100)] = None,
            limit: Annotated[int, Query(ge=1, le=200)] = 50):
    """An enterprise's record of changes (admin), newest first."""
    rows, next_cursor = service.list_changes(session, p, enterprise_id, cursor=cursor, limit=limit)
    return {"items": [ChangeOut.model_validate(c, from_attributes=True) for c in rows], "next_cursor": next_cursor}
