"""The report's workbook and bulletin, read back as Excel and Word read them, and the `closedloop
report` command. The figures are built by hand: what is checked here is how a report is written,
not how it is counted (tests/service/test_reports.py)."""

from __future__ import annotations

import io
import json
import os
from datetime import date, datetime, timezone

import docx
import openpyxl
import pytest
from click.testing import CliRunner

from service import cli
from service.config import Settings
from service.migrate import load_directory_rows, upgrade
from service.reports.documents import bulletin_docx, report_xlsx
from service.reports.measures import COUNTS, FIGURES, RATES, OverdueCase, Report, Row, _rank, parse_period, rate
from service.runtime import Runtime

MADE_AT = datetime(2026, 12, 1, 1, 30, tzinfo=timezone.utc)  # 09:30 in Beijing


def _row(key, name, previous=None, figures=None, **counts) -> Row:
    counts = {c: counts.get(c, 0) for c in COUNTS}
    row = Row(key, name, counts, {f: (figures or {}).get(f) for f in FIGURES})
    for n in RATES:
        row.rates[n] = rate(counts, n)
        row.previous[n] = (previous or {}).get(n)
        before, now = row.previous[n], row.rates[n]
        row.change[n] = None if before is None or now is None else round((now - before) * 100, 2)
    return row


def _report() -> Report:
    rows = [
        # reopen rate falls from 25% to 12.5%: an improvement
        _row("development-reform", "市发展和改革委员会", {"reopen_rate": 0.25, "on_time_rate": 0.9},
             received=10, accepted=10, accepted_on_time=9, resolved=8, resolved_on_time=8, received_resolved=8,
             reopened=1, confirmations=6, satisfied=5),
        _row("natural-resources", "市自然资源和规划局", {"on_time_rate": 0.5, "reopen_rate": 0.0},
             received=5, accepted=5, accepted_on_time=5, resolved=4, resolved_on_time=3, received_resolved=4,
             confirmations=4, satisfied=4),
        _row("housing", "市住房和城乡建设局", {"reopen_rate": 0.1, "on_time_rate": 0.5},
             received=4, accepted=4, resolved=4, resolved_on_time=2, received_resolved=3, reopened=2),
        _row("market", "市市场监督管理局", None,
             received=6, accepted=6, resolved=5, resolved_on_time=5, received_resolved=5),
        _row("ecology", "市生态环境局", None, received=3, accepted=3, resolved=2, resolved_on_time=1,
             received_resolved=2),
        _row("hrss", "市人力资源和社会保障局", None, received=2, accepted=2, resolved=1, received_resolved=1),
        _row("commerce", "市商务局"),  # nothing this month: every rate None
        _row(None, "（未定）", None, received=2),
    ]
    _rank(rows)
    totals = {c: sum(r.counts[c] for r in rows) for c in COUNTS}
    city = _row(None, "漯河市", {"resolution_rate": 0.7, "on_time_rate": 0.8, "satisfaction_rate": 0.9,
                                "reopen_rate": 0.1}, {"rating_mean": 4.5, "overdue_now": 3,
                                                      "longest_overdue_days": 12.5}, **totals)
    overdue = [
        OverdueCase(7, "LH-2026-000007", "=HYPERLINK(\"http://x\")厂房\x0b土地证", "natural-resources",
                    "市自然资源和规划局", "yuanhui", 4, datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc), 12.5),
        OverdueCase(9, "LH-2026-000009", "用电报装", None, "（待分办）", "wuyang", 1,
                    datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc), 5.6),
    ]
    period = parse_period("2026-11", None, None, date(2026, 12, 1))
    return Report(period, period.previous(), "department", "count", MADE_AT, rows, city, overdue)


@pytest.fixture(scope="module")
def rt(tmp_path_factory):
    runtime = Runtime.build(Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('db') / 'x.sqlite3'}"))
    yield runtime
    runtime.engine.dispose()


@pytest.fixture(scope="module")
def report():
    return _report()


# ---------------------------------------------------------------------------- workbook
@pytest.fixture(scope="module")
def book(report, rt):
    return openpyxl.load_workbook(io.BytesIO(report_xlsx(report, rt)))


def _header_index(ws) -> dict[str, int]:
    return {c.value: c.column for c in ws[2]}


def test_workbook_sheets_and_properties(book):
    assert book.sheetnames == ["按牵头部门", "超期案件"]
    assert book.properties.creator == "closedloop"
    assert book.properties.title == "企业诉求办理绩效_2026年11月_按牵头部门"


def test_group_sheet_title_header_and_frozen_header(book):
    ws = book["按牵头部门"]
    assert "2026年11月" in ws["A1"].value and "2026-12-01 09:30（北京时间）" in ws["A1"].value
    header = _header_index(ws)
    assert ws["A2"].value == "牵头部门" and ws["B2"].value == "代码"
    for label in ("按时办结率（%）", "受理量（件）", "平均办理用时（工作日）", "按时办结率排名", "重办率排名"):
        assert label in header
    assert ws.freeze_panes == "B3"
    assert ws.column_dimensions["A"].width >= 20


