"""Agendas, minutes and supervision sheets as offices send them (issue #16): every field of the
masthead, the sheet and its 回执 in every format, defaults where the directory is silent, the
directory's values where it speaks, the minutes' issue number, the sheet's category."""

import io
from datetime import datetime, timedelta

import pytest
from docx import Document
from pydantic import ValidationError

from test_meetings import SERIES, at, seeded  # noqa: F401 - the meetings tests' fixture and helpers

from service.directory import MeetingSeries


def docx_text(content: bytes) -> str:
    doc = Document(io.BytesIO(content))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def get(world, path, **params):
    r = world.client.get(path, params=params, headers=world.h("admin"))
    assert r.status_code == 200, r.text
    return r


AGENDA_FIELDS = ["会议地点：源汇区优化营商环境工作领导小组办公室会议室", "主持人：源汇区政府分管负责同志",
                 "出席单位：", "市自然资源和规划局", "列席单位：相关企业首席服务官", "汇报", "（10分钟）",
                 "联系人：", "源汇区优化营商环境工作领导小组办公室", "印发"]


def test_the_agenda_carries_its_masthead_in_every_format(world, seeded):
    sid = seeded.s1["id"]
    texts = {fmt: get(world, f"/v1/meetings/{sid}/agenda", format=fmt).text for fmt in ("markdown", "html")}
    texts["docx"] = docx_text(get(world, f"/v1/meetings/{sid}/agenda", format="docx").content)
    for fmt, text in texts.items():
        missing = [f for f in AGENDA_FIELDS if f not in text]
        assert not missing, (fmt, missing)
    head = get(world, f"/v1/meetings/{sid}/agenda").json()["masthead"]
    assert head["office"] == "源汇区优化营商环境工作领导小组办公室" and head["minutes_per_item"] == 10
    assert "市自然资源和规划局" in head["attending"] and head["observers"] == ["相关企业首席服务官"]


def record_minutes(world, seeded):
    world.clock.set(at(2026, 12, 1, 11))
    body = {"summary": "会议研究了源汇区企业反映的问题。", "decisions": [
        {"case_id": seeded.land["id"], "decision": "assigned", "lead_department": "natural-resources",
         "co_departments": ["fiscal"], "due": "10 working_days", "requirement": "12月中旬前完成不动产登记",
         "leader": "副区长 刘强", "handler": "张伟"}]}
    r = world.client.post(f"/v1/meetings/{seeded.s1['id']}/minutes", json=body, headers=world.h("secretary"))
    assert r.status_code == 201, r.text


MINUTES_FIELDS = ["第1期", "源汇区优化营商环境工作领导小组办公室", "2026年12月01日", "会议地点：", "主持人：",
                  "出席单位：", "列席单位：", "记录人：", "签发：", "分送：", "抄送：漯河市委办公室、漯河市政府办公室", "印发"]
SHEET_FIELDS = ["督办机关", "督办类别", "一般督办", "签发", "2026年12月01日", "反馈要求", "每3个工作日",
                "联系人", "抄送", "回执", "办理情况", "承办人", "联系电话", "（单位盖章）"]


def test_the_minutes_and_the_sheets_carry_theirs_in_every_format(world, seeded):
    record_minutes(world, seeded)
    sid = seeded.s1["id"]
    minutes = {"markdown": get(world, f"/v1/meetings/{sid}/minutes", format="markdown").text,
               "docx": docx_text(get(world, f"/v1/meetings/{sid}/minutes", format="docx").content)}
    for fmt, text in minutes.items():
        missing = [f for f in MINUTES_FIELDS + SHEET_FIELDS if f not in text]
        assert not missing, (fmt, missing, text[:600])
    sheets = {"markdown": get(world, f"/v1/meetings/{sid}/supervision", format="markdown").text,
              "docx": docx_text(get(world, f"/v1/meetings/{sid}/supervision", format="docx").content)}
    for fmt, text in sheets.items():
        missing = [f for f in SHEET_FIELDS if f not in text]
        assert not missing, (fmt, missing)
    data = get(world, f"/v1/meetings/{sid}/minutes").json()
    assert data["issue_no"] == 1 and data["masthead"]["recorder"] and data["issued"] == "2026年12月01日"
    (sheet,) = data["sheets"]
    assert sheet["category"] == "一般督办" and sheet["office"] == "源汇区优化营商环境工作领导小组办公室"
    assert "每3个工作日" in sheet["feedback"] and sheet["copy_to"] == ["漯河市委办公室", "漯河市政府办公室"]


