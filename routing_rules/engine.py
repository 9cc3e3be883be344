"""The compiled rule set and the routing decision (路由决策).

``RuleSet.route(case)`` is a pure function of the case: no I/O, no clock, no randomness. It

1. normalises the title and description and finds every keyword of every rule in one pass of
   one Aho–Corasick automaton;
2. takes as candidates only the rules whose guard tokens (keywords, category, district) occur,
   plus the few rules with no guard, in rule order;
3. evaluates them in order. A rule marked ``continue`` adds to the decision and evaluation goes
   on; the first other rule that matches decides the lead department (or sends the case to
   triage) and ends it. Evidence rules (with a ``weight``) are the exception: every one that
   matches is pooled, and the pool is weighed (:mod:`routing_rules.scoring`) when evaluation
   ends — at the first ordinary rule that matches after the pool has something, or at the last
   rule. A rule before the evidence rules (thanks with no ask → triage) still decides alone, and
   one after them (the category the enterprise picked) decides only when no evidence was found.
   For the single-valued fields (tier, SLA policy, theme) the first rule that sets one wins, so modifiers placed before the department rules (key projects, cross-department
   cases) take precedence; priority is the highest given; co-departments and tags accumulate.

No rule matched, or only ``continue`` rules: the case goes to the officer's triage queue
(``needs_triage``), with the defaults.

The decision's explanation, its scores and each matched rule's ``why`` are rendered from what
routing kept (the prepared text, the weighed phrases) the first time they are read: intake reads
them at once; a replay of the whole history asks only where each case would go.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping, NamedTuple

import ahocorasick_rs

from .conditions import Condition, Facts
from .language import TierDeadline
from .normalize import normalize_pair
from .scoring import (CLAUSE_ENDS, CompiledScoring, DepartmentScore, explain_scores, lead_margin, rendered,
                      thanks_only, weigh)
from .vocabulary import PRIORITIES, URGENCIES, Tier, Vocabulary


@dataclass(frozen=True)
class CaseInput:
    """What routing looks at: the case's text and the enterprise's attributes."""

    title: str = ""
    description: str = ""
    category: str | None = None
    district: str | None = None
    key_project_level: str | None = None
    whitelisted: bool | None = None
    industry: str | None = None
    amount: float | None = None
    urgency: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "CaseInput":
        """Build from JSON-shaped data (the fields of ``sample-cases.jsonl``).

        Unknown fields are ignored; a field of the wrong type is a ``ValueError`` naming it.
        """
        if not isinstance(data, Mapping):
            raise ValueError("a case is a JSON object with title, description, ...")

        def text(name: str, value: Any) -> str | None:
            if value is None:
                return None
            if not isinstance(value, str):
                raise ValueError(f"'{name}' must be text, got {type(value).__name__}")
            return value

        enterprise = data.get("enterprise")
        enterprise = {} if enterprise is None else enterprise
        if not isinstance(enterprise, Mapping):
            raise ValueError("'enterprise' must be an object with key_project_level, whitelisted, industry")
        whitelisted = enterprise.get("whitelisted")
        if whitelisted is not None and not isinstance(whitelisted, bool):
            raise ValueError("'enterprise.whitelisted' must be true or false")
        amount = data.get("amount")
        if amount is not None:
            if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not math.isfinite(amount):
                raise ValueError("'amount' must be a number of yuan")
            amount = float(amount)
        urgency = text("urgency", data.get("urgency"))
        if urgency is not None and urgency not in URGENCIES:
            raise ValueError(f"'urgency' must be one of {', '.join(URGENCIES)}")
        return cls(
            title=text("title", data.get("title")) or "",
            description=text("description", data.get("description")) or "",
            category=text("category", data.get("category")),
            district=text("district", data.get("district")),
            key_project_level=text("enterprise.key_project_level", enterprise.get("key_project_level")),
            whitelisted=whitelisted,
            industry=text("enterprise.industry", enterprise.get("industry")),
            amount=amount,
            urgency=urgency,
        )


@dataclass(frozen=True)
class Effect:
    """What a rule's ``then`` does, with every name already checked against the directory."""

    lead: str | None = None
    co: tuple[str, ...] = ()
    tier: Tier | None = None
    sla: str | None = None
    theme: str | None = None
    priority: str | None = None
    tags: tuple[str, ...] = ()
    triage: bool = False

    @cached_property
    def summary(self) -> dict[str, Any]:
        """The effect as the decision's explanation shows it (only what the rule sets)."""
        out: dict[str, Any] = {k: getattr(self, k) for k in ("lead", "sla", "theme", "priority")
                               if getattr(self, k) is not None}
        if self.tier is not None:
            out["tier"] = self.tier.number
        if self.co:
            out["co"] = list(self.co)
        if self.tags:
            out["tags"] = list(self.tags)
        if self.triage:
            out["triage"] = True
        return out