def test_group_sheet_values_and_formats(book):
    ws = book["按牵头部门"]
    h = _header_index(ws)
    dev = next(row for row in ws.iter_rows(min_row=3) if row[0].value == "市发展和改革委员会")
    on_time = dev[h["按时办结率（%）"] - 1]
    assert on_time.value == 1.0 and on_time.number_format == "0.0%"
    reopen = dev[h["重办率（%）"] - 1]
    assert reopen.value == 0.125 and reopen.number_format == "0.0%"
    received = dev[h["受理量（件）"] - 1]
    assert received.value == 10 and isinstance(received.value, int)
    assert dev[h["按时办结率排名"] - 1].value == 1 and dev[h["重办率排名"] - 1].value == 5
    assert dev[1].value == "development-reform"
    commerce = next(row for row in ws.iter_rows(min_row=3) if row[0].value == "市商务局")
    assert commerce[h["办结率（%）"] - 1].value is None and commerce[h["办结率排名"] - 1].value is None


def test_total_row_is_last_and_bold(book):
    ws = book["按牵头部门"]
    h = _header_index(ws)
    total = list(ws.iter_rows(min_row=ws.max_row))[0]
    assert total[0].value == "漯河市" and total[1].value == "合计" and total[0].font.bold
    assert total[h["受理量（件）"] - 1].value == 32
    assert total[h["办结量（件）"] - 1].value == 24
    assert total[h["平均评分（分）"] - 1].value == 4.5
    assert total[h["最长超期（天）"] - 1].number_format == "0.0"
    assert total[h["按时办结率排名"] - 1].value is None
    assert ws.max_row == 2 + 8 + 1


def test_overdue_sheet(book):
    ws = book["超期案件"]
    assert [c.value for c in ws[2]] == ["编号", "诉求", "牵头部门", "县区", "层级", "办理时限", "超期天数"]
    assert ws.freeze_panes == "A3"
    first = [c.value for c in ws[3]]
    # an enterprise's text is text: no formula, no control character
    assert first[1] == "=HYPERLINK(\"http://x\")厂房土地证" and ws["B3"].data_type == "s"
    assert first[0] == "LH-2026-000007" and first[2] == "市自然资源和规划局" and first[3] == "源汇区"
    assert first[4].startswith("第4级")
    assert first[5] == datetime(2026, 11, 18, 18, 0)  # local time
    assert first[6] == 12.5 and ws["G3"].number_format == "0.0"
    assert [c.value for c in ws[4]][2:4] == ["（待分办）", "舞阳县"]


def test_a_sheet_per_grouping_given(report, rt):
    from dataclasses import replace

    by_district = replace(report, group_by="district", rows=[])
    book = openpyxl.load_workbook(io.BytesIO(report_xlsx([report, by_district], rt)))
    assert book.sheetnames == ["按牵头部门", "按县区", "超期案件"]
    assert book["按县区"]["A3"].value == "漯河市"  # only the total


# ---------------------------------------------------------------------------- bulletin
@pytest.fixture(scope="module")
def bulletin(report, rt):
    return docx.Document(io.BytesIO(bulletin_docx(report, rt)))


def _after(doc, heading: str) -> list[str]:
    texts = [p.text for p in doc.paragraphs]
    return texts[texts.index(heading) + 1:]


def test_bulletin_title_lead_and_closing(bulletin):
    first = bulletin.paragraphs[0]
    assert first.text == "漯河市企业诉求办理情况通报（2026年11月）" and first.style.name == "Title"
    assert "2026年11月1日至2026年11月30日" in bulletin.paragraphs[1].text
    assert "2026年10月" in bulletin.paragraphs[1].text
    texts = [p.text for p in bulletin.paragraphs if p.text]
    assert texts[-2:] == ["漯河市优化营商环境工作领导小组办公室", "2026年12月1日"]
    section = bulletin.sections[0]
    assert section.page_height > section.page_width  # portrait
    footer = section.footer._element.xml
    assert "PAGE" in footer and "NUMPAGES" in footer


def test_bulletin_headline_figures(bulletin):
    text = _after(bulletin, "一、总体情况")[0]
    for phrase in ("受理量32件", "办结量24件", "办结率71.9%，较上月上升1.9个百分点",
                   "按时办结率79.2%，较上月下降0.8个百分点", "满意率90.0%，与上月持平", "平均评分4.50分",
                   "重办率12.5%，较上月上升2.5个百分点", "当前超期3件，最长超期12.5天"):
        assert phrase in text, phrase


