"""The admin's pages (系统管理): accounts (create, disable, reset), API keys (issue once, revoke),
enterprises, the directory as loaded, the routing rules with a box to try a text and a reload
button, and dead letters with their re-drive. Each action is the same domain call as its API
route, recorded in the audit log the same way."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from routing_rules import CaseInput

from .. import audit
from ..accounts import service as accounts
from ..accounts.models import Account
from ..auth import keys
from ..auth.models import ApiKey
from ..deps import db, runtime
from ..enterprises.models import Enterprise
from ..errors import Problem
from ..notifications.delivery import redrive
from ..notifications.models import DEAD, OutboxMessage
from ..routing import objection_rates, propose
from ..routing import reload as reload_rules
from ..runtime import Runtime
from . import words
from .pages import _form, _me, _page, _redirect, _secure

router = APIRouter(include_in_schema=False, prefix="/app/admin")
SECTIONS = [("accounts", "账号"), ("keys", "接口密钥"), ("enterprises", "企业"), ("directory", "机构目录"),
            ("rules", "分办规则"), ("calendar", "节假日"), ("dead-letters", "投递失败的通知")]
SCOPES = ("enterprise_id", "officer_id", "department", "series")


def _admin(request: Request, session: Session):
    """The admin signed in, or None (every other person gets the page that is not there)."""
    me, ws = _me(request, session)
    return (me, ws) if me.role == "admin" else None


@router.get("")
def index(request: Request, session: Session = Depends(db)):
    signed = _admin(request, session)
    if signed is None:
        return _not_here(request, session)
    counts = {"accounts": session.query(Account).count(), "dead-letters": session.query(OutboxMessage).filter(
        OutboxMessage.status == DEAD).count()}
    return _page(request, "admin/index.html", signed=signed, sections=SECTIONS, counts=counts)


def _not_here(request: Request, session: Session):
    return _page(request, "not_found.html", 404, signed=_me(request, session))


# ---------------------------------------------------------------------------- accounts
def _accounts_page(request, session, rt, signed, values=None, error=None, status=200):
    rows = list(session.scalars(select(Account).order_by(Account.id.desc()).limit(200)))
    return _page(request, "admin/accounts.html", status, signed=signed, sections=SECTIONS, rows=rows,
                 values=values or {}, error=error, roles=words.ROLES, directory=rt.directory)


@router.get("/accounts")
def accounts_page(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime),
        notice: str | None = None):
    signed = _admin(request, session)
    return _not_here(request, session) if signed is None else _accounts_page(request, session, rt, signed)


@router.post("/accounts")
async def create_account(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime)):
    signed = _admin(request, session)
    if signed is None:
        return _not_here(request, session)
    form = await _form(request, signed[1])
    values = {k: form.get(k, "").strip() for k in ("username", "display_name", "role", *SCOPES)}
    scope = {k: values[k] or None for k in SCOPES}
    if scope["enterprise_id"] is not None:
        scope["enterprise_id"] = int(scope["enterprise_id"]) if scope["enterprise_id"].isdigit() else -1
    try:
        if not values["username"]:
            raise _Missing("username: 请填写用户名")
        account = accounts.create(session, rt.clock(), values["username"], form.get("password", ""), values["role"],
                                  display_name=values["display_name"], **{k: v for k, v in scope.items()
                                                                          if k in _SCOPE_OF.get(values["role"], ())})
        audit.record(session, accounts.principal_of(signed[0]).actor, "accounts.create", str(account.id),
                     {k: v for k, v in values.items() if v}, rt.clock(), request)
        session.commit()
    except (Problem, _Missing) as exc:
        session.rollback()
        message = str(exc) if isinstance(exc, _Missing) else words.problem(exc)
        return _accounts_page(request, session, rt, signed, values, message, status=getattr(exc, "status", 422))
    return _redirect("/app/admin/accounts?notice=done")


class _Missing(Exception):
    pass


_SCOPE_OF = {"enterprise": ("enterprise_id",), "officer": ("officer_id",), "department": ("department",),
             "secretary": ("series",)}


@router.post("/accounts/{account_id}/{action}")
async def account_action(account_id: int, action: str, request: Request, session: Session = Depends(db),
                         rt: Runtime = Depends(runtime)):
    signed = _admin(request, session)
    if signed is None or action not in ("disable", "password"):
        return _not_here(request, session)
    form = await _form(request, signed[1])
    try:
        if action == "disable":
            account = accounts.disable(session, account_id)
        else:
            account = accounts.reset_password(session, account_id, form.get("password", ""))
        audit.record(session, accounts.principal_of(signed[0]).actor,
                     "accounts.disable" if action == "disable" else "accounts.reset_password", str(account_id),
                     {"username": account.username}, rt.clock(), request)
        session.commit()
    except Problem as exc:
        session.rollback()
        return _accounts_page(request, session, rt, signed, error=words.problem(exc), status=exc.status)
    return _redirect("/app/admin/accounts?notice=done")


# ---------------------------------------------------------------------------- keys
def _keys_page(request, session, signed, issued=None, error=None, status=200):
    rows = list(session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc()).limit(200)))
    return _page(request, "admin/keys.html", status, signed=signed, sections=SECTIONS, rows=rows, issued=issued,
                 error=error, roles=words.ROLES)


@router.get("/keys")
def keys_page(request: Request, session: Session = Depends(db), notice: str | None = None):
    signed = _admin(request, session)
    return _not_here(request, session) if signed is None else _keys_page(request, session, signed)


@router.post("/keys")
async def issue_key(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime)):
    """The key is shown on the answering page once; only its hash is kept."""
    signed = _admin(request, session)
    if signed is None:
        return _not_here(request, session)
    form = await _form(request, signed[1])
    role = form.get("role", "")
    scope = {k: (form.get(k, "").strip() or None) for k in _SCOPE_OF.get(role, ())}
    if "enterprise_id" in scope and scope["enterprise_id"] is not None:
        scope["enterprise_id"] = int(scope["enterprise_id"]) if scope["enterprise_id"].isdigit() else -1
    try:
        keys.check_scope(session, **scope)
        row, key = keys.issue(session, role, label=form.get("label", "").strip()[:200], **scope)
        audit.record(session, accounts.principal_of(signed[0]).actor, "keys.issue", row.id,
                     {"role": role, **{k: v for k, v in scope.items() if v is not None}}, rt.clock(), request)
        session.commit()
    except Problem as exc:
        session.rollback()
        return _keys_page(request, session, signed, error=words.problem(exc), status=exc.status)
    return _keys_page(request, session, signed, issued=key, status=201)


@router.post("/keys/{key_id}/revoke")
async def revoke_key(key_id: str, request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime)):
    signed = _admin(request, session)
    if signed is None:
        return _not_here(request, session)
    await _form(request, signed[1])
    try:
        row = keys.revoke(session, key_id)
        audit.record(session, accounts.principal_of(signed[0]).actor, "keys.revoke", key_id,
                     {"role": row.role, "label": row.label}, rt.clock(), request)
        session.commit()
    except Problem as exc:
        session.rollback()
        return _keys_page(request, session, signed, error=words.problem(exc), status=exc.status)
    return _redirect("/app/admin/keys?notice=done")


# ---------------------------------------------------------------------------- enterprises, directory
@router.get("/enterprises")
def enterprises_page(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime),
                     q: str | None = None):
    signed = _admin(request, session)
    if signed is None:
        return _not_here(request, session)
    text = (q or "").strip()[:100]
    query = select(Enterprise).order_by(Enterprise.id.desc()).limit(100)
    if text:
        query = query.where(or_(Enterprise.name.contains(text), Enterprise.credit_code == text.upper()))
    return _page(request, "admin/enterprises.html", signed=signed, sections=SECTIONS, q=text,
                 rows=list(session.scalars(query)), districts={d.key: d.name for d in rt.directory.districts},
                 officers={o.key: o.name for o in rt.directory.officers})


@router.get("/directory")
def directory_page(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime)):
    signed = _admin(request, session)
    if signed is None:
        return _not_here(request, session)
    return _page(request, "admin/directory.html", signed=signed, sections=SECTIONS, d=rt.directory,
                 districts={x.key: x.name for x in rt.directory.districts})


# ---------------------------------------------------------------------------- rules
def _rules_page(request, rt, signed, tried=None, text=None, errors=None, status=200, session=None):
    rules = rt.rules.current
    stats = {}
    if session is not None:  # the objection rate of each rule over the last 90 days (异议率)
        stats = objection_rates(session, rt.clock() - timedelta(days=90))
    return _page(request, "admin/rules.html", status, signed=signed, sections=SECTIONS, rules=rules,
                 tried=tried, text=text or {}, errors=errors, stats=stats)


@router.get("/rules")
def rules_page(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime),
        notice: str | None = None):
    signed = _admin(request, session)
    return _not_here(request, session) if signed is None else _rules_page(request, rt, signed, session=session)


SUGGEST_LATEST = 20_000  # cases replayed by the page (every correction besides): seconds, not minutes


@router.get("/rules/suggestions")
def suggestions_page(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime)):
    """规则建议: the proposal computed from the corrections, its replay and its file — for the
    admin to review; nothing is applied (the file goes into the rule set by hand, then reload)."""
    signed = _admin(request, session)
    if signed is None:
        return _not_here(request, session)
    found = propose(session, rt, latest=SUGGEST_LATEST)
    names = {d.key: d.name for d in rt.directory.departments}
    return _page(request, "admin/suggestions.html", signed=signed, sections=SECTIONS, found=found, names=names,
                 latest=SUGGEST_LATEST)


@router.get("/rules/suggestions.yaml")
def suggestions_file(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime)):
    signed = _admin(request, session)
    if signed is None:
        return _not_here(request, session)
    found = propose(session, rt, latest=SUGGEST_LATEST)
    return _secure(Response(found.yaml or "# nothing to suggest\n", media_type="application/yaml; charset=utf-8",
                            headers={"Content-Disposition": 'attachment; filename="15-suggested.yaml"'}))


@router.post("/rules/try")
async def try_rules(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime)):
    """试分办: the active rules' decision on a text, explained; nothing is saved."""
    signed = _admin(request, session)
    if signed is None:
        return _not_here(request, session)
    form = await _form(request, signed[1])
    text = {"title": form.get("title", "").strip()[:200], "description": form.get("description", "").strip()[:20000]}
    decision = rt.rules.current.route(CaseInput(title=text["title"], description=text["description"]))
    names = {d.key: d.name for d in rt.directory.departments}
    tried = {"lead": names.get(decision.lead_department or "", "（待首席服务官分办）"),
             "co": [names.get(k, k) for k in decision.co_departments], "explanation": decision.explanation,
             "triage": decision.needs_triage}
    return _rules_page(request, rt, signed, tried=tried, text=text)


