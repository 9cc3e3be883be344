"""Weighing the evidence (证据计分): which department the demand is really asking of.

First-match routing lets the first strong keyword win whatever the enterprise asks for: 锅炉 in
"燃煤锅炉改燃气后排污许可证要重新申领" sent an emissions-permit request to the special-equipment
desk. Evidence rules (rules with a ``weight``) therefore do not decide alone. Every one that
matches gives its department the keyword hits that made it hold, and each hit is weighed by
where it stands:

- **what is asked** (``ask``): a hit near one of the set's ask words in its clause (申请, 办理,
  拖欠, 未到账…), fading over ``reach`` characters, or a hit on one of the rule's own ``asks``
  (招聘 for human resources: the word is the ask);
- **the one addressed** (``addressed``, in place of ``ask``): a hit right after one of the
  set's ``address`` words, at most one character between (请税务局, 恳请市发改委, 请问商务局): the
  enterprise names whom it asks (an address word inside another ask word, 请 in 申请, is not one);
- **the title** (``title``) more than the description;
- **specific** more than general: a longer keyword weighs more (two characters 1, each further
  character a quarter more, at most 2), and hits of one department side by side (市政排水管网)
  are one phrase, as strong as its strongest word;
- **settled or not at issue** (``settled``): after 已取得, 已办结, 不涉及… in the same clause, or
  before a ``settled_after`` word (土地证都齐了, …先不急) — unless a ``turns`` word (而是, 但)
  stands between: 不是用地问题，而是图审 settles 用地, not 图审; an ask word inside a settled
  word (解决 in 已解决, 到账 in 已到账) asks nothing;
- **an aside** (``aside``): inside brackets, where enterprises put details, or one item of an
  enumeration (用地、用能、电力、环评: each a part of what is asked, not the ask).
- **what suffers** (``consequence``): a phrase right before a ``consequences`` word, or inside
  one (子女入学受阻, 银行不放款): the effect of another thing left undone, which is the ask
  (土地证未更名，续贷受阻 asks for the certificate); no ask word near it makes it the ask.
- **a story** (``aside``): a sentence that tells the firm's past (``story``: 那时候, 早些年) and
  asks nothing — the years a firm tells of name old troubles (生怕停电) that are not its ask.
- **an office that turned the enterprise away** (``offices`` before ``declined`` in a sentence:
  问了发改委，他们说找别的部门): every mention of it weighs ``settled``; its duty's words still count.
- **named only** (``offices``): a department whose every hit is an office's name, none of its
  duty's words: its names weigh as mentions, without the ask's or the address's weight
  (出口退税很慢，请财政局催一下: the tax bureau's duty, the fiscal bureau only named).

A department's score is its phrases' weights, the strongest counted in full, the next half,
the third a third…, so ten synonyms of one thing do not outweigh one clear ask. The highest
score leads; a runner-up within ``close_call.margin`` becomes a co-handling unit or sends the
case to triage, as the set's ``scoring`` says. Thanks or praise with nothing asked of anyone
(``thanks``: :func:`thanks_only`) goes to triage too. All of it is a pure function of the case.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

from .conditions import Facts

if TYPE_CHECKING:  # pragma: no cover
    from .engine import CompiledRule


class rendered:  # noqa: N801 - used as a decorator, like the property it stands for
    """``functools.cached_property`` without its lock (Python 3.11 takes one at every first read):
    for what a decision renders when first read (explanation, scores, phrases), a few times per
    decision, each read in the one thread that routed it."""

    def __init__(self, fn: Any):
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)  # the instance's own value hides this from now on
        return value

_MOST_HITS = 64  # hits of one rule weighed: a word said a hundred times is no more the ask
# Clause ends after normalisation (NFKC has turned full-width ，；：！？ into ASCII); the engine's
# gap keywords (停~电) do not reach across them either.
CLAUSE_ENDS = ",.;:!?\n。"
_CLAUSE_END = re.compile(f"[{re.escape(CLAUSE_ENDS)}]")
_OPEN = "([【〔"
_ANY_OPEN = re.compile(r"[(\[【〔]")
_BRACKET = re.compile(r"[(\[【〔)\]】〕]")


# the scoring's word lists, as bits of one table from pattern id (CompiledScoring.kinds)
_ASK, _SETTLED, _AFTER, _TURN, _ADDRESS, _ASK_NOT_ADDRESS, _THANKS, _CONSEQUENCE = 1, 2, 4, 8, 16, 32, 64, 128
_STILL_WANTED, _HELPED, _OFFICE, _DECLINED, _STORY = 256, 512, 1024, 2048, 4096


@dataclass(frozen=True)
class CompiledScoring:
    asks: frozenset[int]
    settled: frozenset[int]
    reach: int = 8
    title: float = 2.0
    ask: float = 2.0
    settled_weight: float = 0.3
    aside: float = 0.5
    margin: float = 0.15
    close_then: str = "co"
    settled_after: frozenset[int] = frozenset()
    turns: frozenset[int] = frozenset()
    address: frozenset[int] = frozenset()
    addressed: float = 1.0
    thanks: frozenset[int] = frozenset()
    consequences: frozenset[int] = frozenset()
    consequence: float = 1.0
    still_wanted: frozenset[int] = frozenset()
    helped: frozenset[int] = frozenset()
    offices: frozenset[int] = frozenset()
    declined: frozenset[int] = frozenset()
    story: frozenset[int] = frozenset()

    @cached_property
    def kinds(self) -> dict[int, int]:
        """Pattern id → which of the scoring's word lists it is in (bits, see :func:`_marks`)."""
        kinds: dict[int, int] = {}
        for words, bit in ((self.asks, _ASK), (self.settled, _SETTLED), (self.settled_after, _AFTER),
                           (self.turns, _TURN), (self.address, _ADDRESS), (self.asks - self.address, _ASK_NOT_ADDRESS),
                           (self.thanks, _THANKS), (self.consequences, _CONSEQUENCE),
                           (self.still_wanted, _STILL_WANTED), (self.helped, _HELPED),
                           (self.offices, _OFFICE), (self.declined, _DECLINED),
                           (self.story, _STORY)):
            for pid in words:
                kinds[pid] = kinds.get(pid, 0) | bit
        return kinds


