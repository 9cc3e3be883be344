"""Weekly meetings through the API, on SQLite and PostgreSQL: agendas that build themselves from
escalated cases and close at the cut-off, minutes applied once, carried-over items, extra and
cancelled sittings, supervision sheets closed (销号) when their case closes; and every format."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from docx import Document
from sqlalchemy import func, select

from service.cases.models import CaseEvent
from service.directory import load_directory
from service.meetings.agenda import CaseFile, assemble
from service.meetings.models import AgendaItem
from service.notifications.models import OutboxMessage
from support import TZ

SERIES = "county-yuanhui"  # Tuesdays 09:00; the agenda closes a day before


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


def escalate_to_county(world, title: str, comment: str | None = None, **fields) -> dict:
    c = world.submit(title=title, description=f"{title}，企业多次反映未解决", **fields)
    world.clock.advance(hours=1)
    if comment:
        world.act(c["id"], "comment", "admin", {"text": comment})
        world.clock.advance(hours=1)
    return world.act(c["id"], "escalate", "admin", {"reason": "提交县区周例会研究"})


def sittings(world, **params) -> list[dict]:
    r = world.client.get("/v1/meetings", params=params, headers=world.h("admin"))
    assert r.status_code == 200, r.text
    return r.json()["items"]


def agenda(world, sitting_id: int, who: str = "secretary", **params):
    r = world.client.get(f"/v1/meetings/{sitting_id}/agenda", params=params, headers=world.h(who))
    assert r.status_code == 200, r.text
    return r


def events(world, case_id: int, kind: str) -> list[dict]:
    return [e for e in world.case(case_id)["timeline"] if e["type"] == kind]


def count(rt, stmt) -> int:
    with rt.session() as s:
        return s.scalar(stmt) or 0


@pytest.fixture
def seeded(world):
    """Three cases on the next Yuanhui county meeting (Tuesday 2026-12-01 09:00, agenda closes
    Monday 09:00), one with a comment from the land bureau on its way."""
    land = escalate_to_county(world, "土地证办不下来", comment="已协调规划调整，等待市局批复")
    loan = escalate_to_county(world, "中小企业贷款审批时间长", amount="3000000")
    power = escalate_to_county(world, "专用变压器报装迟迟不批", amount="500000")
    (s1,) = [s for s in sittings(world, series=SERIES) if s["status"] == "scheduled"][:1]
    return SimpleNamespace(land=land, loan=loan, power=power, s1=s1)


def test_the_agenda_builds_itself_and_closes_at_the_cut_off(world, seeded):
    s1 = seeded.s1
    assert (s1["number"], s1["title"]) == (1, "第1次源汇区服务企业周例会")
    assert datetime.fromisoformat(s1["starts_at"]) == at(2026, 12, 1, 9)
    assert datetime.fromisoformat(s1["agenda_closes_at"]) == at(2026, 11, 30, 9)

    draft = agenda(world, s1["id"]).json()
    assert (draft["published"], draft["total"], draft["carried_over"]) == (False, 3, 0)
    items = {i["tracking_no"]: i for g in draft["groups"] for i in g["items"]}
    land = items[seeded.land["tracking_no"]]
    assert land["enterprise"] == "漯河测试食品有限公司" and land["lead"] == "市自然资源和规划局"
    assert [s["tier"] for s in land["history"]] == [1, 2]
    assert land["history"][0]["holder"].startswith("王建国（首席服务官）")
    assert any("已协调规划调整" in n for n in land["history"][0]["notes"])
    assert land["history"][1]["holder"] == "第1次源汇区服务企业周例会"
    assert "市自然资源和规划局" in land["ask"]
    assert items[seeded.loan["tracking_no"]]["amount"] == 3000000
    # grouped by lead department; sequence numbers run through the agenda
    assert [i["seq"] for g in draft["groups"] for i in g["items"]] == [1, 2, 3]
    assert all(len({i["lead_key"] for i in g["items"]}) == 1 for g in draft["groups"])

    # the cut-off: the beat's sweep publishes it, freezes the items and tells the secretary
    from service.escalation.sweep import sweep

    world.clock.set(at(2026, 11, 30, 9, 0, 30))
    report = sweep(world.rt)
    assert report.published == [s1["id"]]
    assert sweep(world.rt).published == []  # once
    published = agenda(world, s1["id"]).json()
    assert published["published"] is True and published["total"] == 3
    assert count(world.rt, select(func.count()).select_from(AgendaItem).where(AgendaItem.sitting_id == s1["id"])) == 3
    with world.rt.session() as s:
        (digest,) = s.scalars(select(OutboxMessage).where(OutboxMessage.sitting_id == s1["id"]))
        assert (digest.event_type, digest.recipient_kind, digest.recipient) == ("agenda_published", "secretary", SERIES)
        assert [i["tracking_no"] for i in digest.payload["items"]] == [
            i["tracking_no"] for g in published["groups"] for i in g["items"]]

    # a case escalated after the cut-off goes to the next sitting; the published agenda stays
    late = escalate_to_county(world, "厂房土地证逾期未办")
    assert late["sitting_id"] != s1["id"]
    assert agenda(world, s1["id"]).json()["total"] == 3
    nxt = agenda(world, late["sitting_id"]).json()
    assert nxt["number"] == 2 and [i["tracking_no"] for g in nxt["groups"] for i in g["items"]] == [late["tracking_no"]]


def test_minutes_flow_back_into_the_cases_once(world, seeded):
    s1 = seeded.s1
    body = {"summary": "会议研究了源汇区企业反映的问题。", "attendees": "区自然资源局、区金融局", "decisions": [
        {"case_id": seeded.land["id"], "decision": "assigned", "lead_department": "natural-resources",
         "co_departments": ["fiscal"], "due": "10 working_days", "requirement": "12月中旬前完成不动产登记",
         "leader": "副区长 刘强", "handler": "张伟"},
        {"case_id": seeded.loan["id"], "decision": "resolved", "note": "银行已放款"},
    ]}  # the power case is not decided: carried over
    early = world.client.post(f"/v1/meetings/{s1['id']}/minutes", json=body, headers=world.h("secretary"))
    assert early.status_code == 409 and "open until" in early.json()["detail"]

    world.clock.set(at(2026, 12, 1, 11))
    r = world.client.post(f"/v1/meetings/{s1['id']}/minutes", json=body, headers=world.h("secretary"))
    assert r.status_code == 201, r.text
    outcome = r.json()["outcome"]
    assert outcome[str(seeded.land["id"])]["decision"] == "assigned"
    assert outcome[str(seeded.power["id"])]["decision"] == "carried_over"

    land = world.case(seeded.land["id"])
    assert (land["status"], land["lead_department"], land["co_departments"]) == ("open", "natural-resources", ["fiscal"])
    assert datetime.fromisoformat(land["due_at"]) == at(2026, 12, 15, 18)  # ten working days
    (assigned,) = events(world, seeded.land["id"], "assigned")
    assert assigned["actor"] == "secretary:county-yuanhui" and assigned["data"]["seq"] == 1
    assert world.case(seeded.loan["id"])["status"] == "resolved"
    power = world.case(seeded.power["id"])
    assert power["sitting_id"] not in (None, s1["id"])
    (carried,) = events(world, seeded.power["id"], "carried_over")
    assert carried["data"]["from_sitting"]["number"] == 1
    # the notifications went out with the changes
    with world.rt.session() as s:
        told = {(m.recipient_kind, m.recipient) for m in s.scalars(
            select(OutboxMessage).where(OutboxMessage.event_id == assigned["id"]))}
    assert ("department", "fiscal") in told and ("enterprise", str(land["enterprise_id"])) in told

    # carried over: marked on the next agenda
    nxt = agenda(world, power["sitting_id"]).json()
    (item,) = [i for g in nxt["groups"] for i in g["items"]]
    assert (item["carried_from"], item["times_on_agenda"]) == (1, 2) and "第2次上会" in item["ask"]
    assert nxt["carried_over"] == 1

    # the same minutes again change nothing; different minutes are refused
    n_events = count(world.rt, select(func.count()).select_from(CaseEvent))
    again = world.client.post(f"/v1/meetings/{s1['id']}/minutes", json=body, headers=world.h("secretary"))
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["outcome"] == outcome
    assert count(world.rt, select(func.count()).select_from(CaseEvent)) == n_events
    body["decisions"][1]["decision"] = "escalated"
    clash = world.client.post(f"/v1/meetings/{s1['id']}/minutes", json=body, headers=world.h("admin"))
    assert clash.status_code == 409 and clash.headers["content-type"] == "application/problem+json"
    assert "applied once" in clash.json()["detail"]
    assert count(world.rt, select(func.count()).select_from(CaseEvent)) == n_events

    # minutes and supervision sheets
    md = world.client.get(f"/v1/meetings/{s1['id']}/minutes", params={"format": "markdown"},
                          headers=world.h("secretary")).text
    assert "# 第1次源汇区服务企业周例会纪要" in md and "交市自然资源和规划局牵头，市财政局配合" in md
    assert "结转至第2次会议" in md and "会议认为问题已解决" in md and "于2026年12月15日前办结" in md
    sheets = world.client.get(f"/v1/meetings/{s1['id']}/supervision", headers=world.h("admin")).json()["sheets"]
    (sheet,) = sheets
    assert (sheet["lead"], sheet["co"], sheet["leader"], sheet["handler"]) == (
        "市自然资源和规划局", ["市财政局"], "副区长 刘强", "张伟")
    assert sheet["deadline"] == "2026年12月15日" and sheet["status"] == "办理中" and not sheet["closed"]
    # numbered as the Yuanhui office numbers its documents, the same number in the minutes
    assert sheet["number"] == outcome[str(seeded.land["id"])]["sheet"] == assigned["data"]["sheet"] == "源企督〔2026〕1号"
    assert "（督办单源企督〔2026〕1号）" in md

    # 销号: the item closes when its case closes
    world.act(seeded.land["id"], "accept", "land")
    world.act(seeded.land["id"], "resolve", "land", {"resolution": "不动产权证已发放"})
    world.act(seeded.land["id"], "confirm", "ent", {"satisfied": True, "rating": 5})
    (sheet,) = world.client.get(f"/v1/meetings/{s1['id']}/supervision", headers=world.h("admin")).json()["sheets"]
    assert sheet["closed"] and sheet["status"].startswith("已销号")
    assert any("不动产权证已发放" in p for p in sheet["progress"])

    docx = world.client.get(f"/v1/meetings/{s1['id']}/minutes", params={"format": "docx"}, headers=world.h("admin"))
    doc = Document(io.BytesIO(docx.content))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "第1次源汇区服务企业周例会纪要" in text and "议定事项" in text
    table, receipt = doc.tables  # one supervision sheet, and its 回执
    labels = [row.cells[0].text for row in table.rows]
    assert labels == ["项目", "编号", "督办机关", "督办类别", "事项", "工作要求", "责任单位", "责任领导", "经办人", "办结时限",
                      "反馈要求", "办理进展", "状态", "签发", "联系人", "抄送"]
    assert dict((r.cells[0].text, r.cells[1].text) for r in table.rows)["状态"].startswith("已销号")
    assert [r.cells[0].text for r in receipt.rows][1:3] == ["办理情况", "下一步工作"]


def test_a_decision_the_case_cannot_take_is_refused_whole(world, seeded):
    from service.escalation.sweep import sweep

    s1 = seeded.s1
    world.clock.set(at(2026, 11, 30, 10))
    assert sweep(world.rt).published == [s1["id"]]
    # after the agenda closed, the bank solved it before the meeting
    world.act(seeded.loan["id"], "accept", "admin")
    world.act(seeded.loan["id"], "resolve", "admin", {"resolution": "已解决"})
    world.clock.set(at(2026, 12, 1, 11))
    body = {"decisions": [{"case_id": seeded.land["id"], "decision": "resolved"},
                          {"case_id": seeded.loan["id"], "decision": "assigned", "lead_department": "fiscal",
                           "due": "2026-12-20"}]}
    r = world.client.post(f"/v1/meetings/{s1['id']}/minutes", json=body, headers=world.h("secretary"))
    assert r.status_code == 409 and "resolved" in r.json()["detail"], r.text
    assert world.case(seeded.land["id"])["status"] == "open"  # nothing applied
    # without the impossible decision, the resolved case is simply no longer before the meeting
    r = world.client.post(f"/v1/meetings/{s1['id']}/minutes", json={"decisions": body["decisions"][:1]},
                          headers=world.h("secretary"))
    assert r.status_code == 201
    assert r.json()["outcome"][str(seeded.loan["id"])]["decision"] is None


@pytest.mark.parametrize("decision,detail", [
    ({"case_id": 999999, "decision": "resolved"}, "decisions[0].case_id: case 999999 is not on this sitting's agenda"),
    ({"decision": "assigned", "lead_department": "natural-resources"}, "lead_department and due"),
    ({"decision": "assigned", "lead_department": "nowhere", "due": "5 working_days"},
     "decisions[0].lead_department: unknown department 'nowhere'"),
    ({"decision": "assigned", "lead_department": "fiscal", "due": "soon"}, "decisions[0].due: give a date"),
    ({"decision": "assigned", "lead_department": "fiscal", "due": "2026-01-05"}, "has passed"),
    ({"decision": "adjourned"}, "decisions.0.decision"),
])
def test_bad_minutes_name_the_field_and_the_fix(world, seeded, decision, detail):
    world.clock.set(at(2026, 12, 1, 11))
    body = {"decisions": [{"case_id": seeded.land["id"], **decision}]}
    r = world.client.post(f"/v1/meetings/{seeded.s1['id']}/minutes", json=body, headers=world.h("secretary"))
    assert r.status_code == 422, r.text
    assert detail in r.json()["detail"], r.json()["detail"]
    dup = {"decisions": [{"case_id": seeded.land["id"], "decision": "resolved"}] * 2}
    r = world.client.post(f"/v1/meetings/{seeded.s1['id']}/minutes", json=dup, headers=world.h("secretary"))
    assert r.status_code == 422 and "decided twice" in r.json()["detail"]


def test_who_sees_and_records_a_meeting(world, seeded):
    sid = seeded.s1["id"]
    got = {who: world.client.get(f"/v1/meetings/{sid}/agenda", headers=world.h(who)).status_code
           for who in ("admin", "secretary", "other-secretary", "land", "officer", "ent")}
    assert got == {"admin": 200, "secretary": 200, "other-secretary": 404, "land": 200, "officer": 200, "ent": 403}
    world.clock.set(at(2026, 12, 1, 11))
    for who, code in (("land", 403), ("officer", 403), ("ent", 403), ("other-secretary", 404)):
        r = world.client.post(f"/v1/meetings/{sid}/minutes", json={"decisions": []}, headers=world.h(who))
        assert r.status_code == code, (who, r.text)
    assert world.client.get("/v1/meetings", headers=world.h("ent")).status_code == 403
    from service.escalation.sweep import sweep

    sweep(world.rt)  # each tick makes sure every series has its next sitting on record
    assert {s["series"] for s in sittings(world)} == {s.key for s in world.rt.directory.meeting_series}
    mine = world.client.get("/v1/meetings", headers=world.h("other-secretary")).json()["items"]
    assert mine and {s["series"] for s in mine} == {"county-linying"}
    bad = world.client.get("/v1/meetings", params={"status": "postponed"}, headers=world.h("admin"))
    assert bad.status_code == 422 and bad.json()["detail"].startswith("status: unknown sitting status")
    pdf = world.client.get(f"/v1/meetings/{sid}/agenda", params={"format": "pdf"}, headers=world.h("admin"))
    assert pdf.status_code == 422 and "format=html" in pdf.json()["detail"]


def test_every_format_renders_from_the_one_agenda(world, seeded):
    sid = seeded.s1["id"]
    md = agenda(world, sid, format="markdown").text
    assert md.startswith("# 第1次源汇区服务企业周例会议程") and "## 一、" in md and seeded.land["tracking_no"] in md
    html = agenda(world, sid, format="html")
    assert html.headers["content-type"].startswith("text/html") and "<table>" in html.text
    assert "漯河测试食品有限公司" in html.text and "<h2>一、" in html.text
    by_district = agenda(world, sid, group_by="district").json()
    assert [g["name"] for g in by_district["groups"]] == ["源汇区"]

    r = agenda(world, sid, format="docx")
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    doc = Document(io.BytesIO(r.content))
    json_agenda = agenda(world, sid).json()
    assert len(doc.tables) == len(json_agenda["groups"])  # a table per department
    assert doc.paragraphs[0].text == "第1次源汇区服务企业周例会议程"
    assert doc.tables[0].rows[0].cells[0].text == "序号"
    cells = [c.text for t in doc.tables for row in t.rows[1:] for c in row.cells]
    assert seeded.land["tracking_no"] in cells and any("漯河测试食品有限公司" in c for c in cells)
    footer = doc.sections[0].footer._element.xml
    assert "PAGE" in footer and "NUMPAGES" in footer  # page numbers
    normal = doc.styles["Normal"].element.xml
    assert 'w:eastAsia="仿宋_GB2312"' in normal  # a Chinese body font


def test_a_cancelled_sitting_moves_its_items_and_an_extra_sitting_takes_new_ones(world, seeded):
    sid = seeded.s1["id"]
    r = world.client.post(f"/v1/meetings/{sid}/cancel", json={"reason": "区领导外出"}, headers=world.h("admin"))
    assert r.status_code == 200 and len(r.json()["moved"]) == 3
    assert world.client.post(f"/v1/meetings/{sid}/cancel", json={"reason": "x"},
                             headers=world.h("admin")).status_code == 409
    moved = world.case(seeded.land["id"])
    assert moved["sitting_id"] != sid
    nxt = agenda(world, moved["sitting_id"]).json()
    assert datetime.fromisoformat(nxt["starts_at"]) == at(2026, 12, 8, 9)
    assert nxt["total"] == 3 and nxt["carried_over"] == 3
    (carried,) = events(world, seeded.land["id"], "carried_over")
    assert "区领导外出" in carried["data"]["note"]

    # an extra sitting on Thursday: numbered next, and new escalations go to it
    r = world.client.post("/v1/meetings", json={"series": SERIES, "starts_at": "2026-12-03T15:00:00+08:00"},
                          headers=world.h("admin"))
    assert r.status_code == 201, r.text
    extra = r.json()
    assert extra["kind"] == "extra" and extra["number"] == 3
    assert datetime.fromisoformat(extra["agenda_closes_at"]) == at(2026, 12, 2, 15)
    new = escalate_to_county(world, "土地出让金返还未到位")
    assert new["sitting_id"] == extra["id"]
    bad = world.client.post("/v1/meetings", json={"series": "nowhere", "starts_at": "2026-12-03T15:00:00+08:00"},
                            headers=world.h("admin"))
    assert bad.status_code == 422 and bad.json()["detail"].startswith("series: unknown meeting series")
    past = world.client.post("/v1/meetings", json={"series": SERIES, "starts_at": "2026-11-26T15:00:00+08:00"},
                             headers=world.h("admin"))
    assert past.status_code == 422 and past.json()["detail"].startswith("agenda_closes_at")
    assert world.client.post("/v1/meetings", json={"series": SERIES, "starts_at": "2026-12-04T15:00:00+08:00"},
                             headers=world.h("secretary")).status_code == 403


def test_an_escalation_decided_by_the_meeting_climbs_a_tier(world, seeded):
    world.clock.set(at(2026, 12, 1, 11))
    body = {"decisions": [{"case_id": seeded.power["id"], "decision": "escalated", "note": "涉及市级电网规划"}]}
    r = world.client.post(f"/v1/meetings/{seeded.s1['id']}/minutes", json=body, headers=world.h("secretary"))
    assert r.status_code == 201
    power = world.case(seeded.power["id"])
    assert power["tier"] == 3
    (e,) = [e for e in events(world, seeded.power["id"], "escalated") if e["data"].get("by") == "minutes"]
    assert e["data"]["reason"] == "涉及市级电网规划" and e["data"]["from_tier"] == 2


def test_the_agenda_command_writes_docx(world, seeded, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from service.cli import main

    monkeypatch.setenv("CLOSEDLOOP_DATABASE_URL", world.rt.settings.database_url)
    out = tmp_path / "agenda.docx"
    result = CliRunner().invoke(main, ["agenda", f"{SERIES}:1", "--format", "docx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "第1次源汇区服务企业周例会议程, 3 item(s)" in result.output
    assert len(Document(str(out)).tables) >= 1
    result = CliRunner().invoke(main, ["agenda", str(seeded.s1["id"]), "--format", "markdown"])
    assert result.exit_code == 0 and "## 一、" in result.output
    result = CliRunner().invoke(main, ["agenda", "nowhere:9"])
    assert result.exit_code != 0 and "no sitting 'nowhere:9'" in result.output


# ---------------------------------------------------------------------------- the domain alone
def _file(n: int, overdue_days: int, key="none", white=False, amount=None, lead="natural-resources"):
    starts = at(2026, 12, 1, 9)
    case = SimpleNamespace(
        id=n, tracking_no=f"LH-2026-{n:06d}", title=f"事项{n}", description="企业反映的问题" * 30, district="yuanhui",
        officer_id="officer-yuanhui-1", status="open", amount=amount, lead_department=lead, co_departments=[],
        needs_triage=False, reopen_count=0, due_at=starts - timedelta(days=overdue_days, hours=1))
    ent = SimpleNamespace(name=f"企业{n}", key_project_level=key, whitelisted=white)
    tiers = [SimpleNamespace(tier=1, entered_at=starts - timedelta(days=20)),
             SimpleNamespace(tier=2, entered_at=starts - timedelta(days=overdue_days + 1))]
    return CaseFile(case=case, enterprise=ent, events=[], tiers=tiers)


def test_items_are_ordered_by_overdue_then_key_project_white_list_and_amount():
    directory = load_directory()
    sitting = SimpleNamespace(id=1, number=148, starts_at=at(2026, 12, 1, 9), agenda_closes_at=at(2026, 11, 30, 9),
                              status="scheduled")
    series = next(s for s in directory.meeting_series if s.key == SERIES)
    files = [
        _file(1, 2), _file(2, 9), _file(3, 2, key="municipal"), _file(4, 2, white=True),
        _file(5, 2, amount=5_000_000), _file(6, 2, key="provincial"), _file(7, 2, amount=100),
        _file(8, 4, lead="taxation"),
    ]
    a = assemble(sitting, series, files, directory, at(2026, 11, 30, 9))
    flat = [i.case_id for g in a.groups for i in g.items]
    # the land bureau's group first (its most overdue item, 9 days), then taxation (4 days)
    assert [g.key for g in a.groups] == ["natural-resources", "taxation"]
    assert flat == [2, 6, 3, 4, 5, 7, 1, 8]
    assert [i.seq for g in a.groups for i in g.items] == list(range(1, 9))
    first = a.groups[0].items[0]
    assert first.overdue_days == 9 and len(first.problem) == 120 and first.problem.endswith("…")
    assert a.title == "第148次源汇区服务企业周例会"


def test_each_tick_keeps_a_sitting_ahead_for_every_series(world):
    """The sweep makes sure every series has a sitting ahead on record: none is added while one
    is there; once a sitting's agenda closes (and it is published) its successor is created."""
    from service.escalation.sweep import sweep

    sweep(world.rt)
    ahead = {s["series"]: s for s in sittings(world) if s["status"] == "scheduled"}
    assert set(ahead) == {s.key for s in world.rt.directory.meeting_series}
    sweep(world.rt)
    assert len(sittings(world)) == len(ahead)  # nothing new: every series has one ahead

    closes = datetime.fromisoformat(ahead[SERIES]["agenda_closes_at"])
    world.clock.set(closes + timedelta(minutes=1))
    sweep(world.rt)
    mine = sorted((s for s in sittings(world) if s["series"] == SERIES), key=lambda s: s["number"])
    assert [s["status"] for s in mine] == ["published", "scheduled"]
    assert mine[1]["number"] == mine[0]["number"] + 1
    assert datetime.fromisoformat(mine[1]["agenda_closes_at"]) > world.rt.clock()


