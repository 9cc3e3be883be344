from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from routing_rules import CaseInput, RuleSet, load_ruleset
from service.directory import load_directory

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


@pytest.fixture(scope="session")
def vocabulary():
    return load_directory().vocabulary()


@pytest.fixture(scope="session")
def luohe(vocabulary) -> RuleSet:
    from routing_rules import DEFAULT_RULES

    return load_ruleset(DEFAULT_RULES, vocabulary)


@pytest.fixture
def make_rules(tmp_path, vocabulary):
    """Compile a rule set from YAML text (the header's defaults and policies come first)."""

    def make(rules_yaml: str, *, header: str = HEADER, name: str = "rules.yaml") -> RuleSet:
        path = tmp_path / name
        path.write_text(header + textwrap.dedent(rules_yaml), encoding="utf-8")
        return load_ruleset(path, vocabulary)

    return make


def case(title: str = "", description: str = "", **kw) -> CaseInput:
    return CaseInput(title=title, description=description, **kw)
