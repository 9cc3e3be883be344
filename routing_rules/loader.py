"""Loading a rule set: all of it or none of it (规则集加载).

``load_ruleset`` reads a file or a folder of ``*.yaml`` files, validates every part, checks every
name against the directory's vocabulary, and compiles. Any problem anywhere raises
:class:`SourceErrors` listing every problem found with its file and line; nothing is returned, so
a caller holding a running set keeps it (see :class:`ActiveRuleSet`).
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any, Callable

from .conditions import Condition, ConditionParser, Patterns
from .normalize import normalize_keyword
from .engine import CompiledRule, DecisionDefaults, Effect, RuleSet
from .language import Example, Rule, RuleFile, Scoring, SlaPolicy, Then
from .scoring import CompiledScoring
from .source import Document, SourceError, SourceErrors, read_document, validate
from .vocabulary import Tier, Vocabulary

DEFAULT_RULES = Path(__file__).parent / "luohe"


def rule_files(path: Path | str) -> list[Path]:
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            raise SourceErrors([SourceError(str(path), None, "no .yaml rule files in this folder")])
        return files
    if path.is_file():
        return [path]
    raise SourceErrors([SourceError(str(path), None, "no such file or folder")])


def ruleset_version(files: list[Path]) -> str:
    """Derived from the files' names and bytes: the same content is the same version."""
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def load_ruleset(path: Path | str, vocabulary: Vocabulary) -> RuleSet:
    files = rule_files(path)
    docs: list[tuple[Document, RuleFile]] = []
    errors: list[SourceError] = []
    for f in files:
        try:
            doc = read_document(f)
        except SourceErrors as exc:
            errors += exc.errors
            continue
        if not isinstance(doc.data, dict):
            errors.append(doc.error((), "a rule file is a mapping with defaults, sla_policies, rules, examples"))
            continue
        model, problems = validate(RuleFile, doc.data, doc)
        errors += problems
        if model is not None:
            docs.append((doc, model))
    if errors:
        raise SourceErrors(errors)
    return _Compiler(vocabulary).compile(docs, ruleset_version(files), tuple(str(f) for f in files))


