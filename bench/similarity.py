"""Near-duplicate demands (共性问题): precision and recall on the labelled set, and the lookup's
speed among 100,000 open cases.

    python bench/similarity.py                 # quality on tests/data/similar-cases.jsonl
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=int, default=0, help="open cases for the lookup timing (0: skip)")
    args = parser.parse_args()
    if args.speed:
        speed(args.speed, [d for p in CORPUS for d in load(p)])
        return
    demands = load()
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
    from service.similarity.service import similar_open

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
            conn.execute(text("ANALYZE case_bands; ANALYZE case_signatures"))
        print(f"\nindexed {len(ids):,} open cases in {time.perf_counter() - t0:.1f} s")
        timings, found = [], []
        with rt.session() as session:
            for case_id in rng.sample(ids, 500):
                case = session.get(Case, case_id)
                t = time.perf_counter()
                _, total = similar_open(session, case, None)
                timings.append((time.perf_counter() - t) * 1000)
                found.append(total)
        timings.sort()
        print(f"similar_open among {len(ids):,} open cases, 500 lookups: p50 {statistics.median(timings):.2f} ms, "
              f"p99 {timings[int(len(timings) * 0.99) - 1]:.2f} ms; similar cases found per case: "
              f"median {statistics.median(found):.0f}, max {max(found)}")


if __name__ == "__main__":
    main()