@router.post("/rules/reload")
async def reload(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime)):
    signed = _admin(request, session)
    if signed is None:
        return _not_here(request, session)
    await _form(request, signed[1])
    errors = reload_rules(session, rt, accounts.principal_of(signed[0]).actor, request)
    session.commit()
    if errors:
        return _rules_page(request, rt, signed, errors=errors, status=422)
    return _redirect("/app/admin/rules?notice=reloaded")


# ---------------------------------------------------------------------------- calendar
def _calendar_page(request, rt, signed, text="", read=None, error=None, done=None, status=200):
    from datetime import date

    this_year = rt.calendar.local_date(rt.clock()).year
    years = [{"year": y, "source": "运营方节假日文件" if y in rt.calendar.extra else "已公布（holidays 库）"
              if rt.calendar.known(date(y, 1, 1)) else "未公布：暂按法定节日计算，时限为临时"}
             for y in range(this_year - 1, this_year + 3)]
    return _page(request, "admin/calendar.html", status, signed=signed, sections=SECTIONS, years=years, text=text,
                 read=read, error=error, done=done, target=rt.settings.holidays_file)


@router.get("/calendar")
def calendar_page(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime)):
    signed = _admin(request, session)
    return _not_here(request, session) if signed is None else _calendar_page(request, rt, signed)


