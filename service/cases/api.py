"""Case endpoints: submit, list, read, and one POST per action of the state machine."""

from __future__ import annotations

import functools
import inspect
import re
from typing import Annotated, Optional

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.orm import Session

from ..deps import db, principal, runtime
from ..auth.keys import authenticate_with
from ..auth.principal import Principal
from .. import audit
from ..errors import Invalid
from ..fields import CaseRef, Day, Id
from ..notifications.api import delivery_log
from ..runtime import Runtime
from . import service, views, writes
from .machine import PAUSED, TRANSITIONS
from .models import Case
from .schemas import ACTION_BODIES, BulkIn, BulkOut, CaseDetail, CaseList, CaseOut, CaseSubmission

router = APIRouter(prefix="/v1/cases", tags=["cases"])
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


def case_out(case: Case, rt: Runtime, role: str = "admin") -> dict:
    """The case as ``role`` may read it (views.py)."""
    tier = rt.directory.vocabulary().tier(case.tier)
    return views.case_view(role, {
        **{c: getattr(case, c) for c in CaseOut.model_fields if hasattr(Case, c)},
        "tier_key": tier.key if tier else str(case.tier),
        "tier_name": tier.name if tier else str(case.tier),
        "paused": case.status in PAUSED,
        "routing": case.routing,
    })


def _etag(response: Response, case: Case) -> None:
    response.headers["ETag"] = f'"{case.version}"'


def _if_match(value: str | None) -> int | None:
    if value is None:
        return None
    match = _ETAG.match(value)
    if not match:
        raise Invalid('If-Match: send the case version as the ETag gave it, e.g. If-Match: "3"')
    return int(match.group(1))


@router.post("", status_code=201, response_model=CaseOut)
def submit(body: CaseSubmission, request: Request,
           idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
           authorization: Annotated[str | None, Header(description="Bearer <api key>")] = None):
    """Submit a case: routed at once, with its deadline. Honours `Idempotency-Key`."""
    # Intake is the hot path (docs/benchmarks.md). Everything happens here, in the endpoint's
    # one worker thread: the session is opened here rather than by the `db` dependency, the key
    # is checked here (with the submitting enterprise read by the same query) rather than by the
    # `principal` dependency (which FastAPI would run in a thread of its own), and the answer is
    # serialised here (FastAPI would validate a sync endpoint's answer in yet another thread).
    # Same checks, same answer.
    rt: Runtime = request.app.state.rt
    with rt.session() as session:
        if idempotency_key is None:  # the case is one statement, its own transaction (cases/writes.py)
            writes.statement_per_transaction(session)
        p, row = authenticate_with(session, authorization, service.KEY_AND_OWN_ENTERPRISE)
        rt.limiter.admit(p, authorization)
        case, replayed = service.submit(session, rt, p, body, idempotency_key,
                                        known=row if row.ent_id is not None else None)
        session.commit()
        out = CaseOut.model_validate(case_out(case, rt, p.role)).model_dump_json()
    headers = {"Location": f"/v1/cases/{case.id}", "ETag": f'"{case.version}"'}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(out, status_code=201, media_type="application/json", headers=headers)


@router.get("", response_model=CaseList)
def list_cases(session: Session = Depends(db), p: Principal = Depends(principal), rt: Runtime = Depends(runtime),
               status: str | None = None, tier: Annotated[int | None, Query(ge=1, le=5)] = None,
               department: str | None = None, district: str | None = None, overdue: bool | None = None,
               triage: bool | None = None,
               text: Annotated[str | None, Query(max_length=100, description="in the title, the description or the "
                                                 "tracking number; traditional or simplified, full- or half-width")] = None,
               enterprise_id: Id | None = None, priority: Annotated[str | None, Query(max_length=10)] = None,
               theme: Annotated[str | None, Query(max_length=40)] = None,
               category: Annotated[str | None, Query(max_length=40)] = None,
               created_from: Annotated[Day | None, Query(alias="from", description="filed on or after (local date)")] = None,
               created_to: Annotated[Day | None, Query(alias="to", description="filed on or before (local date)")] = None,
               cursor: str | None = None, limit: Annotated[int, Query(ge=1, le=200)] = 50):
    """Cases the caller may see, newest first; filters combine; `next_cursor` pages on."""
    rows, next_cursor = service.list_cases(session, rt, p, status=status, tier=tier, department=department,
                                           district=district, overdue=overdue, triage=triage, text=text,
                                           cursor=cursor, limit=limit, enterprise_id=enterprise_id, priority=priority,
                                           theme=theme, category=category, created_from=created_from,
                                           created_to=created_to)
    return {"items": [case_out(c, rt, p.role) for c in rows], "next_cursor": next_cursor}


