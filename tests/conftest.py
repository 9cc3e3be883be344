from __future__ import annotations

import textwrap

import pytest

from helpers import HEADER

from routing_rules import RuleSet, load_ruleset
from service.directory import load_directory

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
