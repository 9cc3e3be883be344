"""Text written by enterprises reaches other readers as literal text, in every output format.

Each render is fed hostile text in every user-written field and compared with the same render of
harmless text: rendered through a real Markdown parser, both must give the same sequence of HTML
tags (the hostile text adds no link, image, raw HTML, heading, emphasis or table), and the hostile
text must be there, literally, as text.
"""

from __future__ import annotations

import html
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from markdown_it import MarkdownIt

from service.directory import load_directory
from service.meetings import render
from service.meetings.agenda import Agenda, Group, Item, Stint
from service.meetings.minutes_view import DecisionLine, MinutesView, Sheet
from service.notifications.templates import render as render_message, render_digest
from service.textsafe import chat_text, markdown_text

TZ = ZoneInfo("Asia/Shanghai")
LINK = "https://closedloop.luohe.example.cn"
SAFE = "甲乙"
HOSTILE = [
    "<script>alert(1)</script><img src=x onerror=alert(2)>",
    "[查看详情](http://phish)",
    "![x](http://evil/x.png)",
    "| a | b |",
    "**bold**",
    "标题\n# heading",
    "- 列表",
    "1. 编号",
    "> 引用",
    "---",
    "`code`",
    "<http://phish>",
    "&lt;b&gt;实体&lt;/b&gt;",
    "反斜杠\\[x](http://phish)",
    "    缩进成代码块",
    "_斜体_ ~~删除~~",
    "<font color=\"warning\">红字</font>",
]

MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def tags(rendered_html: str) -> list[str]:
    return re.findall(r"</?[a-zA-Z][a-zA-Z0-9]*", rendered_html)


