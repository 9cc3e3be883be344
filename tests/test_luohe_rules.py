"""The default Luohe rule set: the sample cases, a held-out set, and the files' own examples."""

import json
from pathlib import Path

import pytest
from helpers import DATA, REPO

from routing_rules import CaseInput, run_examples

SHARED_SAMPLES = REPO.parent / "shared" / "data" / "sample-cases.jsonl"


def labelled(path: Path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def routed_to(rules, item) -> str:
    return rules.route(CaseInput.from_mapping(item)).label


@pytest.mark.parametrize("item", labelled(DATA / "sample-cases.jsonl"), ids=lambda i: i["id"])
def test_sample_cases(luohe, item):
    assert routed_to(luohe, item) in item["expect"]


@pytest.mark.skipif(not SHARED_SAMPLES.exists(), reason="shared/ not beside the checkout")
def test_shared_sample_cases_are_the_ones_tested(luohe):
    # The copy in tests/data keeps the suite self-contained; this keeps it honest.
    shared = labelled(SHARED_SAMPLES)
    assert all(routed_to(luohe, item) in item["expect"] for item in shared)


@pytest.mark.parametrize(
    "item", labelled(DATA / "holdout-cases.jsonl") + labelled(DATA / "fresh-cases.jsonl"), ids=lambda i: i["id"]
)
def test_holdout_cases(luohe, item):
    assert routed_to(luohe, item) in item["expect"]


def test_rule_files_examples_pass(luohe):
    results = run_examples(luohe)
    assert len(results) >= 30
    failures = [(r.file, r.line, r.name, r.mismatches) for r in results if not r.passed]
    assert failures == []


def test_every_department_can_lead(luohe):
    leads = {r.effect.lead for r in luohe.rules if r.effect.lead}
    assert leads == set(luohe.vocabulary.departments)


def test_key_project_and_cross_department_get_tighter_handling(luohe):
    plain = luohe.route(CaseInput(title="土地证办不下来"))
    key = luohe.route(CaseInput(title="土地证办不下来", key_project_level="provincial", whitelisted=True))
    cross = luohe.route(CaseInput(title="土地证办不下来", description="自然资源和住建多个部门相互推诿"))
    assert (plain.sla_policy, plain.tier, plain.priority) == ("standard", 1, "normal")
    assert (key.sla_policy, key.theme, key.priority) == ("key-project", "key-projects", "high")
    assert (cross.tier_key, cross.sla_policy, cross.priority) == ("city_meeting", "key-project", "high")
    assert {plain.lead_department, key.lead_department, cross.lead_department} == {"natural-resources"}


def test_traditional_text_with_glosses_routes(luohe):
    d = luohe.route(CaseInput(title="項(xiàng)目備(bèi)案證(zhèng)明變(biàn)更"))
    assert d.lead_department == "development-reform"
    assert d.rules[-1].why[0]["keyword"] == "项目备案"