class Phrase(NamedTuple):
    """One piece of evidence: a run of a department's keyword hits side by side."""

    text: str
    field: str
    weight: float
    notes: tuple[str, ...]
    asked: bool = False  # some hit of it is the ask, near one, or one itself, and not settled

    def to_dict(self) -> dict[str, Any]:
        return {"phrase": self.text, "field": self.field, "weight": round(self.weight, 2), "notes": list(self.notes)}


@dataclass(eq=False)
class DepartmentScore:
    department: str
    score: float
    weighed: tuple[tuple[float, int, int, int], ...]  # its phrases as (weight, start, end, bits), strongest first
    rules: tuple["CompiledRule", ...]
    facts: Facts

    @rendered
    def phrases(self) -> tuple[Phrase, ...]:
        """The phrases as the explanation shows them (made when read: most decisions are not)."""
        return tuple(_phrase(self.facts, p) for p in self.weighed)

    def asked(self) -> bool:
        """Some phrase is the ask, near one, addressed or an ask word itself, and not settled (or
        the department comes from what the enterprise chose)."""
        return any(start < 0 or bits & _ASKED for _, start, _, bits in self.weighed)

    def to_dict(self) -> dict[str, Any]:
        return {"department": self.department, "score": round(self.score, 2),
                "rules": [r.id for r in self.rules], "evidence": [p.to_dict() for p in self.phrases]}


def specificity(length: int) -> float:
    return min(1.0 + 0.25 * max(length - 2, 0), 2.0)


_SPECIFIC = tuple(specificity(n) for n in range(7))  # by length, capped: from 6 characters on it is 2.0


class _Layout:
    """Where the case's clauses and brackets are, computed once per scored case."""

    def __init__(self, text: str):
        self.ends = [m.start() for m in _CLAUSE_END.finditer(text)]
        inside: list[tuple[int, int]] = []
        if _ANY_OPEN.search(text):
            opened = None
            for m in _BRACKET.finditer(text):
                if m.group() in _OPEN:
                    opened = m.start() if opened is None else opened
                elif opened is not None:
                    inside.append((opened, m.start()))
                    opened = None
        self.brackets = inside

    def clause(self, pos: int) -> int:
        return bisect_right(self.ends, pos)

    def aside(self, start: int, end: int) -> bool:
        i = bisect_right(self.brackets, (start, -1)) - 1  # the last bracket opened before the hit
        return i >= 0 and end <= self.brackets[i][1]


