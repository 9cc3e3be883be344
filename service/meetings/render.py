"""Agendas, minutes and supervision sheets as Markdown, HTML and DOCX (the format government
offices exchange), each from its one model (``agenda.Agenda``, ``minutes_view.MinutesView``).

The DOCX follows the usual layout of official documents (GB/T 9704): a title in 方正小标宋简体,
headings in 黑体, body text in 仿宋_GB2312 (Word falls back to a Song face where those are not
installed), a table per department, and page numbers in the footer.
"""

from __future__ import annotations

import html
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from ..textsafe import markdown_text as md
from .agenda import Agenda, Item
from .masthead import RECEIPT_FIELDS
from .minutes_view import MinutesView, Sheet

CN_NUM = "一二三四五六七八九十"
TITLE_FONT, HEADING_FONT, BODY_FONT = "方正小标宋简体", "黑体", "仿宋_GB2312"
AGENDA_COLUMNS = ["序号", "编号", "企业及事项", "问题简述", "办理经过", "逾期（天）", "金额（万元）", "牵头 / 协办", "提请会议研究"]


def cn_index(n: int) -> str:
    if n <= 10:
        return CN_NUM[n - 1]
    if n < 20:
        return "十" + CN_NUM[n - 11]
    tens, ones = divmod(n, 10)
    return CN_NUM[tens - 1] + "十" + (CN_NUM[ones - 1] if ones else "")


def when(ts: datetime, tz: ZoneInfo) -> str:
    return ts.astimezone(tz).strftime("%Y年%m月%d日 %H:%M")


def wan(amount: float | None) -> str:
    return "" if amount is None else f"{amount / 10000:,.2f}"


def flags(item: Item) -> str:
    marks = [item.key_project] if item.key_project else []
    if item.whitelisted:
        marks.append("白名单企业")
    if item.carried_from is not None:
        marks.append(f"结转自第{item.carried_from}次")
    return "".join(f"【{m}】" for m in marks)


def units(item: Item) -> str:
    lead = item.lead or "待明确"
    return f"{lead} / {'、'.join(item.co)}" if item.co else lead


def members_line(item: Item) -> str:
    """共性问题: every enterprise of the item, with its own case."""
    return "涉及企业：" + "；".join(f"{m.enterprise}（{m.tracking_no}，{m.district}，逾期 {m.overdue_days} 天）"
                               for m in item.members)


def history_lines(item: Item, tz: ZoneInfo) -> list[str]:
    out = []
    for s in item.history:
        said = "；".join(s.notes)
        out.append(f"第{s.tier}级 {s.tier_name}（{s.holder}）：{s.entered_at.astimezone(tz):%m月%d日}起 {s.days:g} 天"
                   + (f"；{said}" if said else ""))
    return out


# ---------------------------------------------------------------------------- agenda: Markdown
# Every piece of text that is not our own goes through md(): see service/textsafe.py.
def agenda_head(a: Agenda, tz: ZoneInfo) -> list[str]:
    """版头: time, place, chair, attending and sitting-in units — one line each, in every format."""
    m = a.masthead
    time = (f"会议时间：{when(a.starts_at, tz)}　议程截止：{when(a.agenda_closes_at, tz)}"
            f"{'（已截止）' if a.published else '（草稿，截止前仍会变化）'}")
    if m is None:  # an agenda made without its series (a test's): the time alone
        return [time]
    return [time, f"会议地点：{m.place}", f"主持人：{m.chair}", f"出席单位：{'、'.join(m.attending) or '（按议题确定）'}",
            f"列席单位：{'、'.join(m.observers) or '无'}"]


def agenda_foot(a: Agenda, tz: ZoneInfo) -> list[str]:
    """版记: contact, and who issued it when (印发)."""
    m = a.masthead
    if m is None:
        return []
    issued = a.agenda_closes_at if a.published else a.generated_at
    return [f"联系人：{m.contact}" + (f"　联系电话：{m.phone}" if m.phone else ""),
            f"{m.office}　{issued.astimezone(tz):%Y年%m月%d日}印发"]


def reporter(a: Agenda, i) -> str:
    """汇报单位 and the time allotted to an item."""
    return f"{i.lead or '首席服务官'}" + (f"（{a.masthead.minutes_per_item}分钟）" if a.masthead else "")


