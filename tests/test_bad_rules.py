"""A bad rule file is refused whole, with file, line and a reason a person can act on."""

import textwrap

import pytest
from helpers import HEADER, case

from routing_rules import ActiveRuleSet, SourceErrors, load_ruleset

HEADER_LINES = HEADER.count("\n")


def errors_of(make_rules, body: str, header: str = HEADER):
    with pytest.raises(SourceErrors) as exc:
        make_rules(body, header=header)
    return exc.value.errors


def only(errors):
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


@pytest.mark.parametrize(
    "body, line, reason",
    [
        pytest.param("rules:\n  - id: r\n    when: {keywords: {any: [土地]}\n", 4,
                     f"YAML syntax: while parsing a flow mapping (started at line {HEADER_LINES + 3})",
                     id="malformed-yaml"),
        pytest.param("rules:\n  - {id: r, description: d, when: {district: x}, then: {lead: fiscal}, colour: red}\n",
                     2, "unknown field 'colour'", id="unknown-field"),
        pytest.param("rules:\n  - id: r\n    description: d\n    when: {category: land}\n    then:\n      lead: fiscal\n      co: fiscal-bureau\n",
                     7, "rules.0.then.co", id="wrong-type"),
        pytest.param("rules:\n  - {id: r, description: d, when: {category: land}, then: {lead: fiscal}}\n"
                     "  - {id: r, description: e, when: {category: tax}, then: {lead: taxation}}\n",
                     3, "duplicate rule id 'r'", id="duplicate-id"),
        pytest.param("rules:\n  - id: r\n    description: d\n    when: {category: land}\n    then: {lead: land-bureau}\n",
                     5, "unknown department 'land-bureau'", id="unknown-department"),
        pytest.param("rules:\n  - id: r\n    description: d\n    when:\n      keywords: {any: [土地, '  ']}\n    then: {lead: fiscal}\n",
                     5, "empty keyword", id="empty-keyword"),
        pytest.param("rules:\n  - id: r\n    description: d\n    when: {category: land}\n    then: {lead: fiscal, tier: 6}\n",
                     5, "unknown tier 6", id="tier-out-of-range"),
        pytest.param("rules:\n  - id: r\n    description: d\n    when: {category: land}\n    then: {lead: fiscal, tier: 0}\n",
                     5, "unknown tier 0", id="tier-zero"),
        pytest.param("rules:\n  - id: r\n    description: d\n    description: e\n    when: {category: land}\n    then: {lead: fiscal}\n",
                     4, "duplicate key 'description'", id="duplicate-yaml-key"),
        pytest.param("rules:\n  - id: r\n    description: d\n    when: {district: atlantis}\n    then: {lead: fiscal}\n",
                     4, "unknown district 'atlantis'", id="unknown-district"),
        pytest.param("rules:\n  - id: r\n    description: d\n    when: {category: land}\n    then: {lead: fiscal, theme: golf}\n",
                     5, "unknown theme 'golf'", id="unknown-theme"),
        pytest.param("rules:\n  - id: r\n    description: d\n    when: {category: land}\n    then: {lead: fiscal, sla: fastest}\n",
                     5, "unknown SLA policy 'fastest'", id="unknown-sla"),
        pytest.param("rules:\n  - id: r\n    description: d\n    when: {colour: red}\n    then: {lead: fiscal}\n",
                     4, "unknown condition 'colour'", id="unknown-condition"),
        pytest.param("rules:\n  - id: r\n    description: d\n    when: {amount: {over: 5}}\n    then: {lead: fiscal}\n",
                     4, "unknown comparison 'over'", id="unknown-comparison"),
        pytest.param("rules:\n  - id: r\n    description: d\n    when: {keywords: {none: [咨询]}}\n    then: {lead: fiscal}\n",
                     4, "non-empty 'any' or 'all'", id="keywords-without-any"),
        pytest.param("rules:\n  - id: r\n    description: d\n    when: {category: land}\n    then: {co: [fiscal]}\n",
                     5, "must name a 'lead'", id="stopping-rule-without-lead"),
        pytest.param("rules:\n  - id: r\n    description: d\n    when: {category: land}\n    then: {lead: fiscal}\n    continue: true\n",
                     5, "'continue' rule may not set 'lead'", id="continue-rule-with-lead"),
        pytest.param("rules:\n  - id: R 1\n    description: d\n    when: {category: land}\n    then: {lead: fiscal}\n",
                     2, "rules.0.id", id="bad-id"),
        pytest.param("rules:\n  - id: r\n    description: d\n    when: {whitelisted: yes please}\n    then: {lead: fiscal}\n",
                     4, "true or false", id="whitelisted-not-bool"),
        pytest.param("rules:\n  - id: r\n    description: d\n    when: {category: land}\n    then: {lead: fiscal}\n"
                     "    examples:\n      - case: {title: x}\n        expect: {lead: nobody}\n",
                     8, "unknown department 'nobody'", id="example-names-unknown-department"),
    ],
)
def test_refused_with_line_and_reason(make_rules, body, line, reason):
    error = only(errors_of(make_rules, body))
    assert error.file.endswith("rules.yaml")
    assert error.line == HEADER_LINES + line, str(error)
    assert reason in error.reason, str(error)
    assert str(error).startswith(f"{error.file}:{error.line}: ")


