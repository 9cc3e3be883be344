"""A report as offices file it: the workbook (a sheet per grouping, then the cases overdue now)
and the monthly bulletin (月度通报), written with the meeting papers' DOCX helpers so that every
document the service issues has the same layout (GB/T 9704 fonts, page X of Y in the footer)."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date, datetime, timezone
from typing import Iterable

from docx.enum.text import WD_ALIGN_PARAGRAPH
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..meetings.render import _bytes, _document, _table, _title, cn_index
from ..runtime import Runtime
from .measures import COUNTS, RATES, Report, Row
from .render import GROUP_LABELS, LABELS, columns, file_name, period_name, value

OVERDUE_SHEET = "超期案件"
OVERDUE_COLUMNS = {"编号": 20, "诉求": 44, "牵头部门": 24, "县区": 20, "层级": 24, "办理时限": 18, "超期天数": 10}
HEADLINE = ("received", "resolved", "resolution_rate", "on_time_rate", "satisfaction_rate", "rating_mean",
            "reopen_rate")
ARROWS = {1: "↑", -1: "↓"}
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="center")


# ---------------------------------------------------------------------------- shared wording
def _clean(text: str) -> str:
    # what enterprises typed may hold control characters, which neither format's XML can carry
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _local(moment: datetime, rt: Runtime) -> datetime:
    return moment.astimezone(rt.calendar.tz)


def _stamp(moment: datetime, rt: Runtime) -> str:
    zone = rt.calendar.tz.key
    return f"{_local(moment, rt):%Y-%m-%d %H:%M}（{'北京时间' if zone == 'Asia/Shanghai' else zone}）"


def _cn_day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _tier(rt: Runtime, number: int) -> str:
    names = {t.number: t.name for t in rt.directory.tiers}
    return f"第{number}级 {names[number]}" if number in names else f"第{number}级"


def _districts(rt: Runtime) -> dict[str, str]:
    return {d.key: d.name for d in rt.directory.districts}


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


# ---------------------------------------------------------------------------- workbook
def report_xlsx(report: Report | Iterable[Report], rt: Runtime) -> bytes:
    """The report as an .xlsx: a sheet per grouping given (one report, or several of the same
    period), then the cases overdue now. Values with number formats and no formulas, so the file
    opens in Excel and WPS without a prompt."""
    reports = [report] if isinstance(report, Report) else list(report)
    wb = Workbook()
    wb.remove(wb.active)
    for r in reports:
        _group_sheet(wb.create_sheet(_sheet_name(f"按{GROUP_LABELS[r.group_by]}")), r, rt)
    _overdue_sheet(wb.create_sheet(OVERDUE_SHEET), reports[0], rt)
    wb.properties.title = file_name(reports[0])
    wb.properties.creator = "closedloop"
    wb.properties.language = "zh-CN"
    wb.properties.created = reports[0].made_at.astimezone(timezone.utc).replace(tzinfo=None)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet_name(name: str) -> str:
    return _SHEET_FORBIDDEN.sub("_", name)[:31]


def _number_format(name: str) -> str:
    if name in RATES:
        return "0.0%"
    if name in COUNTS or LABELS[name][1] == "件":
        return "0"
    return "0.00" if LABELS[name][1] == "分" else "0.0"


def _put(ws: Worksheet, row: int, col: int, v, number_format: str | None = None, bold: bool = False):
    cell = ws.cell(row, col, _clean(v) if isinstance(v, str) else v)
    if isinstance(v, str):
        cell.data_type = "s"  # a title typed as "=HYPERLINK(…)" stays text, never a formula
    if number_format and v is not None:
        cell.number_format = number_format
    if bold:
        cell.font = _BOLD
    return cell


def _header(ws: Worksheet, row: int, labels: list[str]) -> None:
    for col, label in enumerate(labels, 1):
        _put(ws, row, col, label, bold=True).alignment = _WRAP
    ws.row_dimensions[row].height = 45


def _group_sheet(ws: Worksheet, report: Report, rt: Runtime) -> None:
    names = columns()
    _put(ws, 1, 1, f"{period_name(report)} 企业诉求办理绩效（按{GROUP_LABELS[report.group_by]}）"
                   f"　制表时间：{_stamp(report.made_at, rt)}", bold=True)
    _header(ws, 2, [GROUP_LABELS[report.group_by], "代码"] + [f"{LABELS[n][0]}（{LABELS[n][1]}）" for n in names]
            + [f"{LABELS[n][0]}排名" for n in RATES])
    for i, r in enumerate([*report.rows, report.city], 3):
        _group_row(ws, i, r, names, total=r is report.city)
    # the group's name stays in view while scrolling across some thirty figures
    ws.freeze_panes = "B3"
    everyone = [r.name for r in [*report.rows, report.city]] + [GROUP_LABELS[report.group_by]]
    ws.column_dimensions["A"].width = min(40, max(12, max(_width(n) for n in everyone) + 2))
    ws.column_dimensions["B"].width = 14
    for col in range(3, 3 + len(names) + len(RATES)):
        ws.column_dimensions[get_column_letter(col)].width = 12


def _group_row(ws: Worksheet, i: int, r: Row, names: list[str], total: bool) -> None:
    _put(ws, i, 1, r.name, bold=total)
    _put(ws, i, 2, "合计" if total else r.key, bold=total)
    for col, n in enumerate(names, 3):
        _put(ws, i, col, value(r, n), _number_format(n), bold=total)
    for col, n in enumerate(RATES, 3 + len(names)):
        _put(ws, i, col, None if total else r.rank.get(n), "0", bold=total)


def _width(text: str) -> int:
    """Columns are measured in Latin characters; a Chinese one takes two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _overdue_sheet(ws: Worksheet, report: Report, rt: Runtime) -> None:
    districts = _districts(rt)
    _put(ws, 1, 1, f"超期未办结的诉求（超期时间最长的{len(report.overdue)}件，截至{_stamp(report.made_at, rt)}）",
         bold=True)
    _header(ws, 2, list(OVERDUE_COLUMNS))
    ws.row_dimensions[2].height = 20
    for i, c in enumerate(report.overdue, 3):
        due = _local(c.due_at, rt).replace(tzinfo=None)  # Excel keeps no time zone: local time, as titled
        for col, (v, fmt) in enumerate([(c.tracking_no, None), (c.title, None), (c.lead_name, None),
                                        (districts.get(c.district, c.district), None), (_tier(rt, c.tier), None),
                                        (due, "yyyy-mm-dd hh:mm"), (c.days_overdue, "0.0")], 1):
            _put(ws, i, col, v, fmt)
    ws.freeze_panes = "A3"
    for col, width in enumerate(OVERDUE_COLUMNS.values(), 1):
        ws.column_dimensions[get_column_letter(col)].width = width


