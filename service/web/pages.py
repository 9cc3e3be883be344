"""The pages (页面): sign-in, the case list of every role, a new case, a case with its ladder,
timeline and the actions its reader may take. Thin: each page reads the signed-in person, calls
the domain as the API does, and renders a template.

Security, for pages a browser keeps: the session cookie is HttpOnly, SameSite=Lax, and Secure
when the request came over HTTPS (or ``CLOSEDLOOP_PUBLIC_URL`` is https); every form carries the
session's CSRF token and a POST from another origin is refused; the Content-Security-Policy
allows scripts, styles and forms from this origin only (no inline script anywhere); sign-in
attempts are throttled per user name.
"""

from __future__ import annotations

import hashlib
import secrets
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from sqlalchemy.orm import Session

from ..accounts import service as accounts
from ..accounts.models import Account, WebSession
from ..auth.limits import Rate
from .. import callbacks
from ..cases import machine, service as cases
from ..cases.schemas import ACTION_BODIES, CaseSubmission
from ..deps import db, runtime
from ..errors import Invalid, Problem
from ..runtime import Runtime
from . import words

router = APIRouter(include_in_schema=False)
VIEWS = {"all": "全部", "queue": "按期限", "triage": "待分办"}
STATIC = Path(__file__).with_name("static")
COOKIE = "closedloop_session"
SIGN_IN_RATE = Rate(per_second=0.2, burst=5)  # five tries, then one every five seconds
CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
_templates = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")),
                         autoescape=select_autoescape(["html"]))


def _secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(request: Request, name: str, status: int = 200, signed: tuple[Account, WebSession] | None = None,
          **context: Any) -> HTMLResponse:
    rt: Runtime = request.app.state.rt
    me, ws = signed or (None, None)
    html = _templates.get_template(name).render(
        me=me, csrf=ws.csrf if ws else "", role_names=words.ROLES, status_names=words.STATUSES,
        event_names=words.EVENTS, department_names={d.key: d.name for d in rt.directory.departments},
        notice=request.query_params.get("notice") and words.NOTICES.get(request.query_params["notice"]),
        **context)
    return _secure(HTMLResponse(html, status_code=status))


def _redirect(to: str) -> RedirectResponse:
    return _secure(RedirectResponse(to, status_code=303))  # type: ignore[return-value]


def _https(request: Request, rt: Runtime) -> bool:
    forwarded = request.headers.get("x-forwarded-proto")
    return request.url.scheme == "https" or forwarded == "https" or \
        rt.settings.notify.public_url.startswith("https://")


def signed_in(request: Request, session: Session) -> tuple[Account, WebSession] | None:
    rt: Runtime = request.app.state.rt
    return accounts.find(session, rt.clock(), request.cookies.get(COOKIE))


class SignInRequired(Exception):
    """A page for the signed-in only, asked without a session: to the sign-in page."""


class ForeignForm(Exception):
    """A form from another origin, or without this session's CSRF token."""


MULTI = ("co_departments",)  # the fields a form sends more than once (a multiple select)


