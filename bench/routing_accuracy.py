"""How often routing picks the right lead department, on labelled sets of demands.

    python bench/routing_accuracy.py [--rules DIR] [--misses] FILE.jsonl ...

Each line of a set is ``{"id", "title", "description", "expect": [dept, ...]}`` (the shape of
``shared/data/sample-cases.jsonl``); ``"__triage__"`` in ``expect`` means nothing is asked and
the officer's triage queue is right. Prints, per set, right / all, and with ``--misses`` every
miss with what won, the runner-up and the margin.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from routing_rules import CaseInput, load_ruleset  # noqa: E402
from routing_rules.loader import DEFAULT_RULES  # noqa: E402
from service.directory import load_directory  # noqa: E402


def routed_to(rules, item) -> tuple[str, dict]:
    d = rules.route(CaseInput.from_mapping(item))
    return d.label, d.to_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--rules", type=Path, default=DEFAULT_RULES)
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    rules = load_ruleset(args.rules, load_directory().vocabulary())
    total = right_all = 0
    for path in args.sets:
        items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        right = 0
        for item in items:
            got, d = routed_to(rules, item)
            if got in item["expect"]:
                right += 1
            elif args.misses:
                runner = d["scores"][1]["department"] if len(d["scores"]) > 1 else "-"
                margin = d["scores"][0]["margin"] if d["scores"] else "-"
                print(f"  miss {item['id']}: {item['title']} | want {item['expect']} got {got} "
                      f"(runner-up {runner}, margin {margin})")
        total += len(items)
        right_all += right
        print(f"{path.name}: {right}/{len(items)} = {right / len(items):.1%}")
    print(f"all: {right_all}/{total} = {right_all / total:.1%}")


if __name__ == "__main__":
    main()