def test_every_error_is_reported_not_just_the_first(make_rules):
    body = ("rules:\n"
            "  - {id: a, description: d, when: {category: nowhere}, then: {lead: fiscal}}\n"
            "  - {id: b, description: d, when: {category: land}, then: {lead: nobody}}\n")
    errors = errors_of(make_rules, body)
    assert [e.line - HEADER_LINES for e in errors] == [2, 3]


@pytest.mark.parametrize(
    "header, reason",
    [
        ("sla_policies: {}\n", "no 'defaults'"),
        (HEADER.replace("      joint_meeting: {due: 10 working_days}\n", "", 1), "no deadline for: joint_meeting"),
        (HEADER.replace("{due: 3 working_days, warn: 1 working_day}", "{due: 3 working_days, warn: 3 working_days}"),
         "warn (3 working_days) must be shorter than due"),
        (HEADER.replace("{due: 3 working_days, warn: 1 working_day}", "{due: 4 working_hours, warn: 300 working_minutes}"),
         "warn (300 working_minutes) must be shorter than due (4 working_hours)"),
        (HEADER.replace("{due: 3 working_days, warn: 1 working_day}", "{due: 3 fortnights}"), "not a duration"),
        (HEADER.replace("      1: {due: 1 working_day}\n", "      7: {due: 1 working_day}\n"), "unknown tier"),
    ],
)
def test_bad_policies_and_defaults(make_rules, header, reason):
    body = "rules:\n  - {id: r, description: d, when: {category: land}, then: {lead: fiscal}}\n"
    errors = errors_of(make_rules, body, header=header)
    assert any(reason in e.reason for e in errors), [str(e) for e in errors]
    assert all(e.line for e in errors)


def test_not_utf8_and_not_a_mapping(tmp_path, vocabulary):
    (tmp_path / "a.yaml").write_bytes("rules: []\n# 注释".encode("gb18030"))
    with pytest.raises(SourceErrors, match="not UTF-8"):
        load_ruleset(tmp_path / "a.yaml", vocabulary)
    (tmp_path / "a.yaml").write_text("- just\n- a list\n")
    with pytest.raises(SourceErrors, match="a rule file is a mapping"):
        load_ruleset(tmp_path / "a.yaml", vocabulary)
    with pytest.raises(SourceErrors, match="no such file"):
        load_ruleset(tmp_path / "missing", vocabulary)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceErrors, match="no .yaml rule files"):
        load_ruleset(empty, vocabulary)


def test_a_folder_is_refused_whole_when_one_file_is_bad(tmp_path, vocabulary):
    (tmp_path / "00-base.yaml").write_text(HEADER, encoding="utf-8")
    (tmp_path / "10-good.yaml").write_text(
        "rules:\n  - {id: good, description: d, when: {category: land}, then: {lead: fiscal}}\n", encoding="utf-8")
    (tmp_path / "20-bad.yaml").write_text(
        "rules:\n  - {id: bad, description: d, when: {category: land}, then: {lead: nobody}}\n", encoding="utf-8")
    with pytest.raises(SourceErrors) as exc:
        load_ruleset(tmp_path, vocabulary)
    assert [(e.file.rsplit("/", 1)[-1], e.line) for e in exc.value.errors] == [("20-bad.yaml", 2)]


def test_running_set_stays_when_a_reload_fails(tmp_path, vocabulary):
    path = tmp_path / "rules.yaml"
    path.write_text(HEADER + "rules:\n  - {id: land, description: d, when: {keywords: {any: [土地]}}, "
                    "then: {lead: natural-resources}}\n", encoding="utf-8")
    active = ActiveRuleSet(lambda: load_ruleset(path, vocabulary))
    before = active.current
    path.write_text(HEADER + "rules:\n  - {id: land, description: d, when: {keywords: {any: []}}, "
                    "then: {lead: natural-resources}}\n", encoding="utf-8")
    with pytest.raises(SourceErrors):
        active.reload()
    assert active.current is before
    assert active.current.route(case("土地")).lead_department == "natural-resources"
    # a good edit is taken, with a new content-derived version
    path.write_text(HEADER + "rules:\n  - {id: land, description: d, when: {keywords: {any: [土地]}}, "
                    "then: {lead: fiscal}}\n", encoding="utf-8")
    after = active.reload()
    assert active.current is after and after.version != before.version
    assert after.route(case("土地")).lead_department == "fiscal"


def test_version_is_derived_from_content(tmp_path, vocabulary):
    text = HEADER + "rules:\n  - {id: r, description: d, when: {category: land}, then: {lead: fiscal}}\n"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "rules.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "b" / "rules.yaml").write_text(text, encoding="utf-8")
    a, b = load_ruleset(tmp_path / "a", vocabulary), load_ruleset(tmp_path / "b", vocabulary)
    assert a.version == b.version and len(a.version) == 12
    (tmp_path / "b" / "rules.yaml").write_text(text + "# a comment changes the file\n", encoding="utf-8")
    assert load_ruleset(tmp_path / "b", vocabulary).version != a.version


def test_keyword_text_normalises_to_empty(make_rules):
    # a keyword of only a gloss-like or blank content is empty once normalised
    errors = errors_of(make_rules, textwrap.dedent("""\
        rules:
          - id: r
            description: d
            when: {keywords: {any: ["\u3000"]}}
            then: {lead: fiscal}
        """))
    assert "empty keyword" in only(errors).reason
