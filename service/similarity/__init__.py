"""Many enterprises, one problem (共性问题): near-duplicate demands found among the open cases.

Two demands are alike when they share most of their wording: the Jaccard similarity of their
character bigrams (after routing's normalisation: simplified, half-width, no blanks, and here no
punctuation either). Finding the alike ones among a hundred thousand open cases without comparing
each pair is MinHash with locality-sensitive hashing (LSH):

- a case's **signature** is, for each of 64 fixed random permutations of the bigrams' 32-bit
  hashes, the smallest value — two signatures agree in a position with probability equal to the
  two texts' Jaccard similarity;
- the signature is cut into 16 **bands** of 4; each band hashes to a key. Cases that share any
  band key are candidates (a pair of similarity 0.5 shares at least one band with probability
  1 − (1 − 0.5⁴)¹⁶ ≈ 0.64, one of 0.7 with 0.98); the band keys are rows of ``case_bands`` with an
  index, so finding candidates is one indexed lookup whoever runs it;
- each candidate is then **verified** with the exact similarity of the two texts, and only those
  at or above :data:`THRESHOLD` are similar.

The permutations are fixed (seeded), so every process and every machine computes the same
signature for the same text. The algorithm is datasketch's ``MinHash`` (same hashing, same
permutation family); datasketch itself is not used because importing it loads SciPy (87 MB in each
process) for its LSH parameter search, which this fixed banding does not need.

Everything here is a pure function of the text; the database side is in ``service.py``.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from routing_rules.normalize import normalize

PERMUTATIONS = 64
BANDS, ROWS = 16, 4
assert BANDS * ROWS == PERMUTATIONS
# the exact bigram Jaccard at and above which two demands are "the same problem" — chosen on the
# labelled set (tests/data/similar-cases.jsonl, bench/similarity.py; docs/benchmarks.md)
THRESHOLD = 0.40

_MERSENNE = (1 << 61) - 1
_MAX_HASH = (1 << 32) - 1
# punctuation and symbols carry no meaning for "same problem"; letters and digits do
_SKIP = re.compile(r"[^\w]+")


def text_of(title: str, description: str) -> str:
    """The text compared: title and description, normalised, without punctuation."""
    return _SKIP.sub("", normalize(title) + normalize(description))


def text_of_search(search_text: str | None) -> str:
    """The same, from a case's stored search form (``Case.search_text``: title and description
    normalised already) — no second pass through OpenCC for each candidate."""
    return _SKIP.sub("", search_text or "")


def shingles(text: str) -> frozenset[str]:
    """Character bigrams (a one-character text is its own shingle)."""
    if len(text) < 2:
        return frozenset([text]) if text else frozenset()
    return frozenset(text[i:i + 2] for i in range(len(text) - 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@lru_cache(maxsize=1)
def _permutations():
    import numpy as np  # imported by the process that computes signatures (the sweep), not every reader

    rng = np.random.RandomState(1)  # fixed: the same signature in every process
    a = rng.randint(1, _MAX_HASH, size=PERMUTATIONS, dtype=np.uint64)
    b = rng.randint(0, _MAX_HASH, size=PERMUTATIONS, dtype=np.uint64)
    return np, a, b


def _hash32(shingle: str) -> int:
    return int.from_bytes(hashlib.sha1(shingle.encode("utf-8")).digest()[:4], "little")


def signature(grams: frozenset[str]) -> list[int]:
    """The MinHash signature of a set of shingles (all 2³²−1 for an empty set)."""
    np, a, b = _permutations()
    if not grams:
        return [_MAX_HASH] * PERMUTATIONS
    hv = np.array([_hash32(g) for g in grams], dtype=np.uint64)
    # (a·h + b) mod p, truncated to 32 bits; a, h < 2³² so a·h + b < 2⁶⁴: no overflow in uint64
    values = np.bitwise_and((np.outer(hv, a) + b) % np.uint64(_MERSENNE), np.uint64(_MAX_HASH))
    return [int(v) for v in values.min(axis=0)]


def band_keys(sig: list[int]) -> list[int]:
    """One signed 64-bit key per band (a bigint column): the band's number and its values hashed."""
    keys = []
    for band in range(BANDS):
        part = sig[band * ROWS:(band + 1) * ROWS]
        digest = hashlib.blake2b(band.to_bytes(1, "little") + b"".join(v.to_bytes(4, "little") for v in part),
                                 digest_size=8).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return keys


def bands_of(title: str, description: str) -> list[int]:
    """A demand's band keys, from its title and description."""
    return band_keys(signature(shingles(text_of(title, description))))
