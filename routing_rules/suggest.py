"""Rule edits proposed from corrections (规则建议), for a person to review — never applied by themselves.

A correction is a case whose lead the officer named after routing got it wrong: an objection
upheld by a reassignment, or a triage placement. :func:`suggest` reads the corrections the
current rule set still gets wrong and proposes, per department, the fewest title terms that would
send them there — a term that occurs in the corrections of that department and as rarely as
possible in the other history (cases whose lead is another department), preferring a term the
department's own rules already know (one of their keywords, whose title alone routes there). Each proposal becomes a
rule in a file of its own (``15-suggested.yaml``), read after the ``continue`` modifiers and
before the department rules: a term the title names decides before the broader rules that
misrouted the case, and the modifiers (tier, deadline policy, co-handling) still apply.

:func:`replay` then routes the whole history through the current and the proposed set: how many
corrections the proposal gets right, and which other cases would change — what a reviewer reads
before copying the file into the rule set (docs/rules.md).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import yaml

from .engine import CaseInput, RuleSet
from .normalize import normalize

# candidate terms: runs of 2 to 6 characters of the normalised title; shorter are too general
_SIZES = (6, 5, 4, 3, 2)
_SKIP = set("，。、；：！？（）《》“”‘’,.;:!?()[] ")


@dataclass(frozen=True)
class Example:
    """One case of the history: its routing input, and the lead a person gave it (if corrected)."""

    id: str
    case: CaseInput
    lead: str | None          # the lead it ended with (a correction's label, or routing's own)
    corrected: bool = False   # an upheld objection or a triage placement


@dataclass
class Proposal:
    department: str
    terms: list[str]
    fixes: list[str] = field(default_factory=list)   # the corrections' ids it routes right


def _terms(title: str) -> set[str]:
    text = "".join(ch for ch in normalize(title) if ch not in _SKIP)
    return {text[i:i + n] for n in _SIZES for i in range(len(text) - n + 1)}


def suggest(rules: RuleSet, history: list[Example], max_collateral: int = 0) -> list[Proposal]:
    """The terms per department that would route the corrections right; a term must not occur in
    more than ``max_collateral`` titles of cases that lead elsewhere."""
    wrong = [e for e in history if e.corrected and e.lead and rules.route(e.case).lead_department != e.lead]
    titles_elsewhere: dict[str, Counter] = {}
    for e in history:
        if e.lead:
            for t in _terms(e.case.title):
                titles_elsewhere.setdefault(t, Counter())[e.lead] += 1
    known: dict[str, str | None] = {}
    keywords = set(rules.patterns)

    def knows(term: str) -> str | None:
        """The lead the current rules give a title of the term alone: a term the department's own
        rules already use (排污许可 is ecology's) is the one to promote, not a fragment (车操作工)."""
        if term not in known:
            known[term] = rules.route(CaseInput(title=term)).lead_department
        return known[term]

    proposals: dict[str, Proposal] = {}
    for e in wrong:
        best = None
        for term in _terms(e.case.title):
            counts = titles_elsewhere.get(term, Counter())
            collateral = sum(n for lead, n in counts.items() if lead != e.lead)
            if collateral > max_collateral:
                continue
            support = sum(1 for w in wrong if w.lead == e.lead and term in _terms(w.case.title))
            mine = knows(term) == e.lead
            key = (mine and term in keywords, mine, support, -collateral, len(term), term)
            if best is None or key > best[0]:
                best = (key, term)
        if best is None:
            continue
        p = proposals.setdefault(e.lead, Proposal(e.lead, []))
        if best[1] not in p.terms and not any(t in normalize(e.case.title) for t in p.terms):
            p.terms.append(best[1])
    for p in proposals.values():
        p.fixes = [e.id for e in wrong if e.lead == p.department and any(t in normalize(e.case.title) for t in p.terms)]
    return sorted(proposals.values(), key=lambda p: p.department)


def rule_file(proposals: list[Proposal]) -> str:
    """The proposal as a rule file (``15-suggested.yaml``)."""
    rules = [{"id": f"suggested-{p.department}", "description": f"建议（来自 {len(p.fixes)} 件纠正）：标题含 "
              + "、".join(p.terms) + f" 由 {p.department} 牵头",
              "when": {"keywords": {"field": "title", "any": list(p.terms)}}, "then": {"lead": p.department}}
             for p in proposals]
    head = ("# Proposed by `closedloop rules suggest` from corrections (upheld objections, triage placements).\n"
            "# Review with the replay it printed (or `closedloop rules diff`) before keeping it; edit freely.\n")
    return head + yaml.safe_dump({"rules": rules}, allow_unicode=True, sort_keys=False, width=120)


@dataclass
class Replay:
    corrections: int
    right_before: int
    right_after: int
    changed: list[tuple[str, str | None, str | None]]   # other cases: (id, lead before, lead after)


def replay(current: RuleSet, proposed: RuleSet, history: list[Example]) -> Replay:
    """Every case of the history through both sets."""
    right_before = right_after = 0
    changed = []
    for e in history:
        before, after = current.route(e.case).lead_department, proposed.route(e.case).lead_department
        if e.corrected:
            right_before += before == e.lead
            right_after += after == e.lead
        elif before != after:
            changed.append((e.id, before, after))
    return Replay(sum(1 for e in history if e.corrected), right_before, right_after, changed)
