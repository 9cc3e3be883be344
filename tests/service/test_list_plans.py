"""The case lists use their indexes (issue #12), on PostgreSQL: for every reader and every filter
the API offers, each part of a list is read in order from an index that holds it (backward, newest
first, so that the scan stops at the page) — never the whole table. The figures at a million
cases are bench/listing.py's; this checks the shape of every plan on a few thousand cases of the
same generated mix, with the planner told that reading the whole table, a bitmap or a sort is dear, so that it
shows the ordered path when one exists (on so few rows it would rather read them all and sort)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import event, text

from service.auth.principal import Principal
from service.cases import service as cases

READERS = {"admin": Principal("k", "admin"), "leader": Principal("k", "leader"),
           "department": Principal("k", "department", department="natural-resources"),
           "officer": Principal("k", "officer", officer_id="officer-yuanhui-1"),
           "enterprise": None}  # the enterprise with the most cases, once they are loaded
FILTERS = [{}, {"status": "open"}, {"status": "in_progress", "tier": 1, "overdue": False}, {"tier": 2},
           {"overdue": True}, {"triage": True}, {"district": "linying"}, {"department": "natural-resources"},
           {"department": "taxation"}, {"category": "land"}, {"priority": "high"},
           {"created_from": date(2026, 11, 1)}, {"created_from": date(2019, 3, 1), "created_to": date(2019, 3, 31)},
           {"enterprise_id": 9}, {"page": 2}]
UNBOUNDED = {"status", "tier", "overdue", "category"}
PARTIAL = {"ix_cases_triage_newest", "ix_cases_priority_newest", "ix_cases_co_many_newest"}
BUSIEST = text("SELECT enterprise_id FROM cases GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")


@pytest.fixture(scope="module")
def loaded(pg_url):
    """Three thousand cases of bench/bigload.py's mix (co-handled, triaged, every status)."""
    from conftest import _wipe, bigloaded

    rt = bigloaded(pg_url)
    yield rt
    _wipe(rt)


def _scans(node: dict, out: list, under_limit: bool = False) -> list:
    """The scans of ``cases`` that feed a Limit: the parts of the list, each cut at the page (the
    page's rows are then fetched by id, outside any Limit)."""
    under_limit = under_limit or node["Node Type"] == "Limit"
    if node.get("Relation Name") == "cases" and under_limit:
        out.append(node)
    for child in node.get("Plans", []):
        _scans(child, out, under_limit)
    return out


def _plan(rt, p: Principal, f: dict, which: int = -1, whole: bool = False) -> list[dict]:
    """The scans of ``cases`` in the plan of the list's statement (``which``: of those it sent),
    as PostgreSQL would run it; ``whole``: every node of the plan instead."""
    cursor = None
    if f.get("page") == 2:
        with rt.session() as s:
            cursor = cases.list_cases(s, rt, p, limit=1)[1]
        assert cursor is not None
    statements = []

    def grab(conn, cur, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(rt.engine, "before_cursor_execute", grab)
    try:
        with rt.session() as s:
            cases.list_cases(s, rt, p, limit=50, cursor=cursor, **{k: v for k, v in f.items() if k != "page"})
    finally:
        event.remove(rt.engine, "before_cursor_execute", grab)
    statement, parameters = statements[which]
    with rt.engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        conn.execute(text("SET enable_bitmapscan = off"))
        conn.execute(text("SET enable_sort = off"))
        plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
        conn.rollback()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    return _nodes(plan[0]["Plan"]) if whole else _scans(plan[0]["Plan"], [])


def _nodes(node: dict) -> list[dict]:
    return [node, *(n for child in node.get("Plans", []) for n in _nodes(child))]


def _reader(rt, name: str) -> Principal:
    """The reader of that name; the enterprise is the one with the most cases."""
    if READERS[name] is not None:
        return READERS[name]
    with rt.engine.connect() as conn:
        return Principal("k", "enterprise", enterprise_id=conn.execute(BUSIEST).scalar())


@pytest.mark.parametrize("reader", READERS)
def test_every_list_reads_its_page_in_order_from_an_index(loaded, reader):
    p = _reader(loaded, reader)
    for f in FILTERS:
        parts = _plan(loaded, p, f)
        assert parts, (reader, f)
        for s in parts:
            assert s["Node Type"] in ("Index Scan", "Index Only Scan"), (reader, f, s["Node Type"])
            assert s["Index Name"].endswith("_newest") and s["Scan Direction"] == "Backward", \
                (reader, f, s["Index Name"], s["Scan Direction"])
            # and bounded: to the reader's scope or the filter (an index condition, or a partial
            # index of just those cases) — except a filter everybody's newest cases pass often
            # (a status, a tier…) on the whole city, walked newest first until the page is full
            common = reader in ("admin", "leader") and set(f) <= UNBOUNDED
            # a department asked within a narrower scope is a filter on the scope's parts
            common = common or (reader in ("officer", "department", "enterprise") and "department" in f)
            assert common or "Index Cond" in s or s["Index Name"] in PARTIAL, (reader, f, s["Index Name"], s.get("Filter"))
            if reader == "officer" and "district" in f and "officer_id" in s.get("Index Cond", ""):
                # the officer's own cases in another district: bounded by both, never the
                # officer's every case filtered (41 ms at a million: docs/benchmarks.md)
                assert "district" in s["Index Cond"], (f, s["Index Name"], s.get("Filter"))


@pytest.mark.parametrize("reader", READERS)
def test_the_deadline_queue_reads_the_running_cases_soonest_first_from_their_index(loaded, reader):
    # the web pages' default list: one ORDER BY due_at NULLS LAST over the scope sorted every
    # case the reader may see (0.35–0.9 s at a million, bench/listing.py)
    p = _reader(loaded, reader)
    for f in ({}, {"overdue": True}, {"department": "natural-resources"}, {"tier": 2}):
        nodes = _plan(loaded, p, {**f, "by_deadline": True}, which=0, whole=True)
        # (an incremental sort orders equal deadlines by id as they come, and stops at the page)
        assert not [n for n in nodes if n["Node Type"] == "Sort"], (reader, f)
        scans = [n for n in nodes if n.get("Relation Name") == "cases"]
        assert scans and scans[0].get("Index Name") == "ix_cases_running_due", (reader, f, scans[:1])
        assert scans[0]["Scan Direction"] == "Forward", (reader, f)


@pytest.mark.parametrize("reader", READERS)
def test_the_deadline_queue_in_two_parts_is_the_one_order_it_was(loaded, reader):
    from sqlalchemy import select

    from service.auth.principal import visible_cases
    from service.cases.models import Case

    p = _reader(loaded, reader)
    for limit in (50, 3000):  # the running cases alone, and past them into the cases with no deadline
        with loaded.session() as s:
            got = [c.id for c in cases.list_cases(s, loaded, p, limit=limit, by_deadline=True)[0]]
            one_order = s.scalars(select(Case.id).where(visible_cases(p, "postgresql"))
                                  .order_by(Case.due_at.asc().nulls_last(), Case.id).limit(limit)).all()
        assert got == list(one_order), (reader, limit)
