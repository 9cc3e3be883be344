"""Who hears of what (通知对象), written to the outbox in the transaction of the change.

Delivery (webhooks, WeCom, DingTalk, e-mail) is issue #5; here a change only records, for each
recipient, the message it is owed. Recipients are named by kind and key: ``department`` +
department key, ``officer`` + officer key, ``enterprise`` + enterprise id, ``secretary`` + series.
"""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ..cases.models import Case, CaseEvent
from .models import OutboxMessage

# event type -> the parties it concerns
AUDIENCE: dict[str, tuple[str, ...]] = {
    "submitted": ("enterprise",),
    "routed": ("lead", "co", "officer"),
    "accepted": ("enterprise",),
    "commented": ("lead", "officer", "enterprise"),
    "info_requested": ("enterprise",),
    "supplemented": ("lead",),
    "resolved": ("enterprise", "officer"),
    "closed": ("lead", "co", "officer"),
    "reopened": ("lead", "co", "officer", "enterprise"),
    "escalated": ("lead", "co", "officer", "enterprise", "secretary"),
    "extension_requested": ("officer",),
    "extension_decided": ("lead",),
    "objected": ("officer",),
    "reassigned": ("lead", "co", "enterprise"),
    "withdrawn": ("lead", "co", "officer"),
    "warning": ("lead", "officer"),
    "supervised": ("lead", "co", "officer", "secretary"),
    "reminded": ("lead", "officer"),
}


def recipients(case: Case, event_type: str, actor: str, secretary_series: str | None) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for party in AUDIENCE.get(event_type, ()):
        if party == "lead" and case.lead_department:
            out.append(("department", case.lead_department))
        elif party == "co":
            out += [("department", d) for d in case.co_departments or ()]
        elif party == "officer" and case.officer_id:
            out.append(("officer", case.officer_id))
        elif party == "enterprise":
            out.append(("enterprise", str(case.enterprise_id)))
        elif party == "secretary" and secretary_series:
            out.append(("secretary", secretary_series))
    # nobody is told of what they did themselves; nobody is told twice
    return [r for r in dict.fromkeys(out) if f"{r[0]}:{r[1]}" != actor]


def summary(case: Case) -> dict:
    return {
        "id": case.id, "tracking_no": case.tracking_no, "title": case.title, "status": case.status,
        "tier": case.tier, "lead_department": case.lead_department,
        "due_at": case.due_at.isoformat() if case.due_at else None,
    }


def stage(session: Session, case: Case, event: CaseEvent, secretary_series: str | None = None) -> None:
    """Owe the event's notifications; they are written at commit, in the same transaction, so
    their payload carries the case as committed (tracking number included)."""
    session.info.setdefault(_PENDING, []).append((case, event, secretary_series))


_PENDING = "closedloop.outbox"


def write_staged(session: Session) -> None:
    """Session hook (before commit): write the outbox rows of every staged event, in one
    statement (the sweep can stage thousands; their ids are not needed back)."""
    staged = session.info.pop(_PENDING, None)
    if not staged:
        return
    session.flush()  # events get their ids
    rows = [row for case, event, series in staged for row in rows_for(case, event, series)]
    if rows:
        session.execute(insert(OutboxMessage), rows)


def discard_staged(session: Session, *_args) -> None:
    """Session hook (after rollback): nothing staged in a rolled-back transaction is owed."""
    session.info.pop(_PENDING, None)


def install(sessions) -> None:
    from sqlalchemy import event

    event.listen(sessions, "before_commit", write_staged)
    event.listen(sessions, "after_soft_rollback", discard_staged)


def rows_for(case: Case, event: CaseEvent, secretary_series: str | None = None) -> list[dict]:
    """The event's notifications as outbox rows."""
    targets = recipients(case, event.type, event.actor, secretary_series)
    if not targets:
        return []
    payload = {"event_id": event.id, "type": event.type, "at": event.at.isoformat(), "case": summary(case),
               "data": event.data}
    return [dict(event_id=event.id, case_id=case.id, recipient_kind=kind, recipient=key, event_type=event.type,
                 payload=payload, status="pending", attempts=0, next_attempt_at=event.at, created_at=event.at)
            for kind, key in targets]