_LONGEST_WORD = 12  # ask and settled words are short; the window below looks this far back


class _Words:
    """Hits of the scoring's ask or settled words, sorted, with their starts for bisecting."""

    __slots__ = ("spans", "starts")

    def __init__(self, spans: list[tuple[int, int]]):
        spans.sort()
        self.spans = spans
        self.starts = [a for a, _ in spans]

    def without(self, unless: "_Words") -> "_Words":
        """These words but those inside one of ``unless``'s hits."""
        if not unless.spans or not self.spans:
            return self
        return _Words([(s, e) for s, e in self.spans if not unless.covers(s, e)])

    def covers(self, s: int, e: int) -> bool:
        return any(a <= s and e <= b for a, b in self.near(s - _LONGEST_WORD, s))

    def near(self, lo: int, hi: int) -> list[tuple[int, int]]:
        return self.spans[bisect_left(self.starts, lo):bisect_right(self.starts, hi)]


def _ask_factor(s: int, e: int, asks: _Words, layout: _Layout, sc: CompiledScoring) -> float:
    clause = layout.clause(s)
    best = 0.0
    for a_s, a_e in asks.near(s - sc.reach - _LONGEST_WORD, e + sc.reach):
        if a_s < e and s < a_e:
            # the hit is itself an ask word (拨付, 拖欠): the predicate, not what it is about, so
            # the ask words beside it (迟迟未拨付) do not make it more the ask
            return 1.0
        if layout.clause(a_s) != clause:
            continue
        gap = a_s - e if a_s >= e else s - a_e
        best = max(best, 1.0 - gap / sc.reach)
    return 1.0 + (sc.ask - 1.0) * best if best > 0 else 1.0


def _settled(s: int, e: int, settled: _Words, after: _Words, turns: _Words, layout: _Layout,
             sc: CompiledScoring) -> bool:
    """Done or not at issue: a settled word before the hit, or a settled-after word behind it, in
    its clause within ``reach`` — unless a turn (而是, 但…) stands between them."""
    clause = layout.clause(s)

    def turned(lo: int, hi: int) -> bool:
        return any(lo <= t_s and t_e <= hi for t_s, t_e in turns.near(lo, hi))

    for a_s, a_e in settled.near(s - sc.reach - _LONGEST_WORD, s):
        if a_e <= s and s - a_e <= sc.reach and layout.clause(a_s) == clause and not turned(a_e, s):
            return True
    for a_s, a_e in after.near(e, e + sc.reach):
        if a_s >= e and layout.clause(a_s) == clause and not turned(e, a_s):
            return True
    return False


_ADDRESS_GAP = 1  # 请市发改委: one character (市, 贵) may stand between the address word and the name


def _addressed(s: int, text: str, address: _Words) -> bool:
    """Right after an address word (请, 恳请…), nothing but a character of the name between."""
    return any(a_e <= s and s - a_e <= _ADDRESS_GAP and not _CLAUSE_END.search(text, a_e, s)
               for _, a_e in address.near(s - _ADDRESS_GAP - _LONGEST_WORD, s))


# why a hit weighs what it does, as bits while scoring and as words in the explanation
_NOTES = ((1, "标题"), (2, "诉求"), (4, "近诉求"), (8, "已办或无关"), (16, "括号内"), (32, "列举"), (64, "条件"), (128, "点名"),
          (1024, "后果"), (2048, "已推辞"), (4096, "往事"), (8192, "只点名"))
_SHOWN_BITS = 255 | 1024 | 2048 | 4096 | 8192
_NOTE_NAMES = {n: tuple(name for bit, name in _NOTES if n & bit) for n in range(16384) if n & ~_SHOWN_BITS == 0}
_SHOWN = 3  # departments explained: the winner, the runner-up and one more
_IS_ASK, _ASKED = 256, 512  # bits not shown as notes: the hit is an ask word; some hit is asked, unsettled
_WAS_DECLINED = 2048  # the hit names an office that turned the enterprise away
_IN_STORY = 4096  # the hit stands in a sentence that tells the firm's past (_stories)
_NAMED_ONLY = 8192  # the department is named (财政局) but none of its duty's words occur (_named_only)


