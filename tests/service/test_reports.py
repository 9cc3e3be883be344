"""Performance reports (issue #13): the definitions on crafted cases with answers computed by hand,
the facts against the cases' timelines, the report against a direct computation from the events,
who reads what, bad input, and the formats."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from service.cases.models import Case, CaseEvent
from service.escalation.sweep import sweep
from service.reports.facts import COLUMNS, replay
from service.reports import rollups
from service.reports.measures import COUNTS, GROUPS, compute, parse_period
from service.reports.models import CaseFact, ReportMonth, RolledMonth, RollupWatermark
from support import TZ

LAND = "natural-resources"
FINANCE = "financial-regulation"


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


def story(world) -> dict:
    """Five demands to the land bureau on Thursday 2026-11-26 10:00 (tier 1, due Tuesday 12-01
    18:00), and what became of each (see the expected figures in the test below)."""
    c = {k: world.submit(title=f"厂区土地证办不下来{k}", description="出让金已缴清，土地证三个月未办结")["id"]
         for k in "ABCDE"}
    world.clock.set(at(2026, 11, 26, 11))
    world.act(c["A"], "accept", "land")
    world.act(c["B"], "accept", "land")
    world.clock.set(at(2026, 11, 26, 12))
    world.act(c["A"], "resolve", "land", {"resolution": "已办结"})
    world.act(c["C"], "object", "land", {"reason": "不属于本部门"})
    world.act(c["C"], "reassign", "officer", {"lead_department": FINANCE})
    world.act(c["D"], "withdraw", "ent", {"reason": "已自行解决"})
    world.act(c["E"], "escalate", "officer", {"reason": "提交县区周例会"})
    world.clock.set(at(2026, 11, 26, 13))
    world.act(c["A"], "confirm", "ent", {"satisfied": True, "rating": 5})
    world.clock.set(at(2026, 12, 2, 10))  # B is past its deadline (12-01 18:00)
    world.act(c["B"], "resolve", "land", {"resolution": "已办结"})
    world.clock.set(at(2026, 12, 2, 11))
    world.act(c["B"], "confirm", "ent", {"satisfied": False, "rating": 2})
    return c


def report(world, period=None, start=None, end=None, group_by="department", **kw):
    with world.rt.session() as session:
        return compute(session, world.rt, parse_period(period, start, end, date(2026, 12, 2)), group_by, **kw)


def test_the_definitions_on_crafted_cases(world):
    story(world)
    r = report(world, start=date(2026, 11, 26), end=date(2026, 12, 4))
    land = next(row for row in r.rows if row.key == LAND)
    assert land.counts == {**{k: 0 for k in COUNTS}, "received": 5, "accepted": 2, "accepted_on_time": 2,
                           "resolved": 2, "resolved_on_time": 1, "received_resolved": 2, "closed": 1, "withdrawn": 1,
                           "reopened": 1, "confirmations": 2, "satisfied": 1, "objections": 1,
                           "objections_upheld": 1, "escalated_2": 1}
    assert land.rates == {"response_rate": 1.0, "resolution_rate": 0.4, "on_time_rate": 0.5,
                          "satisfaction_rate": 0.5, "reopen_rate": 0.5, "objection_rate": 0.2}
    # handling times: A 2 hours (2/24 = 0.08 working days); B Thursday 10:00 to Wednesday 10:00
    # over a weekend: 14 + 24 + 24 + 24 + 10 hours = 4.0 working days
    assert land.figures["days_median"] == 2.04 and land.figures["days_mean"] == 2.04
    assert land.figures["days_p90"] == round(0.08 + 0.9 * (4.0 - 0.08), 2)
    assert land.figures["rating_mean"] == 3.5
    assert land.rank["on_time_rate"] == 1 and land.previous["on_time_rate"] is None and land.change["on_time_rate"] is None
    # C waits at finance since its objection, due 12-01 18:00: overdue 17 hours at 12-02 11:00
    finance = next(row for row in r.rows if row.key == FINANCE)
    assert finance.counts["received"] == 0 and finance.rates["on_time_rate"] is None and finance.rank["on_time_rate"] is None
    assert finance.figures["overdue_now"] == 1 and finance.figures["longest_overdue_days"] == 0.7
    assert r.city.counts == land.counts and r.city.figures["overdue_now"] == 1
    assert [c.lead_department for c in r.overdue] == [FINANCE]
    assert r.previous_period.start == date(2026, 11, 17) and r.previous_period.end == date(2026, 11, 25)


def test_a_refusal_at_the_top_counts_as_a_reopening_and_a_supervision(world):
    """Resolved at tier 5 and not accepted by the enterprise, a case is reopened and put under
    supervision at once (督办): counted in both columns, and replayed the same from its timeline."""
    world.clock.set(at(2026, 11, 26, 10))
    c = world.submit()
    world.refused_at_top(c["id"])
    assert world.case(c["id"])["supervised"] is True
    city = report(world, start=date(2026, 11, 26), end=date(2026, 12, 2)).city
    assert (city.counts["reopened"], city.counts["supervised"], city.counts["confirmations"]) == (1, 1, 1)
    with world.rt.session() as s:
        events = list(s.scalars(select(CaseEvent).where(CaseEvent.case_id == c["id"]).order_by(CaseEvent.id)))
        written = sorted(f.kind for f in s.scalars(select(CaseFact).where(CaseFact.case_id == c["id"])))
        assert sorted(f["kind"] for f in replay(s.get(Case, c["id"]), events)) == written
    assert written.count("supervised") == 1 and written.count("reopened") == 1


def test_a_period_counts_what_happened_within_its_borders(world):
    story(world)
    november, december = report(world, "2026-11").city, report(world, "2026-12").city
    assert november.counts["received"] == 5 and november.counts["resolved"] == 1  # B was resolved in December
    assert november.counts["received_resolved"] == 1 and november.rates["resolution_rate"] == 0.2
    assert november.counts["reopened"] == 0 and november.counts["confirmations"] == 1
    assert december.counts["received"] == 0 and december.rates["resolution_rate"] is None
    assert december.counts["resolved"] == 1 and december.rates["on_time_rate"] == 0.0
    assert december.previous["on_time_rate"] == 1.0 and december.change["on_time_rate"] == -100.0
    # a later event does not change a past period: re-route a November case in December
    before = report(world, "2026-11")
    world.act(world.submit()["id"], "comment", "admin", {"text": "十二月的新诉求"})
    c = world.case(1)
    world.act(c["id"], "comment", "admin", {"text": "备注"})
    after = report(world, "2026-11")
    assert [(r.key, r.counts) for r in after.rows] == [(r.key, r.counts) for r in before.rows]


def test_extensions_count_as_the_operator_chooses(world):
    case = world.submit()
    world.act(case["id"], "accept", "land")
    due = datetime.fromisoformat(world.case(case["id"])["due_at"])
    world.act(case["id"], "extend", "land", {"until": (due + timedelta(days=7)).isoformat(), "reason": "需要时间"})
    world.act(case["id"], "approve-extension", "officer", {"approve": True})
    world.clock.set(due + timedelta(days=2))  # after the first deadline, before the extended one
    world.act(case["id"], "resolve", "land", {"resolution": "已办结"})
    counted = report(world, "2026-12").city
    excluded = report(world, "2026-12", extensions="exclude").city
    assert counted.counts["resolved_on_time"] == 1 and excluded.counts["resolved_on_time"] == 0


def test_an_empty_period_gives_zeros(world):
    r = report(world, "2020-01")
    assert all(v == 0 for v in r.city.counts.values()) and all(v is None for v in r.city.rates.values())
    assert {row.key for row in r.rows} >= {LAND, FINANCE}


def _history(world) -> None:
    """Every kind of event, through every writing path: intake, actions one by one, the sweep's
    escalations (COPY on PostgreSQL), supervision at tier 5, a meeting's minutes, closing by
    default, reopening, extensions, objections, withdrawals; across the borders of months."""
    story(world)
    for i in range(6):
        world.submit(title=f"中小企业贷款审批时间长{i}", description="银行抽贷")
    world.clock.set(at(2026, 12, 31, 17))
    sweep(world.rt, at(2026, 12, 31, 17))  # tier 1 deadlines long past: everything running climbs
    for day in range(1, 60, 3):
        sweep(world.rt, at(2027, 1, 1, 10) + timedelta(days=day))  # up to tier 5 and supervision
    world.clock.set(at(2027, 3, 1, 10))
    world.submit(title="出口退税进度查询", description="退税三个月未到账")


def test_the_facts_written_equal_the_facts_replayed_from_each_timeline(world):
    _history(world)
    with world.rt.session() as s:
        cases = list(s.scalars(select(Case).order_by(Case.id)))
        written = Counter(tuple(getattr(f, c) for c in COLUMNS) for f in s.scalars(select(CaseFact)))
        replayed = Counter()
        for case in cases:
            events = list(s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))
            replayed.update(tuple(f[c] for c in COLUMNS) for f in replay(case, events))
    kinds = Counter(key[1] for key in written)
    assert {"submitted", "accepted", "resolved", "closed", "reopened", "withdrawn", "escalated", "supervised",
            "objected", "reassigned"} <= set(kinds), kinds
    assert written == replayed


def _direct(events_by_case: dict, cases: dict, start: datetime, end: datetime) -> dict[str | None, Counter]:
    """The counts of a period computed straight from the events (the test's own reading of
    docs/reports.md), per lead department as each event left it."""
    out: dict[str | None, Counter] = {}
    for case_id, events in events_by_case.items():
        routed = next(e for e in events if e.type == "routed")  # submitted and routed are one moment
        lead, tier = routed.data["lead_department"], routed.data["tier"]
        objected_by = []
        resolved_at = [e.at for e in events if e.type == "resolved"]
        for e in events:
            if e.type in ("routed", "reassigned", "assigned"):
                lead = e.data.get("lead_department")
            if e.type in ("routed", "escalated", "reopened") and e.data.get("tier"):
                tier = e.data["tier"]
            who = e.data.get("lead_department") if e.type == "objected" else lead
            if e.type == "objected":
                lead = None
            if not start <= e.at < end:
                continue
            n = out.setdefault(who, Counter())
            if e.type == "submitted":
                n["received"] += 1
                n["received_resolved"] += any(t < end for t in resolved_at)
            elif e.type == "accepted":
                n["accepted"] += 1
                n["accepted_on_time"] += bool(e.data.get("on_time"))
            elif e.type == "resolved":
                n["resolved"] += 1
                n["resolved_on_time"] += bool(e.data.get("on_time"))
            elif e.type in ("closed", "reopened"):
                n[e.type] += 1
                if e.data.get("satisfied") is not None:
                    n["confirmations"] += 1
                    n["satisfied"] += e.data["satisfied"] is True
            elif e.type == "withdrawn":
                n["withdrawn"] += 1
            elif e.type == "escalated" and e.data.get("supervised"):
                n["supervised"] += 1
            elif e.type == "escalated":
                n[f"escalated_{tier}"] += 1
            elif e.type == "supervised":
                n["supervised"] += 1
            elif e.type == "objected":
                n["objections"] += 1
                later = [x for x in events if x.type == "reassigned" and e.at <= x.at < end
                         and x.data.get("lead_department") not in (None, who)]
                n["objections_upheld"] += bool(later)
    return out


@pytest.mark.parametrize("period", ["2026-11", "2026-12", "2027-01", "2027-Q1", "2026"])
def test_the_report_agrees_with_a_direct_computation_from_the_events(world, period):
    _history(world)
    _agrees_with_the_events(world, period)


def _agrees_with_the_events(world, period: str) -> None:
    r = report(world, period)
    with world.rt.session() as s:
        events = {}
        for e in s.scalars(select(CaseEvent).order_by(CaseEvent.id)):
            events.setdefault(e.case_id, []).append(SimpleNamespace(type=e.type, at=e.at, data=e.data))
        cases = {c.id: c for c in s.scalars(select(Case))}
    p = parse_period(period, None, None, date(2026, 12, 2))
    start = datetime.combine(p.start, datetime.min.time(), TZ)
    end = datetime.combine(p.end + timedelta(days=1), datetime.min.time(), TZ)
    direct = _direct(events, cases, start, end)
    got = {row.key: Counter({k: v for k, v in row.counts.items() if v}) for row in r.rows}
    assert {k: v for k, v in got.items() if v} == {k: +v for k, v in direct.items() if +v}
    total = sum(direct.values(), Counter())
    assert Counter({k: v for k, v in r.city.counts.items() if v}) == +total


# ---------------------------------------------------------------------------- the API
def test_each_reader_sees_its_scope(world):
    world.submit("other-ent", title="厂区土地证办不下来", description="临颍的企业")  # Linying, in November
    story(world)
    get = lambda who, q="": world.client.get(f"/v1/reports/performance?period=2026-11{q}", headers=world.h(who))  # noqa: E731
    admin = get("admin").json()
    assert admin["total"]["counts"]["received"] == 6 and len(admin["rows"]) == 21
    land = get("land").json()
    assert [r["key"] for r in land["rows"]] == [LAND] and land["total"]["counts"]["received"] == 6
    assert land["rows"][0]["rank"]["response_rate"] == 1
    yuanhui = get("officer", "&group_by=district").json()
    assert [r["key"] for r in yuanhui["rows"]] == ["yuanhui"] and yuanhui["total"]["counts"]["received"] == 5
    assert yuanhui["total"]["name"] == "源汇区"
    linying = get("other-secretary", "&group_by=district").json()
    assert linying["total"]["counts"]["received"] == 1
    assert get("ent").status_code == 403
    assert get("land", "&group_by=district").status_code == 403


def test_bad_report_requests_answer_422_naming_the_parameter(world):
    h = world.h("admin")
    cases = {"/v1/reports/performance?group_by=weather": "group_by",
             "/v1/reports/performance?from=2026-12-01&to=2026-11-01": "from",
             "/v1/reports/performance?from=2010-01-01&to=2026-11-01": "to",
             "/v1/reports/performance?from=2026-11-01": "to",
             "/v1/reports/performance?period=2026-13": "period",
             "/v1/reports/performance?period=2026-11&from=2026-11-01&to=2026-11-02": "period",
             "/v1/reports/performance?format=pdf": "format",
             "/v1/reports/performance?extensions=maybe": "extensions"}
    for url, field in cases.items():
        r = world.client.get(url, headers=h)
        assert r.status_code == 422 and r.json()["detail"].startswith(f"{field}:"), (url, r.text)
    choices = world.client.get("/v1/reports/performance?group_by=weather", headers=h).json()["detail"]
    assert "department" in choices and "district" in choices


def test_csv_reads_back_with_chinese_headers(world):
    story(world)
    r = world.client.get("/v1/reports/performance?period=2026-11&format=csv", headers=world.h("admin"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    land = next(row for row in rows if row["代码"] == LAND)
    assert land["受理量（件）"] == "5" and land["响应率（%）"] == "100.0" and land["牵头部门"] == "市自然资源和规划局"
    assert rows[-1]["代码"] == "合计"


def test_agendas_open_with_the_figures_of_their_scope(world):
    """A county meeting's agenda opens with its district's figures of the month to the cut-off,
    the same numbers as the report (one source)."""
    world.submit("other-ent", title="厂区土地证办不下来", description="临颍的企业")
    case = world.submit()
    case = world.act(case["id"], "escalate", "admin", {"reason": "提交县区周例会"})
    sid = case["sitting_id"]
    agenda = world.client.get(f"/v1/meetings/{sid}/agenda", headers=world.h("admin")).json()
    figures = agenda["figures"]
    assert figures["scope"] == "源汇区" and figures["received"] == 1  # Linying's demand is not Yuanhui's
    with world.rt.session() as s:
        from service.directory.models import Sitting

        closes = world.rt.calendar.local_date(s.get(Sitting, sid).agenda_closes_at)
    r = report(world, start=closes.replace(day=1), end=closes, group_by="district")
    assert figures["received"] == next(row for row in r.rows if row.key == "yuanhui").counts["received"]
    for fmt in ("markdown", "html"):
        text = world.client.get(f"/v1/meetings/{sid}/agenda?format={fmt}", headers=world.h("admin")).text
        assert "本期数据（源汇区" in text and "受理 1 件" in text


def test_prometheus_shows_overdue_per_department_and_this_months_rates(world):
    world.clock.set(at(2026, 12, 1, 9))
    story_case = world.submit()
    world.act(story_case["id"], "accept", "land")
    world.act(story_case["id"], "resolve", "land", {"resolution": "已办结"})
    late = world.submit(title="贷款审批慢", description="银行抽贷")
    world.clock.set(at(2026, 12, 10, 9))  # its tier-1 deadline has passed
    text = world.client.get("/metrics").text
    lead = world.case(late["id"])["lead_department"]
    assert f'closedloop_overdue_cases_by_department{{department="{lead}"}} 1.0' in text
    assert 'closedloop_month_rate{rate="on_time_rate"} 1.0' in text
    assert 'closedloop_month_rate{rate="resolution_rate"} 0.5' in text
    assert 'rate="satisfaction_rate"' not in text  # no confirmation yet: no denominator


def test_the_demo_gives_figures_in_every_column(tmp_path):
    from service import demo
    from service.config import Settings
    from service.migrate import load_directory_rows, upgrade
    from service.runtime import Runtime

    rt = Runtime.build(Settings(database_url=f"sqlite:///{tmp_path / 'demo.sqlite3'}"))
    upgrade(rt)
    with rt.session() as s:
        load_directory_rows(s, rt.directory)
        demo.load(rt, s)
        s.commit()
    with rt.session() as s:
        r = compute(s, rt, parse_period(None, None, None, rt.calendar.local_date(rt.clock())), "department")
    assert {k for k, v in r.city.counts.items() if not v} == set()
    assert {k for k, v in r.city.figures.items() if v is None} == set()
    assert {k for k, v in r.city.rates.items() if v is None} == set()
    assert {k for k, v in r.city.change.items() if v is None} == set()
    rt.engine.dispose()


# ---------------------------------------------------------------------------- the rollups
ROLLED_AT = at(2027, 3, 1, 10)  # the end of _history: November to February have ended


def _figures(r) -> dict:
    rows = {row.key: row for row in [*r.rows, r.city]}
    return {k: (row.counts, row.rates, row.previous, row.rank,
                {f: v for f, v in row.figures.items() if f not in ("days_mean", "rating_mean")},
                row.figures["days_mean"], row.figures["rating_mean"]) for k, row in rows.items()}


def _same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert a[k][:5] == b[k][:5], k
        for x, y in zip(a[k][5:], b[k][5:]):  # means: sums of floats in another order
            assert (x is None and y is None) or abs(x - y) <= 0.011, k


@pytest.mark.parametrize("backend", ["postgresql"])
def test_the_rollups_give_the_reports_the_facts_give(world, monkeypatch):
    _history(world)
    assert rollups.roll_up(world.rt, ROLLED_AT) == [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1),
                                                    date(2027, 2, 1)]
    periods = ["2026-11", "2026-12", "2027-01", "2027-02", "2027-Q1", "2026", "2027", "2026-Q4"]
    with_rollups = {}
    for period in periods:
        p = parse_period(period, None, None, date(2027, 3, 1))
        with world.rt.session() as s:
            assert rollups.usable(s, world.rt, p.start, datetime.combine(
                p.end + timedelta(days=1), datetime.min.time(), TZ)) is not None, period
        for group_by in GROUPS:
            for extensions in ("count", "exclude"):
                with_rollups[period, group_by, extensions] = _figures(
                    report(world, period, group_by=group_by, extensions=extensions, now=ROLLED_AT))
    monkeypatch.setattr(rollups, "usable", lambda *a: None)
    for (period, group_by, extensions), figures in with_rollups.items():
        _same(figures, _figures(report(world, period, group_by=group_by, extensions=extensions, now=ROLLED_AT)))
    seen = Counter()  # what the rolled months held: every kind of count, so the comparison counted
    for period in ("2026-11", "2026-12", "2027-01", "2027-02"):
        seen.update(with_rollups[period, "city", "count"][None][0])
    assert all(seen[c] > 0 for c in COUNTS), seen


@pytest.mark.parametrize("backend", ["postgresql"])
@pytest.mark.parametrize("period", ["2026-12", "2027-Q1", "2026"])
def test_the_rolled_report_agrees_with_a_direct_computation_from_the_events(world, period):
    _history(world)
    assert rollups.roll_up(world.rt, ROLLED_AT)
    _agrees_with_the_events(world, period)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_late_fact_keeps_the_rollups_exact_and_is_rolled_up_again(world):
    _history(world)
    rollups.roll_up(world.rt, ROLLED_AT)
    december = parse_period("2026-12", None, None, date(2027, 3, 1))
    before = report(world, "2026-12", group_by="city", now=ROLLED_AT).city.counts["withdrawn"]
    with world.rt.session() as s:  # a backfill, or a clock set back: a fact inside a rolled month
        case = s.scalars(select(Case).order_by(Case.id)).first()
        s.add(CaseFact(case_id=case.id, kind="withdrawn", at=at(2026, 12, 15, 9), district=case.district,
                       lead_department=case.lead_department, tier=1))
        s.commit()
        end = datetime.combine(december.end + timedelta(days=1), datetime.min.time(), TZ)
        assert rollups.usable(s, world.rt, december.start, end) is None  # December: from the facts again
    assert report(world, "2026-12", group_by="city", now=ROLLED_AT).city.counts["withdrawn"] == before + 1
    assert rollups.roll_up(world.rt, ROLLED_AT) == [date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]
    with world.rt.session() as s:
        assert rollups.usable(s, world.rt, december.start, end) is not None
    assert report(world, "2026-12", group_by="city", now=ROLLED_AT).city.counts["withdrawn"] == before + 1


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_run_out_of_time_leaves_the_rest_to_the_next(world):
    _history(world)
    first = rollups.roll_up(world.rt, ROLLED_AT, budget=0)  # at least one month, then out of time
    assert first == [date(2026, 11, 1)] and first.more
    with world.rt.session() as s:
        assert s.get(RollupWatermark, 1) is None  # the facts are not all rolled: no watermark yet
    rest = rollups.roll_up(world.rt, ROLLED_AT, budget=3600)
    assert rest == [date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)] and not rest.more
    with world.rt.session() as s:
        assert s.get(RollupWatermark, 1) is not None
    assert rollups.roll_up(world.rt, ROLLED_AT) == []


@pytest.mark.parametrize("backend", ["postgresql"])
def test_the_roll_up_task_out_of_time_queues_the_next_run_at_once(world, monkeypatch):
    from workers import tasks

    _history(world)
    queued = []
    monkeypatch.setattr(tasks, "runtime", lambda: world.rt)
    monkeypatch.setattr(world.rt, "clock", lambda: ROLLED_AT)
    monkeypatch.setattr(tasks, "ROLL_UP_BUDGET", 0)
    monkeypatch.setattr(tasks.roll_up_task, "apply_async", lambda **kw: queued.append(kw))
    assert tasks.roll_up_task() == ["2026-11-01"] and len(queued) == 1
    monkeypatch.setattr(tasks, "ROLL_UP_BUDGET", 3600)
    assert tasks.roll_up_task() == ["2026-12-01", "2027-01-01", "2027-02-01"] and len(queued) == 1


@pytest.mark.parametrize("backend", ["postgresql"])
def test_rolling_up_twice_or_twice_at_once_changes_nothing(world):
    _history(world)
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: rollups.roll_up(world.rt, ROLLED_AT), range(2)))
    assert sorted(m for run in runs for m in run) == [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1),
                                                      date(2027, 2, 1)]  # each month by one run
    with world.rt.session() as s:
        rows = s.scalar(select(func.count()).select_from(ReportMonth))
    assert rollups.roll_up(world.rt, ROLLED_AT) == []
    with world.rt.session() as s:
        assert s.scalar(select(func.count()).select_from(ReportMonth)) == rows > 0


@pytest.mark.parametrize("backend", ["sqlite"])
def test_sqlite_has_no_rollups_and_computes_from_the_facts(world):
    _history(world)
    assert rollups.roll_up(world.rt, ROLLED_AT) == []


@pytest.mark.parametrize("backend", ["postgresql"])
def test_closedloop_roll_up_rolls_the_months_that_have_ended(world, pg_url):
    _history(world)  # facts from November 2026 to March 2027; the command runs on the real clock
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CLOSEDLOOP_")},
           "CLOSEDLOOP_DATABASE_URL": pg_url}
    today = datetime.now(TZ)
    expected = [f"{y}-{m:02d}" for y, m in ((2026, 11), (2026, 12), (2027, 1), (2027, 2))
                if datetime(y + m // 12, m % 12 + 1, 1, 1, tzinfo=TZ) <= today]
    out = subprocess.run([str(Path(sys.executable).with_name("closedloop")), "roll-up"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"rolled up {len(expected)} month(s)" + (": " + ", ".join(expected) if expected else "")
    with world.rt.session() as s:
        assert sorted(m.isoformat()[:7] for m in s.scalars(select(RolledMonth.month))) == expected