@dataclass(frozen=True, eq=False)
class CompiledRule:
    index: int
    id: str
    description: str
    condition: Condition
    effect: Effect
    stop: bool
    file: str
    line: int | None
    weight: float | None = None  # an evidence rule: weighed with the others, never decides alone
    asks: frozenset[int] = frozenset()  # of its keywords' pattern ids, those that are the ask


@dataclass(frozen=True)
class MatchedRule:
    id: str
    description: str
    role: str  # "lead", "triage" or "continue"
    effect: dict
    condition: Condition = field(repr=False, compare=False)
    facts: Facts = field(repr=False, compare=False)

    @rendered
    def why(self) -> tuple[dict, ...]:
        """What held, with where and in what context: rendered when first read, because a replay
        of many cases (``rules diff``, the accuracy bench) asks only which rules matched."""
        return tuple(self.condition.explain(self.facts))

    def sentence(self) -> str:
        held = "；".join(w["text"] for w in self.why) or "无条件"
        return f"规则 {self.id}（{self.description}）：{held}"


# how a labelled demand says "nobody is asked: the officer's triage" (sample-cases.jsonl's expect)
TRIAGE = "__triage__"


@dataclass(frozen=True)
class Decision:
    lead_department: str | None
    co_departments: tuple[str, ...]
    tier: int
    tier_key: str
    sla_policy: str
    theme: str | None
    priority: str
    tags: tuple[str, ...]
    needs_triage: bool
    rules: tuple[MatchedRule, ...]
    ruleset_version: str
    weighing: "Weighing" = field(repr=False, compare=False)

    @rendered
    def explanation(self) -> str:
        """A few lines an officer can read without knowing the rule language (rendered when first
        read: the decision itself is the fields above)."""
        w = self.weighing
        names = w.vocabulary.departments
        weighed = explain_scores(names, w.scores, w.margin) if w.scores else []
        if w.thanked:
            weighed.append("只有感谢或表扬，没有向任何部门提出诉求，转首席服务官分拣。")
        elif w.scores and w.triage:
            weighed.append(f"差距小于 {w.close:.0%}，按规则转首席服务官分拣。")
        elif w.close_co is not None:
            weighed.append(f"差距小于 {w.close:.0%}，第二名列为协办单位。")
        return _explain(w.vocabulary, self.rules, self.lead_department, w.triage, self.co_departments, w.tier,
                        self.sla_policy, self.priority, weighed)

    @rendered
    def scores(self) -> tuple[dict, ...]:
        """The evidence rules' weighing, best first (empty when an ordinary rule decided)."""
        w = self.weighing
        return tuple({**s.to_dict(), "margin": round(w.margin, 3)} if i == 0 else s.to_dict()
                     for i, s in enumerate(w.scores))

    @property
    def label(self) -> str | None:
        """The lead department, or :data:`TRIAGE`: what a labelled demand's ``expect`` holds."""
        return TRIAGE if self.needs_triage else self.lead_department

    def to_dict(self) -> dict[str, Any]:
        # built by hand: dataclasses.asdict deep-copies every explanation entry, and this runs
        # once per submitted case
        return {
            "lead_department": self.lead_department, "co_departments": list(self.co_departments),
            "tier": self.tier, "tier_key": self.tier_key, "sla_policy": self.sla_policy, "theme": self.theme,
            "priority": self.priority, "tags": list(self.tags), "needs_triage": self.needs_triage,
            "rules": [{"id": r.id, "description": r.description, "role": r.role, "why": [dict(w) for w in r.why],
                       "effect": dict(r.effect)} for r in self.rules],
            "ruleset_version": self.ruleset_version, "explanation": self.explanation,
            "scores": [dict(s) for s in self.scores],
        }


class Weighing(NamedTuple):
    """What the decision's explanation and scores are rendered from."""

    vocabulary: Vocabulary
    tier: Tier
    triage: bool  # sent to triage by a rule, by thanks alone or by a narrow margin
    scores: list[DepartmentScore]
    margin: float
    thanked: bool
    close_co: str | None
    close: float  # the margin under which two departments are close (the rules' scoring.margin)


