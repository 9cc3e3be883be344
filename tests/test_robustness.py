"""Any case routes, possibly to triage, without an exception; the same case, the same decision."""

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing_rules import CaseInput, PRIORITIES

cjk = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
anything = st.characters(codec=None, exclude_categories=())  # includes controls and surrogates
keywordish = st.sampled_from(["土地", "贷款", "抵押贷款", "發(fā)票", "ＳＣ", "消防验收", "多部门", "市政府", "(", ")", " ", "\x00"])
text = st.lists(st.one_of(st.text(cjk, max_size=8), st.text(anything, max_size=8), keywordish), max_size=40).map("".join)

cases = st.builds(
    CaseInput,
    title=text,
    description=text,
    category=st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["land", "power", "other"])),
    district=st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["linying", "etdz"])),
    key_project_level=st.one_of(st.none(), st.sampled_from(["none", "municipal", "provincial"]), st.text(max_size=5)),
    whitelisted=st.one_of(st.none(), st.booleans()),
    industry=st.one_of(st.none(), st.text(max_size=12)),
    amount=st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
    urgency=st.one_of(st.none(), st.sampled_from(["normal", "urgent"])),
)


@settings(max_examples=400, deadline=None)
@given(cases)
def test_never_raises_and_is_deterministic(luohe, c):
    first = luohe.route(c)
    assert luohe.route(c) == first
    assert first.to_dict() == luohe.route(c).to_dict()
    json.dumps(first.to_dict(), ensure_ascii=False)  # always serialisable
    vocab = luohe.vocabulary
    assert first.needs_triage is (first.lead_department is None)
    assert first.lead_department is None or first.lead_department in vocab.departments
    assert all(d in vocab.departments and d != first.lead_department for d in first.co_departments)
    assert first.tier in (1, 2, 3, 4, 5) and first.sla_policy in luohe.sla_policies
    assert first.priority in PRIORITIES and first.ruleset_version == luohe.version
    deciding = [r for r in first.rules if r.role != "continue"]
    if first.scores:  # evidence weighed: the rules that supported the winner, all naming it
        assert deciding and all(r.effect.get("lead") == first.lead_department for r in deciding)
        assert first.scores[0]["department"] == first.lead_department or first.needs_triage
    else:  # an ordinary rule decided alone, or none did
        assert len(deciding) <= 1


@pytest.mark.parametrize(
    "title, description",
    [
        ("", ""),
        ("   ", "\n\t "),
        ("土地" * 250_000, "贷款" * 250_000),  # two megabytes of text
        ("\x00\x01\x02\xff\ufffd", bytes(range(256)).decode("latin-1")),
        ("🏭🔥⚡️" * 100, "😀 厂区停电 😭" * 50),
        ("\ud800\udfff", "\udc00土地"),
        ("((((((((((", "发(" * 1000),
    ],
    ids=["empty", "blank", "huge", "binary", "emoji", "surrogates", "brackets"],
)
def test_odd_text_routes(luohe, title, description):
    d = luohe.route(CaseInput(title=title, description=description))
    assert d.ruleset_version == luohe.version
    json.dumps(d.to_dict(), ensure_ascii=False)


def test_huge_text_still_finds_its_department(luohe):
    filler = "我们公司情况总体良好。" * 100_000  # about a megabyte
    d = luohe.route(CaseInput(title="求助", description=filler + "新厂区需要报装变压器"))
    assert d.lead_department == "power-supply"


@pytest.mark.parametrize(
    "data, field",
    [
        ({"title": 5}, "'title'"),
        ({"title": "x", "amount": "many"}, "'amount'"),
        ({"title": "x", "amount": math.inf}, "'amount'"),
        ({"title": "x", "enterprise": {"whitelisted": "yes"}}, "'enterprise.whitelisted'"),
        ({"title": "x", "enterprise": []}, "'enterprise'"),
        ({"title": "x", "urgency": "asap"}, "'urgency'"),
    ],
)
def test_case_input_names_the_field_at_fault(data, field):
    with pytest.raises(ValueError, match=field):
        CaseInput.from_mapping(data)


def test_case_input_ignores_unknown_fields():
    c = CaseInput.from_mapping({"id": "S01", "expect": ["x"], "title": "t", "amount": 3,
                                "enterprise": {"whitelisted": True, "key_project_level": "municipal"}})
    assert (c.title, c.amount, c.whitelisted, c.key_project_level) == ("t", 3.0, True, "municipal")
