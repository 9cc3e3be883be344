"""A report as offices read it: JSON for programs and CSV here; Excel and the DOCX bulletin in
documents.py (imported only when asked for: a process serving lists need not load openpyxl and
python-docx). The Chinese names of the figures live here, once, for every format."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import timedelta

from ..runtime import Runtime
from .measures import COUNTS, FIGURES, RATES, Report, Row

# what each figure is called, and its unit
LABELS: dict[str, tuple[str, str]] = {
    "received": ("受理量", "件"), "accepted": ("已受理", "件"), "accepted_on_time": ("按时响应", "件"),
    "resolved": ("办结量", "件"), "resolved_on_time": ("按时办结", "件"), "received_resolved": ("受理件已办结", "件"),
    "closed": ("闭环", "件"), "withdrawn": ("撤回", "件"), "reopened": ("重办", "件"),
    "confirmations": ("评价数", "件"), "satisfied": ("满意", "件"), "objections": ("异议", "件"),
    "objections_upheld": ("异议成立", "件"), "escalated_2": ("升至县区周例会", "件"),
    "escalated_3": ("升至市直部门", "件"), "escalated_4": ("升至市级周例会", "件"),
    "escalated_5": ("升至党政联席会", "件"), "supervised": ("督办", "件"),
    "rating_mean": ("平均评分", "分"), "days_median": ("办理用时中位数", "工作日"),
    "days_p90": ("办理用时90分位", "工作日"), "days_mean": ("平均办理用时", "工作日"),
    "overdue_now": ("当前超期", "件"), "longest_overdue_days": ("最长超期", "天"),
    "response_rate": ("响应率", "%"), "resolution_rate": ("办结率", "%"), "on_time_rate": ("按时办结率", "%"),
    "satisfaction_rate": ("满意率", "%"), "reopen_rate": ("重办率", "%"), "objection_rate": ("异议率", "%"),
}
GROUP_LABELS = {"department": "牵头部门", "district": "县区", "tier": "层级", "officer": "首席服务官",
                "theme": "主题", "category": "类别", "city": "全市"}


def period_name(report: Report) -> str:
    p = report.period
    if p.label == "last-30-days":
        return f"近30日（{p.start.month}月{p.start.day}日至{p.end.month}月{p.end.day}日）"
    if p.start.day == 1 and (p.end + timedelta(days=1)).day == 1 and p.start.month == p.end.month:
        return f"{p.start.year}年{p.start.month}月"
    if p.start == p.end:
        return f"{p.start.year}年{p.start.month}月{p.start.day}日"
    return f"{p.start.isoformat()}至{p.end.isoformat()}"


def file_name(report: Report) -> str:
    return f"企业诉求办理绩效_{period_name(report)}_按{GROUP_LABELS[report.group_by]}"


def last_month(rt: Runtime) -> str:
    first = rt.calendar.local_date(rt.clock()).replace(day=1)
    prev = first - timedelta(days=1)
    return f"{prev.year}-{prev.month:02d}"


def report_json(report: Report) -> dict:
    def row(r: Row) -> dict:
        return asdict(r)

    return {"period": {"label": report.period.label, "from": report.period.start.isoformat(),
                       "to": report.period.end.isoformat(), "name": period_name(report)},
            "previous_period": {"label": report.previous_period.label,
                                "from": report.previous_period.start.isoformat(),
                                "to": report.previous_period.end.isoformat()},
            "group_by": report.group_by, "extensions": report.extensions, "made_at": report.made_at.isoformat(),
            "total": row(report.city), "rows": [row(r) for r in report.rows],
            "overdue": [{**asdict(c), "due_at": c.due_at.isoformat()} for c in report.overdue]}


def columns() -> list[str]:
    """Every figure of a row, in the order the tables show them: rates first."""
    return [*RATES, *COUNTS, *FIGURES]


def value(r: Row, name: str):
    if name in RATES:
        return r.rates[name]
    if name in r.counts:
        return r.counts[name]
    return r.figures.get(name)


def report_csv(report: Report) -> str:
    """One line per group and one for the total; rates as percentages with one decimal."""
    out = io.StringIO()
    w = csv.writer(out)
    names = columns()
    w.writerow([GROUP_LABELS[report.group_by], "代码"] + [f"{LABELS[n][0]}（{LABELS[n][1]}）" for n in names]
               + [f"{LABELS[n][0]}排名" for n in RATES])
    for r in [*report.rows, report.city]:
        cells = []
        for n in names:
            v = value(r, n)
            cells.append("" if v is None else (f"{v * 100:.1f}" if n in RATES else v))
        w.writerow([r.name, r.key or "合计"] + cells + ["" if r.rank.get(n) is None else r.rank[n] for n in RATES])
    return "\ufeff" + out.getvalue()  # the BOM makes Excel and WPS read the file as UTF-8
