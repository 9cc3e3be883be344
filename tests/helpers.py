"""Helpers for the rules tests (fixtures live in conftest.py)."""

from __future__ import annotations

from pathlib import Path

from routing_rules import CaseInput

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

# The smallest header a rule set needs; tests append their rules to it.
HEADER = """\
defaults: {sla: std, theme: enterprise-services}
sla_policies:
  std:
    tiers:
      officer: {due: 3 working_days, warn: 1 working_day}
      county_meeting: {due: 10 working_days}
      department: {due: 7 working_days}
      city_meeting: {due: 10 working_days}
      joint_meeting: {due: 10 working_days}
  tight:
    tiers:
      1: {due: 1 working_day}
      2: {due: 5 working_days}
      3: {due: 3 working_days}
      4: {due: 5 working_days}
      5: {due: 5 working_days}
"""



def case(title: str = "", description: str = "", **kw) -> CaseInput:
    return CaseInput(title=title, description=description, **kw)
