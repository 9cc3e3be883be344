"""Enterprise registration (企业登记), keyed by the unified social credit code (统一社会信用代码),
and its management: listing, changing, deactivating — each change recorded (EnterpriseChange)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, ValidationError

from .. import paging
from ..auth.principal import Principal
from ..directory.models import Officer
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..fields import Flag, text
from ..runtime import Runtime
from .models import Enterprise, EnterpriseChange

KeyProjectLevel = Literal["none", "municipal", "provincial"]
# changed texts: stripped, and refused when blank ("   " is no name)
Name, OfficerKey, Industry = text(200), text(60), text(60)
# what a record of the enterprise holds, in the order changes are listed
RECORDED = ("credit_code", "credit_code_flagged", "name", "district", "industry", "key_project_level",
            "whitelisted", "officer_id", "active")


class EnterpriseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    credit_code: str = Field(description="18 characters, GB 32100-2015; checked by its check character")
    name: text(200)
    district: str = Field(description="a district key from GET /v1/directory")
    industry: str | None = Field(None, max_length=60)
    key_project_level: KeyProjectLevel = "none"
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
    active: bool


class EnterpriseList(BaseModel):
    items: list[EnterpriseOut]
    next_cursor: str | None


class EnterprisePatch(BaseModel):
    """What may change of an enterprise; a field left out keeps its value. The credit code and the
    district identify and route the enterprise: they are not changed here."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = Field(None, description="admin only")
    officer_id: OfficerKey | None = Field(
        None, description="its chief service officer, a key from GET /v1/directory; null: none. Admin only")
    industry: Industry | None = Field(None, description="null clears it")
    key_project_level: KeyProjectLevel | None = None
    whitelisted: Flag | None = None
    active: Flag | None = Field(None, description="false deactivates: its keys submit no new cases. Admin only")


# what an officer may change of the enterprises it serves; the rest is an admin's
OFFICER_MAY_CHANGE = frozenset({"industry", "key_project_level", "whitelisted"})
# the fields that may be sent as null (to clear them); the others hold a value always
NULLABLE = frozenset({"industry", "officer_id"})
_WHY_ADMIN = {
    "name": "name: only an admin renames an enterprise (the name is its licence's); ask an admin",
    "officer_id": "officer_id: an officer does not hand its enterprises to another officer; ask an admin",
    "active": "active: only an admin deactivates or reactivates an enterprise; ask an admin",
}


class ChangeOut(BaseModel):
    id: int
    enterprise_id: int
    at: datetime
    actor: str
    action: str = Field(description="register, import or change")
    changes: dict = Field(description="{field: [old, new]}; a registration's old values are null")


class ChangeList(BaseModel):
    items: list[ChangeOut]
    next_cursor: str | None


# ---------------------------------------------------------------------------- credit codes
@dataclass(frozen=True)
class CodeFault:
    """What is wrong with a credit code. ``expected``: the right check character, when only that
    is wrong — which some early real codes are, so a caller may choose to keep one."""
    message: str
    expected: str | None = None


def credit_code_fault(code: str) -> CodeFault | None:
    """None for a valid (compacted) code. Shared by registration and the sheet import, each of
    which says the fix in its own terms."""
    try:
        uscc.validate(code)
        return None
    except InvalidChecksum:
        expected = uscc.calc_check_digit(code[:-1])
        return CodeFault(f"the check character of '{code}' should be '{expected}'", expected)
    except ValidationError as exc:
        return CodeFault(f"'{code}' is not a unified social credit code ({exc.message}); it has 18 characters "
                         "from 0-9 and A-Y without I, O, S, V, Z")


def check_credit_code(code: str, accept_invalid_check: bool) -> bool:
    """Returns whether the code is flagged (kept despite a failing check character)."""
    fault = credit_code_fault(code)
    if fault is None:
        return False
    if fault.expected is None:
        raise Invalid(f"credit_code: {fault.message}")
    if accept_invalid_check:
        return True
    raise Invalid(f"credit_code: {fault.message}. Correct the code, or if the licence really says so, resend "
                  "with accept_invalid_check: true")


# ---------------------------------------------------------------------------- the record of changes
def record(session: Session, ent: Enterprise, actor: str, action: str, changes: dict, at: datetime) -> None:
    """Add the change's record to the session: it is written by the commit that writes the change."""
    session.add(EnterpriseChange(enterprise_id=ent.id, at=at, actor=actor, action=action, changes=changes))


def as_registered(ent: Enterprise) -> dict:
    """A new enterprise's record: every field from nothing to its value."""
    return {f: [None, getattr(ent, f)] for f in RECORDED}


# ---------------------------------------------------------------------------- register
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
    now = rt.clock()
    ent = Enterprise(credit_code=body.credit_code, credit_code_flagged=flagged, name=body.name,
                     district=body.district, industry=body.industry, key_project_level=body.key_project_level,
                     whitelisted=body.whitelisted, officer_id=officer_id, created_at=now, active=True)
    try:
        with session.begin_nested():
            session.add(ent)
    except IntegrityError:  # registered concurrently
        _refuse_duplicate(session, p, body.credit_code)
        raise
    record(session, ent, p.actor, "register", as_registered(ent), now)
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


# ---------------------------------------------------------------------------- read
def may_read(p: Principal, ent: Enterprise) -> bool:
    return (p.role == "admin" or (p.role == "enterprise" and p.enterprise_id == ent.id)
            or (p.role == "officer" and p.officer_id == ent.officer_id))


def get(session: Session, p: Principal, enterprise_id: int, for_update: bool = False) -> Enterprise:
    stmt = select(Enterprise).where(Enterprise.id == enterprise_id)
    ent = session.scalar(stmt.with_for_update() if for_update else stmt)
    if ent is None or not may_read(p, ent):
        raise NotFound(f"enterprise_id: no enterprise {enterprise_id} that you may see")
    return ent


