from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from ..deps import db, principal, runtime
from ..auth.principal import Principal
from ..fields import Id
from ..runtime import Runtime
from . import service
from .service import EnterpriseIn, EnterpriseOut

router = APIRouter(prefix="/v1/enterprises", tags=["enterprises"])


@router.post("", status_code=201, response_model=EnterpriseOut)
def register(body: EnterpriseIn, session: Session = Depends(db), p: Principal = Depends(principal),
             rt: Runtime = Depends(runtime)):
    ent = service.register(session, rt, p, body)
    session.commit()
    return EnterpriseOut.model_validate(ent, from_attributes=True)


@router.get("/{enterprise_id}", response_model=EnterpriseOut)
def get(enterprise_id: Id, session: Session = Depends(db), p: Principal = Depends(principal)):
    return EnterpriseOut.model_validate(service.get(session, p, enterprise_id), from_attributes=True)
