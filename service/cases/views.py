"""What each reader sees of a case (诉求的可见范围): one definition, used by every endpoint that
shows a case, and tested field by field.

The enterprise sees its case, the replies and the outcome; it does not see how the rules placed
it (rule ids, the rule set's version, the routing explanation) nor the handling side's internal
notes (内部意见). Everyone on the handling side who may read the case sees all of it.
"""

from __future__ import annotations

from typing import Any

# the case's fields only the handling side reads
INTERNAL_FIELDS = frozenset({"routing"})
# events only the handling side reads: internal notes
INTERNAL_EVENTS = frozenset({"noted"})
# keys of event data only the handling side reads: the rules behind a routing or an objection
INTERNAL_DATA = frozenset({"rules", "ruleset_version", "needs_triage", "sla_policy"})


def internal_reader(role: str) -> bool:
    return role != "enterprise"


def case_view(role: str, case: dict[str, Any]) -> dict[str, Any]:
    if internal_reader(role):
        return case
    return {k: (None if k in INTERNAL_FIELDS else v) for k, v in case.items()}


def timeline_view(role: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if internal_reader(role):
        return events
    return [{**e, "data": {k: v for k, v in e["data"].items() if k not in INTERNAL_DATA}}
            for e in events if e["type"] not in INTERNAL_EVENTS]