@router.post("/calendar")
async def calendar_import(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime)):
    """节假日安排通知: the notice's text read into a table (``preview``), then written into the
    operator holiday file and every provisional deadline counted again (``confirm``) — as
    ``closedloop holidays import`` does, recorded in the audit log."""
    from pathlib import Path

    from ..escalation.notice import NoticeError, merged_file_text, parse
    from ..escalation.recalendar import reload_calendar

    signed = _admin(request, session)
    if signed is None:
        return _not_here(request, session)
    form = await _form(request, signed[1])
    text = form.get("notice", "")[:20000]
    target = rt.settings.holidays_file
    if target is None:
        return _calendar_page(request, rt, signed, text, error="未设置 CLOSEDLOOP_HOLIDAYS（各进程读取的节假日文件），"
                                                                 "无法写入；请在部署配置中设置后重启。", status=422)
    try:
        read = parse(text, calendar=rt.calendar)
        content = merged_file_text(target, read)
    except NoticeError as exc:
        return _calendar_page(request, rt, signed, text, error=f"第 {exc.line_no} 行无法识别（{exc.reason}）：{exc.line.strip()}；"
                                                                 "未写入任何内容。", status=422)
    except ValueError as exc:
        return _calendar_page(request, rt, signed, text, error=f"节假日文件 {target} 无法读取（{exc}）；未写入任何内容。",
                              status=422)
    if form.get("step") != "confirm":
        return _calendar_page(request, rt, signed, text, read=read)
    Path(target).write_text(content, encoding="utf-8")
    actor = accounts.principal_of(signed[0]).actor
    session.commit()  # the recount writes in transactions of its own (SQLite has one writer at a time)
    report = reload_calendar(rt, actor, rt.clock())
    audit.record(session, actor, "calendar.import", str(read.year),
                 {"days_off": len(read.schedule().days_off), "workdays": len(read.schedule().workdays),
                  "moved": report["moved"], "confirmed": report["confirmed"]}, rt.clock(), request)
    session.commit()
    return _calendar_page(request, rt, signed, done={"year": read.year, **report})


