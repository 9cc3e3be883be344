"""The ladder (五级阶梯): entering a tier — new deadline, sitting, and the once-only guard.

Shared by submission (the starting tier), manual escalation, reopening after an unsatisfied
confirmation, and the deadline sweep of issue #4.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from routing_rules import TierDeadline

from ..cases.models import Case, CaseTier
from ..errors import Conflict
from ..meetings.sittings import next_sitting
from ..runtime import Runtime

TOP_TIER = 5


def tier_deadline(rt: Runtime, policy: str, tier: int) -> TierDeadline:
    """The policy's deadline for a tier; a policy that a rules reload removed falls back to the
    set's default, so an old case is never left without a deadline."""
    rules = rt.rules.current
    policies = rules.sla_policies
    return (policies.get(policy) or policies[rules.defaults.sla])[tier]


def enter_tier(session: Session, rt: Runtime, case: Case, tier: int, now: datetime, reason: str,
               since: datetime | None = None, sittings: dict | None = None, guarded: bool = True,
               tier_rows: list | None = None) -> dict:
    """Put ``case`` at ``tier`` as of ``now``; returns what the event should record.

    ``since``: when the case should have entered the tier (a deadline that passed while the
    workers were down); a person's tier counts its deadline from then, so that a day's outage
    does not hand every late case a fresh full deadline. A meeting tier still takes the next
    sitting whose agenda is open *now*: a case cannot join a meeting that has been held.

    ``sittings``: a cache of the next sitting per series for this ``now`` (the sweep moves
    thousands of cases onto the same few sittings). ``guarded=False`` adds the (case, tier) record
    without its own savepoint: the caller holds the row lock and handles a conflict for the batch;
    with ``tier_rows`` it is appended there for the caller to write in bulk.

    Raises Conflict if the case has already entered that tier (the guard that makes a replayed
    escalation change nothing)."""
    if guarded:
        try:
            with session.begin_nested():
                session.add(CaseTier(case_id=case.id, tier=tier, entered_at=now, reason=reason))
        except IntegrityError:
            raise Conflict(f"case {case.tracking_no} has already been at tier {tier}", current_tier=case.tier) from None
    elif tier_rows is not None:
        tier_rows.append((case.id, tier, now, reason))
    else:
        session.add(CaseTier(case_id=case.id, tier=tier, entered_at=now, reason=reason))
    return _place(session, rt, case, tier, now, reason, since, sittings)


def place_new(session: Session, rt: Runtime, case: Case, tier: int, now: datetime) -> dict:
    """A new case's starting tier (deadline, sitting). Nothing to guard against: the caller
    writes its (case, tier) record with the case."""
    return _place(session, rt, case, tier, now, "routed")


def restart_tier(session: Session, rt: Runtime, case: Case, now: datetime, reason: str) -> dict:
    """A new deadline at the tier the case is already at (tier 5 has nowhere further to go)."""
    return _place(session, rt, case, case.tier, now, reason)


def _place(session: Session, rt: Runtime, case: Case, tier: int, now: datetime, reason: str,
           since: datetime | None = None, sittings: dict | None = None) -> dict:
    deadline = tier_deadline(rt, case.sla_policy, tier)
    sitting = None
    start = min(since, now) if since is not None else now
    # A tier is a meeting's when the directory has a series for it (tiers 2, 4 and 5 in Luohe).
    series = rt.series_for(tier, case.district, case.theme)
    if series is not None:
        sitting = sittings.get(series.key) if sittings is not None else None
        if sitting is None:
            sitting = next_sitting(session, series, now, rt.calendar)
            if sittings is not None:
                sittings[series.key] = sitting
        start = sitting.starts_at
    due, provisional = rt.calendar.after(start, deadline.due)
    case.tier = tier
    case.sitting_id = sitting.id if sitting else None
    case.due_at = due
    case.warn_at = rt.calendar.before(due, deadline.warn) if deadline.warn else None
    case.due_provisional = provisional
    # kept only while provisional: counted again from the same start when the year is published
    case.due_basis = ({"from": start.isoformat(), "due": str(deadline.due),
                       "warn": str(deadline.warn) if deadline.warn else None} if provisional else None)
    case.paused_remaining = case.paused_remaining_warn = None
    out = {"tier": tier, "due_at": due.isoformat(), "due_provisional": provisional, "reason": reason}
    if sitting is not None:
        out["sitting"] = {"id": sitting.id, "series": sitting.series_key, "number": sitting.number,
                          "starts_at": sitting.starts_at.isoformat()}
    return out