def agenda_markdown(a: Agenda, tz: ZoneInfo) -> str:
    out = [f"# {md(a.title)}议程", ""] + [md(line) + "  " for line in agenda_head(a, tz)] + ["",
           f"共 {a.total} 项，其中上次会议结转 {a.carried_over} 项。", ""]
    if a.figures is not None:
        out += [md(a.figures.sentence()), ""]
    for gi, g in enumerate(a.groups, 1):
        out += [f"## {cn_index(gi)}、{md(g.name)}（{len(g.items)} 项）", "",
                "| " + " | ".join(c for c in AGENDA_COLUMNS if c not in ("问题简述", "办理经过")) + " |",
                "|" + "---|" * (len(AGENDA_COLUMNS) - 2)]
        for i in g.items:
            out.append(f"| {i.seq} | {md(i.tracking_no)} | {md(i.enterprise)}：{md(i.matter)}{md(flags(i))} | "
                       f"{i.overdue_days} | {wan(i.amount)} | {md(units(i))} | {md(i.ask)} |")
        out.append("")
        for i in g.items:
            out += [f"### {i.seq}. {md(i.tracking_no)} {md(i.enterprise)}：{md(i.matter)} {md(flags(i))}".rstrip(),
                    "", f"- 问题简述：{md(i.problem)}"] + ([f"- {md(members_line(i))}"] if i.members else []) + [
                    f"- 所在地：{md(i.district)}；逾期 {i.overdue_days} 天"
                    + (f"；涉及金额 {wan(i.amount)} 万元" if i.amount is not None else ""),
                    f"- 牵头单位：{md(i.lead or '待明确')}" + (f"；协办单位：{md('、'.join(i.co))}" if i.co else ""),
                    f"- 汇报单位：{md(reporter(a, i))}",
                    "- 办理经过："] + [f"  - {md(line)}" for line in history_lines(i, tz)] + [
                    f"- 提请会议研究：{md(i.ask)}", ""]
    out += ["---", ""] + [md(line) + "  " for line in agenda_foot(a, tz)]
    return "\n".join(out)


# ---------------------------------------------------------------------------- agenda: HTML
_CSS = """body{font-family:"FangSong","仿宋_GB2312","Songti SC",serif;margin:2em;}
h1{font-family:"方正小标宋简体","SimSun",serif;text-align:center}h2{font-family:"SimHei","黑体",sans-serif}
table{border-collapse:collapse;width:100%;margin-bottom:1.5em}td,th{border:1px solid #444;padding:4px;vertical-align:top}
th{background:#eee}.flag{color:#a00}.small{font-size:90%}"""


def agenda_html(a: Agenda, tz: ZoneInfo) -> str:
    e = html.escape
    parts = [f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>{e(a.title)}议程</title>"
             f"<style>{_CSS}</style></head><body>", f"<h1>{e(a.title)}议程</h1>"] + [
             f"<p>{e(line)}</p>" for line in agenda_head(a, tz)] + [
             f"<p>共 {a.total} 项，其中上次会议结转 {a.carried_over} 项。</p>"]
    if a.figures is not None:
        parts.append(f"<p class='figures'>{e(a.figures.sentence())}</p>")
    for gi, g in enumerate(a.groups, 1):
        parts.append(f"<h2>{cn_index(gi)}、{e(g.name)}（{len(g.items)} 项）</h2><table><tr>"
                     + "".join(f"<th>{c}</th>" for c in AGENDA_COLUMNS) + "</tr>")
        for i in g.items:
            history = "<br>".join(e(line) for line in history_lines(i, tz))
            parts.append(
                f"<tr><td>{i.seq}</td><td>{e(i.tracking_no)}</td><td>{e(i.enterprise)}：{e(i.matter)}"
                f"<span class='flag'>{e(flags(i))}</span></td><td class='small'>{e(i.problem)}"
                + (f"<br>{e(members_line(i))}" if i.members else "") + "</td>"
                f"<td class='small'>{history}</td><td>{i.overdue_days}</td><td>{wan(i.amount)}</td>"
                f"<td>{e(units(i))}<br><span class='small'>汇报：{e(reporter(a, i))}</span></td><td>{e(i.ask)}</td></tr>")
        parts.append("</table>")
    parts.append("<hr>" + "".join(f"<p class='small'>{e(line)}</p>" for line in agenda_foot(a, tz)))
    parts.append("</body></html>")
    return "".join(parts)


