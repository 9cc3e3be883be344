"""Enterprise registration (企业登记), keyed by the unified social credit code (统一社会信用代码)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, ValidationError

from ..auth.principal import Principal
from ..directory.models import Officer
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..fields import Flag
from ..runtime import Runtime
from .models import Enterprise


class EnterpriseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    credit_code: str = Field(description="18 characters, GB 32100-2015; checked by its check character")
    name: str = Field(min_length=1, max_length=200)
    district: str = Field(description="a district key from GET /v1/directory")
    industry: str | None = Field(None, max_length=60)
    key_project_level: Literal["none", "municipal", "provincial"] = "none"
    whitelisted: Flag = False
    officer_id: str | None = None
    accept_invalid_check: Flag = Field(
        False, description="keep a code whose check character fails (some early real codes do); it is flagged")

    @field_validator("credit_code")
    @classmethod
    def _compact(cls, value: str) -> str:
        return uscc.compact(value)


class EnterpriseOut(BaseModel):
    id: int
    credit_code: str
    credit_code_flagged: bool
    name: str
    district: str
    industry: str | None
    key_project_level: str
    whitelisted: bool
    officer_id: str | None


def check_credit_code(code: str, accept_invalid_check: bool) -> bool:
    """Returns whether the code is flagged (kept despite a failing check character)."""
    try:
        uscc.validate(code)
        return False
    except InvalidChecksum:
        if accept_invalid_check:
            return True
        expected = uscc.calc_check_digit(code[:-1])
        raise Invalid(f"credit_code: the check character of '{code}' should be '{expected}'. Correct the code, or "
                      "if the licence really says so, resend with accept_invalid_check: true") from None
    except ValidationError as exc:
        raise Invalid(f"credit_code: '{code}' is not a unified social credit code ({exc.message}); it has 18 "
                      "characters from 0-9 and A-Y without I, O, S, V, Z") from None


def register(session: Session, rt: Runtime, p: Principal, body: EnterpriseIn) -> Enterprise:
    if p.role not in ("admin", "officer"):
        raise Forbidden("enterprises are registered by their chief service officer or an admin")
    if body.district not in rt.directory.vocabulary().districts:
        raise Invalid(f"district: unknown district '{body.district}'; known: "
                      f"{', '.join(d.key for d in rt.directory.districts)}")
    officer_id = body.officer_id
    if p.role == "officer":
        if officer_id not in (None, p.officer_id):
            raise Forbidden("officer_id: an officer registers enterprises for itself; leave it out")
        officer_id = p.officer_id
    if officer_id is not None and session.get(Officer, officer_id) is None:
        raise Invalid(f"officer_id: unknown officer '{officer_id}'")
    flagged = check_credit_code(body.credit_code, body.accept_invalid_check)
    _refuse_duplicate(session, p, body.credit_code)
    ent = Enterprise(credit_code=body.credit_code, credit_code_flagged=flagged, name=body.name,
                     district=body.district, industry=body.industry, key_project_level=body.key_project_level,
                     whitelisted=body.whitelisted, officer_id=officer_id, created_at=rt.clock())
    try:
        with session.begin_nested():
            session.add(ent)
    except IntegrityError:  # registered concurrently
        _refuse_duplicate(session, p, body.credit_code)
        raise
    return ent


def _refuse_duplicate(session: Session, p: Principal, code: str) -> None:
    """A code registered already: named to whoever may read that enterprise, only said to others
    (who registered a firm is not every officer's business)."""
    existing = session.scalar(select(Enterprise).where(Enterprise.credit_code == code))
    if existing is None:
        return
    if may_read(p, existing):
        raise Conflict(f"credit_code: {code} is already registered as enterprise {existing.id} ({existing.name})",
                       enterprise_id=existing.id)
    raise Conflict(f"credit_code: {code} is already registered, with another chief service officer; check the "
                   "code, or ask an admin to move the enterprise to you")


def may_read(p: Principal, ent: Enterprise) -> bool:
    return (p.role == "admin" or (p.role == "enterprise" and p.enterprise_id == ent.id)
            or (p.role == "officer" and p.officer_id == ent.officer_id))


def get(session: Session, p: Principal, enterprise_id: int) -> Enterprise:
    ent = session.get(Enterprise, enterprise_id)
    if ent is None or not may_read(p, ent):
        raise NotFound(f"enterprise_id: no enterprise {enterprise_id} that you may see")
    return ent
