"""回访: every closure followed up by a call to the enterprise.

A case that closes by default (the enterprise did not answer within the confirmation window)
always owes a call-back; a case the enterprise confirmed as satisfied owes one when it falls in the
sample (``CLOSEDLOOP_CALLBACK_SAMPLE``, a fraction; 0.2 by default). Which confirmed cases are
sampled is decided by the tracking number's hash, not by chance: the same case is always in or
out, so a replayed closure never samples differently. The call-back is owed in the same
transaction as the closure, due ``CALLBACK_WITHIN`` working days later, on the list of the
case's chief service officer.

The officer records what the call found (``POST /v1/cases/{id}/callback``, an action of the
state machine's table): not reached — the attempt counts and the call-back stays on the list,
until :data:`ATTEMPTS` attempts give it up (``unreached``); reached and satisfied — done; reached
and not satisfied — the case reopens one tier up exactly as an unsatisfied confirmation does
(重办). A reached call-back is an answer in the satisfaction figures (满意率): satisfied as a
``called_back`` fact, unsatisfied as the reopening's.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing_rules.language import Duration

from .models import Callback

ATTEMPTS = 3
CALLBACK_WITHIN = Duration(3, "working_days")
PENDING, DONE, UNREACHED = "pending", "done", "unreached"


def sampled(tracking_no: str, rate: float) -> bool:
    """Is this confirmed case in the call-back sample? The same answer every time for one case."""
    if rate <= 0:
        return False
    bucket = int.from_bytes(hashlib.sha256(tracking_no.encode()).digest()[:4], "big") % 10_000
    return bucket < rate * 10_000


def owe(session: Session, rt, case, now: datetime, reason: str) -> dict:
    """A call-back owed for ``case`` (in the closing transaction); returns what the closure's
    event says of it (the officer's message reads it: notifications/templates.py)."""
    due, _ = rt.calendar.after(now, CALLBACK_WITHIN)
    session.add(Callback(case_id=case.id, reason=reason, officer_id=case.officer_id, district=case.district,
                         state=PENDING, created_at=now, due_at=due, attempts=0))
    return {"callback": reason, "callback_due": due.isoformat()}


def listed(session: Session, p, state: str = PENDING, after: int | None = None,
           limit: int = 50) -> tuple[list[dict], int | None]:
    """The call-backs in ``state`` that ``p`` owes (an officer: its own enterprises'; an admin:
    all), oldest first, after the id ``after``: (the page, the id to continue after, or None)."""
    from ..cases.models import Case
    from ..enterprises.models import Enterprise
    from ..errors import Forbidden

    if p.role not in ("officer", "admin"):
        raise Forbidden("the call-back list is the chief service officers' (and the admin's)")
    q = (select(Callback, Case.tracking_no, Case.title, Enterprise.name).join(Case, Case.id == Callback.case_id)
         .join(Enterprise, Enterprise.id == Case.enterprise_id).where(Callback.state == state))
    if p.role == "officer":
        q = q.where(Callback.officer_id == p.officer_id)
    if after is not None:
        q = q.where(Callback.id > after)
    rows = session.execute(q.order_by(Callback.id).limit(limit + 1)).all()
    items = [{"id": c.id, "case_id": c.case_id, "tracking_no": no, "title": title, "enterprise": name,
              "reason": c.reason, "state": c.state, "due_at": c.due_at, "attempts": c.attempts,
              "satisfied": c.satisfied, "rating": c.rating} for c, no, title, name in rows[:limit]]
    return items, (items[-1]["id"] if len(rows) > limit else None)


def pending_for(session: Session, case_id: int) -> Callback | None:
    return session.scalar(select(Callback).where(Callback.case_id == case_id, Callback.state == PENDING)
                          .order_by(Callback.id.desc()).limit(1).with_for_update())
