"""How matched rules combine into a decision, and how the decision explains itself."""

from helpers import case

MODIFIERS = """
rules:
  - id: key
    description: 重点项目
    when: {key_project_level: [municipal, provincial]}
    then: {sla: tight, theme: key-projects, priority: high, tags: [key-project], co: [development-reform]}
    continue: true
  - id: cross
    description: 多部门
    when: {keywords: {any: [多部门]}}
    then: {tier: city_meeting, sla: std, priority: low, tags: [cross], co: [natural-resources, fiscal]}
    continue: true
  - id: land
    description: 用地
    when: {keywords: {any: [土地, 用地]}}
    then: {lead: natural-resources, tier: 3, theme: factor-guarantee, priority: normal}
  - id: after
    description: never reached once land matched
    when: {keywords: {any: [土地]}}
    then: {lead: fiscal}
"""


def test_first_matching_rule_decides_and_stops(make_rules):
    d = make_rules(MODIFIERS).route(case("土地证办不下来"))
    assert d.lead_department == "natural-resources"
    assert [r.id for r in d.rules] == ["land"]
    assert (d.tier, d.tier_key, d.theme, d.sla_policy) == (3, "department", "factor-guarantee", "std")


def test_continue_rules_come_first_and_outrank(make_rules):
    d = make_rules(MODIFIERS).route(case("多部门推诿", "土地证办不下来", key_project_level="provincial"))
    assert [r.id for r in d.rules] == ["key", "cross", "land"]
    assert [r.role for r in d.rules] == ["continue", "continue", "lead"]
    assert d.sla_policy == "tight"  # first to set it wins
    assert d.theme == "key-projects"
    assert d.tier == 4  # the cross rule set it before the land rule
    assert d.priority == "high"  # the highest any rule gave
    assert d.tags == ("key-project", "cross")
    # co-departments accumulate in order, without the lead
    assert d.co_departments == ("development-reform", "fiscal")


def test_no_match_goes_to_triage_with_defaults(make_rules):
    d = make_rules(MODIFIERS).route(case("你好", "请联系我"))
    assert d.needs_triage and d.lead_department is None
    assert (d.tier, d.sla_policy, d.theme, d.priority) == (1, "std", "enterprise-services", "normal")
    assert d.rules == ()
    assert "没有规则确定牵头部门" in d.explanation


def test_only_continue_rules_still_triage(make_rules):
    d = make_rules(MODIFIERS).route(case("多部门"))
    assert d.needs_triage and [r.id for r in d.rules] == ["cross"]
    assert d.tier == 4


def test_explicit_triage_rule(make_rules):
    rules = make_rules("""
    rules:
      - {id: thanks, description: 表扬, when: {keywords: {any: [感谢]}}, then: {triage: true, tags: [feedback]}}
      - {id: land, description: 用地, when: {keywords: {any: [土地]}}, then: {lead: natural-resources}}
    """)
    d = rules.route(case("感谢", "土地"))
    assert d.needs_triage and d.tags == ("feedback",)
    assert d.rules[0].role == "triage"
    assert "按规则转首席服务官分拣" in d.explanation


def test_explanation_names_rules_conditions_and_where(make_rules):
    rules = make_rules(MODIFIERS)
    d = rules.route(case("项目用地报批慢", "土地报批材料提交已两个月", key_project_level="municipal"))
    key, land = d.rules
    assert key.why[0]["kind"] == "key_project_level" and "municipal" in key.why[0]["text"]
    hits = [(w["keyword"], w["field"], w["at"]) for w in land.why]
    assert ("用地", "title", 2) in hits and ("土地", "description", 0) in hits
    title_hit = next(w for w in land.why if w["field"] == "title")
    assert title_hit["context"] == "项目用地报批慢"
    assert "标题中出现「用地」" in title_hit["text"]
    # the summary reads without YAML: rule descriptions, what held, the department's name
    assert "规则 land（用地）" in d.explanation
    assert "市自然资源和规划局" in d.explanation and "市发展和改革委员会" in d.explanation
    assert d.to_dict()["rules"][1]["effect"] == {"lead": "natural-resources", "theme": "factor-guarantee",
                                                 "priority": "normal", "tier": 3}


def test_index_skips_rules_a_case_cannot_match(make_rules):
    rules = make_rules(MODIFIERS + """
  - {id: cat, description: d, when: {category: power}, then: {lead: power-supply}}
  - {id: neg, description: d, when: {not: {keywords: {any: [咨询]}}}, then: {lead: justice}}
""")
    # unguarded: the key-project rule and the `not` rule; everything else needs a token
    assert set(rules.unguarded_rules) == {"key", "neg"}
    assert rules.candidate_rules(case("你好")) == ("key", "neg")
    assert rules.candidate_rules(case("土地")) == ("key", "land", "after", "neg")
    assert rules.candidate_rules(case("", category="power")) == ("key", "cat", "neg")


def test_decisions_are_deterministic_across_loads(make_rules):
    a = make_rules(MODIFIERS).route(case("多部门", "土地", key_project_level="municipal"))
    b = make_rules(MODIFIERS).route(case("多部门", "土地", key_project_level="municipal"))
    assert a == b and a.to_dict() == b.to_dict()