@dataclass(frozen=True)
class DecisionDefaults:
    tier: Tier
    sla: str
    theme: str | None
    priority: str


_RANK = {p: i for i, p in enumerate(PRIORITIES)}


class RuleSet:
    """An immutable, compiled rule set. Build it with :func:`routing_rules.load_ruleset`."""

    def __init__(
        self,
        *,
        version: str,
        rules: list[CompiledRule],
        sla_policies: Mapping[str, Mapping[int, TierDeadline]],
        defaults: DecisionDefaults,
        patterns: list[str],
        vocabulary: Vocabulary,
        files: tuple[str, ...],
        examples: tuple[tuple[Any, str, int | None], ...] = (),
        scoring: CompiledScoring | None = None,
    ):
        self.version = version
        self.rules = tuple(rules)
        self.sla_policies = sla_policies
        self.defaults = defaults
        self.vocabulary = vocabulary
        self.files = files
        self.examples = examples
        self.scoring = scoring or CompiledScoring(frozenset(), frozenset())
        self.patterns = tuple(patterns)
        self._automaton = ahocorasick_rs.AhoCorasick(patterns) if patterns else None
        self._gapped = _gapped_pattern(patterns)

        # The index: for each token, the rules that cannot match without it.
        self._by_keyword: list[list[int]] = [[] for _ in patterns]
        self._by_token: dict[tuple[str, Any], list[int]] = {}
        unguarded = []
        for rule in self.rules:
            guard = rule.condition.guard()
            if guard is None:
                unguarded.append(rule.index)
                continue
            for kind, value in guard:
                if kind == "kw":
                    self._by_keyword[value].append(rule.index)
                else:
                    self._by_token.setdefault((kind, value), []).append(rule.index)
        self._unguarded = tuple(unguarded)
        # rules that hold whenever the index lets them through (a plain list of words): most
        # evidence rules (testing each again cost a twentieth of a decision)
        self._sure = tuple(rule.condition.held_by_guard() for rule in self.rules)

    def __repr__(self) -> str:
        return f"<RuleSet {self.version} rules={len(self.rules)} keywords={len(self.patterns)}>"

    @property
    def unguarded_rules(self) -> tuple[str, ...]:
        """Rules evaluated for every case (no keyword, category or district they need)."""
        return tuple(self.rules[i].id for i in self._unguarded)

    def deadline(self, policy: str, tier: int) -> TierDeadline:
        return self.sla_policies[policy][tier]

    def prepare(self, case: CaseInput) -> Facts:
        f = Facts()
        f.title, f.description = normalize_pair(case.title, case.description)
        f.text = f.title + "\n" + f.description
        f.title_len = len(f.title)
        hits: dict[int, list[tuple[int, int]]] = {}
        if self._automaton is not None:
            for pid, start, end in self._automaton.find_matches_as_indexes(f.text, overlapping=True):
                spans = hits.get(pid)
                if spans is None:
                    hits[pid] = [(start, end)]
                else:
                    spans.append((start, end))
        if self._gapped is not None:  # 停~电: 停了三回电
            for m in self._gapped.finditer(f.text):
                hits.setdefault(int(m.lastgroup[1:]), []).append((m.start(), m.end()))  # type: ignore[index]
        f.hits = hits
        f.category = case.category.strip().lower() if case.category else None
        f.district = case.district
        f.industry = case.industry
        f.key_project_level = case.key_project_level
        f.whitelisted = case.whitelisted
        f.urgency = case.urgency
        f.amount = case.amount
        return f

    def _candidates(self, f: Facts) -> list[int]:
        found = set(self._unguarded)
        by_keyword = self._by_keyword
        for pid in f.hits:
            found.update(by_keyword[pid])
        for token in (("category", f.category), ("district", f.district)):
            rules = self._by_token.get(token)
            if rules:
                found.update(rules)
        return sorted(found)

    def candidate_rules(self, case: CaseInput) -> tuple[str, ...]:
        """The rules the index lets through for this case, in order (for tests and diagnostics)."""
        return tuple(self.rules[i].id for i in self._candidates(self.prepare(case)))

    def route(self, case: CaseInput) -> Decision:
        f = self.prepare(case)
        lead: str | None = None
        triage = False
        matched: list[CompiledRule] = []
        pooled: list[CompiledRule] = []
        sure = self._sure
        for index in self._candidates(f):
            rule = self.rules[index]
            if not (sure[index] or rule.condition.test(f)):
                continue
            if rule.weight is not None:
                pooled.append(rule)
                continue
            if rule.stop and pooled:
                break  # what comes after the evidence rules is a fallback for when they found nothing
            matched.append(rule)
            if rule.stop:
                lead, triage = rule.effect.lead, rule.effect.triage
                break

        scores: list[DepartmentScore] = []
        margin = 0.0
        close_co: str | None = None
        thanked = False
        if pooled:
            scores = weigh(f, pooled, self.scoring)
            margin = lead_margin(scores)
            winner = scores[0]
            close = len(scores) > 1 and margin < self.scoring.margin
            if thanks_only(f, scores, self.scoring):
                triage = thanked = True
            elif close and self.scoring.close_then == "triage":
                triage = True
            else:
                lead = winner.department
                matched += winner.rules
                if close and self.scoring.close_then == "co":
                    close_co = scores[1].department

        tier: Tier | None = None
        sla = theme = None
        priority = -1
        co: dict[str, None] = {}
        tags: dict[str, None] = {}
        for rule in matched:
            e = rule.effect
            tier = tier or e.tier
            sla = sla or e.sla
            theme = theme or e.theme
            if e.priority is not None:
                priority = max(priority, _RANK[e.priority])
            co.update(dict.fromkeys(e.co))
            tags.update(dict.fromkeys(e.tags))
        if close_co is not None:
            co[close_co] = None

        d = self.defaults
        co.pop(lead, None)  # type: ignore[arg-type]
        explained = tuple(
            MatchedRule(id=r.id, description=r.description,
                        role=("triage" if r.effect.triage else "lead") if r.stop else "continue",
                        effect=r.effect.summary, condition=r.condition, facts=f)
            for r in matched
        )
        lead_tier = tier or d.tier
        return Decision(
            lead_department=lead,
            co_departments=tuple(co),
            tier=lead_tier.number,
            tier_key=lead_tier.key,
            sla_policy=sla or d.sla,
            theme=theme or d.theme,
            priority=PRIORITIES[max(priority, _RANK[d.priority])],
            tags=tuple(tags),
            needs_triage=lead is None,
            rules=explained,
            ruleset_version=self.version,
            weighing=Weighing(self.vocabulary, lead_tier, triage, scores, margin, thanked, close_co,
                              self.scoring.margin),
        )