@router.post("/bulk", response_model=BulkOut)
def bulk(body: BulkIn, request: Request, session: Session = Depends(db), p: Principal = Depends(principal),
         rt: Runtime = Depends(runtime)):
    """One action on many cases (批量): accept, reassign or escalate; each case is its own
    transaction and event, and gets its own result — one refused case stops none of the others."""
    try:  # 422 before anything is done, naming the fields as for one case
        action_body = ACTION_BODIES[body.action].model_validate(body.body)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
    results = [{"case_id": o.case_id, "status": 200, "case": case_out(o.case, rt, p.role)} if o.case is not None
               else {"case_id": o.case_id, "status": o.status, "detail": o.detail}
               for o in service.act_each(session, rt, p, body.case_ids, body.action, action_body)]
    done = sum(1 for r in results if r["status"] == 200)
    audit.record(session, p.actor, f"cases.bulk.{body.action}", None,
                 {"case_ids": list(dict.fromkeys(body.case_ids)), "done": done, "body": body.body}, rt.clock(), request)
    session.commit()
    return {"action": body.action, "done": done, "refused": len(results) - done, "results": results}


@router.get("/{case_id}", response_model=CaseDetail)
def get_case(case_id: Annotated[CaseRef, Path(description="the case's id, or its tracking number: LH-2026-000123")],
             response: Response, session: Session = Depends(db), p: Principal = Depends(principal),
             rt: Runtime = Depends(runtime)):
    """One case with its timeline, by id or by tracking number (按编号查询)."""
    case, _ = service.load(session, p, service.case_id_of(session, case_id))
    _etag(response, case)
    events = service.timeline(session, case)
    deliveries = delivery_log(session, case.id, p)
    return {**case_out(case, rt, p.role), "timeline": views.timeline_view(p.role, [
        {"id": e.id, "type": e.type, "at": e.at, "actor": e.actor, "data": e.data,
         "deliveries": deliveries.get(e.id, [])} for e in events])}


def _action_endpoint(action: str, body_model: type):
    def endpoint(case_id: Id, body: body_model, response: Response,  # type: ignore[valid-type]
                 session: Session = Depends(db), p: Principal = Depends(principal), rt: Runtime = Depends(runtime),
                 if_match: Annotated[str | None, Header()] = None):
        case = service.act(session, rt, p, case_id, action, body, _if_match(if_match))
        session.commit()
        _etag(response, case)
        return case_out(case, rt, p.role)

    # annotations are strings in this module; the body's model is a closure variable, so give
    # FastAPI the class itself
    endpoint.__annotations__["body"] = body_model
    if not any(f.is_required() for f in body_model.model_fields.values()):
        endpoint = _body_optional(endpoint, body_model)
    endpoint.__name__ = action.replace("-", "_")
    t = TRANSITIONS[action]
    endpoint.__doc__ = (f"{t.summary}. Allowed from: {', '.join(sorted(t.sources))}; by: "
                        f"{', '.join(sorted(t.who))}. `If-Match` with the version guards against lost updates.")
    return endpoint


def _body_optional(endpoint, body_model: type):
    """An action whose body has nothing required may be posted without one (withdraw, accept)."""
    sig = inspect.signature(endpoint)
    params = [p for p in sig.parameters.values() if p.name != "body"]
    params.append(sig.parameters["body"].replace(annotation=Optional[body_model], default=None))

    @functools.wraps(endpoint)
    def optional(*args, body=None, **kwargs):
        return endpoint(*args, body=body if body is not None else body_model(), **kwargs)

    optional.__signature__ = sig.replace(parameters=params)
    return optional


for _action, _model in ACTION_BODIES.items():
    router.add_api_route(f"/{{case_id}}/{_action}", _action_endpoint(_action, _model), methods=["POST"],
                         response_model=CaseOut, name=_action)
