"""Near-duplicate demands (共性问题): precision and recall on the labelled set, and the lookup's
speed among 100,000 open cases.

    python bench/similarity.py                 # quality on tests/data/similar-cases.jsonl
    python bench/similarity.py --set tests/data/similar-cases-second.jsonl   # a second set, written apart
    python bench/similarity.py --speed 100000  # the lookup on PostgreSQL with that many open cases

Quality: every pair of demands in the set is a question — "the same problem?" — answered yes
when their clusters are the same (``cluster`` not null). A pair is found when it is an LSH
candidate (shares a band key) *and* its exact similarity reaches the threshold, as the service
decides. Precision and recall over pairs, at the service's threshold and at others (the table
that chose it).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import pct  # noqa: E402
from service import similarity  # noqa: E402

LABELLED = ROOT / "tests" / "data" / "similar-cases.jsonl"


def load(path: Path = LABELLED) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def pairs(demands: list[dict]) -> list[tuple[bool, bool, float]]:
    """(truth, candidate, similarity) of every pair."""
    grams = [similarity.shingles(similarity.text_of(d["title"], d["description"])) for d in demands]
    keys = [set(similarity.band_keys(similarity.signature(g))) for g in grams]
    out = []
    for i, j in combinations(range(len(demands)), 2):
        a, b = demands[i].get("cluster"), demands[j].get("cluster")
        out.append((a is not None and a == b, bool(keys[i] & keys[j]), similarity.jaccard(grams[i], grams[j])))
    return out


def quality(found: list[tuple[bool, bool, float]], threshold: float) -> dict:
    tp = sum(1 for t, c, s in found if t and c and s >= threshold)
    fp = sum(1 for t, c, s in found if not t and c and s >= threshold)
    fn = sum(1 for t, c, s in found if t and not (c and s >= threshold))
    return {"threshold": threshold, "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0, "tp": tp, "fp": fp, "fn": fn}


def tfidf(demands: list[dict], ns: tuple[int, ...], scope: str) -> tuple[tuple, float | None]:
    """TF-IDF cosine over character n-grams: (best F1, threshold, P, R), and the best recall
    reached at precision ≥ 0.9 (None: never)."""
    import math
    from collections import Counter

    from routing_rules import CaseInput, DEFAULT_RULES, load_ruleset
    from service.config import Settings
    from service.directory import load_directory

    def grams(t):
        return Counter(t[i:i + n] for n in ns for i in range(len(t) - n + 1))

    docs = [grams(similarity.text_of(d["title"], d["description"])) for d in demands]
    df = Counter(g for d in docs for g in set(d))
    idf = {g: math.log((len(docs) + 1) / (c + 1)) + 1 for g, c in df.items()}
    vecs = []
    for d in docs:
        v = {g: (1 + math.log(c)) * idf[g] for g, c in d.items()}
        norm = math.sqrt(sum(x * x for x in v.values()))
        vecs.append({g: x / norm for g, x in v.items()})
    rules = load_ruleset(DEFAULT_RULES, load_directory(Settings().directory).vocabulary())
    leads = [rules.route(CaseInput(title=d["title"], description=d["description"])).lead_department for d in demands]
    scored = []
    for i, j in combinations(range(len(demands)), 2):
        same = demands[i].get("cluster") is not None and demands[i].get("cluster") == demands[j].get("cluster")
        allowed = (not scope or leads[i] == leads[j]) and \
            (scope != "lead+district" or demands[i]["district"] == demands[j]["district"])
        scored.append((same, sum(x * vecs[j].get(g, 0.0) for g, x in vecs[i].items()) if allowed else 0.0))
    best, at_p = (0.0, 0.0, 0.0, 0.0), None
    for th in (x / 100 for x in range(10, 70, 2)):
        tp = sum(1 for t, v in scored if t and v >= th)
        fp = sum(1 for t, v in scored if not t and v >= th)
        fn = sum(1 for t, v in scored if t and v < th)
        p, r = (tp / (tp + fp) if tp + fp else 1.0), tp / (tp + fn)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        best = max(best, (f1, th, p, r))
        if p >= 0.9 and tp and (at_p is None or r > at_p):
            at_p = r
    return best, at_p


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=int, default=0, help="open cases for the lookup timing (0: skip)")
    parser.add_argument("--set", default=str(LABELLED), help="the labelled set (JSON lines with cluster)")
    args = parser.parse_args()
    if args.speed:
        speed(args.speed, [d for p in CORPUS for d in load(p)])
        return
    demands = load(Path(args.set))
    found = pairs(demands)
    same = sum(1 for t, _, _ in found if t)
    print(f"{len(demands)} demands, {len(found)} pairs, {same} of them the same problem")
    print()
    print("| threshold | precision | recall | true pairs found | false pairs | missed |")
    print("|---:|---:|---:|---:|---:|---:|")
    for threshold in sorted({0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, similarity.THRESHOLD}):
        q = quality(found, threshold)
        mark = " (service)" if threshold == similarity.THRESHOLD else ""
        print(f"| {threshold:.2f}{mark} | {q['precision']:.3f} | {q['recall']:.3f} | {q['tp']} | {q['fp']} | {q['fn']} |")
    print("\nThe alternative measured against it (not in the service): TF-IDF cosine of character n-grams "
          "(IDF from the set), optionally only between demands routing gives the same lead (and district); "
          "the best F1 over thresholds 0.10–0.68, and the best recall at precision ≥ 0.9:\n")
    print("| n-grams | only same lead / district | best F1 (threshold, P, R) | recall at P ≥ 0.9 |")
    print("|---|---|---|---|")
    for ns in ((2,), (1, 2), (2, 3)):
        for scope in ("", "lead", "lead+district"):
            f1, at_p = tfidf(demands, ns, scope)
            print(f"| {ns} | {scope or '—'} | {f1[0]:.2f} ({f1[1]:.2f}, {f1[2]:.2f}, {f1[3]:.2f}) | "
                  f"{at_p if at_p is None else f'{at_p:.2f}'} |")


# demands of every kind, to make the open cases' texts from (bench/similarity.py --speed)
CORPUS = [ROOT / "service" / "demo-cases.jsonl", ROOT / "tests" / "data" / "fresh-cases.jsonl",
          ROOT / "tests" / "data" / "holdout-cases.jsonl", ROOT / "tests" / "data" / "sample-cases.jsonl"]


def speed(n: int, demands: list[dict]) -> None:
    """The lookup of ``similar_open`` among ``n`` open cases on PostgreSQL. The open cases' texts
    are made of the corpus's clauses: each case three to five clauses of different demands, under
    a title of another — and one case in ten is a rewording of an earlier one (a clause dropped,
    one added), so that the index holds clusters of the same problem, as a city's does."""
    import random

    from sqlalchemy import insert, text

    from bench.bigload import database
    from service.cases.models import Case
    from service.cases.service import search_form
    from service.similarity.models import CaseBand, CaseSignature
    from sqlalchemy.orm import Session

    from service.similarity.service import link, similar_open

    rng = random.Random(7)
    with database(n * 5) as (rt, _):  # about a fifth of the realistic mix is open
        with rt.engine.begin() as conn:
            ids = [r[0] for r in conn.execute(text("SELECT id FROM cases WHERE status IN "
                                                   "('open','in_progress','waiting_enterprise','resolved') "
                                                   "ORDER BY id LIMIT :n"), {"n": n})]
        t0 = time.perf_counter()
        clauses = [c for d in demands for c in re.split(r"[，。,；;]", d["description"]) if len(c) > 3]
        titles = [d["title"] for d in demands]
        made: list[list[str]] = []
        texts: list[dict] = []
        linked = 0
        with rt.engine.begin() as conn:
            for chunk in range(0, len(ids), 5000):
                sigs, bands = [], []
                for case_id in ids[chunk:chunk + 5000]:
                    if made and rng.random() < 0.1:  # another firm on the same problem
                        parts = list(rng.choice(made))
                        parts[rng.randrange(1, len(parts))] = rng.choice(clauses)
                    else:
                        parts = [rng.choice(titles)] + rng.sample(clauses, rng.randint(3, 5))
                    made.append(parts)
                    keys = similarity.band_keys(similarity.signature(similarity.shingles(
                        similarity.text_of(parts[0], "，".join(parts[1:])))))
                    sigs.append({"case_id": case_id, "keys": keys, "indexed_at": rt.clock()})
                    bands += [{"key": k, "case_id": case_id} for k in dict.fromkeys(keys)]
                    texts.append({"i": case_id, "t": parts[0][:200], "d": "，".join(parts[1:])})
                conn.execute(text("UPDATE cases SET title = :t, description = :d, search_text = :s WHERE id = :i"),
                             [{**x, "s": search_form(x["t"], x["d"])} for x in texts])
                texts.clear()
                conn.execute(insert(CaseSignature), sigs)
                conn.execute(insert(CaseBand), bands)
                # the sweep's work for these cases: their similar open cases found, verified, linked
                linked += link(Session(bind=conn), [s["case_id"] for s in sigs])
            conn.execute(text("ANALYZE case_bands; ANALYZE case_signatures; ANALYZE case_links"))
        print(f"\nindexed {len(ids):,} open cases in {time.perf_counter() - t0:.1f} s, "
              f"{linked:,} pairs linked")
        timings, found = [], []
        with rt.session() as session:
            for case_id in rng.sample(ids, 500):
                case = session.get(Case, case_id)
                t = time.perf_counter()
                _, total = similar_open(session, case, None)
                timings.append((time.perf_counter() - t) * 1000)
                found.append(total)
        print(f"similar_open among {len(ids):,} open cases, 500 lookups: p50 {pct(timings, 50):.2f} ms, "
              f"p99 {pct(timings, 99):.2f} ms; similar cases found per case: "
              f"median {statistics.median(found):.0f}, max {max(found)}")


if __name__ == "__main__":
    main()