def _cells(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def test_bulletin_ranking_tables_in_rank_order_with_arrows(bulletin):
    tables = bulletin.tables
    assert len(tables) == len(RATES) + 1
    on_time = _cells(tables[list(RATES).index("on_time_rate")])
    assert on_time[0] == ["排名", "部门", "按时办结率", "按时办结/办结量（件）", "较上月（百分点）"]
    assert [(r[0], r[1]) for r in on_time[1:]] == [
        ("1", "市发展和改革委员会"), ("1", "市市场监督管理局"), ("3", "市自然资源和规划局"),
        ("4", "市住房和城乡建设局"), ("4", "市生态环境局"), ("6", "市人力资源和社会保障局")]
    assert on_time[1][2:] == ["100.0%", "8/8", "↑ +10.0"]
    assert on_time[2][4] == "—"  # no previous month
    assert on_time[4][4] == "→ 0.0"
    reopen = {r[1]: r for r in _cells(tables[list(RATES).index("reopen_rate")])[1:]}
    assert reopen["市发展和改革委员会"][0] == "5"
    assert reopen["市发展和改革委员会"][4] == "↑ -12.5"  # lower is better: the fall is an improvement
    assert reopen["市住房和城乡建设局"][4] == "↓ +40.0"
    assert reopen["市自然资源和规划局"][4] == "→ 0.0"
    assert "市商务局" not in reopen


def test_bulletin_best_and_last(bulletin):
    lines = _after(bulletin, "三、红黑榜")
    red = next(line for line in lines if line.startswith("红榜"))
    black = next(line for line in lines if line.startswith("黑榜"))
    named = lambda line: [part.split("（")[0] for part in line.split("：", 1)[1].split("）、")]  # noqa: E731
    assert named(red) == ["市市场监督管理局", "市发展和改革委员会", "市自然资源和规划局"]
    assert named(black) == ["市住房和城乡建设局", "市生态环境局", "市人力资源和社会保障局"]
    assert "市商务局" not in red + black and "未定" not in red + black


def test_bulletin_overdue_table(bulletin):
    rows = _cells(bulletin.tables[-1])
    assert rows[0] == ["编号", "诉求", "牵头部门", "层级", "超期天数"]
    assert rows[1][0] == "LH-2026-000007" and rows[1][1] == "=HYPERLINK(\"http://x\")厂房土地证"
    assert rows[1][2:] == ["市自然资源和规划局", "第4级 市级周例会重点攻坚", "12.5"]
    assert rows[2][2] == "（待分办）"


def test_bulletin_with_few_departments_and_nothing_overdue(rt, report):
    from dataclasses import replace

    small = replace(report, rows=report.rows[:2], overdue=[])
    doc = docx.Document(io.BytesIO(bulletin_docx(small, rt)))
    lines = _after(doc, "三、红黑榜")
    assert any(line.startswith("红榜") for line in lines) and not any(line.startswith("黑榜") for line in lines)
    assert any("无超期未办结的诉求" in line for line in _after(doc, "四、超期时间最长的诉求"))


# ---------------------------------------------------------------------------- the command
@pytest.fixture(scope="module")
def database(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'fresh.sqlite3'}"
    runtime = Runtime.build(Settings(database_url=url))
    upgrade(runtime)
    with runtime.session() as session:
        load_directory_rows(session, runtime.directory)
        session.commit()
    runtime.engine.dispose()
    return url


def _invoke(database, *args):
    env = {k: None for k in os.environ if k.startswith("CLOSEDLOOP_")}
    return CliRunner().invoke(cli.main, ["report", *args], env={**env, "CLOSEDLOOP_DATABASE_URL": database})


def test_cli_writes_the_bulletin_and_the_workbook(database, tmp_path):
    out = _invoke(database, "--period", "2026-11", "--format", "docx", "-o", str(tmp_path / "b.docx"))
    assert out.exit_code == 0, out.output
    doc = docx.Document(str(tmp_path / "b.docx"))
    assert doc.paragraphs[0].text == "漯河市企业诉求办理情况通报（2026年11月）"
    out = _invoke(database, "--period", "2026-11", "--group-by", "district", "--format", "xlsx",
                  "-o", str(tmp_path / "r.xlsx"))
    assert out.exit_code == 0, out.output
    book = openpyxl.load_workbook(str(tmp_path / "r.xlsx"))
    assert book.sheetnames == ["按县区", "超期案件"]
    assert book["按县区"].max_row == 2 + 8 + 1  # every district, then the total


def test_cli_text_formats(database, tmp_path):
    out = _invoke(database, "--period", "2026-11")
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["period"]["name"] == "2026年11月"
    out = _invoke(database, "--period", "2026-W48", "--format", "csv", "-o", str(tmp_path / "r.csv"))
    assert out.exit_code == 0, out.output
    assert (tmp_path / "r.csv").read_text(encoding="utf-8-sig").startswith("牵头部门,代码,")


def test_cli_binary_formats_go_to_a_pipe_not_a_terminal(database, monkeypatch):
    assert _invoke(database, "--period", "2026-11", "--format", "xlsx").stdout_bytes.startswith(b"PK")
    monkeypatch.setattr(cli, "_stdout_is_terminal", lambda: True)
    out = _invoke(database, "--period", "2026-11", "--format", "docx")
    assert out.exit_code == 2 and "-o FILE" in out.output


def test_cli_refuses_a_bad_period_and_a_bulletin_by_district(database):
    out = _invoke(database, "--period", "2026-13")
    assert out.exit_code == 2 and "period: cannot read '2026-13'" in out.output
    out = _invoke(database, "--period", "2026-11", "--format", "docx", "--group-by", "district")
    assert out.exit_code == 2 and "by department" in out.output
