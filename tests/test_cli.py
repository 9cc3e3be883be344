"""The `closedloop rules` commands, run as a person runs them."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import DATA, HEADER, REPO

from routing_rules import DEFAULT_RULES

CLOSEDLOOP = Path(sys.executable).with_name("closedloop")


def run(*args, stdin: str | None = None, cwd: Path = REPO):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOSEDLOOP_")}
    return subprocess.run([str(CLOSEDLOOP), "rules", *args], input=stdin, capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=60)


def test_check_default_rules():
    out = run("check")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok: ") and "version " in out.stdout


def test_check_reports_file_line_reason_and_exits_1(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text(HEADER + "rules:\n  - {id: r, description: d, when: {category: land}, then: {lead: nobody}}\n",
                   encoding="utf-8")
    out = run("check", str(bad))
    assert out.returncode == 1
    line = HEADER.count("\n") + 2
    assert f"error: {bad}:{line}: unknown department 'nobody'" in out.stderr
    assert "the rule set was not loaded" in out.stderr


def test_test_runs_examples_and_labelled_cases():
    out = run("test", "--cases", str(DATA / "sample-cases.jsonl"))
    assert out.returncode == 0, out.stdout
    assert out.stdout.strip().splitlines()[-1].endswith(" failed") and " 0 failed" in out.stdout


def test_test_prints_expected_versus_got(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(HEADER + """rules:
  - id: land
    description: 用地
    when: {keywords: {any: [土地]}}
    then: {lead: natural-resources}
    examples:
      - case: {title: 土地证}
        expect: {lead: fiscal, tier: 3}
""", encoding="utf-8")
    out = run("test", str(rules))
    assert out.returncode == 1
    assert "FAIL" in out.stdout
    assert "lead: expected 'fiscal', got 'natural-resources'" in out.stdout
    assert "tier: expected 3, got 1" in out.stdout
    assert "0 passed, 1 failed" in out.stdout


def test_route_reads_json_lines_and_writes_decisions():
    stdin = (DATA / "sample-cases.jsonl").read_text(encoding="utf-8")
    out = run("route", stdin=stdin)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) == len(stdin.strip().splitlines())
    first = lines[0]
    for field in ("lead_department", "co_departments", "tier", "sla_policy", "theme", "priority",
                  "needs_triage", "rules", "ruleset_version", "explanation"):
        assert field in first
    assert first["id"] == "S01" and first["lead_department"] == "natural-resources"
    assert lines[-1]["needs_triage"] is True


def test_route_answers_bad_lines_in_place_and_exits_1():
    out = run("route", stdin='{"title": "土地证"}\nnot json\n[1]\n{"title": 7}\n')
    assert out.returncode == 1
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert lines[0]["lead_department"] == "natural-resources"
    assert lines[1]["line"] == 2 and "not JSON" in lines[1]["error"]
    assert lines[2]["line"] == 3 and "JSON object" in lines[2]["error"]
    assert lines[3]["line"] == 4 and "'title'" in lines[3]["error"]


def test_diff_lists_cases_whose_routing_changes(tmp_path):
    new = tmp_path / "new"
    shutil.copytree(DEFAULT_RULES, new)
    departments = new / "20-departments.yaml"
    text = departments.read_text(encoding="utf-8")
    # move 电费 from the power company to the fiscal bureau: one sample case must change (its
    # other words, 电表 and 供电, keep the power company in the lead with the bureau close behind)
    moved = text.replace("停电, 断电, 限电, 电费,", "停电, 断电, 限电,").replace("any: &fiscal [", "any: &fiscal [电费, ")
    assert moved.count("电费") == text.count("电费") and "[电费, " in moved and "限电, 电费," not in moved  # both edits took
    text = moved
    departments.write_text(text, encoding="utf-8")
    out = run("diff", str(DEFAULT_RULES), str(new), "--cases", str(DATA / "sample-cases.jsonl"))
    assert out.returncode == 0, out.stderr
    assert "S18: co_departments: [] -> ['fiscal']" in out.stdout
    assert out.stdout.strip().splitlines()[-1].startswith("1 of 31 cases route differently")


@pytest.mark.parametrize("env", ["CLOSEDLOOP_RULES", "argument"])
def test_rules_path_from_environment_or_argument(tmp_path, env):
    path = tmp_path / "r.yaml"
    path.write_text(HEADER + "rules: []\n", encoding="utf-8")
    if env == "argument":
        out = run("check", str(path))
    else:
        out = subprocess.run([str(CLOSEDLOOP), "rules", "check"], capture_output=True, text=True, cwd=REPO,
                             env={**os.environ, "CLOSEDLOOP_RULES": str(path)}, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("ok: 0 rules")
