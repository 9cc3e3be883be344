"""An enterprise registers itself (企业自助注册): it applies with its unified social credit code and
the account it wants; its chief service officer approves (the enterprise is registered, or found
by its code, and the account opened, in one transaction) or refuses with a reason. Until then the
user name signs nothing in. The clock is passed in through the runtime.

Who decides: the officer of the enterprise when the code is registered already, otherwise the
first officer of the district the applicant named; an admin may decide any application.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import uscc

from .. import audit
from ..auth.principal import Principal
from ..enterprises import service as enterprises
from ..enterprises.models import Enterprise
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..fields import text
from ..runtime import Runtime
from . import service as accounts
from .models import Account, Registration

PENDING, APPROVED, REFUSED = "pending", "approved", "refused"


class RegistrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    credit_code: str = Field(description="统一社会信用代码, 18 characters")
    name: text(200)
    district: str
    contact: text(60)
    phone: str = Field(pattern=r"^[0-9+\- ]{7,20}$", description="a mobile or office number")
    username: str = Field(min_length=2, max_length=60, pattern=r"^[\w.@-]+$")
    password: str = Field(min_length=accounts.MIN_PASSWORD, max_length=200)

    @field_validator("credit_code")
    @classmethod
    def _valid_code(cls, value: str) -> str:
        # checked with the other fields, so that a form shows every mistake at once
        code = uscc.compact(value)
        fault = enterprises.credit_code_fault(code)
        if fault is not None:
            raise ValueError(fault.message)
        return code


def _officer_for(rt: Runtime, district: str) -> str | None:
    return next((o.key for o in rt.directory.officers if o.district == district), None)


def apply(session: Session, rt: Runtime, body: RegistrationIn) -> Registration:
    """The application, waiting for its officer. Refused at once: an unknown district, a code that
    fails its check, a user name taken by an account or another waiting application, a second
    waiting application for the same code."""
    if body.district not in rt.directory.vocabulary().districts:
        raise Invalid(f"district: unknown district '{body.district}'")
    accounts.check_password(body.password)
    if session.scalar(select(Account.id).where(Account.username == body.username)) is not None or \
            session.scalar(select(Registration.id).where(Registration.username == body.username,
                                                         Registration.status == PENDING)) is not None:
        raise Conflict(f"username: '{body.username}' is taken; choose another")
    if session.scalar(select(Registration.id).where(Registration.credit_code == body.credit_code,
                                                    Registration.status == PENDING)) is not None:
        raise Conflict(f"credit_code: an application for {body.credit_code} is already waiting for its chief "
                       "service officer")
    known = session.scalar(select(Enterprise).where(Enterprise.credit_code == body.credit_code))
    officer = (known.officer_id if known is not None else None) or _officer_for(rt, body.district)
    reg = Registration(credit_code=body.credit_code, name=body.name, district=body.district, contact=body.contact,
                       phone=body.phone.strip(), username=body.username,
                       password_hash=accounts.hash_password(body.password), officer_id=officer,
                       enterprise_id=known.id if known is not None else None, status=PENDING, created_at=rt.clock())
    session.add(reg)
    session.flush()
    audit.record(session, f"applicant:{body.username}", "registrations.apply", str(reg.id),
                 {"credit_code": body.credit_code, "name": body.name, "officer_id": officer}, rt.clock())
    return reg


def _may_decide(p: Principal, reg: Registration) -> bool:
    return p.role == "admin" or (p.role == "officer" and p.officer_id is not None and p.officer_id == reg.officer_id)


def listed(session: Session, p: Principal, limit: int = 100) -> list[Registration]:
    """The applications a person decides: waiting ones first, then the latest decided."""
    if p.role not in ("admin", "officer"):
        raise Forbidden("registrations are decided by chief service officers and admins")
    query = select(Registration).order_by((Registration.status != PENDING), Registration.id.desc()).limit(limit)
    if p.role == "officer":
        query = query.where(Registration.officer_id == p.officer_id)
    return list(session.scalars(query))


def _waiting(session: Session, p: Principal, reg_id: int) -> Registration:
    reg = session.get(Registration, reg_id, with_for_update=True)
    if reg is None or not _may_decide(p, reg):
        raise NotFound(f"registration {reg_id}: none that you decide")
    if reg.status != PENDING:
        raise Conflict(f"registration {reg_id} is {reg.status} already", current_status=reg.status)
    return reg


def approve(session: Session, rt: Runtime, p: Principal, reg_id: int) -> Account:
    """The enterprise registered (or found by its code) and the account opened, with the
    applicant's own password; recorded in the audit log and the enterprise's changes."""
    reg = _waiting(session, p, reg_id)
    ent = session.scalar(select(Enterprise).where(Enterprise.credit_code == reg.credit_code))
    if ent is None:
        ent = enterprises.register(session, rt, p, enterprises.EnterpriseIn(
            credit_code=reg.credit_code, name=reg.name, district=reg.district,
            officer_id=reg.officer_id if p.role == "admin" else None))
        session.flush()
    account = accounts.create(session, rt.clock(), reg.username, "", "enterprise", display_name=reg.contact,
                              enterprise_id=ent.id, password_hash=reg.password_hash)
    reg.status, reg.enterprise_id, reg.account_id = APPROVED, ent.id, account.id
    reg.decided_at, reg.decided_by, reg.password_hash = rt.clock(), p.actor, ""
    audit.record(session, p.actor, "registrations.approve", str(reg.id),
                 {"enterprise_id": ent.id, "account": reg.username}, rt.clock())
    return account


def refuse(session: Session, rt: Runtime, p: Principal, reg_id: int, reason: str) -> Registration:
    reason = reason.strip()
    if not reason:
        raise Invalid("reason: say why the application is refused; the applicant is told")
    reg = _waiting(session, p, reg_id)
    reg.status, reg.reason, reg.password_hash = REFUSED, reason[:500], ""
    reg.decided_at, reg.decided_by = rt.clock(), p.actor
    audit.record(session, p.actor, "registrations.refuse", str(reg.id), {"reason": reg.reason}, rt.clock())
    return reg
