"""Agenda benchmark: an agenda of 500 cases, each with a 20-event history through four tiers,
assembled and rendered in every format.

    python bench/agenda.py [--cases 500] [--events 20] [--repeat 3]

The cases are built in memory (the agenda is a function of its inputs; loading them is four
queries whatever their number). Ceilings measured in the same run: `json.dumps` of the agenda
already turned into plain dicts and lists (serialisation alone, for the text formats) and a table
of the same cells written with python-docx's own cell API (for DOCX). Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.directory import load_directory  # noqa: E402
from service.meetings import render  # noqa: E402
from service.meetings.agenda import CaseFile, assemble  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
KINDS = ["commented", "info_requested", "supplemented", "extension_requested", "objected", "reassigned", "accepted"]


def files(n: int, n_events: int, directory) -> list[CaseFile]:
    starts = datetime(2026, 12, 3, 9, tzinfo=TZ)
    departments = [d.key for d in directory.departments]
    out = []
    for i in range(n):
        entered = starts - timedelta(days=30)
        tiers = [SimpleNamespace(tier=t, entered_at=entered + timedelta(days=7 * k)) for k, t in enumerate((1, 2, 3, 4))]
        lead = departments[i % len(departments)]
        events = [SimpleNamespace(type="routed", at=entered, actor="system",
                                  data={"lead_department": lead, "tier": 1})]
        for k in range(1, n_events):
            at = entered + timedelta(hours=30 * k)
            kind = KINDS[k % len(KINDS)]
            if k % 5 == 0:
                tier = 1 + k // 5
                events.append(SimpleNamespace(type="escalated", at=at, actor="system", data={
                    "tier": tier, "was_due_at": (at - timedelta(days=1)).isoformat(), "reason": "deadline",
                    **({"sitting": {"series": "city-key-projects", "number": 140 + k, "starts_at": at.isoformat()}}
                       if tier in (2, 4) else {})}))
            else:
                events.append(SimpleNamespace(type=kind, at=at, actor=f"department:{lead}", data={
                    "text": f"第{k}次办理意见：已与企业对接，正在协调用地指标与规划调整事宜。", "reason": "需要更多时间",
                    "lead_department": lead}))
        case = SimpleNamespace(
            id=i + 1, tracking_no=f"LH-2026-{i + 1:06d}", title=f"项目用地报批进度缓慢（{i + 1}）",
            description="企业新建厂房项目用地报批已三个月没有进展，影响项目开工和银行贷款发放。" * 3,
            district=directory.districts[i % len(directory.districts)].key, officer_id="officer-yuanhui-1",
            status="open", amount=(i % 7) * 1_000_000 or None, lead_department=lead,
            co_departments=[departments[(i + 3) % len(departments)]] if i % 3 == 0 else [], needs_triage=False,
            reopen_count=i % 4 == 0, due_at=starts - timedelta(days=i % 9))
        ent = SimpleNamespace(name=f"漯河压测企业{i + 1}有限公司", key_project_level=["none", "municipal", "provincial"][i % 3],
                              whitelisted=i % 5 == 0)
        out.append(CaseFile(case=case, enterprise=ent, events=events, tiers=tiers,
                            carried_from=147 if i % 6 == 0 else None, times_on_agenda=2 if i % 6 == 0 else 1))
    return out


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def bare_docx(agenda) -> bytes:
    """The ceiling for DOCX: the same cells through python-docx's own cell API."""
    from docx import Document

    doc = Document()
    for g in agenda.groups:
        table = doc.add_table(rows=1 + len(g.items), cols=9)
        for r, item in enumerate(g.items, 1):
            cells = table.rows[r].cells
            values = [item.seq, item.tracking_no, item.enterprise, item.problem, item.ask, item.overdue_days,
                      item.amount, item.lead, item.ask]
            for c, v in zip(cells, values):
                c.text = str(v)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def from_database(inputs: list[CaseFile], url: str, repeat: int) -> tuple[float, int]:
    """The same cases stored in a scratch database; the time to load and assemble the agenda
    the way the API does (``meetings.service.agenda``)."""
    from service.cases.models import Case, CaseEvent, CaseTier
    from service.config import Settings
    from service.directory.models import Sitting
    from service.enterprises.models import Enterprise
    from service.meetings.service import agenda
    from service.migrate import load_directory_rows, upgrade
    from service.runtime import Runtime

    rt = Runtime.build(Settings(database_url=url))
    upgrade(rt)
    with rt.session() as s:
        load_directory_rows(s, rt.directory)
        sitting = Sitting(series_key="city-key-projects", number=148, starts_at=datetime(2026, 12, 3, 9, tzinfo=TZ),
                          agenda_closes_at=datetime(2026, 12, 2, 9, tzinfo=TZ), status="scheduled", kind="regular")
        s.add(sitting)
        s.flush()
        for f in inputs:
            c = f.case
            ent = Enterprise(credit_code=f"9141110000{c.id:08d}", name=f.enterprise.name, district=c.district,
                             key_project_level=f.enterprise.key_project_level, whitelisted=f.enterprise.whitelisted,
                             created_at=c.due_at)
            s.add(ent)
            s.flush()
            case = Case(id=c.id, tracking_no=c.tracking_no, enterprise_id=ent.id, district=c.district,
                        officer_id=c.officer_id, title=c.title, description=c.description, amount=c.amount,
                        status="open", tier=4, lead_department=c.lead_department, co_departments=c.co_departments,
                        priority="normal", sla_policy="standard", routing={}, sitting_id=sitting.id, due_at=c.due_at,
                        reopen_count=int(c.reopen_count), version=1, created_at=c.due_at, updated_at=c.due_at)
            s.add(case)
            s.flush()
            s.add_all(CaseEvent(case_id=c.id, type=e.type, at=e.at, actor=e.actor, data=e.data) for e in f.events)
            s.add_all(CaseTier(case_id=c.id, tier=t.tier, entered_at=t.entered_at, reason="bench") for t in f.tiers)
        s.commit()
        sitting_id = sitting.id
    times = []
    for _ in range(repeat):
        with rt.session() as s:
            t = time.perf_counter()
            model = agenda(s, rt, s.get(Sitting, sitting_id))
            times.append(time.perf_counter() - t)
    rt.engine.dispose()
    return statistics.median(times), model.total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database", default=None,
                        help="also store the cases in this database (default: a scratch SQLite file) and time the "
                             "agenda as the API loads it; 'none' to skip")
    args = parser.parse_args()
    directory = load_directory()
    series = next(s for s in directory.meeting_series if s.key == "city-key-projects")
    sitting = SimpleNamespace(id=1, number=148, starts_at=datetime(2026, 12, 3, 9, tzinfo=TZ),
                              agenda_closes_at=datetime(2026, 12, 2, 9, tzinfo=TZ), status="published")
    inputs = files(args.cases, args.events, directory)
    now = datetime(2026, 12, 2, 9, tzinfo=TZ)
    t_assemble, agenda = timed(lambda: assemble(sitting, series, inputs, directory, now, published=True), args.repeat)
    rows = [("assemble (500 dossiers)", t_assemble, None, None)]
    plain = agenda.model_dump(mode="json")
    t_ceiling_text, _ = timed(lambda: json.dumps(plain, ensure_ascii=False), args.repeat)
    for label, fn in [("JSON", lambda: json.dumps(render.agenda_json(agenda), ensure_ascii=False)),
                      ("Markdown", lambda: render.agenda_markdown(agenda, TZ)),
                      ("HTML", lambda: render.agenda_html(agenda, TZ))]:
        t, out = timed(fn, args.repeat)
        rows.append((label, t, t_ceiling_text, len(out.encode())))
    t_bare, _ = timed(lambda: bare_docx(agenda), args.repeat)
    t_docx, out = timed(lambda: render.agenda_docx(agenda, TZ), args.repeat)
    rows.append(("DOCX", t_docx, t_bare, len(out)))
    if args.database != "none":
        import tempfile

        url = args.database or f"sqlite:///{tempfile.mkdtemp(prefix='closedloop-agenda-')}/bench.sqlite3"
        t_db, total = from_database(inputs, url, args.repeat)
        assert total == args.cases
        rows.insert(1, (f"load + assemble from {url.split(':')[0]}", t_db, None, None))

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.cases} cases × {args.events} events, {len(agenda.groups)} department groups; median of {args.repeat}")
    print()
    print("| step | seconds | ceiling (same run) | ratio | size |")
    print("|---|---:|---:|---:|---:|")
    for label, t, ceiling, size in rows:
        print(f"| {label} | {t:.3f} | {'' if ceiling is None else f'{ceiling:.3f}'} | "
              f"{'' if ceiling is None else f'{t / ceiling:.2f}'} | {'' if size is None else f'{size / 1024:,.0f} KiB'} |")
    t_load = next((r[1] for r in rows if r[0].startswith("load")), t_assemble)
    total_text = t_load + max(r[1] for r in rows if r[0] in ("JSON", "Markdown", "HTML"))
    print()
    print(f"load + assemble + slowest text format: {total_text:.2f} s (target < 1 s); load + assemble + DOCX: "
          f"{t_load + t_docx:.2f} s (target < 3 s)")


if __name__ == "__main__":
    main()