def thanks_only(f: Facts, scores: list[DepartmentScore], sc: CompiledScoring) -> bool:
    """Thanks or praise (one of the set's ``thanks`` words) and nothing asked of anyone: no hit of
    a department is the ask, near one, addressed or an ask word itself, and no ask word stands
    anywhere unsettled (窗口…一次就帮我们办完了，点个赞). What the thanks are for names a
    department; it is not a demand of it."""
    if not sc.thanks or f.hits.keys().isdisjoint(sc.thanks):
        return False
    if any(d.asked() for d in scores):
        return False
    # nor anything asked in words no department's rule holds (谢谢。现在最缺的是人，缝纫工还差80个):
    # every ask word of the text must be settled
    settled, after, turns, asks = _marks(f, sc)[:4]
    layout = _Layout(f.text)
    return all(_settled(a_s, a_e, settled, after, turns, layout, sc) for a_s, a_e in asks.spans)




class _Marks(NamedTuple):
    settled: _Words
    after: _Words
    turns: _Words
    asks: _Words
    address: _Words | None
    consequences: _Words
    thanks: list[tuple[int, int]]
    letter: list[tuple[int, int]]  # a letter of thanks: the sentences that tell what the thanks are for
    declined: _Words  # every mention of an office that turned the enterprise away (_declined)
    stories: list[tuple[int, int]]  # the sentences that tell the firm's past and ask nothing (_stories)
    names: _Words  # every mention of an office by its name (商务局, 财政局): a department named, not its duty


def _marks(f: Facts, sc: CompiledScoring) -> _Marks:
    """The case's settled, settled-after, turn, ask and address words, in one pass over its hits.

    An ask word inside a settled one (解决 in 已解决, 到账 in 已到账) says it is done, not asked,
    and so does one in a clause of thanks (感谢…帮我们解决停电问题); an address word inside another
    ask word (请 in 申请) addresses no one."""
    kinds = sc.kinds
    found: dict[int, list[tuple[int, int]]] = {}
    for pid, spans in f.hits.items():
        bits = kinds.get(pid)
        if bits:
            for bit in _BITS[bits]:
                got = found.get(bit)
                if got is None:
                    found[bit] = list(spans)
                else:
                    got += spans
    if not found:  # most texts hold none of the scoring's words
        return _NO_MARKS
    settled, after = _words(found.get(_SETTLED)), _words(found.get(_AFTER))
    either = _Words(found[_SETTLED] + found[_AFTER]) if after.spans and settled.spans else \
        (settled if settled.spans else after)
    address = None
    if sc.address:
        address = _words(found.get(_ADDRESS)).without(_words(found.get(_ASK_NOT_ADDRESS)))
    asks = _words(found.get(_ASK)).without(either)
    letter: list[tuple[int, int]] = []
    if _THANKS in found:
        if _HELPED in found:
            letter = _letter_of_thanks(f, found[_THANKS], asks, address, found.get(_STILL_WANTED, ()),
                                       found[_HELPED])
        if asks.spans:
            asks = _thanked_for(f.text, asks, found[_THANKS], address, letter)
    declined = _declined(f, found[_DECLINED], kinds) if _DECLINED in found and _OFFICE in found else _NONE
    stories = _stories(f.text, found[_STORY], asks) if _STORY in found else []
    return _Marks(settled, after, _words(found.get(_TURN)), asks, address, _words(found.get(_CONSEQUENCE)),
                  found.get(_THANKS, []), letter, declined, stories, _words(found.get(_OFFICE)))


_NONE = _Words([])
_NO_MARKS = _Marks(_NONE, _NONE, _NONE, _NONE, _NONE, _NONE, [], [], _NONE, [], _NONE)


def _words(spans: list[tuple[int, int]] | None) -> _Words:
    return _Words(spans) if spans else _NONE


_BITS = tuple(tuple(b for b in (_ASK, _SETTLED, _AFTER, _TURN, _ADDRESS, _ASK_NOT_ADDRESS, _THANKS, _CONSEQUENCE,
                                 _STILL_WANTED, _HELPED, _OFFICE, _DECLINED, _STORY) if n & b) for n in range(8192))