# ---------------------------------------------------------------------------- DOCX helpers
def _set_font(target, name: str, size: float | None = None, bold: bool | None = None) -> None:
    """Latin and East Asian font of a style or a run (python-docx sets only the Latin one)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    target.font.name = name
    if size is not None:
        target.font.size = Pt(size)
    if bold is not None:
        target.font.bold = bold
    rpr = target.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), name)


def _field(paragraph, instruction: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, instruction), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        elif text == "1":
            el = OxmlElement("w:t")
            el.text = "1"
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {text} "
        run._r.append(el)


def _document(landscape: bool = False):
    # python-docx (and lxml) only in the process that writes a document: ~15 MB a list or a
    # case page never needs (issue #12, memory)
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.0 if landscape else 2.6))
    section.top_margin, section.bottom_margin = Cm(2.5), Cm(2.2)
    _set_font(doc.styles["Normal"], BODY_FONT, 12)
    for level in (1, 2):
        style = doc.styles[f"Heading {level}"]
        _set_font(style, HEADING_FONT, 16 if level == 1 else 14, True)
        style.font.color.rgb = None
    _set_font(doc.styles["Title"], TITLE_FONT, 22, False)
    doc.styles["Title"].font.color.rgb = None
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("第 ")
    _field(footer, "PAGE")
    footer.add_run(" 页 共 ")
    _field(footer, "NUMPAGES")
    footer.add_run(" 页")
    return doc


def _title(doc, text: str) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    p = doc.add_paragraph(text, style="Title")
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _table(doc, header: list[str], rows: list[list[str]], widths: list[float] | None = None):
    """A bordered table; rows are written through the XML cells directly (python-docx's
    cell accessors walk the whole row each time, too slow for a 500-item agenda)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm

    table = doc.add_table(rows=1 + len(rows), cols=len(header))
    table.style = "Table Grid"
    for r, values in enumerate([header] + rows):
        tr = table.rows[r]._tr
        for c, tc in enumerate(tr.tc_lst):
            lines = str(values[c]).split("\n")
            p = tc.p_lst[0]
            for n, line in enumerate(lines):
                if n:
                    p = OxmlElement("w:p")
                    tc.append(p)
                run = OxmlElement("w:r")
                if r == 0:
                    rpr = OxmlElement("w:rPr")
                    rpr.append(OxmlElement("w:b"))
                    run.append(rpr)
                t = OxmlElement("w:t")
                t.set(qn("xml:space"), "preserve")
                t.text = line
                run.append(t)
                p.append(run)
    if widths:
        for col, width in zip(table.columns, widths):
            col.width = Cm(width)
    return table


def _bytes(doc) -> bytes:
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------- agenda: DOCX
def agenda_docx(a: Agenda, tz: ZoneInfo) -> bytes:
    doc = _document(landscape=True)
    _title(doc, f"{a.title}议程")
    for line in agenda_head(a, tz):
        doc.add_paragraph(line)
    doc.add_paragraph(f"共 {a.total} 项，其中上次会议结转 {a.carried_over} 项。")
    if a.figures is not None:
        doc.add_paragraph(a.figures.sentence())
    for gi, g in enumerate(a.groups, 1):
        doc.add_heading(f"{cn_index(gi)}、{g.name}（{len(g.items)} 项）", level=1)
        rows = [[str(i.seq), i.tracking_no, f"{i.enterprise}：{i.matter}{flags(i)}",
                 i.problem + (f"\n{members_line(i)}" if i.members else ""),
                 "\n".join(history_lines(i, tz)), str(i.overdue_days), wan(i.amount),
                 f"{units(i)}\n汇报：{reporter(a, i)}", i.ask]
                for i in g.items]
        _table(doc, AGENDA_COLUMNS, rows, [1.0, 2.6, 3.6, 4.2, 6.0, 1.4, 1.6, 2.6, 3.2])
    for line in agenda_foot(a, tz):
        doc.add_paragraph(line)
    return _bytes(doc)


def agenda_json(a: Agenda) -> dict:
    return a.model_dump(mode="json")


# ---------------------------------------------------------------------------- minutes and sheets
SHEET_FIELDS = [("编号", "number"), ("督办机关", "office"), ("督办类别", "category"), ("事项", "matter"),
                ("工作要求", "requirement"), ("责任单位", "units"), ("责任领导", "leader"), ("经办人", "handler"),
                ("办结时限", "deadline"), ("反馈要求", "feedback"), ("办理进展", "progress"), ("状态", "status"),
                ("签发", "signed"), ("联系人", "contact"), ("抄送", "copy_to")]


def _sheet_values(s: Sheet) -> dict[str, str]:
    return {"number": s.number, "office": s.office, "category": s.category,
            "matter": f"{s.tracking_no} {s.enterprise}：{s.matter}", "requirement": s.requirement,
            "units": s.lead + (f"（牵头）；{'、'.join(s.co)}（配合）" if s.co else "（牵头）"),
            "leader": s.leader or "", "handler": s.handler or "", "deadline": s.deadline, "feedback": s.feedback,
            "progress": "\n".join(s.progress) or "尚无进展记录", "status": s.status,
            "signed": f"{s.signer}　{s.signed}", "contact": s.contact + (f"　电话：{s.phone}" if s.phone else ""),
            "copy_to": "、".join(s.copy_to)}