# ---------------------------------------------------------------------------- bulletin
def bulletin_docx(report: Report, rt: Runtime) -> bytes:
    """The monthly bulletin (月度通报) of a report grouped by department: headline figures against
    the previous period, a ranking per rate, the best and last departments, the longest overdue."""
    doc = _document()
    _title(doc, f"{rt.directory.city.name}企业诉求办理情况通报（{period_name(report)}）")
    doc.add_paragraph(_lead(report, rt))
    doc.add_heading("一、总体情况", level=1)
    doc.add_paragraph(_overall(report, rt))
    doc.add_heading("二、部门排名", level=1)
    doc.add_paragraph(_arrow_note(report))
    for n, name in enumerate(RATES, 1):
        _ranking(doc, report, name, n)
    doc.add_heading("三、红黑榜", level=1)
    for line in _best_and_last(report):
        doc.add_paragraph(line)
    doc.add_heading("四、超期时间最长的诉求", level=1)
    _overdue_table(doc, report, rt)
    _closing(doc, report, rt)
    return _bytes(doc)


def _before(report: Report) -> str:
    return "上月" if re.fullmatch(r"\d{4}-\d{2}", report.period.label) else "上期"


def _lead(report: Report, rt: Runtime) -> str:
    p = report.period
    previous = period_name(replace(report, period=report.previous_period))
    return (f"为推动企业诉求快速响应、按时办结，现将{period_name(report)}{report.city.name}企业诉求办理情况通报如下。"
            f"统计期间为{_cn_day(p.start)}至{_cn_day(p.end)}，与{previous}比较；"
            f"超期情况截至{_stamp(report.made_at, rt)}。")


def _change_words(row: Row, name: str, before: str) -> str:
    change = row.change.get(name)
    if change is None:
        return f"{before}无可比数据"
    if round(change, 1) == 0:
        return f"与{before}持平"
    return f"较{before}{'上升' if change > 0 else '下降'}{abs(change):.1f}个百分点"


def _headline(row: Row, name: str, before: str) -> str:
    label, unit = LABELS[name]
    v = value(row, name)
    if v is None:
        return f"{label}暂无数据"
    if name in RATES:
        return f"{label}{_pct(v)}，{_change_words(row, name, before)}"
    return f"{label}{v:.2f}{unit}" if isinstance(v, float) else f"{label}{v}{unit}"