_SENTENCE_END = re.compile(r"[.;!?\n。]")


def _declined(f: Facts, declined: list[tuple[int, int]], kinds: dict[int, int]) -> _Words:
    """The offices that turned the enterprise away: an office word (商务局) before a ``declined``
    word (不归他们管, 找别的部门) in one sentence — 去问发改委，他们说审批的事找别的部门. Returns
    every mention of those offices, the title's too: the enterprise has said that office is not
    the one, so naming it is no evidence for it. What the office does (its duty's words) still
    counts: 欠薪找人社局，人社局说不归他们管 still goes to human resources, for 欠薪."""
    text = f.text
    offices = [(pid, s, e) for pid, spans in f.hits.items() if kinds.get(pid, 0) & _OFFICE for s, e in spans]
    turned_away = set()
    for d_s, _ in declined:
        ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, d_s)]
        start = ends[-1] if ends else 0
        turned_away.update(pid for pid, s, e in offices if start <= s and e <= d_s)
    return _Words([(s, e) for pid, s, e in offices if pid in turned_away]) if turned_away else _NONE


def _stories(text: str, story: list[tuple[int, int]], asks: _Words) -> list[tuple[int, int]]:
    """The sentences that tell the firm's past (最早那几年库里就两台压缩机，夜里我自己守着，生怕停电把
    客户的货化了。): a ``story`` word in them and no ask word. Enterprises that dictate their letters
    tell their years first; the troubles of those years are not what they ask now. A sentence
    that asks (那时候申请的补贴至今未到账) is no story."""
    told = []
    for s, _ in story:
        ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, s)]
        start = ends[-1] if ends else 0
        end = _SENTENCE_END.search(text, s)
        stop = end.end() if end else len(text)
        if (start, stop) not in told and not asks.near(start, stop - 1):
            told.append((start, stop))
    return told


def _letter_of_thanks(f: Facts, thanks: list[tuple[int, int]], asks: _Words, address: _Words | None,
                      still_wanted, helped) -> list[tuple[int, int]]:
    """A letter of thanks (表扬首席服务官; 关于对服务工作表示感谢的函): its title is one clause
    that thanks or praises and asks nothing — no address word, no unsettled ask word before the
    thanks. The sentences of its description that tell of help (帮, 协调, 走访: 去年办证、招工，
    都是他帮着协调的) tell what the thanks are for, until the letter addresses someone (恳请,
    希望) or turns to what is still wanted (但是, 现在, 急需). Returns those sentences' spans."""
    title_len, text = f.title_len, f.text
    first = min((s for s, e in thanks if e <= title_len), default=None)
    if first is None or _CLAUSE_END.search(text, 0, title_len):
        return []
    if address is not None and any(s < title_len for s, _ in address.spans):
        return []
    if any(s < first for s, _ in asks.spans):
        return []
    ends = [s for s, _ in (address.spans if address is not None else ()) if s > title_len]
    ends += [s for s, _ in still_wanted if s > title_len]
    until = min(ends, default=len(text))
    told = []
    start = title_len + 1
    while start < until:
        end = _SENTENCE_END.search(text, start, until)
        stop = end.end() if end else until
        if any(start <= s < stop for s, _ in helped):
            told.append((start, stop))
        start = stop
    return told


def _told(pos: int, letter: list[tuple[int, int]]) -> bool:
    return any(s <= pos < e for s, e in letter)


def _thanked(text: str, pos: int, thanks: list[tuple[int, int]], address: _Words | None) -> bool:
    """Is ``pos`` in a clause of thanks: after a thanks word in its clause (感谢首席服务官帮我们解决
    停电问题), with no address word between that asks anew (感谢关心，恳请…)? What stands there is
    what the thanks are for."""
    for t_s, t_e in thanks:
        if t_e <= pos and not _CLAUSE_END.search(text, t_e, pos) and not (
                address is not None and any(t_e <= b_s for b_s, _ in address.near(t_e, pos))):
            return True
    return False