def receipt_lines(s: Sheet) -> list[str]:
    """回执: the form the responsible unit returns (or reports in the system)."""
    return [f"督办单编号：{s.number}　责任单位：{s.lead}"] + [f"{name}：" for name in RECEIPT_FIELDS]


def minutes_head(m: MinutesView) -> list[str]:
    """纪要's masthead (版头): issue number, issuing office, date; then who met where."""
    h = m.masthead
    if h is None:
        return [f"会议时间：{m.held}"]
    return [f"第{m.issue_no}期", f"{h.office}　{m.issued}", f"会议时间：{m.held}　会议地点：{h.place}",
            f"主持人：{h.chair}", f"出席单位：{m.attendees or '、'.join(h.attending) or '（见议定事项）'}",
            f"列席单位：{'、'.join(h.observers) or '无'}", f"记录人：{h.recorder}"]


def minutes_foot(m: MinutesView) -> list[str]:
    """版记: who signed, to whom it goes, when it was issued."""
    h = m.masthead
    if h is None:
        return []
    return [f"签发：{h.signer}", f"分送：{'、'.join(h.distribution) or '参会单位'}", f"抄送：{'、'.join(h.copy_to)}",
            f"{h.office}　{m.issued}印发"]


def minutes_markdown(m: MinutesView) -> str:
    out = [f"# {md(m.title)}纪要", ""] + [md(line) + "  " for line in minutes_head(m)] + [
           "", f"记录时间：{md(m.recorded)}", ""]
    if m.summary:
        out += [md(m.summary), ""]
    out += ["## 议定事项", ""]
    for n, d in enumerate(m.decisions, 1):
        out.append(f"{cn_index(n)}、{md(d.tracking_no)} {md(d.enterprise)}：{md(d.matter)}。{md(d.text)}")
        out.append("")
    out += ["---", ""] + [md(line) + "  " for line in minutes_foot(m)] + [""]
    if m.sheets:
        out += ["## 督办事项", ""] + [supervision_markdown_one(s) for s in m.sheets]
    return "\n".join(out)


def supervision_markdown_one(s: Sheet) -> str:
    cells = {key: md(value) for key, value in _sheet_values(s).items()}
    if s.progress:  # an entry a line; line breaks inside an entry are folded by md()
        cells["progress"] = "<br>".join(md(p) for p in s.progress)
    rows = "\n".join(f"| {label} | {cells[key]} |" for label, key in SHEET_FIELDS)
    receipt = "\n".join(f"- {md(line)}" for line in receipt_lines(s)[1:])
    return (f"### 督办单 {md(s.number)}\n\n| 项目 | 内容 |\n|---|---|\n{rows}\n\n"
            f"#### 回执\n\n{md(receipt_lines(s)[0])}\n\n{receipt}\n")


def supervision_markdown(m: MinutesView) -> str:
    return "\n".join([f"# {md(m.title)}督办单", ""] + [supervision_markdown_one(s) for s in m.sheets])


def minutes_docx(m: MinutesView) -> bytes:
    doc = _document()
    _title(doc, f"{m.title}纪要")
    for line in minutes_head(m):
        doc.add_paragraph(line)
    if m.summary:
        doc.add_paragraph(m.summary)
    doc.add_heading("议定事项", level=1)
    for n, d in enumerate(m.decisions, 1):
        doc.add_paragraph(f"{cn_index(n)}、{d.tracking_no} {d.enterprise}：{d.matter}。{d.text}")
    for line in minutes_foot(m):
        doc.add_paragraph(line)
    if m.sheets:
        doc.add_page_break()
        _sheets(doc, m)
    return _bytes(doc)


def supervision_docx(m: MinutesView) -> bytes:
    doc = _document()
    _sheets(doc, m)
    return _bytes(doc)


def _sheets(doc, m: MinutesView) -> None:
    for n, s in enumerate(m.sheets):
        if n:
            doc.add_page_break()
        _title(doc, "督办单")
        doc.add_paragraph(f"{m.title}　{s.number}")
        values = _sheet_values(s)
        _table(doc, ["项目", "内容"], [[label, values[key]] for label, key in SHEET_FIELDS], [3.0, 12.8])
        doc.add_heading("回执", level=2)
        lines = receipt_lines(s)
        doc.add_paragraph(lines[0])
        _table(doc, ["项目", "填写"], [[line.rstrip("："), ""] for line in lines[1:]], [3.0, 12.8])
