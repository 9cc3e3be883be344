"""The case clock (计时): paused while the case waits on the enterprise, resumed with the time
that was left. Working-day deadlines pause in working time (a weekend in between costs
nothing), working-hour ones in office hours, calendar ones in plain time."""

from __future__ import annotations

from datetime import datetime

from ..cases.models import Case
from ..runtime import Runtime
from .ladder import tier_deadline


def _unit(rt: Runtime, case: Case) -> str:
    return tier_deadline(rt, case.sla_policy, case.tier).due.unit


def pause(rt: Runtime, case: Case, now: datetime) -> None:
    if case.due_at is None:
        return
    unit = _unit(rt, case)
    case.paused_remaining = rt.calendar.left(unit, now, case.due_at)
    case.paused_remaining_warn = rt.calendar.left(unit, now, case.warn_at) if case.warn_at else None
    case.due_at = case.warn_at = None
    case.due_basis = None


def resume(rt: Runtime, case: Case, now: datetime) -> None:
    if case.paused_remaining is None:
        return
    unit = _unit(rt, case)
    case.due_at, case.due_provisional = rt.calendar.ahead(unit, now, case.paused_remaining)
    case.warn_at = rt.calendar.ahead(unit, now, case.paused_remaining_warn)[0] if case.paused_remaining_warn else None
    # what is left is counted again from the same moment when the year's holidays arrive
    case.due_basis = ({"from": now.isoformat(), "unit": unit, "left": case.paused_remaining,
                       "left_warn": case.paused_remaining_warn} if case.due_provisional else None)
    case.paused_remaining = case.paused_remaining_warn = None


def move_deadline(rt: Runtime, case: Case, until: datetime) -> None:
    """An approved extension: the new deadline, and the warning the policy gives before it."""
    deadline = tier_deadline(rt, case.sla_policy, case.tier)
    case.due_at = until
    case.warn_at = rt.calendar.before(until, deadline.warn) if deadline.warn else None
    case.due_provisional = not rt.calendar.known(rt.calendar.local_date(until))
    # a date a person chose stays; only its warning is counted again (recalendar.py)
    case.due_basis = {"until": until.isoformat()} if case.due_provisional else None
