"""Which change of a case is a fact the reports count, and what it is counted under.

A pure function of the case as it stands right after the change and the event's data, so that
the three places that write events — one change at a time (cases.service.record), intake in one
statement (cases.writes) and the sweep's bulk COPY (escalation.sweep) — write the same facts.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

# event type -> fact kind; other events (comments, warnings, reminders…) are not counted
KINDS = {
    "submitted": "submitted", "accepted": "accepted", "resolved": "resolved", "closed": "closed",
    "reopened": "reopened", "withdrawn": "withdrawn", "escalated": "escalated", "supervised": "supervised",
    "objected": "objected", "reassigned": "reassigned", "extension_decided": "extended",
    "called_back": "called_back",
}
# the events that carry the enterprise's answer on satisfaction: its confirmation (closed or
# reopened), or what it said on a call-back (回访)
ANSWERS = ("closed", "reopened", "called_back")
COLUMNS = ("case_id", "kind", "at", "lead_department", "district", "officer_id", "tier", "theme", "category",
           "on_time", "working_days", "satisfied", "rating")


def fact_for(case, event_type: str, at: datetime, data: dict) -> dict | None:
    """The fact row for an event on ``case`` (its attributes after the change), or None."""
    kind = KINDS.get(event_type)
    if kind is None or (kind == "extended" and not data.get("approved")):
        return None
    if kind == "escalated" and data.get("supervised"):
        kind = "supervised"  # escalated by hand or by a meeting at tier 5: supervision, as by the sweep
    lead = data.get("lead_department") if kind == "objected" else case.lead_department
    if kind == "called_back" and not data.get("reached"):
        return None  # not reached: no answer to count
    satisfied = data.get("satisfied") if kind in ANSWERS else None
    return {"case_id": case.id, "kind": kind, "at": at, "lead_department": lead, "district": case.district,
            "officer_id": case.officer_id, "tier": case.tier, "theme": case.theme, "category": case.category,
            "on_time": data.get("on_time") if kind in ("accepted", "resolved") else None,
            "working_days": data.get("working_days") if kind == "resolved" else None,
            "satisfied": satisfied, "rating": data.get("rating") if kind in ANSWERS else None}


# the events that change what a case is counted under, and which attribute they set
_SETS_LEAD = ("routed", "reassigned", "assigned")
_SETS_TIER = ("routed", "escalated", "reopened")


def facts_for(case, event_type: str, at: datetime, data: dict) -> list[dict]:
    """The fact rows for an event: ``fact_for``'s, and a second one when an enterprise's refusal
    at the top of the ladder puts the case under supervision (reopened at tier 5, 督办): it is
    counted as the reopening it is, and as the supervision it starts."""
    fact = fact_for(case, event_type, at, data)
    if fact is None:
        return []
    if fact["kind"] == "reopened" and data.get("supervised"):
        return [fact, {**fact, "kind": "supervised", "satisfied": None, "rating": None}]
    return [fact]


def replay(case, events) -> list[dict]:
    """The facts of a case recomputed from its timeline alone (oldest first): the lead and tier
    as each event left them. What the facts written with each change must equal (tested), and
    how a database from before the facts existed gets them (migration 0005)."""
    routed = next((e for e in events if e.type == "routed"), None)
    state = SimpleNamespace(id=case.id, district=case.district, officer_id=case.officer_id, theme=case.theme,
                            category=case.category,
                            lead_department=routed.data.get("lead_department") if routed else case.lead_department,
                            tier=routed.data.get("tier", case.tier) if routed else case.tier)
    out = []
    for e in events:
        if e.type in _SETS_LEAD:
            state.lead_department = e.data.get("lead_department")
        elif e.type == "objected":
            state.lead_department = None
        if e.type in _SETS_TIER and e.data.get("tier") is not None:
            state.tier = e.data["tier"]
        out += facts_for(state, e.type, e.at, e.data)
    return out