def _thanked_for(text: str, asks: _Words, thanks: list[tuple[int, int]], address: _Words | None,
                 letter: list[tuple[int, int]]) -> _Words:
    """Without the ask words that say what the thanks are for: in a clause of thanks, or told in a
    letter of thanks (_letter_of_thanks)."""
    kept = [(s, e) for s, e in asks.spans if not (_told(s, letter) or _thanked(text, s, thanks, address))]
    return asks if len(kept) == len(asks.spans) else _Words(kept)


def weigh(f: Facts, pooled: list["CompiledRule"], sc: CompiledScoring) -> list[DepartmentScore]:
    """Score every department that a matched evidence rule supports; the best three, best first
    (ties: rule order)."""
    title_len, text = f.title_len, f.text
    settled, after, turns, asks, address, consequences, thanks, letter, declined, stories, names = _marks(f, sc)
    layout = _Layout(text) if asks.spans or settled.spans or after.spans or _ANY_OPEN.search(text) else None
    half_ask = (1 + sc.ask) / 2
    # per department: (start, end, weight, note bits, weight as a mention), and its rules in order
    hits: dict[str, list[tuple[int, int, float, int, float]]] = {}
    rules: dict[str, list["CompiledRule"]] = {}
    for rule in pooled:
        spans = rule.condition.evidence(f)[:_MOST_HITS]
        dept = rule.effect.lead
        assert dept is not None and rule.weight is not None
        rules.setdefault(dept, []).append(rule)
        found = hits.setdefault(dept, [])
        if not spans:  # a rule on attributes only (category, district): one plain piece of evidence
            found.append((-1, -1, rule.weight, 64, rule.weight))
        for pid, s, e in spans:
            w = rule.weight * _SPECIFIC[min(e - s, 6)]
            bits = 0
            if s < title_len:
                w *= sc.title
                bits = 1
            plain = w  # before the ask's weight: what the hit weighs as a mention (a consequence; a name only)
            if declined.spans and declined.covers(s, e):
                w *= sc.settled_weight  # named as the office that said it is not theirs: not at issue
                plain *= sc.settled_weight
                bits |= _WAS_DECLINED
            elif address is not None and address.spans and _addressed(s, text, address):
                w *= sc.addressed  # the one asked, named: in place of the ask's weight
                bits |= 128
            elif pid in rule.asks and not (thanks and (_told(s, letter) or _thanked(text, s, thanks, address))):
                w *= sc.ask
                bits |= 2
            elif asks.spans:
                factor = _ask_factor(s, e, asks, layout, sc)
                if factor > 1.0:
                    w *= factor
                    bits |= 2 if factor >= half_ask else 4
                elif any(a_s <= s and e <= a_e or s <= a_s and a_e <= e for a_s, a_e in asks.near(s - _LONGEST_WORD, e)):
                    bits |= _IS_ASK  # the hit is an ask word itself (拨付): asked, weighed as a mention
            if (settled.spans or after.spans) and not bits & _WAS_DECLINED and \
                    _settled(s, e, settled, after, turns, layout, sc):  # a declined office weighs settled once
                w *= sc.settled_weight
                plain *= sc.settled_weight
                bits |= 8
            elif bits & (2 | 4 | 128 | _IS_ASK):
                bits |= _ASKED
            if layout is not None and layout.brackets and layout.aside(s, e):
                w *= sc.aside
                plain *= sc.aside
                bits |= 16
            elif _listed(text, s, e):
                w *= sc.aside
                plain *= sc.aside
                bits |= 32
            elif stories and _told(s, stories):
                w *= sc.aside
                plain *= sc.aside
                bits |= _IN_STORY
            found.append((s, e, w, bits, plain))

    ranked = []
    for order, (dept, found) in enumerate(hits.items()):  # in rule order, as ``rules`` is
        if names.spans and all(s >= 0 and names.covers(s, e) for s, e, *_ in found):
            found = _named_only(found)
        phrases: list[tuple[float, int, int, int]] = []  # (weight, start, end, bits) of each phrase
        found.sort()
        start, end, best, bits, mention = found[0]
        for s, e, w, b, m in found[1:]:
            if s > end or start < 0:  # not touching the phrase so far: it is complete
                phrases.append(_complete(best, start, end, bits, mention * sc.consequence, consequences))
                start, end, best, bits, mention = s, e, w, b, m
            else:
                end = max(end, e)
                mention = max(mention, m)
                if w > best:
                    best, bits = w, b | (bits & _ASKED)  # the notes of the strongest hit; asked if any was
                else:
                    bits |= b & _ASKED
        phrases.append(_complete(best, start, end, bits, mention * sc.consequence, consequences))
        if len(phrases) == 1:
            score = phrases[0][0]
        else:
            phrases.sort(key=lambda p: -p[0])
            score = sum(p[0] / (i + 1) for i, p in enumerate(phrases))
        ranked.append((-score, order, dept, phrases))
    ranked.sort()  # by score, then rule order (which is unique: nothing after it is compared)
    return [DepartmentScore(dept, -neg, tuple(phrases), tuple(rules[dept]), f)
            for neg, _, dept, phrases in ranked[:_SHOWN]]


