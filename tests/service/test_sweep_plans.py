"""The sweep reads only what it will act on (issue #12), on PostgreSQL: on a few thousand cases
of bench/bigload.py's mix — the supervised ones past their deadline among them — a quiet tick sends
a handful of statements, and each claim is an index range of exactly the cases it may act on:
the escalation never reads a supervised case past due, the warning never a case already warned
at its tier, the reminder never a closed one. The figures at a million cases are
bench/escalation.py's."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from bench.escalation import quiet_tick, statements_of
from service.escalation.sweep import sweep

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
CLAIMS = {"escalate": "ix_cases_to_escalate", "warn": "ix_cases_to_warn",
          "remind": "ix_cases_supervision_next_at", "close": "ix_cases_confirm_due_at"}


@pytest.fixture(scope="module")
def settled(pg_url):
    """Three thousand cases, swept at NOW until a tick finds nothing (the overdue ones climb a
    tier per tick): from then on NOW is a quiet moment."""
    from conftest import _wipe, bigloaded

    rt = bigloaded(pg_url)
    rt.clock.set(NOW)
    for _ in range(10):
        if not any(sweep(rt, NOW).counts().values()):
            break
    else:
        pytest.fail("the sweep did not settle in ten ticks")
    with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE cases"))
    yield rt
    _wipe(rt)


def _claims(rt) -> tuple[dict[str, tuple[str, dict]], int]:
    """The claiming statements of one quiet tick (SELECT … FOR UPDATE), by what they claim for;
    and how many statements the tick sent."""
    return quiet_tick(rt, NOW)


def _scans(rt, statement: str, parameters, relations: tuple[str, ...]) -> tuple[list, list[dict]]:
    """The plan of ``statement`` as it ran (EXPLAIN ANALYZE, scans by index wherever one serves),
    and its scans of ``relations``."""
    with rt.engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        conn.execute(text("SET enable_bitmapscan = off"))
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).scalar()
        conn.rollback()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    scans = []

    def walk(node):
        if node.get("Relation Name") in relations:
            scans.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return plan, scans


def test_a_quiet_tick_sends_a_handful_of_statements(settled):
    with settled.engine.connect() as conn:
        supervised = conn.execute(text("SELECT count(*) FROM cases WHERE supervised AND due_at < :now"),
                                  {"now": NOW}).scalar()
    assert supervised > 20  # the mix has them, past due: they must not be read below
    _, statements = _claims(settled)
    assert statements <= 10, statements


@pytest.mark.parametrize("claim", CLAIMS)
def test_each_claim_reads_only_the_cases_it_may_act_on(settled, claim):
    statement, parameters = _claims(settled)[0][claim]
    plan, scans = _scans(settled, statement, parameters, ("cases",))
    assert [s["Index Name"] for s in scans] == [CLAIMS[claim]], (statement, json.dumps(plan, indent=1))
    # quiet: nothing found, and nothing read and thrown away on the way
    assert scans[0]["Actual Rows"] == 0 and scans[0].get("Rows Removed by Filter", 0) == 0, scans[0]


def test_the_next_moment_reads_one_row_of_each_claims_index(settled):
    """sweep.next_moment, sent after every tick: each of its parts (the four claims of cases, and
    the call-backs falling overdue) reads the first entry ahead in the index its claim reads, and
    throws nothing away."""
    from service.escalation.sweep import next_moment

    moment, sent = statements_of(settled, lambda: next_moment(settled, NOW))
    assert moment is not None and moment > NOW
    (statement, parameters), = [(s, p) for s, p in sent if "FROM cases" in s]
    assert "FROM callbacks" in statement
    plan, scans = _scans(settled, statement, parameters, ("cases", "callbacks"))
    assert sorted(s["Index Name"] for s in scans) == sorted([*CLAIMS.values(), "ix_callbacks_to_remind"]), \
        json.dumps(plan, indent=1)
    for scan in scans:
        assert scan["Actual Rows"] <= 1 and scan.get("Rows Removed by Filter", 0) == 0, scan