async def _form(request: Request, ws: WebSession | None) -> dict[str, Any]:
    """The form's fields, once it is known to come from this site's own page."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.url.netloc:
        raise ForeignForm
    data = await request.form()
    form: dict[str, Any] = {k: v for k, v in data.items() if isinstance(v, str) and k not in MULTI}
    form.update({k: [v for v in data.getlist(k) if isinstance(v, str)] for k in MULTI})
    if ws is not None and not secrets.compare_digest(form.get("csrf", ""), ws.csrf):
        raise ForeignForm
    return form


def _me(request: Request, session: Session) -> tuple[Account, WebSession]:
    signed = signed_in(request, session)
    if signed is None:
        raise SignInRequired
    return signed


# ---------------------------------------------------------------------------- sign-in
@router.get("/")
def home(request: Request, session: Session = Depends(db)):
    signed = signed_in(request, session)
    if signed is None:
        return _redirect("/login")
    return _redirect("/app/dashboard" if signed[0].role == "leader" else "/app/cases")


@router.get("/login")
def login_page(request: Request, session: Session = Depends(db)):
    if signed_in(request, session):
        return _redirect("/app/cases")
    return _page(request, "login.html")


@router.post("/login")
async def login(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime)):
    form = await _form(request, None)
    username = form.get("username", "").strip()[:60]
    wait = rt.limiter.buckets.take(f"signin:{username.lower()}", SIGN_IN_RATE)
    if wait > 0:
        return _page(request, "login.html", 429, username=username,
                     error=f"尝试次数过多，请 {max(1, round(wait))} 秒后再试。")
    result = accounts.sign_in(session, rt.clock(), username, form.get("password", ""))
    if result is None:
        session.rollback()
        return _page(request, "login.html", 401, username=username, error="用户名或密码不正确，或账号已停用。")
    signed, token = result
    session.commit()
    response = _redirect("/app/dashboard" if signed.role == "leader" else "/app/cases")
    response.set_cookie(COOKIE, token, max_age=accounts.SESSION_HOURS * 3600, httponly=True, samesite="lax",
                        secure=_https(request, rt), path="/")
    return response


@router.post("/logout")
async def logout(request: Request, session: Session = Depends(db)):
    signed = signed_in(request, session)
    if signed is not None:
        await _form(request, signed[1])
        accounts.sign_out(session, request.cookies.get(COOKIE))
        session.commit()
    response = _redirect("/login")
    response.delete_cookie(COOKIE, path="/")
    return response


# ---------------------------------------------------------------------------- cases
def _listing(request: Request, session: Session, rt: Runtime, q: str | None, view: str | None,
             department: str | None = None, overdue: str | None = None):
    me, ws = _me(request, session)
    department = department if department in {d.key for d in rt.directory.departments} else None
    views = ["all", "queue"] + (["triage"] if me.role in ("officer", "admin") else [])
    view = view if view in views else ("queue" if me.role == "department" else "all")
    text = (q or "").strip()[:100] or None
    rows, more = cases.list_cases(session, rt, accounts.principal_of(me), limit=50, text=text,
                                  by_deadline=view != "all", triage=True if view == "triage" else None,
                                  department=department, overdue=True if overdue == "1" else None)
    now = rt.clock()
    items = [{"id": c.id, "tracking_no": c.tracking_no, "title": c.title, "status": c.status, "tier": c.tier,
              "lead_department": c.lead_department, "due": words.local(rt, c.due_at),
              "left": words.time_left(rt, c, now),
              "overdue": c.due_at is not None and c.due_at < now and c.status in machine.RUNNING} for c in rows]
    # what the rows are now, short: the page's refresh swaps them in only when it changed
    stamp = hashlib.sha256(",".join(f"{c.id}.{c.version}" for c in rows).encode()).hexdigest()[:16]
    return (me, ws), {"cases": items, "more": more is not None, "q": text or "", "view": view, "stamp": stamp,
                      "department": department or "", "overdue": "1" if overdue == "1" else "",
                      "views": [(v, VIEWS[v]) for v in views]}


@router.get("/app/cases")
def case_list(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime),
              notice: str | None = None, q: str | None = None, view: str | None = None,
              department: str | None = None, overdue: str | None = None):
    """The person's cases: newest first; a department's by deadline (its queue); an officer's
    triage queue (cases no rule could place); a search by tracking number or words. The page
    refreshes its rows every second (static/live.js, from /app/cases/rows)."""
    signed, context = _listing(request, session, rt, q, view, department, overdue)
    heading = "我的诉求" if signed[0].role == "enterprise" else "案件"
    return _page(request, "cases.html", signed=signed, heading=heading, **context)


@router.get("/app/cases/rows")
def case_rows(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime),
              q: str | None = None, view: str | None = None, department: str | None = None,
              overdue: str | None = None):
    """The rows of the list alone, for the page's refresh."""
    signed, context = _listing(request, session, rt, q, view, department, overdue)
    return _page(request, "cases_table.html", signed=signed, **context)


@router.get("/app/callbacks")
def callback_list(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime)):
    """回访清单: the call-backs an officer owes (an admin: all), oldest owed first; each case's page
    records the call."""
    me, ws = _me(request, session)
    try:
        rows, _ = callbacks.listed(session, accounts.principal_of(me), limit=200)
    except Problem:  # not an officer's or the admin's: the page is not there for them
        return _page(request, "not_found.html", 404, signed=(me, ws))
    for r in rows:
        r["due"] = words.local(rt, r["due_at"])
        r["why"] = "逾期未确认、默认办结" if r["reason"] == "by_default" else "满意确认抽样"
    return _page(request, "callbacks.html", signed=(me, ws), rows=rows)


