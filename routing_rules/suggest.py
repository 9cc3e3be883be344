"""Rule edits proposed from corrections (规则建议), for a person to review — never applied by themselves.

A correction is a case whose lead the officer named after routing got it wrong: an objection
upheld by a reassignment, or a triage placement. :func:`suggest` reads the corrections the
current rule set still gets wrong and proposes, per department, the fewest title terms that would
send them there — a term that occurs in the corrections of that department and as rarely as
possible in the other history (cases whose lead is another department), preferring a term the
department's own rules already know (one of their keywords, whose title alone routes there). Each proposal becomes an
evidence rule in a file of its own (``15-suggested.yaml``): the terms, in the title, are that
department's ask, with twice a department rule's weight — weighed with all the other evidence
(routing_rules/scoring.py), not deciding alone, so a term that other demands also use does not
take them over; the modifiers (tier, deadline policy, co-handling) still apply.

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
# characters that begin or end no term worth proposing: particles, prepositions, negations
_FUNCTION = set("被的了在和与及对把给没不有是也都还又很就将从向于为之其这那我贵")
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


def _word_spans(rules: RuleSet, title: str) -> list[tuple[int, int]]:
    """Where the rule set's keywords (and ask words) stand in the normalised title."""
    f = rules.prepare(CaseInput(title=title))
    return [sp for spans in f.hits.values() for sp in spans if sp[1] <= f.title_len]


def _cuts_a_word(term: str, title: str, words: list[tuple[int, int]]) -> bool:
    """A term that begins or ends inside a known word (款被总包 cuts 工程款) is a fragment."""
    at = title.find(term)
    while at >= 0:
        end = at + len(term)
        if not any(s < at < e or s < end < e for s, e in words):
            return False
        at = title.find(term, at + 1)
    return True


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
        words = _word_spans(rules, e.case.title)
        for term in _terms(e.case.title):
            if term[0] in _FUNCTION or term[-1] in _FUNCTION or _cuts_a_word(term, normalize(e.case.title), words):
                continue
            counts = titles_elsewhere.get(term, Counter())
            collateral = sum(n for lead, n in counts.items() if lead != e.lead)
            if collateral > max_collateral:
                continue
            support = sum(1 for w in wrong if w.lead == e.lead and term in _terms(w.case.title))
            mine = knows(term) == e.lead
            # a known keyword first, then one the department's rules route; else the shortest
            # term that is not cut out of another word (总包, not 程款被总包拖)
            theirs = term in keywords and knows(term) not in (None, e.lead)  # another department's word
            key = (mine and term in keywords, mine, not theirs, support, -collateral,
                   len(term) if mine else -len(term), term)
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
              + "、".join(p.terms) + f" 是 {p.department} 的诉求",
              "weight": 2, "asks": list(p.terms),
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
