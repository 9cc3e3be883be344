"""Conditions of a rule's ``when`` (匹配条件): parsing, evaluation, explanation, indexing.

Each condition is a mapping with one key::

    all: [cond, ...]            every one holds
    any: [cond, ...]            at least one holds
    not: cond                   it does not hold
    category: [land, ...]       the case's category is one of these
    district: [yuanhui, ...]    the enterprise's county or district is one of these
    industry: [food, ...]       the enterprise's industry is one of these
    key_project_level: [municipal, provincial]
    whitelisted: true
    urgency: urgent
    amount: {gte: 1000000, lt: 50000000}       yuan
    keywords:                   on the normalised title and description
      any: [土地, 用地]          at least one appears
      all: [贷款, 抽贷]          every one appears
      none: [咨询]               none appears (the condition fails if one does)
      not_within: [抵押贷款]      a hit inside one of these longer words does not count
      (停~电: a ~ stands for up to three characters of the same clause — 停了三回电)
      field: text | title | description        (default: text, i.e. both)

A ``when`` that is a list means ``all`` of it.

Every keyword of every rule goes into one Aho–Corasick automaton (built by the engine); a
condition here only looks up the hits of its keywords by their pattern ids. ``guard`` gives, for
a condition, a set of tokens of which at least one must be present for it to hold, so the engine
can skip the rules a case cannot match.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, Iterable

from .normalize import normalize_keyword
from .source import Document, Path_, SourceError
from .vocabulary import KEY_PROJECT_LEVELS, URGENCIES, Vocabulary

FIELD_NAMES = {"text": "标题或描述", "title": "标题", "description": "描述"}
Token = tuple[str, Any]


class Facts:
    """A case prepared for matching: normalised text, keyword hits and attributes."""

    __slots__ = ("title", "description", "text", "title_len", "hits", "category", "district",
                 "industry", "key_project_level", "whitelisted", "urgency", "amount")

    def field_of(self, start: int) -> str:
        return "title" if start < self.title_len else "description"

    def context(self, start: int, end: int, width: int = 8) -> str:
        if start < self.title_len:
            lo, hi = 0, self.title_len
        else:
            lo, hi = self.title_len + 1, len(self.text)
        a, b = max(lo, start - width), min(hi, end + width)
        return ("…" if a > lo else "") + self.text[a:b] + ("…" if b < hi else "")


class Condition:
    def test(self, f: Facts) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:
        """The condition in words, for explanations of what did not hold."""
        raise NotImplementedError  # pragma: no cover

    def explain(self, f: Facts) -> list[dict]:
        """What held, for a condition that holds (called only for matched rules)."""
        raise NotImplementedError  # pragma: no cover

    def guard(self) -> frozenset[Token] | None:
        """Tokens of which one must be present for this to hold; ``None`` when there are none."""
        return None

    def evidence(self, f: Facts) -> list[tuple[int, int, int]]:
        """The keyword hits that made this hold, as (pattern id, start, end), for scoring."""
        return []

    def held_by_guard(self) -> bool:
        """Does any one of the guard's tokens, present, make this hold? Then a rule the index
        let through needs no test."""
        return False

    def keyword_ids(self) -> frozenset[int]:
        """The pattern ids whose hits can be evidence (``any`` and ``all`` words, not under ``not``)."""
        return frozenset()


@dataclass(frozen=True)
class All(Condition):
    items: tuple[Condition, ...]

    def test(self, f: Facts) -> bool:
        for c in self.items:
            if not c.test(f):
                return False
        return True

    def explain(self, f: Facts) -> list[dict]:
        return [w for c in self.items for w in c.explain(f)]

    def evidence(self, f: Facts) -> list[tuple[int, int, int]]:
        return [h for c in self.items for h in c.evidence(f)]

    def keyword_ids(self) -> frozenset[int]:
        return frozenset().union(*(c.keyword_ids() for c in self.items))

    def describe(self) -> str:
        return "（" + " 且 ".join(c.describe() for c in self.items) + "）"

    def guard(self) -> frozenset[Token] | None:
        guards = [g for g in (c.guard() for c in self.items) if g is not None]
        return min(guards, key=len) if guards else None


@dataclass(frozen=True)
class Any_(Condition):
    items: tuple[Condition, ...]

    def test(self, f: Facts) -> bool:
        for c in self.items:
            if c.test(f):
                return True
        return False

    def explain(self, f: Facts) -> list[dict]:
        return [w for c in self.items if c.test(f) for w in c.explain(f)]

    def evidence(self, f: Facts) -> list[tuple[int, int, int]]:
        return [h for c in self.items if c.test(f) for h in c.evidence(f)]

    def keyword_ids(self) -> frozenset[int]:
        return frozenset().union(*(c.keyword_ids() for c in self.items))

    def describe(self) -> str:
        return "（" + " 或 ".join(c.describe() for c in self.items) + "）"

    def guard(self) -> frozenset[Token] | None:
        guards = [c.guard() for c in self.items]
        if any(g is None for g in guards):
            return None
        return frozenset().union(*guards)


@dataclass(frozen=True)
class Not(Condition):
    item: Condition

    def test(self, f: Facts) -> bool:
        return not self.item.test(f)

    def explain(self, f: Facts) -> list[dict]:
        return [{"kind": "not", "text": "不满足：" + self.item.describe()}]

    def describe(self) -> str:
        return "非" + self.item.describe()


@dataclass(frozen=True)
class Attribute(Condition):
    """category, district, industry, key_project_level, urgency: the value is one of a list."""

    name: str
    values: frozenset[str]
    label: str

    def test(self, f: Facts) -> bool:
        return getattr(f, self.name) in self.values

    def explain(self, f: Facts) -> list[dict]:
        value = getattr(f, self.name)
        return [{"kind": self.name, "value": value, "text": f"{self.label}为 {value}"}]

    def describe(self) -> str:
        return f"{self.label}属于 {', '.join(sorted(self.values))}"

    def guard(self) -> frozenset[Token] | None:
        if self.name in ("category", "district"):
            return frozenset((self.name, v) for v in self.values)
        return None


@dataclass(frozen=True)
class Whitelisted(Condition):
    value: bool

    def test(self, f: Facts) -> bool:
        return bool(f.whitelisted) is self.value

    def explain(self, f: Facts) -> list[dict]:
        return [{"kind": "whitelisted", "value": self.value, "text": self.describe()}]

    def describe(self) -> str:
        return "企业在白名单内" if self.value else "企业不在白名单内"


_OPS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "gt": (lambda a, b: a > b, ">"),
    "gte": (lambda a, b: a >= b, "≥"),
    "lt": (lambda a, b: a < b, "<"),
    "lte": (lambda a, b: a <= b, "≤"),
}


@dataclass(frozen=True)
class Amount(Condition):
    bounds: tuple[tuple[str, float], ...]

    def test(self, f: Facts) -> bool:
        if f.amount is None:
            return False
        return all(_OPS[op][0](f.amount, limit) for op, limit in self.bounds)

    def explain(self, f: Facts) -> list[dict]:
        return [{"kind": "amount", "value": f.amount, "text": f"金额 {f.amount:g} 元，{self.describe()}"}]

    def describe(self) -> str:
        return "金额" + "且".join(f"{_OPS[op][1]} {limit:g} 元" for op, limit in self.bounds)


@dataclass(frozen=True, eq=False)
class Keywords(Condition):
    """Keyword tests on pattern ids; ``words`` maps an id back to the keyword as written."""

    any: tuple[int, ...]
    all: tuple[int, ...]
    none: tuple[int, ...]
    not_within: tuple[int, ...]
    field: str
    words: dict[int, str]

    def _spans(self, f: Facts, pid: int) -> list[tuple[int, int]]:
        spans = f.hits.get(pid)
        if not spans:
            return []
        if self.field != "text":
            spans = [s for s in spans if f.field_of(s[0]) == self.field]
        if self.not_within and spans:
            outer = [o for w in self.not_within for o in f.hits.get(w, ())]
            spans = [s for s in spans if not any(o[0] <= s[0] and s[1] <= o[1] and o != s for o in outer)]
        return spans

    def _present(self, f: Facts, pid: int) -> bool:
        if pid not in f.hits:
            return False
        if self.field == "text" and not self.not_within:
            return True
        return bool(self._spans(f, pid))

    def test(self, f: Facts) -> bool:
        for pid in self.none:
            if pid in f.hits and (self.field == "text" or any(f.field_of(s) == self.field for s, _ in f.hits[pid])):
                return False
        for pid in self.all:
            if not self._present(f, pid):
                return False
        if self.any:
            if self.field == "text" and not self.not_within:
                return not self._any_set.isdisjoint(f.hits)
            return any(self._present(f, pid) for pid in self._any_set.intersection(f.hits))
        return True

    @cached_property
    def _any_set(self) -> frozenset[int]:
        return frozenset(self.any)

    def _occurred(self, hits: dict) -> list[int]:
        """The condition's words that occurred, in the condition's order (a department rule has
        dozens of words, a case a handful of hits: intersect, don't walk the words)."""
        found = self._positive_set.intersection(hits)
        return sorted(found, key=self._order.__getitem__) if len(found) > 1 else list(found)

    def explain(self, f: Facts) -> list[dict]:
        out = []
        for pid in self._occurred(f.hits):
            for start, end in self._spans(f, pid):
                fld = f.field_of(start)
                offset = start if fld == "title" else start - f.title_len - 1
                context = f.context(start, end)
                out.append({
                    "kind": "keyword", "keyword": self.words[pid], "field": fld, "at": offset,
                    "context": context, "text": f"{FIELD_NAMES[fld]}中出现「{self.words[pid]}」：{context}",
                })
        return out

    def evidence(self, f: Facts) -> list[tuple[int, int, int]]:
        return [(pid, s, e) for pid in self._occurred(f.hits) for s, e in self._spans(f, pid)]

    @cached_property
    def _positive(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(self.all + self.any))

    @cached_property
    def _positive_set(self) -> frozenset[int]:
        return frozenset(self._positive)

    @cached_property
    def _order(self) -> dict[int, int]:
        return {pid: i for i, pid in enumerate(self._positive)}

    def keyword_ids(self) -> frozenset[int]:
        return frozenset(self._positive)

    def describe(self) -> str:
        parts = []
        if self.any:
            parts.append("出现任一：" + "、".join(self.words[p] for p in self.any))
        if self.all:
            parts.append("同时出现：" + "、".join(self.words[p] for p in self.all))
        return FIELD_NAMES[self.field] + "中" + "；".join(parts)

    def held_by_guard(self) -> bool:
        return bool(self.any) and not (self.all or self.none or self.not_within) and self.field == "text"

    def guard(self) -> frozenset[Token] | None:
        if self.all:
            # Any one of the required words will do; the longest is usually the rarest.
            longest = max(self.all, key=lambda p: len(self.words[p]))
            return frozenset({("kw", longest)})
        return frozenset(("kw", p) for p in self.any)


class Patterns:
    """The keyword table shared by all rules of a set: normalised keyword → pattern id."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.words: dict[int, str] = {}

    def add(self, keyword: str) -> int:
        norm = normalize_keyword(keyword)
        pid = self.ids.setdefault(norm, len(self.ids))
        self.words.setdefault(pid, keyword)
        return pid

    def list(self) -> list[str]:
        return sorted(self.ids, key=self.ids.__getitem__)


_ATTRIBUTES = {
    "category": "类别",
    "district": "所在县区",
    "industry": "行业",
    "key_project_level": "重点项目级别",
    "urgency": "紧急程度",
}
KINDS = ("all", "any", "not", *_ATTRIBUTES, "whitelisted", "amount", "keywords")
_KEYWORD_FIELDS = ("any", "all", "none", "not_within", "field")


class ConditionParser:
    """Turns ``when`` data into conditions, collecting every error with its line."""

    def __init__(self, doc: Document, vocabulary: Vocabulary, patterns: Patterns):
        self.doc, self.vocabulary, self.patterns = doc, vocabulary, patterns
        self.errors: list[SourceError] = []

    def _fail(self, path: Path_, reason: str) -> None:
        self.errors.append(self.doc.error(path, reason))

    def parse(self, node: Any, path: Path_) -> Condition | None:
        if isinstance(node, list):
            return self._group(All, node, path)
        if not isinstance(node, dict) or len(node) != 1:
            self._fail(path, f"a condition is a mapping with exactly one of: {', '.join(KINDS)}")
            return None
        ((kind, value),) = node.items()
        here = path + (kind,)
        if kind == "all":
            return self._group(All, value, here)
        if kind == "any":
            return self._group(Any_, value, here)
        if kind == "not":
            inner = self.parse(value, here)
            return Not(inner) if inner else None
        if kind in _ATTRIBUTES:
            return self._attribute(kind, value, here)
        if kind == "whitelisted":
            if not isinstance(value, bool):
                self._fail(here, "whitelisted takes true or false")
                return None
            return Whitelisted(value)
        if kind == "amount":
            return self._amount(value, here)
        if kind == "keywords":
            return self._keywords(value, here)
        self._fail(here, f"unknown condition '{kind}'; use one of: {', '.join(KINDS)}")
        return None

    def _group(self, cls: type, value: Any, path: Path_) -> Condition | None:
        if not isinstance(value, list) or not value:
            self._fail(path, "expects a non-empty list of conditions")
            return None
        items = [self.parse(v, path + (i,)) for i, v in enumerate(value)]
        if any(c is None for c in items):
            return None
        return items[0] if len(items) == 1 else cls(tuple(items))

    def _attribute(self, kind: str, value: Any, path: Path_) -> Condition | None:
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) and v.strip() for v in values):
            self._fail(path, f"{kind} takes a name or a list of names")
            return None
        known: Iterable[str] | None = {
            "category": self.vocabulary.categories,
            "district": self.vocabulary.districts,
            "key_project_level": KEY_PROJECT_LEVELS,
            "urgency": URGENCIES,
        }.get(kind)
        ok = True
        for i, v in enumerate(values):
            if known is not None and v not in known:
                where = path + (i,) if isinstance(value, list) else path
                self._fail(where, f"unknown {kind} '{v}'; known: {', '.join(sorted(known))}")
                ok = False
        return Attribute(kind, frozenset(values), _ATTRIBUTES[kind]) if ok else None

    def _amount(self, value: Any, path: Path_) -> Condition | None:
        if not isinstance(value, dict) or not value:
            self._fail(path, "amount takes comparisons, e.g. {gte: 1000000}; operators: gt, gte, lt, lte")
            return None
        bounds = []
        for op, limit in value.items():
            if op not in _OPS:
                self._fail(path + (op,), f"unknown comparison '{op}'; use gt, gte, lt or lte")
            elif isinstance(limit, bool) or not isinstance(limit, (int, float)):
                self._fail(path + (op,), f"amount {op} takes a number of yuan, got {limit!r}")
            else:
                bounds.append((op, float(limit)))
        return Amount(tuple(bounds)) if len(bounds) == len(value) else None

    def _keywords(self, value: Any, path: Path_) -> Condition | None:
        if not isinstance(value, dict):
            self._fail(path, "keywords takes a mapping with any / all / none / not_within / field")
            return None
        ok = True
        for key in value:
            if key not in _KEYWORD_FIELDS:
                self._fail(path + (key,), f"unknown field '{key}' in keywords; use {', '.join(_KEYWORD_FIELDS)}")
                ok = False
        field = value.get("field", "text")
        if field not in FIELD_NAMES:
            self._fail(path + ("field",), f"field must be text, title or description, got {field!r}")
            ok = False
        lists: dict[str, tuple[int, ...]] = {}
        for key in ("any", "all", "none", "not_within"):
            words = value.get(key, [])
            if not isinstance(words, list):
                self._fail(path + (key,), f"keywords.{key} takes a list of words")
                ok = False
                continue
            ids = []
            for i, word in enumerate(words):
                if not isinstance(word, (str, int)) or isinstance(word, bool):
                    self._fail(path + (key, i), f"a keyword must be text, got {word!r}")
                    ok = False
                elif not normalize_keyword(str(word)):
                    self._fail(path + (key, i), "empty keyword: it matches everything; remove it")
                    ok = False
                elif "~" in normalize_keyword(str(word)) and not all(normalize_keyword(str(word)).split("~")):
                    self._fail(path + (key, i), f"'{word}': a '~' stands between two parts of a word (停~电); "
                                                "write something on both sides and one '~' at a time")
                    ok = False
                else:
                    ids.append(self.patterns.add(str(word)))
            lists[key] = tuple(dict.fromkeys(ids))
        if ok and not lists["any"] and not lists["all"]:
            self._fail(path, "keywords needs a non-empty 'any' or 'all' list")
            ok = False
        if not ok:
            return None
        return Keywords(lists["any"], lists["all"], lists["none"], lists["not_within"], field,
                        self.patterns.words)
