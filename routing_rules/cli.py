"""``closedloop rules ...``: check, test, route and diff rule sets from the shell.

Like ``amtool config routes test``: a rules author runs these before a change goes live, and CI
runs ``check`` and ``test`` on every commit.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Iterator

import click

from .checking import diff, run_examples
from .engine import CaseInput, RuleSet
from .loader import DEFAULT_RULES, load_ruleset
from .source import SourceErrors
from .vocabulary import Vocabulary

def rules_path(path: str | None) -> Path:
    return Path(path or os.environ.get("CLOSEDLOOP_RULES") or DEFAULT_RULES)


def vocabulary(directory: str | None) -> Vocabulary:
    from service.directory import load_directory  # the directory file is the service's

    return load_directory(directory).vocabulary()


def _load(path: str | None, directory: str | None) -> RuleSet:
    """Load or exit 1 with every error, one per line, as ``file:line: reason``."""
    try:
        return load_ruleset(rules_path(path), vocabulary(directory))
    except SourceErrors as exc:
        for error in exc.errors:
            click.echo(f"error: {error}", err=True)
        click.echo(f"{len(exc.errors)} error(s); the rule set was not loaded", err=True)
        sys.exit(1)


def _read_cases(stream) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line number, case data or None, error or None) for each non-blank JSON line."""
    for n, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            yield n, None, f"not JSON ({exc.msg} at column {exc.colno})"
            continue
        if not isinstance(data, dict):
            yield n, None, "each line must be a JSON object with title, description, ..."
            continue
        yield n, data, None


directory_option = click.option(
    "--directory", envvar="CLOSEDLOOP_DIRECTORY", type=click.Path(dir_okay=False),
    help="Directory YAML whose names the rules may use (default: Luohe's).")


@click.group("rules")
def rules() -> None:
    """Check, test, route and compare routing rule sets."""


@rules.command("check")
@click.argument("path", required=False)
@directory_option
def check(path: str | None, directory: str | None) -> None:
    """Validate a rule set (a file or a folder of .yaml files)."""
    rs = _load(path, directory)
    click.echo(f"ok: {len(rs.rules)} rules, {len(rs.patterns)} keywords, {len(rs.sla_policies)} SLA policies, "
               f"{len(rs.examples)} examples; version {rs.version}")


@rules.command("test")
@click.argument("path", required=False)
@directory_option
@click.option("--cases", type=click.File("r", encoding="utf-8"),
              help='Also check JSON lines with "expect": ["<department>"] or ["__triage__"].')
@click.option("-v", "--verbose", is_flag=True, help="Print passing examples too.")
def test(path: str | None, directory: str | None, cases, verbose: bool) -> None:
    """Run the rule files' own examples (and optionally a file of labelled cases)."""
    rs = _load(path, directory)
    passed = failed = 0
    for result in run_examples(rs):
        if result.passed:
            passed += 1
            if verbose:
                click.echo(f"ok   {result.file}:{result.line} {result.name}")
            continue
        failed += 1
        click.echo(f"FAIL {result.file}:{result.line} {result.name}")
        for name, expected, got in result.mismatches:
            click.echo(f"     {name}: expected {expected!r}, got {got!r}")
        click.echo("     " + result.decision.explanation.replace("\n", "\n     "))
    if cases is not None:
        for n, data, error in _read_cases(cases):
            label = f"{cases.name}:{n}" + (f" {data.get('id')}" if data and data.get("id") else "")
            if error or "expect" not in data:
                failed += 1
                click.echo(f"FAIL {label}: {error or 'no expect field'}")
                continue
            try:
                decision = rs.route(CaseInput.from_mapping(data))
            except ValueError as exc:
                failed += 1
                click.echo(f"FAIL {label}: {exc}")
                continue
            got = decision.label
            if got in data["expect"]:
                passed += 1
                if verbose:
                    click.echo(f"ok   {label}")
            else:
                failed += 1
                click.echo(f"FAIL {label}: expected {' or '.join(data['expect'])}, got {got}")
                click.echo("     " + decision.explanation.replace("\n", "\n     "))
    click.echo(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


@rules.command("route")
@click.option("--rules", "path", help="Rule set to use (default: CLOSEDLOOP_RULES or Luohe's).")
@directory_option
def route(path: str | None, directory: str | None) -> None:
    """Route JSON-lines cases from standard input; one JSON decision per line on standard output.

    A line that is not a valid case gets {"line": N, "error": "..."} in its place, and the
    command exits 1 at the end.
    """
    rs = _load(path, directory)
    bad = 0
    for n, data, error in _read_cases(sys.stdin):
        if error is None:
            try:
                out = rs.route(CaseInput.from_mapping(data)).to_dict()
            except ValueError as exc:
                error = str(exc)
        if error is not None:
            bad += 1
            out = {"line": n, "error": error}
        elif "id" in data:
            out = {"id": data["id"], **out}
        click.echo(json.dumps(out, ensure_ascii=False))
    sys.exit(1 if bad else 0)


@rules.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--cases", type=click.File("r", encoding="utf-8"), required=True,
              help="JSON lines of cases to replay through both sets.")
@directory_option
def diff_command(old: str, new: str, cases, directory: str | None) -> None:
    """List the cases whose routing differs between rule sets OLD and NEW."""
    a, b = _load(old, directory), _load(new, directory)
    replay = []
    for n, data, error in _read_cases(cases):
        if error is None:
            try:
                replay.append((str(data.get("id") or f"line {n}"), CaseInput.from_mapping(data)))
                continue
            except ValueError as exc:
                error = str(exc)
        click.echo(f"skipped {cases.name}:{n}: {error}", err=True)
    changes = diff(a, b, replay)
    for change in changes:
        fields = ", ".join(f"{k}: {change.before[k]!r} -> {change.after[k]!r}" for k in change.before)
        click.echo(f"{change.label}: {fields}")
    click.echo(f"{len(changes)} of {len(replay)} cases route differently ({a.version} -> {b.version})")