def _named_only(found: list) -> list:
    """A department the text names (请财政局帮忙, 问了科技局) but whose duty none of its words name:
    the enterprise asks the office it thinks is the one, and the duty named elsewhere (出口退税,
    数字化转型补贴) says which it is. Its names weigh as mentions: no ask's or address's weight."""
    return [(s, e, mention, (bits & ~(2 | 4 | 128)) | _NAMED_ONLY, mention) for s, e, _, bits, mention in found]


_ITEM_TAIL = 4  # 营业执照复印件、…: an item may go on a few characters past its keyword


_CONSEQUENCE_GAP = 1  # 续贷受阻, 贷款难还, 招工只好暂停: at most one character between


def _complete(best: float, start: int, end: int, bits: int, suffering: float,
              consequences: _Words) -> tuple[float, int, int, int]:
    """A phrase, as (weight, start, end, bits); a phrase right before a consequence word (子女入学受阻)
    or inside one (放款 in 银行不放款) is what suffers from another thing left undone, which is the
    ask (集体户未落，子女入学受阻): it weighs as a mention times ``consequence``, whatever ask stands
    near it, and is not asked."""
    if start >= 0 and consequences.spans and any(
            end <= c_s <= end + _CONSEQUENCE_GAP or c_s <= start and end <= c_e
            for c_s, c_e in consequences.near(start - _LONGEST_WORD, end + _CONSEQUENCE_GAP)):
        return suffering, start, end, (bits & (1 | 8 | 16 | 32 | _WAS_DECLINED | _IN_STORY | _NAMED_ONLY)) | 1024
    return best, start, end, bits


def _listed(text: str, s: int, e: int) -> bool:
    """One item of an enumeration (用地、用能、电力; 营业执照复印件、法人身份证): a part of what is
    asked, not the ask."""
    if text[s - 1:s] == "、":
        return True
    tail = text[e:e + _ITEM_TAIL + 1]
    at = tail.find("、")
    return at >= 0 and not _CLAUSE_END.search(tail[:at])


def _phrase(f: Facts, p: tuple[float, int, int, int]) -> Phrase:
    weight, start, end, bits = p
    notes = _NOTE_NAMES[bits & _SHOWN_BITS]
    if start < 0:
        return Phrase("", "attribute", weight, notes, True)  # a rule on what the enterprise chose
    return Phrase(f.text[start:end], "title" if start < f.title_len else "description", weight, notes,
                  bool(bits & _ASKED))


def explain_scores(names: dict[str, str], scores: list[DepartmentScore], margin: float) -> list[str]:
    """The lines of the decision's explanation about the scores, in Chinese."""
    lines = []
    for d in scores[:_SHOWN]:
        shown = "；".join(
            f"「{p.text}」{p.weight:.1f}" + (f"（{'、'.join(p.notes)}）" if p.notes else "") for p in d.phrases[:4]
        )
        lines.append(f"{names.get(d.department, d.department)} {d.score:.1f} 分：{shown}")
    if len(scores) > 1:
        lines.append(f"领先 {margin:.0%}（第二名 {names.get(scores[1].department, scores[1].department)}）")
    return lines


def lead_margin(scores: list[DepartmentScore]) -> float:
    """How far the winner leads the runner-up, as a share of the winner's score (1.0: no rival)."""
    if not scores or scores[0].score <= 0:
        return 0.0
    if len(scores) == 1:
        return 1.0
    return (scores[0].score - scores[1].score) / scores[0].score

