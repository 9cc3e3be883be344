"""Provisional deadlines counted again when the calendar changes (时限重算).

A deadline that runs into a year whose holidays are not yet published (2027, until the State
Council's notice) is computed from the statutory dates alone and marked ``due_provisional``; the
case keeps what it was counted from (``Case.due_basis``). When the operator adds that year —
a new holiday file read at start, noticed by the sweep, or imported with ``closedloop holidays
import`` — every such deadline is counted again from the same start and the same span:

``{"from", "due", "warn"}``        a tier's deadline: ``due`` after ``from``, ``warn`` before it;
``{"from", "unit", "left", ...}``  a clock resumed after a pause: what was left, from then;
``{"until"}``                      a date a person or a meeting chose: it stays; only whether it
                                   is still provisional, and its warning, are looked at again.

A deadline that moved gets a ``deadline_recounted`` event (old and new) and its handlers are told;
one that only stopped being provisional gets ``deadline_confirmed`` (on the timeline, nobody
told). A deadline now in the past escalates on the next tick like any other. Running it again
with the same calendar changes nothing, so any number of processes may run it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing_rules.language import Duration

from ..cases.models import Case
from ..runtime import Runtime
from .calendar import WorkCalendar
from .ladder import tier_deadline

log = logging.getLogger("closedloop.calendar")


def recount(calendar: WorkCalendar, warn_policy: Duration | None, case: Case) -> tuple[datetime, datetime | None, bool] | None:
    """(due, warn, provisional) counted again from the case's basis; None when there is none
    (a deadline written before the basis was kept: it keeps its date)."""
    basis = case.due_basis
    if not basis:
        return None
    if "until" in basis:
        due = datetime.fromisoformat(basis["until"]).astimezone(timezone.utc)
        warn = calendar.before(due, warn_policy) if warn_policy else None
        return due, warn, not calendar.known(calendar.local_date(due))
    start = datetime.fromisoformat(basis["from"])
    if "left" in basis:
        due, provisional = calendar.ahead(basis["unit"], start, basis["left"])
        warn = calendar.ahead(basis["unit"], start, basis["left_warn"])[0] if basis.get("left_warn") else None
        return due, warn, provisional
    due, provisional = calendar.after(start, Duration.parse(basis["due"]))
    warn = calendar.before(due, Duration.parse(basis["warn"])) if basis.get("warn") else None
    return due, warn, provisional


def recount_provisional(session: Session, rt: Runtime, now: datetime, actor: str = "system",
                        after_id: int = 0, limit: int = 500) -> tuple[list[dict], int | None]:
    """Count again one batch of running provisional deadlines (ids above ``after_id``), under row
    locks, each change with its event and notifications. Returns (what changed, the last id
    looked at, or None when there are no more)."""
    from ..cases.service import record_change  # the case's own write path (and its outbox)

    rows = list(session.scalars(
        select(Case).where(Case.due_provisional, Case.due_at.is_not(None), Case.id > after_id)
        .order_by(Case.id).limit(limit).with_for_update()))  # wait for a case being acted on: none is missed
    changed = []
    for case in rows:
        policy = tier_deadline(rt, case.sla_policy, case.tier)
        counted = recount(rt.calendar, policy.warn, case)
        if counted is None:
            continue
        due, warn, provisional = counted
        if (due, warn, provisional) == (case.due_at, case.warn_at, True):
            continue  # the year is still unpublished and nothing moved
        data = {"reason": "calendar", "old_due": case.due_at.isoformat(), "new_due": due.isoformat(),
                "old_warn": case.warn_at.isoformat() if case.warn_at else None,
                "new_warn": warn.isoformat() if warn else None, "provisional": provisional}
        moved = due != case.due_at
        case.due_at, case.warn_at, case.due_provisional = due, warn, provisional
        if not provisional:
            case.due_basis = None
        record_change(session, case, "deadline_recounted" if moved else "deadline_confirmed", actor, now, data, None)
        changed.append({"tracking_no": case.tracking_no, "moved": moved, **data})
    return changed, (rows[-1].id if len(rows) == limit else None)


def recount_all(rt: Runtime, now: datetime, actor: str = "system", batch: int = 500) -> list[dict]:
    """Every running provisional deadline counted again, a committed batch at a time."""
    out: list[dict] = []
    after: int | None = 0
    while after is not None:
        with rt.session() as session:
            changed, after = recount_provisional(session, rt, now, actor, after, batch)
            session.commit()
        out += changed
    return out


def reload_calendar(rt: Runtime, actor: str, now: datetime) -> dict:
    """The operator changed the holiday file: read it again and count every provisional deadline
    again. Refuses (ValueError, the file's own message) a file it cannot read; the running calendar
    then stays."""
    rt.reload_calendar()
    changed = recount_all(rt, now, actor)
    rt.calendar_recounted = rt.calendar_generation
    return {"moved": sum(c["moved"] for c in changed), "confirmed": sum(not c["moved"] for c in changed),
            "cases": changed}


def on_tick(rt: Runtime, now: datetime) -> list[dict]:
    """The sweep's part: notice a changed holiday file (and, the first time in a process, count
    again what a calendar loaded at start may have changed)."""
    try:
        rt.refresh_calendar()
    except ValueError:
        log.exception("the holiday file cannot be read; the calendar in use stays")
    if rt.calendar_recounted == rt.calendar_generation:
        return []
    changed = recount_all(rt, now)
    rt.calendar_recounted = rt.calendar_generation
    return changed