def _overall(report: Report, rt: Runtime) -> str:
    c = report.city
    text = f"{period_name(report)}，{c.name}企业诉求" + "；".join(_headline(c, n, _before(report)) for n in HEADLINE) + "。"
    overdue, longest = c.figures.get("overdue_now") or 0, c.figures.get("longest_overdue_days")
    return (text + f"截至{_cn_day(_local(report.made_at, rt).date())}，当前超期{overdue}件"
            + (f"，最长超期{longest:.1f}天。" if overdue and longest is not None else "。"))


def _arrow(row: Row, name: str) -> str:
    """↑ when the rate got better, ↓ when worse, → when unchanged, beside the change in
    percentage points; for a rate where lower is better, a fall is the improvement."""
    change = row.change.get(name)
    if change is None:
        return "—"
    shown = round(change, 1)
    if shown == 0:
        return "→ 0.0"
    return f"{ARROWS[(1 if shown > 0 else -1) * RATES[name][2]]} {shown:+.1f}"


def _arrow_note(report: Report) -> str:
    lower = "、".join(LABELS[n][0] for n, (_, _, better) in RATES.items() if better < 0)
    before = _before(report)
    return (f"各项按指标值排名，箭头与{before}比较：↑ 变好，↓ 变差，→ 持平，后附变化的百分点；“—”为{before}无可比数据。"
            f"{lower}越低越好，其下降记为 ↑。")


def _ranking(doc, report: Report, name: str, n: int) -> None:
    label, (num, den, _) = LABELS[name][0], RATES[name]
    doc.add_heading(f"（{cn_index(n)}）{label}", level=2)
    ranked = sorted((r for r in report.rows if r.rates.get(name) is not None), key=lambda r: (r.rank[name], r.name))
    if not ranked:
        doc.add_paragraph(f"本期各部门均无{LABELS[den][0]}，不作排名。")
        return
    header = ["排名", "部门", label, f"{LABELS[num][0]}/{LABELS[den][0]}（件）", f"较{_before(report)}（百分点）"]
    rows = [[str(r.rank[name]), r.name, _pct(r.rates[name]), f"{r.counts.get(num, 0)}/{r.counts.get(den, 0)}",
             _arrow(r, name)] for r in ranked]
    _table(doc, header, rows, [1.4, 5.4, 2.6, 3.4, 3.0])


def _standing(report: Report) -> list[Row]:
    """Departments that resolved cases in the period, best first: on-time resolution rate, then
    resolution rate (none counts lowest), then name so that ties read the same every time."""
    def key(r: Row):
        resolution = r.rates.get("resolution_rate")
        return -(r.rates.get("on_time_rate") or 0), -(resolution if resolution is not None else -1), r.name

    return sorted((r for r in report.rows if r.key is not None and r.counts.get("resolved")), key=key)


def _named(rows: list[Row]) -> str:
    return "、".join(f"{r.name}（按时办结率{_pct(r.rates.get('on_time_rate'))}，办结率{_pct(r.rates.get('resolution_rate'))}）"
                    for r in rows)


def _best_and_last(report: Report) -> list[str]:
    ordered = _standing(report)
    if not ordered:
        return ["本期无办结诉求的部门，不列红黑榜。"]
    # with fewer than six departments the last three would repeat the best: the black list takes
    # only those not on the red one
    best, last = ordered[:3], ordered[3:][-3:]
    return ["以按时办结率为先、办结率次之排序（仅计本期有办结诉求的部门）。",
            f"红榜（前三位）：{_named(best)}。",
            f"黑榜（后三位）：{_named(last)}。" if last else "参与排序的部门不足四个，不列黑榜。"]


def _overdue_table(doc, report: Report, rt: Runtime) -> None:
    if not report.overdue:
        doc.add_paragraph(f"截至{_stamp(report.made_at, rt)}，无超期未办结的诉求。")
        return
    doc.add_paragraph(f"截至{_stamp(report.made_at, rt)}，超期时间最长的{len(report.overdue)}件诉求如下：")
    rows = [[_clean(c.tracking_no), _clean(c.title), _clean(c.lead_name), _tier(rt, c.tier), f"{c.days_overdue:.1f}"]
            for c in report.overdue]
    _table(doc, ["编号", "诉求", "牵头部门", "层级", "超期天数"], rows, [3.0, 5.6, 3.2, 2.4, 1.6])


def _closing(doc, report: Report, rt: Runtime) -> None:
    doc.add_paragraph()
    for text in (f"{rt.directory.city.name}优化营商环境工作领导小组办公室", _cn_day(_local(report.made_at, rt).date())):
        doc.add_paragraph(text).alignment = WD_ALIGN_PARAGRAPH.RIGHT