def refuse_if_inactive(enterprise_id: int, active: bool) -> None:
    """Where a case is submitted (cases/service.py): a deactivated enterprise files no new case —
    nor does its officer or an admin for it. Its earlier cases go on as they were."""
    if not active:
        raise Conflict(f"enterprise_id: enterprise {enterprise_id} is deactivated and takes no new cases; an admin "
                       f"reactivates it with PATCH /v1/enterprises/{enterprise_id} {{\"active\": true}}")


def encode_cursor(enterprise_id: int) -> str:
    return paging.encode_cursor("e", enterprise_id)


def _known_officer(session: Session, officer_id: str, field: str = "officer_id") -> None:
    if session.get(Officer, officer_id) is None:
        raise Invalid(f"{field}: unknown officer '{officer_id}'; the officers' keys are in GET /v1/directory")


def list_enterprises(session: Session, rt: Runtime, p: Principal, *, q: str | None = None,
                     district: str | None = None, officer_id: str | None = None,
                     key_project_level: str | None = None, whitelisted: bool | None = None,
                     active: bool | None = None, cursor: str | None = None,
                     limit: int = 50) -> tuple[list[Enterprise], str | None]:
    """The enterprises the caller manages, in the order they were registered (id ascending, so
    that one registered while a client pages lands on a later page, never shifts one)."""
    if p.role == "officer":
        # an officer's list is its own enterprises; another officer's are not its business
        if officer_id not in (None, p.officer_id):
            raise Forbidden("officer_id: an officer lists the enterprises it serves; leave officer_id out")
        stmt = select(Enterprise).where(Enterprise.officer_id == p.officer_id)
    elif p.role == "admin":
        stmt = select(Enterprise)
        if officer_id is not None:
            _known_officer(session, officer_id)
            stmt = stmt.where(Enterprise.officer_id == officer_id)
    else:
        raise Forbidden("enterprises are listed by admins and chief service officers; an enterprise reads "
                        "its own record with GET /v1/enterprises/{id}")
    if q is not None:
        q = q.strip()
        if not q:
            raise Invalid("q: blank; write a part of the name or the start of the credit code, or leave q out")
        # a name fragment, or the first characters of a credit code as people type them (spaces,
        # hyphens, lower case)
        matches = [Enterprise.name.icontains(q, autoescape=True)]
        code = uscc.compact(q)
        if code:
            matches.append(Enterprise.credit_code.startswith(code, autoescape=True))
        stmt = stmt.where(or_(*matches))
    if district is not None:
        if district not in rt.directory.vocabulary().districts:
            raise Invalid(f"district: unknown district '{district}'; known: "
                          f"{', '.join(d.key for d in rt.directory.districts)}")
        stmt = stmt.where(Enterprise.district == district)
    if key_project_level is not None:
        stmt = stmt.where(Enterprise.key_project_level == key_project_level)
    if whitelisted is not None:
        stmt = stmt.where(Enterprise.whitelisted.is_(whitelisted))
    if active is not None:
        stmt = stmt.where(Enterprise.active.is_(active))
    if cursor is not None:
        stmt = stmt.where(Enterprise.id > paging.decode_cursor("e", cursor))
    rows = list(session.scalars(stmt.order_by(Enterprise.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1].id) if more and rows else None)


def list_changes(session: Session, p: Principal, enterprise_id: int, cursor: str | None = None,
                 limit: int = 50) -> tuple[list[EnterpriseChange], str | None]:
    """An enterprise's record of changes, newest first (as the audit log reads)."""
    if p.role != "admin":
        raise Forbidden("an enterprise's changes are read by admins")
    get(session, p, enterprise_id)
    stmt = select(EnterpriseChange).where(EnterpriseChange.enterprise_id == enterprise_id)
    if cursor is not None:
        stmt = stmt.where(EnterpriseChange.id < paging.decode_cursor("ech", cursor))
    rows = list(session.scalars(stmt.order_by(EnterpriseChange.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (paging.encode_cursor("ech", rows[-1].id) if more and rows else None)


# ---------------------------------------------------------------------------- change
def patch(session: Session, rt: Runtime, p: Principal, enterprise_id: int, body: EnterprisePatch) -> Enterprise:
    """Change what ``body`` names; record the fields that really changed (none: nothing recorded)."""
    if p.role not in ("admin", "officer"):
        raise Forbidden("an enterprise is changed by an admin, or by its chief service officer")
    fields = [f for f in EnterprisePatch.model_fields if f in body.model_fields_set]
    if not fields:
        raise Invalid(f"body: nothing to change; send one or more of {', '.join(EnterprisePatch.model_fields)}")
    for f in fields:
        if getattr(body, f) is None and f not in NULLABLE:
            raise Invalid(f"{f}: cannot be null; leave it out to keep the current value")
    # locked: two changes at once queue, so each record's old values are the ones it replaced
    ent = get(session, p, enterprise_id, for_update=True)
    if p.role == "officer":
        for f in fields:
            if f in OFFICER_MAY_CHANGE or (f == "officer_id" and body.officer_id == ent.officer_id):
                continue  # naming itself as the officer moves nothing
            raise Forbidden(_WHY_ADMIN[f])
    if body.officer_id is not None and "officer_id" in fields:
        _known_officer(session, body.officer_id)
    changes = {}
    for f in fields:
        old, new = getattr(ent, f), getattr(body, f)
        if old != new:
            changes[f] = [old, new]
            setattr(ent, f, new)
    if changes:
        record(session, ent, p.actor, "change", changes, rt.clock())
    return ent