class _Compiler:
    def __init__(self, vocabulary: Vocabulary):
        self.v = vocabulary
        self.errors: list[SourceError] = []
        self.patterns = Patterns()

    def _fail(self, doc: Document, path: tuple, reason: str) -> None:
        self.errors.append(doc.error(path, reason))

    def compile(self, docs: list[tuple[Document, RuleFile]], version: str, files: tuple[str, ...]) -> RuleSet:
        policies: dict[str, dict[int, Any]] = {}
        policy_docs: list[tuple[Document, str, SlaPolicy]] = []
        defaults_at: list[tuple[Document, Any]] = []
        for doc, model in docs:
            if model.defaults is not None:
                defaults_at.append((doc, model.defaults))
            for name, policy in model.sla_policies.items():
                if name in policies:
                    self._fail(doc, ("sla_policies", name), f"SLA policy '{name}' is defined twice")
                    continue
                policies[name] = {}
                policy_docs.append((doc, name, policy))
        for doc, name, policy in policy_docs:
            policies[name] = self._policy(doc, name, policy)

        defaults = self._defaults(defaults_at, docs, policies)
        scoring = self._scoring(docs)
        rules: list[CompiledRule] = []
        seen: dict[str, str] = {}
        examples: list[tuple[Example, str, int | None]] = []
        for doc, model in docs:
            for i, rule in enumerate(model.rules):
                path = ("rules", i)
                if rule.id in seen:
                    self._fail(doc, path + ("id",), f"duplicate rule id '{rule.id}' (first at {seen[rule.id]})")
                    continue
                seen[rule.id] = f"{doc.file}:{doc.line(path)}"
                parser = ConditionParser(doc, self.v, self.patterns)
                condition = parser.parse(rule.when, path + ("when",))
                self.errors += parser.errors
                effect = self._effect(doc, path + ("then",), rule.then, policies, stop=not rule.continue_)
                for j, example in enumerate(rule.examples):
                    self._check_example(doc, path + ("examples", j), example, policies)
                    examples.append((example, doc.file, doc.line(path + ("examples", j))))
                asks = self._asks(doc, path, rule, condition)
                if condition is not None and effect is not None:
                    rules.append(CompiledRule(len(rules), rule.id, rule.description, condition, effect,
                                              not rule.continue_, doc.file, doc.line(path), rule.weight, asks))
            for j, example in enumerate(model.examples):
                self._check_example(doc, ("examples", j), example, policies)
                examples.append((example, doc.file, doc.line(("examples", j))))
        if self.errors:
            raise SourceErrors(self.errors)
        assert defaults is not None
        return RuleSet(version=version, rules=rules, sla_policies=policies, defaults=defaults,
                       patterns=self.patterns.list(), vocabulary=self.v, files=files,
                       examples=tuple(examples), scoring=scoring)

    def _scoring(self, docs: list[tuple[Document, RuleFile]]) -> CompiledScoring:
        found = [(doc, model.scoring) for doc, model in docs if model.scoring is not None]
        for doc, _ in found[1:]:
            self._fail(doc, ("scoring",), f"'scoring' is given again (first in {found[0][0].file})")
        sc = found[0][1] if found else Scoring()
        doc = found[0][0] if found else None
        ids: dict[str, frozenset[int]] = {}
        for key in ("asks", "settled", "settled_after", "turns", "address", "thanks", "consequences", "still_wanted",
                    "helped", "offices", "declined", "story"):
            words = []
            for i, word in enumerate(getattr(sc, key)):
                if not normalize_keyword(word):
                    assert doc is not None
                    self._fail(doc, ("scoring", key, i), "empty word: remove it")
                else:
                    words.append(self.patterns.add(word))
            ids[key] = frozenset(words)
        w = sc.weights
        return CompiledScoring(ids["asks"], ids["settled"], sc.reach, w.title, w.ask, w.settled, w.aside,
                               sc.close_call.margin, sc.close_call.then, ids["settled_after"], ids["turns"],
                               ids["address"], w.addressed, ids["thanks"], ids["consequences"], w.consequence,
                               ids["still_wanted"], ids["helped"], ids["offices"], ids["declined"], ids["story"])

    def _asks(self, doc: Document, path: tuple, rule: Rule, condition: Condition | None) -> frozenset[int]:
        """An evidence rule's own ask words: each must be one of its keywords (unchecked when the
        condition itself failed to parse: its errors are reported already)."""
        if rule.weight is None:
            if rule.asks:
                self._fail(doc, path + ("asks",), "'asks' is for evidence rules: give the rule a 'weight' too")
            return frozenset()
        if rule.continue_ or rule.then.triage or not rule.then.lead:
            self._fail(doc, path + ("weight",), "an evidence rule (with 'weight') names a 'lead' and is not 'continue'")
        own = condition.keyword_ids() if condition is not None else None
        ids = []
        for i, word in enumerate(rule.asks):
            pid = self.patterns.ids.get(normalize_keyword(word))
            if own is not None and pid not in own:
                self._fail(doc, path + ("asks", i), f"ask word '{word}' is not one of this rule's keywords; add it to when.keywords")
            elif pid is not None:
                ids.append(pid)
        return frozenset(ids)

    def _tier(self, doc: Document, path: tuple, ref: Any) -> Tier | None:
        if isinstance(ref, str) and ref.isdigit():
            ref = int(ref)
        tier = None if isinstance(ref, bool) else self.v.tier(ref)
        if tier is None:
            self._fail(doc, path, f"unknown tier {ref!r}; tiers are {self.v.tier_refs()}")
        return tier

    def _name(self, doc: Document, path: tuple, value: str, known: Any, what: str) -> bool:
        if value in known:
            return True
        self._fail(doc, path, f"unknown {what} '{value}'; known: {', '.join(sorted(known))}")
        return False

    def _policy(self, doc: Document, name: str, policy: SlaPolicy) -> dict[int, Any]:
        out = {}
        base = ("sla_policies", name, "tiers")
        for ref, deadline in policy.tiers.items():
            tier = self._tier(doc, base + (ref,), ref)
            if tier is None:
                continue
            if tier.number in out:
                self._fail(doc, base + (ref,), f"tier {tier.number} is given twice in policy '{name}'")
            due, warn = deadline.due, deadline.warn
            if due.amount <= 0:
                self._fail(doc, base + (ref, "due"), "a deadline must be longer than zero")
            if warn is not None and warn.unit == due.unit and warn.amount >= due.amount:
                self._fail(doc, base + (ref, "warn"), f"warn ({warn}) must be shorter than due ({due})")
            for length in ("calendar_seconds", "office_seconds"):
                if warn is not None and getattr(due, length) and getattr(warn, length) \
                        and getattr(warn, length) >= getattr(due, length):
                    self._fail(doc, base + (ref, "warn"), f"warn ({warn}) must be shorter than due ({due})")
            out[tier.number] = deadline
        missing = [t.key for t in self.v.tiers if t.number not in out]
        if missing:
            self._fail(doc, base, f"SLA policy '{name}' gives no deadline for: {', '.join(missing)}")
        return out

    def _defaults(self, found: list, docs: list, policies: dict) -> DecisionDefaults | None:
        if not found:
            where = docs[0][0] if docs else Document("rules", None)
            self._fail(where, (), "the rule set has no 'defaults' (sla, and optionally tier, theme, priority)")
            return None
        for doc, _ in found[1:]:
            self._fail(doc, ("defaults",), f"'defaults' is given again (first in {found[0][0].file})")
        doc, d = found[0]
        tier = self._tier(doc, ("defaults", "tier"), d.tier)
        ok = self._name(doc, ("defaults", "sla"), d.sla, policies, "SLA policy")
        if d.theme is not None:
            ok &= self._name(doc, ("defaults", "theme"), d.theme, self.v.themes, "theme")
        return DecisionDefaults(tier, d.sla, d.theme, d.priority) if tier and ok else None

    def _effect(self, doc: Document, path: tuple, then: Then, policies: dict, stop: bool) -> Effect | None:
        n = len(self.errors)
        depts = self.v.departments
        if stop and not then.lead and not then.triage:
            self._fail(doc, path, "a rule without 'continue: true' must name a 'lead' department or set 'triage: true'")
        if then.lead and then.triage:
            self._fail(doc, path + ("triage",), "a rule cannot both name a lead and send the case to triage")
        if not stop and (then.lead or then.triage):
            key = "lead" if then.lead else "triage"
            self._fail(doc, path + (key,), f"a 'continue' rule may not set '{key}': only the first non-continue rule decides")
        if then.lead:
            self._name(doc, path + ("lead",), then.lead, depts, "department")
        for i, dept in enumerate(then.co):
            self._name(doc, path + ("co", i), dept, depts, "department")
        if then.sla is not None:
            self._name(doc, path + ("sla",), then.sla, policies, "SLA policy")
        if then.theme is not None:
            self._name(doc, path + ("theme",), then.theme, self.v.themes, "theme")
        for i, tag in enumerate(then.tags):
            if not tag.strip():
                self._fail(doc, path + ("tags", i), "empty tag")
        tier = self._tier(doc, path + ("tier",), then.tier) if then.tier is not None else None
        if len(self.errors) > n:
            return None
        return Effect(then.lead, then.co, tier, then.sla, then.theme, then.priority, then.tags, then.triage)

    def _check_example(self, doc: Document, path: tuple, example: Example, policies: dict) -> None:
        e = example.expect
        here = path + ("expect",)
        if e.lead is not None:
            self._name(doc, here + ("lead",), e.lead, self.v.departments, "department")
        for i, dept in enumerate(e.co or ()):
            self._name(doc, here + ("co", i), dept, self.v.departments, "department")
        if e.sla is not None:
            self._name(doc, here + ("sla",), e.sla, policies, "SLA policy")
        if e.theme is not None:
            self._name(doc, here + ("theme",), e.theme, self.v.themes, "theme")
        if e.tier is not None:
            self._tier(doc, here + ("tier",), e.tier)
        if e.lead is not None and e.triage:
            self._fail(doc, here, "an example cannot expect both a lead and triage")


class ActiveRuleSet:
    """The running rule set of a process, replaced atomically or not at all."""

    def __init__(self, loader: Callable[[], RuleSet]):
        self._loader = loader
        self._lock = threading.Lock()
        self._current = loader()

    @property
    def current(self) -> RuleSet:
        return self._current

    def reload(self) -> RuleSet:
        """Load anew; on :class:`SourceErrors` the running set stays and the errors propagate."""
        with self._lock:
            fresh = self._loader()
            self._current = fresh
            return fresh
