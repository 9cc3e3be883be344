"""Text normalisation before matching (文本规范化).

Enterprises type the way people type: traditional or simplified characters, full-width digits and
letters, stray spaces, and sometimes pinyin glosses after characters (``發(fā)``, as in the seed
article). Rules and cases go through the same function, so a keyword written in either script
matches text written in either script.

Steps, in this order:

1. NFKC — full-width letters, digits and brackets become their ASCII forms, so the glosses'
   brackets look the same whether typed as ``（）`` or ``()``;
2. pinyin glosses right after a Han character are removed;
3. traditional → simplified with OpenCC (``t2s``);
4. a space between Chinese words (two characters or more on one side) becomes a comma — a voice
   message's transcript puts spaces where a speaker paused, and the weighing reads clauses;
5. all other whitespace and control characters are removed (Chinese has no word spaces, so
   ``土 地`` must match ``土地``) and Latin letters are case-folded.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

# A gloss is a bracketed pinyin syllable (or a few) after a Han character: 發(fā), 項(xiàng), 行(hang2).
# It must carry a tone mark or a tone digit, so that an ordinary bracketed word such as 公司(LTD)
# is kept. The Han character before it stays.
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # Han characters: the unified blocks and the compatibility ones
_GLOSS = re.compile(
    f"(?<=[{_HAN}])"
    r"\((?=[^)]*[" + _TONED + r"1-5])[a-zü" + _TONED + r"1-5]{1,24}\)",
    re.IGNORECASE,
)
# Whitespace, control characters and lone surrogates (which binary-looking input can carry and
# which OpenCC's UTF-8 boundary would choke on or truncate at) are all dropped.
_NOISE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\ud800-\udfff]+")
# A space between Chinese words (two characters or more on one side at least) is where a speaker
# paused: a voice message's transcript (俺是老杨 施工许可证昨天办下来了 谢谢住建那边 呃 现在要进场)
# has spaces for commas. It becomes a clause end; a space between single characters typed apart
# (土 地) goes.
_PAUSE = re.compile(f"(?<=[{_HAN}]{{2}})[ \\t\u3000]+(?=[{_HAN}])|(?<=[{_HAN}])[ \\t\u3000]+(?=[{_HAN}]{{2}})")

_converter = opencc.OpenCC("t2s")


def _clean(text: str) -> str:
    """Steps 1, 2 and 4 but the case-folding: NFKC, no whitespace or control characters, no glosses."""
    text = unicodedata.normalize("NFKC", text)
    # every character _NOISE removes is a separator or "other" (so not printable) or the space:
    # most texts have none, and the check is a fraction of the substitution's scan
    if " " in text or not text.isprintable():
        text = _NOISE.sub("", _PAUSE.sub(",", text))
    if "(" in text:
        text = _GLOSS.sub("", text)
    return text


def normalize(text: str) -> str:
    """Return the matching form of ``text``: NFKC, glosses removed, simplified, no whitespace."""
    if not text:
        return ""
    text = _clean(text)
    if not text.isascii():
        text = _converter.convert(text)
    return text.casefold()


def normalize_pair(title: str, description: str) -> tuple[str, str]:
    """``normalize`` of both, with one pass of OpenCC: a case's title and description are
    normalised together for every routing decision. No phrase of OpenCC's spans the newline
    between them, and neither holds one after cleaning, so this equals two ``normalize`` calls."""
    title, description = _clean(title) if title else "", _clean(description) if description else ""
    if title.isascii() and description.isascii():
        return title.casefold(), description.casefold()
    title, _, description = _converter.convert(title + "\n" + description).casefold().partition("\n")
    return title, description


@lru_cache(maxsize=65536)
def normalize_keyword(keyword: str) -> str:
    """Keywords are normalised once, when a rule set is compiled."""
    return normalize(keyword)