def test_supervision_sheets_are_numbered_by_their_office_without_gaps(world, seeded):
    """督办单编号: the issuing office's code, the year, the office's next number — so the first
    sittings of different series never issue the same number, and one office's series (the
    city's weekly meetings) share one sequence."""
    d = world.rt.directory
    assert d.sheet_prefix("county-yuanhui") == "源企督" and d.sheet_prefix("county-linying") == "临企督"
    assert {d.sheet_prefix(s.key) for s in d.meeting_series if s.tier == 4} == {"漯企督"}
    world.clock.set(at(2026, 12, 1, 11))
    s1 = seeded.s1
    decide = lambda case, due: {"case_id": case["id"], "decision": "assigned",  # noqa: E731
                                "lead_department": "natural-resources", "due": due}
    r = world.client.post(f"/v1/meetings/{s1['id']}/minutes", headers=world.h("secretary"), json={
        "decisions": [decide(seeded.land, "10 working_days"), decide(seeded.loan, "5 working_days"),
                      {"case_id": seeded.power["id"], "decision": "carried_over"}]})
    assert r.status_code == 201, r.text
    assert sorted(o.get("sheet", "") for o in r.json()["outcome"].values()) == [
        "", "源企督〔2026〕1号", "源企督〔2026〕2号"]
    # the next sitting of the series goes on from the office's last number
    power = world.case(seeded.power["id"])
    (s2,) = [s for s in sittings(world, series=SERIES) if s["id"] == power["sitting_id"]]
    world.clock.set(datetime.fromisoformat(s2["starts_at"]) + timedelta(hours=2))
    r = world.client.post(f"/v1/meetings/{s2['id']}/minutes", headers=world.h("secretary"), json={
        "decisions": [decide(seeded.power, "5 working_days")]})
    assert r.status_code == 201, r.text
    assert r.json()["outcome"][str(seeded.power["id"])]["sheet"] == "源企督〔2026〕3号"
    numbers = [sh["number"] for sid in (s1["id"], s2["id"]) for sh in world.client.get(
        f"/v1/meetings/{sid}/supervision", headers=world.h("admin")).json()["sheets"]]
    assert numbers == ["源企督〔2026〕1号", "源企督〔2026〕2号", "源企督〔2026〕3号"]
    # the database refuses a number given twice, whatever writes it
    from sqlalchemy.exc import IntegrityError

    from service.meetings.models import Assignment

    with world.rt.session() as s:
        first = s.scalars(select(Assignment).order_by(Assignment.id)).first()
        s.add(Assignment(sitting_id=s2["id"], case_id=seeded.land["id"], seq=9, matter="重复", requirement="-",
                         lead_department="fiscal", co_departments=[], due_at=first.due_at, created_at=first.created_at,
                         sheet_prefix=first.sheet_prefix, sheet_year=first.sheet_year, sheet_no=first.sheet_no))
        with pytest.raises(IntegrityError):
            s.flush()
