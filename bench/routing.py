"""Routing benchmark: decisions per second on one core, against ceilings measured in the same run.

    python bench/routing.py [--rules 1000] [--cases 10000] [--seed 7]

Generates a rule set of N rules with about five Chinese keywords each (written as YAML, then
loaded and compiled as a deployment would), and cases of about 200 characters drawn from the same
character pool with a few real keywords planted. Reports:

- load-and-compile time of the set (YAML parse, validation, automaton, index);
- decisions per second routing every case (one process pinned to one core), each decision
  dropped once made as the service drops it (keeping all 10,000 alive in a list made the garbage
  collector walk them again and again: a third of the time, measured before the ninth session);
- the same with each decision's explanation and scores rendered (``to_dict``), as intake stores
  them — a decision renders them when first read, so a replay of many cases does not pay for them;
- in the same run, the ceilings: normalisation alone, and a bare dict lookup per case;
- how the cost moves with the number of rules and the text length: 100 and 10,000 rules of the
  same shape (more keywords also means more chance hits, so more candidate rules), 1,000 rules
  plus 9,000 that never match (the rule count alone), and 2,000-character cases. The cost should
  follow the text length and the candidate rules, not the rule count.

Prints a Markdown table to paste into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from routing_rules import CaseInput, load_ruleset, normalize  # noqa: E402
from service.directory import load_directory  # noqa: E402

# A pool of common characters: small enough that random text hits keywords by chance, as real
# text does, large enough that most of the 5,000 keywords are distinct.
POOL = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞"


# Characters the generated cases never contain: keywords made of them never match.
INERT = "".join(chr(c) for c in range(0x9000, 0x9FA0) if chr(c) not in POOL)


def keyword(rng: random.Random, pool: str = POOL) -> str:
    return "".join(rng.choice(pool) for _ in range(rng.choice((2, 3, 3, 4))))


def rules_yaml(n_rules: int, rng: random.Random, departments: list[str], inert: int = 0,
               evidence: bool = False) -> tuple[str, list[str]]:
    """A rule set shaped like a real one: mostly keyword rules, some combined, a few modifiers.
    With ``evidence`` the plain keyword rules are evidence rules (``weight``), weighed together
    as the Luohe department rules are, with a ``scoring`` section of ask and settled words."""
    lines = [
        "defaults: {sla: std}",
        "sla_policies:",
        "  std:",
        "    tiers: {1: {due: 3 working_days}, 2: {due: 10 working_days}, 3: {due: 7 working_days},",
        "            4: {due: 10 working_days}, 5: {due: 10 working_days}}",
        "scoring: {asks: [申请, 办理, 希望, 协调, 解决, 尽快], settled: [已取得, 已完成]}" if evidence else "",
        "rules:",
    ]
    words: list[str] = []
    # with evidence rules, the ordinary lead rules come after them all, as in the Luohe layout
    # (30-general.yaml after 20-departments.yaml): a fallback when no evidence was found, never
    # a stop between two evidence rules
    fallbacks: list[str] = []
    for i in range(n_rules):
        kws = [keyword(rng) for _ in range(5)]
        words += kws
        dept = departments[i % len(departments)]
        shape = rng.random()
        if shape < 0.05:  # modifier
            when = f"{{keywords: {{any: [{', '.join(kws)}]}}}}"
            lines.append(f"  - {{id: r{i}, description: d, when: {when}, then: {{priority: high, tags: [t{i}]}}, continue: true}}")
            continue
        if shape < 0.15:
            when = f"{{all: [{{keywords: {{any: [{', '.join(kws[:4])}], not_within: [{kws[4]}]}}}}, {{not: {{urgency: urgent}}}}]}}"
        elif shape < 0.20:
            when = f"{{any: [{{keywords: {{any: [{', '.join(kws)}]}}}}, {{category: land}}]}}"
        elif shape < 0.25:
            when = f"{{keywords: {{field: title, all: [{kws[0]}, {kws[1]}], any: [{', '.join(kws[2:])}]}}}}"
        else:
            when = f"{{keywords: {{any: [{', '.join(kws)}]}}}}"
            if evidence:
                lines.append(f"  - {{id: r{i}, description: d, weight: 1, when: {when}, then: {{lead: {dept}}}}}")
                continue
        (fallbacks if evidence else lines).append(f"  - {{id: r{i}, description: d, when: {when}, then: {{lead: {dept}}}}}")
    lines += fallbacks
    for i in range(inert):  # rules no generated case can match: they cost only memory
        kws = ", ".join(keyword(rng, INERT) for _ in range(5))
        lines.append(f"  - {{id: inert{i}, description: d, when: {{keywords: {{any: [{kws}]}}}}, then: {{lead: fiscal}}}}")
    return "\n".join(lines) + "\n", words


def make_cases(n: int, length: int, words: list[str], rng: random.Random) -> list[CaseInput]:
    cases = []
    for _ in range(n):
        body = [rng.choice(POOL) for _ in range(length)]
        for _ in range(rng.randint(0, 3)):  # plant a few real keywords
            at = rng.randrange(length)
            body[at:at] = list(rng.choice(words))
        text = "".join(body)
        cases.append(CaseInput(title=text[:16], description=text[16:], category=rng.choice([None, "land", "tax"])))
    return cases


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def measure(n_rules: int, n_cases: int, length: int, seed: int, vocabulary, inert: int = 0,
            evidence: bool = False) -> dict:
    rng = random.Random(seed)
    text, words = rules_yaml(n_rules, rng, sorted(vocabulary.departments), inert, evidence)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rules.yaml"
        path.write_text(text, encoding="utf-8")
        loads = []
        for _ in range(3):
            t = time.perf_counter()
            rules = load_ruleset(path, vocabulary)
            loads.append(time.perf_counter() - t)
    cases = make_cases(n_cases, length, words, rng)

    route = rules.route

    def decide() -> None:  # as the service does: each decision used, then dropped
        for c in cases:
            route(c)

    def render() -> None:  # and with its explanation and scores rendered, as intake stores them
        for c in cases:
            route(c).to_dict()

    routed = best_of(3, decide)
    rendered = best_of(3, render)
    norm = best_of(3, lambda: [(normalize(c.title), normalize(c.description)) for c in cases])
    table = {c.title: c for c in cases}
    bare = best_of(3, lambda: [table.get(c.title) for c in cases])
    matched = statistics.mean(len(route(c).rules) for c in cases[:2000])
    candidates = statistics.mean(len(rules.candidate_rules(c)) for c in cases[:2000])
    triage = sum(route(c).needs_triage for c in cases[:2000]) / min(2000, n_cases)
    return {
        "rules": (f"{n_rules:,} + {inert:,} never hit" if inert else f"{n_rules:,}") + (" evidence" if evidence else ""), "keywords": len(rules.patterns), "length": length,
        "compile_s": min(loads), "per_s": n_cases / routed, "us": routed / n_cases * 1e6,
        "rendered_per_s": n_cases / rendered,
        "norm_us": norm / n_cases * 1e6, "bare_us": bare / n_cases * 1e6,
        "candidates": candidates, "matched": matched, "triage": triage,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="only the main measurement")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, as the target says
    vocabulary = load_directory().vocabulary()

    runs = [measure(args.rules, args.cases, 200, args.seed, vocabulary),
            measure(args.rules, args.cases, 200, args.seed, vocabulary, evidence=True)]
    if not args.quick:
        runs += [
            measure(100, args.cases, 200, args.seed, vocabulary),
            measure(args.rules, args.cases, 200, args.seed, vocabulary, inert=9 * args.rules),
            measure(10_000, args.cases, 200, args.seed, vocabulary),
            measure(args.rules, args.cases // 5, 2000, args.seed, vocabulary),
        ]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}")
    print()
    print("| rules | keywords | text chars | compile s | decisions/s | µs/decision | explained decisions/s | "
          "normalise µs | bare dict µs | decision ÷ normalise | candidates | matched | triage |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in runs:
        print(f"| {r['rules']} | {r['keywords']:,} | {r['length']:,} | {r['compile_s']:.3f} | "
              f"{r['per_s']:,.0f} | {r['us']:.1f} | {r['rendered_per_s']:,.0f} | {r['norm_us']:.1f} | {r['bare_us']:.2f} | "
              f"{r['us'] / r['norm_us']:.1f}× | {r['candidates']:.1f} | {r['matched']:.2f} | {r['triage']:.0%} |")
    print()
    for r in runs[:2]:  # first-match rules, and the same rules weighed as evidence
        ok = r["per_s"] >= 25_000 and r["compile_s"] < 1.0
        print(f"target (≥25,000 decisions/s, compile < 1 s) at {r['rules']} rules: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