@router.get("/app/dashboard")
def dashboard(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime)):
    """绩效看板: this month's figures in the reader's scope (the reports' own rules of who reads
    what), the ranking, overdue by department and tier, twelve months of the resolution rate;
    every bar a link to the cases behind it."""
    from ..reports.readers import overdue_by_tier, report_for, trend_for
    from . import charts

    me, ws = _me(request, session)
    p = accounts.principal_of(me)
    today = rt.calendar.local_date(rt.clock())
    month = f"{today.year}-{today.month:02d}"
    try:
        report = report_for(session, rt, p, month, None, None, "department", "count")
    except Problem:
        return _page(request, "not_found.html", 404, signed=(me, ws))
    ranked = sorted((r for r in report.rows if r.rates["resolution_rate"] is not None),
                    key=lambda r: (r.rank["resolution_rate"], r.name))
    ranking = charts.bars([(r.name, r.rates["resolution_rate"], _pct(r.rates["resolution_rate"]),
                            f"/app/cases?department={r.key}") for r in ranked], scale=1, title="办结率排名")
    late = sorted((r for r in report.rows if r.figures["overdue_now"]), key=lambda r: -r.figures["overdue_now"])
    overdue_chart = charts.bars([(r.name, r.figures["overdue_now"], f"{r.figures['overdue_now']} 件",
                                  f"/app/cases?view=queue&overdue=1&department={r.key}" if r.key else None)
                                 for r in late], title="当前超期：按部门") if late else None
    tiers = None
    if p.role in ("admin", "leader", "officer", "secretary"):
        tiers = charts.bars([(name, n, f"{n} 件", None) for name, n in overdue_by_tier(session, rt, p)],
                            title="当前超期：按层级")
    trend = charts.columns([(label, rates["resolution_rate"]) for label, rates in trend_for(session, rt, p)],
                           title="近十二个月办结率")
    return _page(request, "dashboard.html", signed=(me, ws), report=report, period=month, ranking=ranking,
                 overdue_chart=overdue_chart, tiers=tiers, trend=trend, pct=_pct)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def _new_case_page(request, rt, signed, values=None, errors=None, status=200):
    return _page(request, "new_case.html", status, signed=signed, values=values or {}, errors=errors or {},
                 categories=rt.directory.categories, form_token=secrets.token_urlsafe(16))


@router.get("/app/cases/new")
def new_case_page(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime)):
    signed = _me(request, session)
    return _new_case_page(request, rt, signed)


@router.post("/app/cases/new")
async def new_case(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime)):
    me, ws = signed = _me(request, session)
    form = await _form(request, ws)
    values = {k: form.get(k, "") for k in ("title", "description", "category", "amount", "urgency")}
    errors: dict[str, str] = {}
    body: dict[str, Any] = {"title": values["title"].strip(), "description": values["description"].strip(),
                            "category": values["category"] or None, "urgency": values["urgency"] or "normal"}
    if values["amount"].strip():
        try:
            body["amount"] = Decimal(values["amount"].strip())
        except InvalidOperation:
            errors["amount"] = "请填写数字金额（元），或留空。"
    try:
        submission = CaseSubmission.model_validate(body)
    except ValidationError as exc:
        for e in exc.errors():
            errors.setdefault(str(e["loc"][0]), words.field_error(e))
        submission = None
    chosen = await _upload(request)
    if chosen is not None:  # checked before the case is made: a refused file makes no case
        from ..attachments.service import check

        try:
            check(rt, *chosen)
        except Problem as exc:
            errors["file"] = words.problem(exc)
    if errors or submission is None:
        return _new_case_page(request, rt, signed, values, errors, 422)
    try:
        # the form's own token makes a second press of the button, or a reload, the same case
        case, replayed = cases.submit(session, rt, accounts.principal_of(me), submission,
                                      idempotency_key=f"web-{form.get('form_token', '')[:40]}")
        session.commit()
        if chosen is not None and not replayed:
            from ..attachments import service as attachments

            attachments.attach(session, rt, _storage(rt), accounts.principal_of(me), case.id, *chosen)
            session.commit()
    except Problem as exc:
        session.rollback()
        return _new_case_page(request, rt, signed, values, {"form": words.problem(exc)}, exc.status)
    return _redirect(f"/app/cases/{case.id}?notice=submitted")


@router.get("/app/cases/{case_id}")
def case_page(case_id: int, request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime),
              notice: str | None = None):
    return _case_view(case_id, request, session, rt)


def _case_view(case_id: int, request: Request, session: Session, rt: Runtime, error: str | None = None,
               status: int = 200) -> HTMLResponse:
    me, ws = _me(request, session)
    p = accounts.principal_of(me)
    try:
        case, rel = cases.load(session, p, case_id)
    except Problem:
        return _page(request, "not_found.html", 404, signed=(me, ws))
    now = rt.clock()
    timeline = [{"at": words.local(rt, e.at), "type": e.type, "actor": words.actor(rt, e.actor),
                 "note": words.note(e.type, e.data)} for e in cases.timeline(session, case)]
    from ..attachments.service import files_of
    from ..similarity.service import similar_open

    similar, similar_total = similar_open(session, case, p) if p.role != "enterprise" else ([], 0)
    names = {d.key: d.name for d in rt.directory.departments}
    return _page(request, "case.html", status, signed=(me, ws), case=case, tiers=rt.directory.tiers,
                 similar=[{**s.model_dump(), "lead_name": names.get(s.lead_department, s.lead_department or "待研判")}
                          for s in similar], similar_total=similar_total,
                 files=files_of(session, case.id), may_attach=bool(machine.offered(case.status, rel) and any(
                     t.action == "comment" for t in machine.offered(case.status, rel))),
                 departments=rt.directory.departments, suggestion=_suggestion(rt, case, rel),
                 # why the rules placed it (分办依据): the evidence weighed, for those who handle it
                 placed_why=(case.routing or {}).get("explanation") if p.role != "enterprise" else None,
                 due=words.local(rt, case.due_at), timeline=timeline, error=error, paused=case.status in machine.PAUSED,
                 overdue=case.due_at is not None and case.due_at < now and case.status in machine.RUNNING,
                 actions=[words.ACTION_FORMS[t.action] for t in machine.offered(case.status, rel)
                          if t.action in words.ACTION_FORMS
                          and (t.action != "callback" or callbacks.pending_for(session, case.id) is not None)])