# ---------------------------------------------------------------------------- dead letters
@router.get("/dead-letters")
def dead_letters(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime),
        notice: str | None = None):
    signed = _admin(request, session)
    if signed is None:
        return _not_here(request, session)
    rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.status == DEAD)
                                .order_by(OutboxMessage.id.desc()).limit(200)))
    return _page(request, "admin/dead_letters.html", signed=signed, sections=SECTIONS, rows=rows,
                 local=lambda t: words.local(rt, t))


@router.post("/dead-letters/{notification_id}/redrive")
async def redrive_letter(notification_id: int, request: Request, session: Session = Depends(db),
                         rt: Runtime = Depends(runtime)):
    signed = _admin(request, session)
    if signed is None:
        return _not_here(request, session)
    await _form(request, signed[1])
    try:
        message = redrive(session, notification_id, rt.clock())
    except Problem:
        session.rollback()
        return _redirect("/app/admin/dead-letters?notice=gone")
    audit.record(session, accounts.principal_of(signed[0]).actor, "notifications.redeliver", str(notification_id),
                 {"recipient": f"{message.recipient_kind}:{message.recipient}", "channel": message.channel},
                 rt.clock(), request)
    session.commit()
    rt.notify([message.id])
    return _redirect("/app/admin/dead-letters?notice=redriven")
