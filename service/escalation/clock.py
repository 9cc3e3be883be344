"""The case clock (计时): paused while the case waits on the enterprise, resumed with the time
that was left. Working-day deadlines pause in working time (a weekend in between costs
nothing), calendar ones in plain time."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..cases.models import Case
from ..runtime import Runtime
from .ladder import tier_deadline


def _working(rt: Runtime, case: Case) -> bool:
    return tier_deadline(rt, case.sla_policy, case.tier).due.unit == "working_days"


def pause(rt: Runtime, case: Case, now: datetime) -> None:
    if case.due_at is None:
        return
    if _working(rt, case):
        left = lambda t: rt.calendar.working_seconds_between(now, t)  # noqa: E731
    else:
        left = lambda t: max(0.0, (t - now).total_seconds())  # noqa: E731
    case.paused_remaining = left(case.due_at)
    case.paused_remaining_warn = left(case.warn_at) if case.warn_at else None
    case.due_at = case.warn_at = None


def resume(rt: Runtime, case: Case, now: datetime) -> None:
    if case.paused_remaining is None:
        return
    if _working(rt, case):
        ahead = lambda s: rt.calendar.add_working_seconds(now, s)  # noqa: E731
    else:
        ahead = lambda s: (now + timedelta(seconds=s), False)  # noqa: E731
    case.due_at, case.due_provisional = ahead(case.paused_remaining)
    case.warn_at = ahead(case.paused_remaining_warn)[0] if case.paused_remaining_warn else None
    case.paused_remaining = case.paused_remaining_warn = None


def move_deadline(rt: Runtime, case: Case, until: datetime) -> None:
    """An approved extension: the new deadline, and the warning the policy gives before it."""
    deadline = tier_deadline(rt, case.sla_policy, case.tier)
    case.due_at = until
    case.warn_at = rt.calendar.before(until, deadline.warn) if deadline.warn else None
    case.due_provisional = not rt.calendar.known(rt.calendar.local_date(until))
