"""``/v1/notifications``: the outbox as an admin sees it — what was owed, to whom, on which
channel, how delivery went — and the re-drive of a dead (or delivered) message."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..deps import db, principal, runtime
from .. import audit, paging
from ..auth.principal import Principal
from ..errors import Forbidden, Invalid
from ..fields import Id
from ..runtime import Runtime
from .delivery import redrive
from .models import STATUSES, OutboxMessage

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])


class NotificationOut(BaseModel):
    id: int
    event_id: int | None
    case_id: int | None
    sitting_id: int | None
    event_type: str
    recipient_kind: str
    recipient: str
    channel: str | None
    status: str
    attempts: int
    next_attempt_at: str | None
    created_at: str
    delivered_at: str | None
    last_error: str | None


class NotificationList(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None


def _out(m: OutboxMessage) -> dict:
    iso = lambda t: t.isoformat() if t else None  # noqa: E731
    return {"id": m.id, "event_id": m.event_id, "case_id": m.case_id, "sitting_id": m.sitting_id,
            "event_type": m.event_type,
            "recipient_kind": m.recipient_kind, "recipient": m.recipient, "channel": m.channel, "status": m.status,
            "attempts": m.attempts, "next_attempt_at": iso(m.next_attempt_at), "created_at": iso(m.created_at),
            "delivered_at": iso(m.delivered_at), "last_error": m.last_error}


def _admin(p: Principal) -> None:
    if p.role != "admin":
        raise Forbidden("only an admin key reads and re-drives the notification outbox")


def delivery_log(session: Session, case_id: int, p: Principal) -> dict[int, list[dict]]:
    """Per event of a case, its notifications and how they went. An enterprise sees only what
    was sent to it; staff who may see the case see all of it."""
    # the columns shown, not the messages: their payloads (JSON, the larger part of a row) are
    # not read or decoded for a case page (a third of its time when they were)
    m = OutboxMessage
    query = (select(m.event_id, m.id, m.recipient_kind, m.recipient, m.channel, m.status, m.attempts,
                    m.delivered_at, m.last_error).where(m.case_id == case_id).order_by(m.id))
    if p.role == "enterprise":
        query = query.where(m.recipient_kind == "enterprise")
    log: dict[int, list[dict]] = {}
    for event_id, *values in session.execute(query):
        log.setdefault(event_id, []).append(dict(zip(_LOGGED, values, strict=True)))
    return log


_LOGGED = ("id", "recipient_kind", "recipient", "channel", "status", "attempts", "delivered_at", "last_error")


@router.get("", response_model=NotificationList)
def list_notifications(session: Session = Depends(db), p: Principal = Depends(principal),
                       case_id: Id | None = None, status: str | None = None, cursor: str | None = None,
                       limit: Annotated[int, Query(ge=1, le=500)] = 100):
    """Notifications oldest first, filtered by case and status; page on with `cursor=next_cursor`."""
    _admin(p)
    if status is not None and status not in STATUSES:
        raise Invalid(f"status: unknown status '{status}'; use one of: {', '.join(STATUSES)}")
    query = select(OutboxMessage).order_by(OutboxMessage.id).limit(limit + 1)
    if case_id is not None:
        query = query.where(OutboxMessage.case_id == case_id)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    if cursor:
        query = query.where(OutboxMessage.id > paging.decode_cursor("n", cursor))
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [_out(m) for m in rows], "next_cursor": paging.encode_cursor("n", rows[-1].id) if more else None}


@router.post("/{notification_id}/redeliver", status_code=202, response_model=NotificationOut)
def redeliver_notification(notification_id: Id, response: Response, request: Request, session: Session = Depends(db),
                           p: Principal = Depends(principal), rt: Runtime = Depends(runtime)):
    """Send a dead (or already delivered) notification again, now, with a fresh count of tries."""
    _admin(p)
    message = redrive(session, notification_id, rt.clock())
    audit.record(session, p.actor, "notifications.redeliver", str(notification_id),
                 {"recipient": f"{message.recipient_kind}:{message.recipient}", "channel": message.channel}, rt.clock(),
                 request)
    session.commit()
    rt.notify([message.id])
    return _out(message)