def test_what_the_directory_says_is_what_the_documents_say(world, seeded):
    rt, before = world.rt, world.rt.directory
    series = [s.model_copy(update={
        "office": "源汇区委区政府督查室", "place": "区政府三楼第一会议室", "chair": "常务副区长 王明",
        "attending": ("区发改委", "区财政局"), "observers": ("相关企业负责人",), "recorder": "李华", "signer": "王明",
        "contact": "赵敏", "phone": "0395-2222222", "distribution": ("区直各部门",), "copy_to": ("市营商办",),
        "minutes_per_item": 15}) if s.key == SERIES else s for s in before.meeting_series]
    rt.directory = before.model_copy(update={"meeting_series": tuple(series)})
    try:
        record_minutes(world, seeded)
        sid = seeded.s1["id"]
        text = get(world, f"/v1/meetings/{sid}/agenda", format="markdown").text
        for f in ["会议地点：区政府三楼第一会议室", "主持人：常务副区长 王明", "出席单位：区发改委、区财政局",
                  "列席单位：相关企业负责人", "（15分钟）", "联系人：赵敏 联系电话：0395-2222222", "区委区政府督查室"]:
            assert f in text, f
        minutes = get(world, f"/v1/meetings/{sid}/minutes", format="markdown").text
        for f in ["记录人：李华", "签发：王明", "分送：区直各部门", "抄送：市营商办", "督办机关 | 源汇区委区政府督查室"]:
            assert f in minutes, f
    finally:
        rt.directory = before


def test_a_bad_directory_field_is_refused_naming_it():
    with pytest.raises(ValidationError, match="phone"):
        MeetingSeries(key="x", name="某会", tier=2, schedule="0 9 * * 2", phone="打电话给办公室")
    with pytest.raises(ValidationError, match="minutes_per_item"):
        MeetingSeries(key="x", name="某会", tier=2, schedule="0 9 * * 2", minutes_per_item=0)


def test_the_minutes_are_numbered_per_series_and_year(world, seeded):
    record_minutes(world, seeded)
    nxt = world.case(seeded.power["id"])["sitting_id"]  # not decided: carried over to the next sitting
    assert nxt != seeded.s1["id"]
    starts = datetime.fromisoformat(get(world, f"/v1/meetings/{nxt}/agenda").json()["starts_at"])
    world.clock.set(starts + timedelta(hours=2))
    r = world.client.post(f"/v1/meetings/{nxt}/minutes", headers=world.h("secretary"), json={
        "decisions": [{"case_id": seeded.power["id"], "decision": "resolved", "note": "已接电"}]})
    assert r.status_code == 201, r.text
    assert get(world, f"/v1/meetings/{nxt}/minutes").json()["issue_no"] == 2  # 第2期 of the series this year
    assert get(world, f"/v1/meetings/{seeded.s1['id']}/minutes").json()["issue_no"] == 1


def test_the_sheet_category_follows_the_case():
    from types import SimpleNamespace

    from service.meetings.masthead import KEY, LISTED, ORDINARY, category

    case = lambda **kw: SimpleNamespace(**{"supervised": False, "tier": 2, "sla_policy": "standard", **kw})  # noqa: E731
    assert category(case()) == ORDINARY
    assert category(case(sla_policy="key-project")) == KEY and category(case(tier=4)) == KEY
    assert category(case(tier=5)) == LISTED and category(case(supervised=True, tier=4)) == LISTED
