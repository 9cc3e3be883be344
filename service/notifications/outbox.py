"""Who hears of what (通知对象), written to the outbox in the transaction of the change.

A change records, for each recipient and each of its channels in the directory, the message it
is owed: one outbox row, written in the change's own transaction. Recipients are named by kind
and key: ``department`` + department key, ``officer`` + officer key, ``enterprise`` + enterprise
id, ``secretary`` + series. A recipient without a channel still gets a row (status
``no_channel``), so that who should have heard is never lost.

After the commit the new rows' ids are handed to the runtime's notifier, which delivers them at
once (``delivery.py``); anything that misses that path is found by the catch-up sweep.
"""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ..cases.models import Case, CaseEvent
from .models import NO_CHANNEL, PENDING, OutboxMessage

# event type -> the parties it concerns
AUDIENCE: dict[str, tuple[str, ...]] = {
    "submitted": ("enterprise",),
    "routed": ("lead", "co", "officer"),
    "accepted": ("enterprise",),
    "commented": ("lead", "officer", "enterprise"),
    "noted": ("lead", "co", "officer"),  # an internal note: never the enterprise
    "duplicated": ("enterprise", "lead", "officer"),
    "duplicate_merged": ("lead", "co"),
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
    "fed_back": ("officer", "secretary"),  # 回执: to who supervises
    "callback_overdue": ("officer",),  # 回访逾期: the call-back is the officer's
    # a provisional deadline moved by the year's published holidays (escalation/recalendar.py)
    "deadline_recounted": ("lead", "officer"),
    # from a sitting's minutes (meetings/minutes.py)
    "assigned": ("lead", "co", "officer", "enterprise"),
    "carried_over": ("lead", "co", "secretary"),
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
        "enterprise_id": case.enterprise_id, "district": case.district, "tier": case.tier,
        "lead_department": case.lead_department, "co_departments": list(case.co_departments or ()),
        "due_at": case.due_at.isoformat() if case.due_at else None,
        "confirm_due_at": case.confirm_due_at.isoformat() if case.confirm_due_at else None,
    }


def stage(session: Session, case: Case, event: CaseEvent, secretary_series: str | None = None) -> None:
    """Owe the event's notifications; they are written at commit, in the same transaction, so
    their payload carries the case as committed (tracking number included)."""
    session.info.setdefault(_PENDING, []).append((case, event, secretary_series))


_PENDING = "closedloop.outbox"
_NEW = "closedloop.outbox.new"     # ids written in this transaction, to deliver after commit
DRAIN = "closedloop.outbox.drain"  # rows were written without their ids (COPY): deliver what is due
DIRECTORY = "closedloop.directory"
NOTIFIER = "closedloop.notifier"

# Beyond this many rows in one commit, the ids are not read back: the notifier is asked to drain.
_RETURNING_LIMIT = 500


def stage_digest(session: Session, sitting, series_key: str, payload: dict, now) -> None:
    """The secretary's digest of a published agenda: a notification of a sitting, not a case."""
    rows = [OutboxMessage(sitting_id=sitting.id, recipient_kind="secretary", recipient=series_key, channel=channel,
                          event_type="agenda_published", payload={**payload, "at": now.isoformat()},
                          status=status, attempts=0, next_attempt_at=now, created_at=now)
            for channel, status in channels(session.info.get(DIRECTORY), "secretary", series_key)]
    session.add_all(rows)
    session.flush()
    session.info.setdefault(_NEW, []).extend(r.id for r in rows if r.status == PENDING)


def write_staged(session: Session) -> None:
    """Session hook (before commit): write the outbox rows of every staged event."""
    if session.in_nested_transaction():
        return  # a savepoint's release also fires before_commit: wait for the real commit
    staged = session.info.pop(_PENDING, None)
    if not staged:
        return
    session.flush()  # events get their ids
    directory = session.info.get(DIRECTORY)
    rows = [row for case, event, series in staged for row in rows_for(case, event, series, directory)]
    if not rows:
        return
    if len(rows) > _RETURNING_LIMIT:
        session.execute(insert(OutboxMessage), rows)
        session.info[DRAIN] = True
        return
    ids = session.scalars(insert(OutboxMessage).returning(OutboxMessage.id, sort_by_parameter_order=True), rows).all()
    session.info.setdefault(_NEW, []).extend(i for i, r in zip(ids, rows) if r["status"] == PENDING)


def discard_staged(session: Session, *_args) -> None:
    """Session hook (after rollback): nothing staged in a rolled-back transaction is owed."""
    for key in (_PENDING, _NEW, DRAIN):
        session.info.pop(key, None)


def hand_over(session: Session) -> None:
    """Session hook (after commit): give the committed rows to the notifier, which starts
    delivering them now. A notifier that fails loses nothing: the rows wait for the catch-up."""
    if session.in_nested_transaction():
        return
    ids = session.info.pop(_NEW, None)
    drain = session.info.pop(DRAIN, None)
    notifier = session.info.get(NOTIFIER)
    if notifier is None or not (ids or drain):
        return
    try:
        notifier(ids if not drain else None)
    except Exception:  # noqa: BLE001 - the broker may be down; the catch-up sweep delivers later
        import logging

        logging.getLogger("closedloop.notifications").warning("could not hand over notifications; the catch-up "
                                                                "sweep will deliver them", exc_info=True)


def install(sessions, directory=None, notifier=None) -> None:
    """Hook the outbox onto a sessionmaker. ``notifier(ids | None)`` is called after each commit
    that wrote outbox rows (None: deliver whatever is due)."""
    from sqlalchemy import event

    sessions.configure(info={DIRECTORY: directory, NOTIFIER: notifier})
    event.listen(sessions, "before_commit", write_staged)
    event.listen(sessions, "after_commit", hand_over)
    event.listen(sessions, "after_soft_rollback", discard_staged)


def rows_for(case: Case, event: CaseEvent, secretary_series: str | None = None, directory=None) -> list[dict]:
    """The event's notifications as outbox rows: one per recipient and channel."""
    targets = recipients(case, event.type, event.actor, secretary_series)
    if not targets:
        return []
    payload = {"event_id": event.id, "type": event.type, "at": event.at.isoformat(), "case": summary(case),
               "data": event.data}
    return [dict(event_id=event.id, case_id=case.id, recipient_kind=kind, recipient=key, channel=channel,
                 event_type=event.type, payload=payload, status=status, attempts=0, next_attempt_at=event.at,
                 created_at=event.at)
            for kind, key in targets for channel, status in channels(directory, kind, key)]


def channels(directory, kind: str, key: str) -> list[tuple[str | None, str]]:
    """(channel, status) of each row a recipient is owed: one per channel, or a ``no_channel``
    row when the directory gives it none."""
    found = directory.channels_for(kind, key) if directory is not None else []
    return [(c, PENDING) for c in found] or [(None, NO_CHANNEL)]