def text_of(rendered_html: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", rendered_html))


def literal(hostile: str) -> str:
    """The hostile text as it must read: line breaks and runs of blanks fold into one space."""
    return " ".join(hostile.split())


def assert_same_shape(safe_markdown: str, hostile_markdown: str, hostile: str, reads=literal) -> str:
    """``reads``: what the reader must see of the hostile text (robots: its full-width form)."""
    safe, bad = MD.render(safe_markdown), MD.render(hostile_markdown)
    assert tags(bad) == tags(safe), (hostile, hostile_markdown)
    assert reads(hostile) in " ".join(text_of(bad).split()), (hostile, bad)
    for construct in ("<script", "<img", "<font", 'href="http://phish"', 'src="http://evil'):
        assert construct not in bad, (hostile, bad)
    return bad


# ---------------------------------------------------------------------------- hand-built inputs
def agenda_of(t: str) -> Agenda:
    when = datetime(2026, 12, 1, 9, tzinfo=TZ)
    item = Item(seq=1, case_id=1, tracking_no="LH-2026-000001", enterprise=t, key_project=None, whitelisted=True,
                matter=t, problem=t, district=t, status="escalated",
                history=[Stint(tier=1, tier_name="首席服务官", holder=t, entered_at=when, days=2.0, notes=[t, f"企业：{t}"])],
                overdue_days=3, amount=1000000.0, lead=t, lead_key="natural-resources", co=[t, "市财政局"], ask=t)
    return Agenda(sitting_id=1, series="county-yuanhui", series_name=t, tier=2, tier_name="县区周例会", number=1,
                  title=t, starts_at=when, agenda_closes_at=when, status="scheduled", published=False,
                  generated_at=when, group_by="department", total=1, carried_over=0,
                  groups=[Group(key="natural-resources", name=t, items=[item])])


def minutes_of(t: str) -> MinutesView:
    sheet = Sheet(number="〔2026〕第1次会议第1号", seq=1, case_id=1, tracking_no="LH-2026-000001", enterprise=t,
                  matter=t, requirement=t, lead=t, co=[t], leader=t, handler=t, deadline="2026年12月15日",
                  progress=[f"12月02日 办理意见：{t}", t], status="办理中", closed=False)
    return MinutesView(sitting_id=1, title=t, held="2026年12月01日 09:00", recorded="2026年12月01日 12:00",
                       recorded_by="admin", attendees=t, summary=t,
                       decisions=[DecisionLine(case_id=1, tracking_no="LH-2026-000001", enterprise=t, matter=t,
                                               decision="assigned", text=t)],
                       sheets=[sheet])


def case_payload(t: str) -> dict:
    return {"event_id": 9, "type": "resolved", "data": {"resolution": t}, "case": {
        "id": 5, "tracking_no": "LH-2026-000005", "title": t, "enterprise_id": 3, "tier": 2,
        "lead_department": "natural-resources", "due_at": "2026-11-30T10:00:00+00:00",
        "confirm_due_at": "2026-12-07T10:00:00+00:00"}}


def digest_payload(t: str) -> dict:
    return {"type": "agenda_published", "sitting": {
        "title": t, "starts_at": "2026-12-01T01:00:00+00:00", "total": 2, "carried_over": 0,
        "link": f"{LINK}/v1/meetings/1/agenda?format=html"},
        "items": [{"seq": 1, "tracking_no": "LH-2026-000001", "enterprise": t, "matter": t, "lead": t,
                   "overdue_days": 3},
                  {"seq": 2, "tracking_no": "LH-2026-000002", "enterprise": t, "matter": t, "lead": None,
                   "overdue_days": 0}]}


# ---------------------------------------------------------------------------- Markdown documents
@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_agenda_markdown_shows_hostile_text_literally(hostile):
    bad = assert_same_shape(render.agenda_markdown(agenda_of(SAFE), TZ),
                            render.agenda_markdown(agenda_of(hostile), TZ), hostile)
    (table,) = re.findall(r"<table>.*?</table>", bad, re.S)
    assert literal(hostile) in " ".join(text_of(table).split())  # not cut off at a cell boundary


@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_minutes_markdown_shows_hostile_text_literally(hostile):
    assert_same_shape(render.minutes_markdown(minutes_of(SAFE)), render.minutes_markdown(minutes_of(hostile)),
                      hostile)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_supervision_markdown_shows_hostile_text_literally(hostile):
    bad = assert_same_shape(render.supervision_markdown(minutes_of(SAFE)),
                            render.supervision_markdown(minutes_of(hostile)), hostile)
    assert bad.count("<table>") == 1  # our one table per sheet, its rows intact
    assert bad.count("<tr>") == 1 + len(render.SHEET_FIELDS)


def test_progress_entries_keep_their_own_lines_in_a_sheet():
    md = render.supervision_markdown(minutes_of("第一条\n# 第二条"))
    (row,) = [line for line in md.splitlines() if line.startswith("| 办理进展")]
    assert row.count("<br>") == 1  # between our two entries; the break inside an entry is folded


# ---------------------------------------------------------------------------- HTML and DOCX
@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_agenda_html_shows_hostile_text_literally(hostile):
    safe, bad = render.agenda_html(agenda_of(SAFE), TZ), render.agenda_html(agenda_of(hostile), TZ)
    assert tags(bad) == tags(safe)
    assert "<script" not in bad and "<img" not in bad and "<font" not in bad
    assert literal(hostile) in " ".join(text_of(bad).split())


@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_agenda_docx_holds_hostile_text_literally(hostile):
    doc = Document(io.BytesIO(render.agenda_docx(agenda_of(hostile), TZ)))
    cells = [c.text for t in doc.tables for row in t.rows[1:] for c in row.cells]
    assert hostile in cells  # the enterprise's problem, as written
    assert doc.paragraphs[0].text == f"{hostile}议程"


@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_minutes_docx_holds_hostile_text_literally(hostile):
    doc = Document(io.BytesIO(render.minutes_docx(minutes_of(hostile))))
    assert hostile in [p.text for p in doc.paragraphs]  # the summary
    assert hostile in [c.text for t in doc.tables for row in t.rows for c in row.cells]


# ---------------------------------------------------------------------------- robot messages
@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_case_message_carries_no_link_but_ours(hostile):
    directory = load_directory()
    safe = render_message(case_payload(SAFE), "enterprise", "3", directory, SAFE, TZ, LINK)
    message = render_message(case_payload(hostile), "enterprise", "3", directory, hostile, TZ, LINK)
    bad = assert_same_shape(safe.markdown, message.markdown, hostile, reads=chat_text)
    assert re.findall(r'href="([^"]*)"', bad) == [f"{LINK}/v1/cases/5"]
    assert "](http://phish)" not in message.markdown and "http://phish" not in message.markdown
    assert hostile in message.text  # plain text is left as written


@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_agenda_digest_carries_no_link_but_ours(hostile):
    safe, message = render_digest(digest_payload(SAFE), TZ), render_digest(digest_payload(hostile), TZ)
    bad = assert_same_shape(safe.markdown, message.markdown, hostile, reads=chat_text)
    assert re.findall(r'href="([^"]*)"', bad) == [f"{LINK}/v1/meetings/1/agenda?format=html"]
    assert "http://phish" not in message.markdown
    assert hostile in message.text


# ---------------------------------------------------------------------------- the one escaper
def test_markdown_text_folds_lines_and_escapes_markup():
    assert markdown_text("a <b> & c") == "a &lt;b&gt; &amp; c"
    assert markdown_text("x\n# y\r\nz") == "x \\# y z"
    assert markdown_text("[a](http://b)") == "\\[a\\]\\(http\\://b\\)"
    assert markdown_text("- a") == "\\- a" and markdown_text("12. a") == "12\\. a"
    assert markdown_text("普通文字，2026-12-01 10.5 万元") == "普通文字，2026-12-01 10.5 万元"


def test_chat_text_reads_as_the_same_punctuation_in_full_width():
    assert chat_text("[查看详情](http://phish)") == "［查看详情］（http：//phish）"
    assert chat_text("- 第一\n# 标题 | 表格") == "－ 第一 ＃ 标题 ｜ 表格"
    assert chat_text("<b>&amp;</b>") == "＜b＞＆amp;＜/b＞"
