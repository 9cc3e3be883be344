"""Rules that test themselves: run a set's examples, and replay cases through two sets.

The counterpart of Alertmanager's ``amtool config routes test``: a rule file says, next to the
rules, which routing a case must get; ``closedloop rules test`` fails when it does not.
``closedloop rules diff`` shows a rules author which cases an edit would send elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from .engine import CaseInput, Decision, RuleSet
from .language import Example, ExampleCase

# The routing fields compared by `rules diff`, and the decision field behind each example key.
COMPARED = ("lead_department", "co_departments", "tier", "sla_policy", "theme", "priority", "needs_triage")


@dataclass(frozen=True)
class ExampleResult:
    name: str
    file: str
    line: int | None
    mismatches: tuple[tuple[str, Any, Any], ...]  # (field, expected, got)
    decision: Decision

    @property
    def passed(self) -> bool:
        return not self.mismatches


def example_case(case: ExampleCase) -> CaseInput:
    ent = case.enterprise
    return CaseInput(
        title=case.title, description=case.description, category=case.category, district=case.district,
        key_project_level=ent.key_project_level if ent else None,
        whitelisted=ent.whitelisted if ent else None,
        industry=ent.industry if ent else None,
        amount=case.amount, urgency=case.urgency,
    )


def check_example(ruleset: RuleSet, example: Example) -> tuple[tuple[str, Any, Any], ...]:
    d = ruleset.route(example_case(example.case))
    e = example.expect
    out = []

    def compare(name: str, expected: Any, got: Any) -> None:
        if expected is not None and expected != got:
            out.append((name, expected, got))

    compare("lead", e.lead, d.lead_department)
    compare("triage", e.triage, d.needs_triage)
    if e.co is not None:
        compare("co", sorted(e.co), sorted(d.co_departments))
    if e.tier is not None:
        tier = ruleset.vocabulary.tier(int(e.tier) if str(e.tier).isdigit() else e.tier)
        compare("tier", tier.number if tier else e.tier, d.tier)
    compare("sla", e.sla, d.sla_policy)
    compare("theme", e.theme, d.theme)
    compare("priority", e.priority, d.priority)
    if e.tags is not None:
        compare("tags", sorted(e.tags), sorted(d.tags))
    if e.rules is not None:
        matched = [r.id for r in d.rules]
        missing = [r for r in e.rules if r not in matched]
        if missing:
            out.append(("rules", list(e.rules), matched))
    return tuple(out)


def run_examples(ruleset: RuleSet) -> list[ExampleResult]:
    results = []
    for example, file, line in ruleset.examples:
        case = example_case(example.case)
        name = example.name or (example.case.title or example.case.description)[:40]
        results.append(ExampleResult(name, file, line, check_example(ruleset, example), ruleset.route(case)))
    return results


@dataclass(frozen=True)
class Change:
    label: str
    before: dict[str, Any]
    after: dict[str, Any]


def routing_fields(d: Decision) -> dict[str, Any]:
    return {k: (list(getattr(d, k)) if k == "co_departments" else getattr(d, k)) for k in COMPARED}


def diff(old: RuleSet, new: RuleSet, cases: Iterable[tuple[str, CaseInput]]) -> list[Change]:
    """The cases whose routing differs between two sets (only the fields that changed)."""
    changes = []
    for label, case in cases:
        a, b = routing_fields(old.route(case)), routing_fields(new.route(case))
        if a != b:
            keys = [k for k in COMPARED if a[k] != b[k]]
            changes.append(Change(label, {k: a[k] for k in keys}, {k: b[k] for k in keys}))
    return changes