# a ``~`` in a keyword stands for up to this many characters of the same clause: people split a
# verb around its object as they type (停了三回电, 贷不下来款)
GAP = 3


def _gapped_pattern(patterns: list[str]) -> "re.Pattern[str] | None":
    """One regular expression for every keyword with a ``~``, each a group named by its pattern id."""
    parts = []
    for pid, word in enumerate(patterns):
        if "~" in word and word.strip("~"):
            pieces = [re.escape(p) for p in word.split("~") if p]
            parts.append(f"(?P<g{pid}>" + f"[^{re.escape(CLAUSE_ENDS)}]{{0,{GAP}}}?".join(pieces) + ")")
    return re.compile("|".join(parts)) if parts else None


def _explain(vocabulary: Vocabulary, rules: tuple[MatchedRule, ...], lead: str | None, explicit_triage: bool,
             co: tuple[str, ...], tier: Tier, sla: str, priority: str, weighed: list[str]) -> str:
    """A few lines an officer can read without knowing the rule language."""
    depts = vocabulary.departments
    lines = [f"{i}. {r.sentence()}" for i, r in enumerate(rules, 1)]
    if weighed:
        lines.append("证据计分：")
        lines += [f"   {line}" for line in weighed]
    if lead is None:
        if explicit_triage:
            lines.append("结论：按规则转首席服务官分拣（needs_triage）。")
        else:
            lines.append("结论：没有规则确定牵头部门，转首席服务官分拣（needs_triage）。")
    else:
        co_names = "、".join(depts.get(c, c) for c in co)
        lines.append(
            f"结论：牵头部门 {depts.get(lead, lead)}"
            + (f"，协办 {co_names}" if co_names else "")
            + f"；起始层级 {tier.number}（{tier.name}）；时限策略 {sla}；优先级 {priority}。"
        )
    return "\n".join(lines)
