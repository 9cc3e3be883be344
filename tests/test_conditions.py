"""Each condition type of the rule language, on small rule sets."""

import pytest
from helpers import case


def lead_of(rules, c):
    return rules.route(c).lead_department


def test_category(make_rules):
    rules = make_rules("""
    rules:
      - {id: r, description: d, when: {category: [land, power]}, then: {lead: natural-resources}}
    """)
    assert lead_of(rules, case(category="land")) == "natural-resources"
    assert lead_of(rules, case(category=" LAND ")) == "natural-resources"  # trimmed, case-folded
    assert lead_of(rules, case(category="tax")) is None
    assert lead_of(rules, case()) is None


def test_district_and_industry(make_rules):
    rules = make_rules("""
    rules:
      - id: r
        description: d
        when: [{district: linying}, {industry: [food, logistics]}]
        then: {lead: transport}
    """)
    assert lead_of(rules, case(district="linying", industry="food")) == "transport"
    assert lead_of(rules, case(district="linying", industry="chemicals")) is None
    assert lead_of(rules, case(district="wuyang", industry="food")) is None


def test_key_project_level_whitelisted_urgency(make_rules):
    rules = make_rules("""
    rules:
      - {id: a, description: d, when: {key_project_level: provincial}, then: {lead: development-reform}}
      - {id: b, description: d, when: {whitelisted: true}, then: {lead: commerce}}
      - {id: c, description: d, when: {urgency: urgent}, then: {lead: emergency-management}}
      - {id: e, description: d, when: {whitelisted: false}, then: {lead: fiscal}}
    """)
    assert lead_of(rules, case(key_project_level="provincial", whitelisted=True)) == "development-reform"
    assert lead_of(rules, case(key_project_level="municipal", whitelisted=True)) == "commerce"
    assert lead_of(rules, case(urgency="urgent", whitelisted=True)) == "commerce"
    assert lead_of(rules, case(urgency="urgent")) == "emergency-management"
    assert lead_of(rules, case()) == "fiscal"  # unknown whitelisting counts as not whitelisted


@pytest.mark.parametrize(
    "bounds, amount, holds",
    [
        ("{gt: 100}", 100, False), ("{gt: 100}", 100.5, True),
        ("{gte: 100}", 100, True), ("{lt: 100}", 100, False),
        ("{lte: 100}", 100, True), ("{gte: 10, lt: 20}", 20, False),
        ("{gte: 10, lt: 20}", 15, True), ("{gte: 10}", None, False),
    ],
)
def test_amount(make_rules, bounds, amount, holds):
    rules = make_rules(f"""
    rules:
      - {{id: r, description: d, when: {{amount: {bounds}}}, then: {{lead: fiscal}}}}
    """)
    assert (lead_of(rules, case(amount=amount)) == "fiscal") is holds


def test_keywords_any_all_none(make_rules):
    rules = make_rules("""
    rules:
      - id: r
        description: d
        when: {keywords: {any: [贷款, 授信], all: [银行], none: [咨询]}}
        then: {lead: financial-regulation}
    """)
    assert lead_of(rules, case("银行不给贷款")) == "financial-regulation"
    assert lead_of(rules, case("银行授信", "额度不够")) == "financial-regulation"
    assert lead_of(rules, case("贷款问题")) is None  # 银行 is required
    assert lead_of(rules, case("银行贷款政策咨询")) is None  # excluded word


def test_keywords_not_within(make_rules):
    """贷款 inside 抵押贷款 does not count, but a separate 贷款 still does."""
    rules = make_rules("""
    rules:
      - id: finance
        description: d
        when: {keywords: {any: [贷款], not_within: [抵押贷款]}}
        then: {lead: financial-regulation}
      - {id: land, description: d, when: {keywords: {any: [不动产]}}, then: {lead: natural-resources}}
    """)
    assert lead_of(rules, case("不动产证影响抵押贷款")) == "natural-resources"
    assert lead_of(rules, case("抵押贷款", "另外流动资金贷款也被压缩")) == "financial-regulation"


def test_keywords_field(make_rules):
    rules = make_rules("""
    rules:
      - {id: t, description: d, when: {keywords: {field: title, any: [土地]}}, then: {lead: natural-resources}}
      - {id: s, description: d, when: {keywords: {field: description, any: [电费]}}, then: {lead: power-supply}}
    """)
    assert lead_of(rules, case("土地证", "电费")) == "natural-resources"
    assert lead_of(rules, case("问题", "土地证和电费")) == "power-supply"
    assert lead_of(rules, case("电费", "")) is None


def test_keywords_match_across_scripts_and_widths(make_rules):
    rules = make_rules("""
    rules:
      - {id: r, description: d, when: {keywords: {any: [發票, sc认证]}}, then: {lead: taxation}}
    """)
    assert lead_of(rules, case("发 票")) == "taxation"
    assert lead_of(rules, case("发(fā)票")) == "taxation"
    assert lead_of(rules, case("ＳＣ認證")) == "taxation"


def test_all_any_not(make_rules):
    rules = make_rules("""
    rules:
      - id: r
        description: d
        when:
          all:
            - any: [{district: linying}, {district: wuyang}]
            - not: {keywords: {any: [咨询]}}
            - keywords: {any: [用电]}
        then: {lead: power-supply}
    """)
    assert lead_of(rules, case("用电报装", district="wuyang")) == "power-supply"
    assert lead_of(rules, case("用电咨询", district="wuyang")) is None
    assert lead_of(rules, case("用电报装", district="yuanhui")) is None


def test_only_a_plain_word_list_is_taken_as_held_by_the_index(make_rules):
    """The engine skips the test of a rule whose guard alone makes it hold (a plain ``any`` list
    over the whole text); evidence rules with ``none``, ``all``, ``not_within`` or a field are
    tested as before, so an excluded word still keeps them out of the weighing."""
    rules = make_rules("""
    rules:
      - {id: plain, description: d, weight: 1, when: {keywords: {any: [贷款, 授信]}}, then: {lead: financial-regulation}}
      - {id: none, description: d, weight: 1, when: {keywords: {any: [用地], none: [咨询]}}, then: {lead: natural-resources}}
      - {id: within, description: d, weight: 1, when: {keywords: {any: [电费], not_within: [电费补贴]}}, then: {lead: power-supply}}
      - {id: titled, description: d, weight: 1, when: {keywords: {field: title, any: [招工]}}, then: {lead: human-resources}}
      - {id: both, description: d, weight: 1, when: {keywords: {any: [发票], all: [税务]}}, then: {lead: taxation}}
    """)
    held = {r.id: r.condition.held_by_guard() for r in rules.rules}
    assert held == {"plain": True, "none": False, "within": False, "titled": False, "both": False}
    assert lead_of(rules, case("授信额度被压")) == "financial-regulation"
    assert lead_of(rules, case("用地政策咨询")) is None
    assert lead_of(rules, case("电费补贴没到")) is None
    assert lead_of(rules, case("问一下", "招工的事")) is None
    assert lead_of(rules, case("发票开不出来")) is None
    assert lead_of(rules, case("税务发票开不出来")) == "taxation"
