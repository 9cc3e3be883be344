"""企业注册: an enterprise applies for its account from the sign-in page; its chief service officer
(or an admin) approves or refuses it on the registrations page. The domain is
accounts.registration; this module only reads the forms and says what went wrong in Chinese."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session

from ..accounts import registration, service as accounts
from ..auth.limits import Rate
from ..deps import db, runtime
from ..errors import Problem
from ..runtime import Runtime
from . import words
from .pages import _form, _me, _page, _redirect

router = APIRouter(include_in_schema=False)
APPLY_RATE = Rate(per_second=1 / 30, burst=10)  # per address: a person applies once, a script is slowed
FIELDS = ("credit_code", "name", "district", "contact", "phone", "username")
# what the person is told beside each field, whatever the check that failed there
HELP = {"credit_code": "统一社会信用代码不正确：18 位数字或大写字母（不含 I、O、S、V、Z），请对照营业执照填写。",
        "name": "请填写营业执照上的企业名称。", "district": "请选择企业所在县区。", "contact": "请填写联系人姓名。",
        "phone": "请填写联系电话（手机或座机，7–20 位数字）。",
        "username": "用户名 2–60 位，可用字母、数字、汉字和 _ . @ -。",
        "password": "密码至少 10 位，且不易被猜到（可由几个不相关的词组成）。"}
TAKEN = {"username": "该用户名已被使用，请另选一个。", "credit_code": "该企业已有注册申请在审核中，请等待首席服务官审核。"}
STATUS = {"pending": "待审核", "approved": "已通过", "refused": "未通过"}


def _field_of(detail: str) -> str:
    field = detail.split(":", 1)[0].strip()
    return field if field in HELP else "form"


def _register_page(request: Request, rt: Runtime, values=None, errors=None, status: int = 200):
    return _page(request, "register.html", status, values=values or {}, errors=errors or {},
                 districts=rt.directory.districts)


@router.get("/register")
def register_page(request: Request, rt: Runtime = Depends(runtime)):
    return _register_page(request, rt)


@router.post("/register")
async def register(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime)):
    form = await _form(request, None)
    values = {k: form.get(k, "").strip() for k in FIELDS}
    wait = rt.limiter.buckets.take(f"register:{request.client.host if request.client else '-'}", APPLY_RATE)
    if wait > 0:
        return _register_page(request, rt, values, {"form": f"提交过于频繁，请 {max(1, round(wait))} 秒后再试。"}, 429)
    try:
        body = registration.RegistrationIn.model_validate({**values, "password": form.get("password", "")})
    except ValidationError as exc:
        errors = {str(e["loc"][0]): HELP.get(str(e["loc"][0]), words.field_error(e)) for e in exc.errors()}
        return _register_page(request, rt, values, errors, 422)
    try:
        reg = registration.apply(session, rt, body)
        session.commit()
    except Problem as exc:
        session.rollback()
        field = _field_of(exc.detail)
        text = TAKEN.get(field, HELP.get(field)) if exc.status == 409 else HELP.get(field)
        return _register_page(request, rt, values, {field: text or words.problem(exc)}, exc.status)
    officer = next((o.name for o in rt.directory.officers if o.key == reg.officer_id), None)
    return _page(request, "register_done.html", 201, reg=reg, officer=officer)


@router.get("/app/registrations")
def registrations(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime),
                  notice: str | None = None):
    """注册审核: the applications the officer decides, waiting ones first."""
    me, ws = _me(request, session)
    try:
        rows = registration.listed(session, accounts.principal_of(me))
    except Problem:
        return _page(request, "not_found.html", 404, signed=(me, ws))
    names = {d.key: d.name for d in rt.directory.districts}
    return _page(request, "registrations.html", signed=(me, ws), rows=rows, district_names=names,
                 application_status=STATUS, local=lambda t: words.local(rt, t))


@router.post("/app/registrations/{reg_id}/{decision}")
async def decide(reg_id: int, decision: str, request: Request, session: Session = Depends(db),
                 rt: Runtime = Depends(runtime)):
    me, ws = _me(request, session)
    form = await _form(request, ws)
    p = accounts.principal_of(me)
    try:
        if decision == "approve":
            registration.approve(session, rt, p, reg_id)
        elif decision == "refuse":
            registration.refuse(session, rt, p, reg_id, form.get("reason", ""))
        else:
            return _page(request, "not_found.html", 404, signed=(me, ws))
        session.commit()
    except Problem as exc:
        session.rollback()
        message = "请填写不予通过的理由，申请人会看到。" if exc.detail.startswith("reason") else words.problem(exc)
        rows = registration.listed(session, p) if p.role in ("admin", "officer") else []
        return _page(request, "registrations.html", exc.status, signed=(me, ws), rows=rows, error=message,
                     district_names={d.key: d.name for d in rt.directory.districts}, application_status=STATUS,
                     local=lambda t: words.local(rt, t))
    return _redirect(f"/app/registrations?notice={'approved' if decision == 'approve' else 'refused'}")
