"""Similar open cases of a case over the API (相似诉求 / 共性问题)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel
from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..cases import service as cases
from ..deps import db, principal
from ..errors import Forbidden
from ..fields import CaseRef
from .service import Similar, similar_open

router = APIRouter(prefix="/v1/cases", tags=["cases"])


class SimilarList(BaseModel):
    items: list[Similar]
    total: int


@router.get("/{case_id}/similar", response_model=SimilarList)
def similar(case_id: Annotated[CaseRef, Path(description="the case's id, or its tracking number: LH-2026-000123")],
            session: Session = Depends(db), p: Principal = Depends(principal)):
    """Open cases of other enterprises that report the same problem (共性问题), most alike first:
    those the caller may read in ``items``, how many there are in all in ``total``. Cases filed in
    the last sweep interval are not indexed yet. Not for enterprises: another firm's demand is not
    theirs to read."""
    if p.role == "enterprise":
        raise Forbidden("similar cases are for officers, departments, secretaries, leaders and admins; "
                        "an enterprise reads its own cases")
    case, _ = cases.load(session, p, cases.case_id_of(session, case_id))
    items, total = similar_open(session, case, p)
    return {"items": items, "total": total}