@router.post("/app/cases/{case_id}/files")
async def add_file(case_id: int, request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime)):
    """添加材料: a file for the case, by whoever may comment on it; the timeline says so."""
    from ..attachments import service as attachments

    me, ws = _me(request, session)
    await _form(request, ws)
    chosen = await _upload(request)
    try:
        if chosen is None:
            raise Invalid("file: choose a file to attach")
        attachments.attach(session, rt, _storage(rt), accounts.principal_of(me), case_id, *chosen)
        session.commit()
    except Problem as exc:
        session.rollback()
        return _case_view(case_id, request, session, rt, error=words.problem(exc), status=exc.status)
    return _redirect(f"/app/cases/{case_id}?notice=done")


def _suggestion(rt: Runtime, case, rel: set[str]) -> str | None:
    """For the officer triaging a case no rule placed: what the rules make of its text now (the
    same engine as intake and the simulator), explained."""
    if not case.needs_triage or not rel & {"officer", "admin"}:
        return None
    from routing_rules import CaseInput

    decision = rt.rules.current.route(CaseInput(title=case.title, description=case.description,
                                                category=case.category, district=case.district,
                                                amount=float(case.amount) if case.amount is not None else None,
                                                urgency=case.urgency))
    return decision.explanation


@router.post("/app/cases/{case_id}/{action}")
async def act(case_id: int, action: str, request: Request, session: Session = Depends(db),
              rt: Runtime = Depends(runtime)):
    me, ws = _me(request, session)
    form = await _form(request, ws)
    if action not in words.ACTION_FORMS:
        return _page(request, "not_found.html", 404, signed=(me, ws))
    try:
        body = ACTION_BODIES[action].model_validate(words.action_body(action, form, rt.calendar.tz))
    except ValidationError as exc:
        return _case_view(case_id, request, session, rt, error=words.field_error(exc.errors()[0]), status=422)
    version = form.get("version", "")
    try:
        cases.act(session, rt, accounts.principal_of(me), case_id, action, body,
                  if_match=int(version) if version.isdigit() else None)
        session.commit()
    except Problem as exc:
        session.rollback()
        return _case_view(case_id, request, session, rt, error=words.problem(exc), status=exc.status)
    return _redirect(f"/app/cases/{case_id}?notice=done")


def _storage(rt: Runtime):
    from ..attachments.storage import for_runtime

    return for_runtime(rt)


async def _upload(request: Request) -> tuple[str, bytes] | None:
    """The form's file, if one was chosen (the form itself was checked by ``_form``)."""
    upload = (await request.form()).get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return None
    return upload.filename, await upload.read()


@router.get("/app/cases/{case_id}/files/{file_id}")
def get_file(case_id: int, file_id: int, request: Request, session: Session = Depends(db),
             rt: Runtime = Depends(runtime)):
    """A case's file, to those who may see the case: as a download, never rendered as a page."""
    from urllib.parse import quote

    from ..attachments import service as attachments

    me, ws = _me(request, session)
    try:
        row, data = attachments.read(session, _storage(rt), accounts.principal_of(me), case_id, file_id)
    except Problem:
        return _page(request, "not_found.html", 404, signed=(me, ws))
    response = _secure(Response(data, media_type=row.content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.name)}"}))
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def install(app) -> None:
    """The pages, their static files, and what a page answers when signed out or sent from afar."""
    from fastapi.staticfiles import StaticFiles

    from .admin import router as admin_router
    from .meetings import router as meetings_router
    from .registration import router as registration_router

    app.include_router(router)
    app.include_router(meetings_router)
    app.include_router(registration_router)
    app.include_router(admin_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired):
        return _redirect("/login")

    @app.exception_handler(ForeignForm)
    async def _foreign(request: Request, exc: ForeignForm):
        return _secure(HTMLResponse("<!doctype html><meta charset=utf-8><title>已拒绝</title>"
                                    "<p>此表单已过期或来自其他网站，请返回页面刷新后重试。</p>", status_code=403))
