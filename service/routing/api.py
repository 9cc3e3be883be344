"""Routing over HTTP: simulate a case, read the active rules, reload them from disk."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from routing_rules import CaseInput

from ..deps import db, principal, runtime
from ..problems import problem
from . import reload as reload_rules
from ..auth.principal import Principal
from ..errors import Forbidden
from ..fields import Flag
from ..runtime import Runtime

router = APIRouter(prefix="/v1/routing", tags=["routing"])


class EnterpriseAttributes(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key_project_level: Literal["none", "municipal", "provincial"] | None = None
    whitelisted: Flag | None = None
    industry: str | None = None


class Simulation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field("", max_length=200)
    description: str = Field("", max_length=20000)
    category: str | None = None
    amount: Decimal | None = Field(None, ge=0)
    urgency: Literal["normal", "urgent"] = "normal"
    district: str | None = None
    enterprise: EnterpriseAttributes | None = None


@router.post("/simulate")
def simulate(body: Simulation, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)):
    """Route a case without saving it: the decision and why."""
    ent = body.enterprise or EnterpriseAttributes()
    decision = rt.rules.current.route(CaseInput(
        title=body.title, description=body.description, category=body.category, district=body.district,
        key_project_level=ent.key_project_level, whitelisted=ent.whitelisted, industry=ent.industry,
        amount=float(body.amount) if body.amount is not None else None, urgency=body.urgency))
    return decision.to_dict()


def _summary(rt: Runtime) -> dict:
    rules = rt.rules.current
    return {
        "version": rules.version,
        "files": list(rules.files),
        "rules": [{"id": r.id, "description": r.description, "continue": not r.stop, "file": r.file,
                   "line": r.line, "effect": r.effect.summary} for r in rules.rules],
        "sla_policies": {name: {str(t): {"due": str(d.due), "warn": str(d.warn) if d.warn else None}
                                for t, d in tiers.items()} for name, tiers in rules.sla_policies.items()},
    }


@router.get("/rules")
def active_rules(rt: Runtime = Depends(runtime), p: Principal = Depends(principal)):
    """The active rule set (生效规则): its version, its rules, tiers and time limits"""
    return _summary(rt)


@router.post("/reload")
def reload(request: Request, session: Session = Depends(db), rt: Runtime = Depends(runtime),
           p: Principal = Depends(principal)):
    """Validate the rule files on disk and activate them; on any error the running set stays."""
    if p.role != "admin":
        raise Forbidden("only an admin reloads the routing rules")
    before = rt.rules.current.version
    errors = reload_rules(session, rt, p.actor, request)
    session.commit()
    if errors:
        first = errors[0]
        where = f"{first['file']}:{first['line']}" if first["line"] else first["file"]
        return problem(422, "Rule files refused", f"{len(errors)} error(s); the running rules ({before}) stay. "
                       f"First: {where}: {first['reason']}", errors=errors,
                       running_version=before)
    return {"previous_version": before, **_summary(rt)}
