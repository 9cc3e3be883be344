"""Submitting and handling cases over HTTP, on SQLite and PostgreSQL."""

from datetime import datetime

import pytest
from support import TZ
from sqlalchemy import func, select

from service.cases.models import CaseEvent, CaseTier
from service.notifications.models import OutboxMessage


def count(rt, model, **where):
    with rt.session() as s:
        stmt = select(func.count()).select_from(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return s.scalar(stmt)


def test_submit_routes_at_once_and_records_everything(world):
    c = world.submit(title="項(xiàng)目用地报批进度缓慢", description="土地报批材料提交已两个月，建设用地批复仍未下达。",
                     amount="3000000.50", attachments=[{"name": "批复.pdf", "size": 1024}])
    assert c["tracking_no"] == "LH-2026-000001"
    assert (c["status"], c["tier"], c["tier_key"], c["tier_name"]) == ("open", 1, "officer", "首席服务官协调")
    assert c["lead_department"] == "natural-resources" and c["needs_triage"] is False
    assert c["officer_id"] == "officer-yuanhui-1" and c["district"] == "yuanhui"
    assert c["routing"] is None  # how the rules placed it is the handling side's (cases/views.py)
    routing = world.case(c["id"], "officer")["routing"]
    assert routing["rules"][-1]["id"] == "natural-resources"
    assert "市自然资源和规划局" in routing["explanation"]
    assert routing["scores"][0]["department"] == "natural-resources" and routing["scores"][0]["margin"] > 0
    assert routing["scores"][0]["evidence"][0]["phrase"] in routing["explanation"]
    assert routing["ruleset_version"] == world.rt.rules.current.version
    # submitted Thursday 2026-11-26 10:00: three working days → Tuesday 12-01, end of the office day
    assert datetime.fromisoformat(c["due_at"]).astimezone(TZ) == datetime(2026, 12, 1, 18, 0, tzinfo=TZ)
    assert datetime.fromisoformat(c["warn_at"]).astimezone(TZ) == datetime(2026, 11, 30, 18, 0, tzinfo=TZ)
    assert c["due_provisional"] is False and c["version"] == 1
    assert c["title"] == "項(xiàng)目用地报批进度缓慢"  # kept exactly as sent
    assert c["amount"] == "3000000.50"
    detail = world.case(c["id"])
    assert [e["type"] for e in detail["timeline"]] == ["submitted", "routed"]
    assert detail["timeline"][1]["data"]["lead_department"] == "natural-resources"
    # the routed event's notifications, in the same transaction
    recipients = {(m.recipient_kind, m.recipient) for m in _outbox(world.rt, c["id"], "routed")}
    assert recipients == {("department", "natural-resources"), ("officer", "officer-yuanhui-1")}
    assert count(world.rt, CaseTier, case_id=c["id"]) == 1


def _outbox(rt, case_id, event_type):
    with rt.session() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case_id,
                                                          OutboxMessage.event_type == event_type)))


def test_tracking_numbers_follow_each_other_per_year(world):
    a, b = world.submit(), world.submit()
    assert (a["tracking_no"], b["tracking_no"]) == ("LH-2026-000001", "LH-2026-000002")
    world.clock.set(datetime(2027, 1, 4, 9, 0, tzinfo=TZ))
    assert world.submit()["tracking_no"] == "LH-2027-000001"


def test_unplaced_case_goes_to_triage_and_officer_assigns(world):
    c = world.submit(title="意见建议", description="对本地营商环境总体满意，希望继续保持。")
    assert c["needs_triage"] and c["lead_department"] is None
    assert {(m.recipient_kind, m.recipient) for m in _outbox(world.rt, c["id"], "routed")} == {
        ("officer", "officer-yuanhui-1")}
    c = world.act(c["id"], "reassign", "officer", {"lead_department": "commerce", "co_departments": ["fiscal"]})
    assert (c["lead_department"], c["co_departments"], c["needs_triage"]) == ("commerce", ["fiscal"], False)


def test_idempotent_submission(world):
    body = {"title": "电费结算异常", "description": "本月电费比上月高出一倍"}
    h = world.h("ent", **{"Idempotency-Key": "abc-1"})
    first = world.client.post("/v1/cases", json=body, headers=h)
    again = world.client.post("/v1/cases", json=body, headers=h)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == again.json()["id"] == 1
    other = world.client.post("/v1/cases", json={**body, "title": "电费异常"}, headers=h)
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["detail"]
    assert world.client.get("/v1/cases", headers=world.h("admin")).json()["items"].__len__() == 1


def test_full_happy_path_to_closed(world):
    c = world.submit()
    cid = c["id"]
    c = world.act(cid, "accept", "land")
    assert c["status"] == "in_progress" and c["accepted_at"]
    c = world.act(cid, "comment", "ent", {"text": "补充说明：已缴清出让金"})
    c = world.act(cid, "resolve", "land", {"resolution": "土地证已办结，请到不动产登记中心领取"})
    assert c["status"] == "resolved" and c["paused"] and c["due_at"] is None and c["confirm_due_at"]
    c = world.act(cid, "confirm", "ent", {"satisfied": True, "rating": 5, "comment": "很满意"})
    assert c["status"] == "closed" and c["rating"] == 5 and c["closed_at"]
    types = [e["type"] for e in world.case(cid)["timeline"]]
    assert types == ["submitted", "routed", "accepted", "commented", "resolved", "closed"]
    assert c["version"] == 5


def test_info_request_pauses_and_supplement_restores_remaining_working_time(world):
    c = world.submit()  # Thu 10:00, due Tue 12-01 18:00
    world.act(c["id"], "accept", "land")
    world.clock.set(datetime(2026, 11, 27, 12, 0, tzinfo=TZ))  # Friday noon
    c = world.act(c["id"], "request-info", "land", {"text": "请补充出让合同"})
    assert c["status"] == "waiting_enterprise" and c["due_at"] is None and c["paused"]
    # left: Fri 12:00–24:00 (12 h) + Mon (24 h) + Tue 00:00–18:00 (18 h) = 54 working hours
    world.clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=TZ))  # the enterprise answers Wednesday 09:00
    c = world.act(c["id"], "supplement", "ent", {"text": "已上传"})
    assert c["status"] == "in_progress"
    # Wed 09:00 + 54 h of working days: Wed 15 h, Thu 24 h, Fri 15 h → Friday 12-04 15:00
    assert datetime.fromisoformat(c["due_at"]).astimezone(TZ) == datetime(2026, 12, 4, 15, 0, tzinfo=TZ)


def test_unsatisfied_confirmation_reopens_one_tier_up(world):
    c = world.submit()
    world.act(c["id"], "accept", "land")
    world.act(c["id"], "resolve", "land", {"resolution": "已答复"})
    c = world.act(c["id"], "confirm", "ent", {"satisfied": False, "rating": 2, "comment": "没有解决"})
    assert (c["status"], c["tier"], c["tier_key"]) == ("open", 2, "county_meeting")
    assert c["sitting_id"] is not None and c["due_at"] is not None
    last = world.case(c["id"])["timeline"][-1]
    assert last["type"] == "reopened" and last["data"]["from_tier"] == 1
    assert last["data"]["sitting"]["series"] == "county-yuanhui"


def test_confirmation_window_closes_by_default(world):
    from service.cases.service import close_unconfirmed

    c = world.submit()
    world.act(c["id"], "accept", "land")
    c = world.act(c["id"], "resolve", "land", {"resolution": "已办结"})
    due = datetime.fromisoformat(c["confirm_due_at"])
    with world.rt.session() as s:
        assert close_unconfirmed(s, world.rt, due) == [c["tracking_no"]]
        s.commit()
    with world.rt.session() as s:  # a second run finds nothing to do
        assert close_unconfirmed(s, world.rt, due) == []
    c = world.case(c["id"])
    assert c["status"] == "closed" and c["timeline"][-1]["data"]["by_default"] is True


def test_manual_escalation_climbs_and_places_on_sittings(world):
    c = world.submit()
    seen = []
    for expected_tier, series in [(2, "county-yuanhui"), (3, None), (4, "city-factor-guarantee"), (5, "joint")]:
        c = world.act(c["id"], "escalate", "officer", {"reason": f"升级到第{expected_tier}级"})
        assert c["tier"] == expected_tier
        event = world.case(c["id"])["timeline"][-1]
        assert event["type"] == "escalated" and event["data"]["by"] == "hand"
        assert (event["data"].get("sitting") or {}).get("series") == series
        seen.append(c["due_at"])
    r = world.client.post(f"/v1/cases/{c['id']}/escalate", json={"reason": "再升级"}, headers=world.h("officer"))
    assert r.status_code == 409 and "top of the ladder" in r.json()["detail"]
    assert count(world.rt, CaseTier, case_id=c["id"]) == 5


def test_extension_asked_and_approved(world):
    c = world.submit()
    world.act(c["id"], "accept", "land")
    until = "2026-12-10T18:00:00+08:00"
    c = world.act(c["id"], "extend", "land", {"until": until, "reason": "等待省厅批复"})
    assert c["pending_extension"]["until"] == until
    world.act(c["id"], "extend", "land", {"until": until, "reason": "again"}, expect=409)
    c = world.act(c["id"], "approve-extension", "officer", {"approve": True})
    assert c["pending_extension"] is None
    assert datetime.fromisoformat(c["due_at"]) == datetime.fromisoformat(until)
    assert world.act(c["id"], "approve-extension", "officer", {}, expect=409)["detail"].startswith("there is no")


def test_extension_must_be_later_and_in_time(world):
    c = world.submit()
    r = world.act(c["id"], "extend", "land", {"until": "2026-11-27T18:00:00+08:00", "reason": "x"}, expect=422)
    assert r["detail"].startswith("until:")
    world.clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=TZ))  # past the deadline
    world.act(c["id"], "extend", "land", {"until": "2026-12-20T18:00:00+08:00", "reason": "x"}, expect=409)


def test_objection_returns_case_to_triage(world):
    c = world.submit()
    c = world.act(c["id"], "object", "land", {"reason": "不属于本部门"})
    assert c["needs_triage"] and c["lead_department"] is None and c["status"] == "open"
    event = world.case(c["id"])["timeline"][-1]
    assert event["data"]["rules"] == ["natural-resources"]  # counts against the rule
    assert event["data"]["lead_department"] == "natural-resources"


def test_withdraw(world):
    c = world.submit()
    c = world.act(c["id"], "withdraw", "ent", {"reason": "已自行解决"})
    assert c["status"] == "withdrawn" and c["due_at"] is None


def test_if_match_guards_against_lost_updates(world):
    c = world.submit()
    r = world.client.get(f"/v1/cases/{c['id']}", headers=world.h("land"))
    assert r.headers["ETag"] == '"1"'
    stale = world.client.post(f"/v1/cases/{c['id']}/accept", json={}, headers=world.h("land", **{"If-Match": '"7"'}))
    assert stale.status_code == 412 and stale.json()["version"] == 1
    ok = world.client.post(f"/v1/cases/{c['id']}/accept", json={}, headers=world.h("land", **{"If-Match": '"1"'}))
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"'


def test_listing_filters_and_pages(world):
    made = [world.submit(title=f"土地证问题{i}") for i in range(5)]
    world.submit(title="电费结算异常", description="电费高")
    world.act(made[0]["id"], "accept", "land")
    h = world.h("admin")
    page = world.client.get("/v1/cases?limit=2", headers=h).json()
    assert [c["id"] for c in page["items"]] == [6, 5] and page["next_cursor"]
    page2 = world.client.get(f"/v1/cases?limit=2&cursor={page['next_cursor']}", headers=h).json()
    assert [c["id"] for c in page2["items"]] == [4, 3]
    ids = lambda q: [c["id"] for c in world.client.get(f"/v1/cases?{q}", headers=h).json()["items"]]  # noqa: E731
    assert ids("status=in_progress") == [1]
    assert ids("department=power-supply") == [6]
    assert ids("text=土地证问题3") == [4]
    assert ids("text=土地证 问题3") == [4]  # a space typed in the words sought is no pause
    assert ids("district=linying") == []
    assert ids("tier=1") == [6, 5, 4, 3, 2, 1]
    assert ids("overdue=true") == []
    world.clock.set(datetime(2026, 12, 3, 9, 0, tzinfo=TZ))
    assert len(ids("overdue=true")) == 6


@pytest.mark.parametrize("text", ["發(fā)票", "𠀀𪚥 emoji 🏭", "نص", "\u3000全角　空格\u3000"])
def test_text_round_trips_exactly(world, text):
    """Stored as sent, but for the blanks around it (full-width ones too), which are stripped."""
    c = world.submit(title=text.strip() or "x", description=f"描述：{text}")
    again = world.case(c["id"])
    assert again["title"] == (text.strip() or "x") and again["description"] == f"描述：{text}".strip()


def test_events_are_append_only_records_of_each_change(world):
    c = world.submit()
    world.act(c["id"], "accept", "land")
    world.act(c["id"], "comment", "officer", {"text": "请尽快"})
    assert count(world.rt, CaseEvent, case_id=c["id"]) == 4
    assert len(_outbox(world.rt, c["id"], "accepted")) == 1
    # the officer's own comment is not sent back to the officer
    commented = {(m.recipient_kind, m.recipient) for m in _outbox(world.rt, c["id"], "commented")}
    assert commented == {("department", "natural-resources"), ("enterprise", str(c["enterprise_id"]))}


def test_an_update_from_a_stale_read_is_refused(world):
    """Defence in depth under the row locks: every UPDATE of a case says which version it read."""
    from sqlalchemy.orm.exc import StaleDataError

    from service.cases.models import Case

    if world.rt.engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises write transactions (BEGIN IMMEDIATE): two cannot be open at once")
    c = world.submit()
    with world.rt.session() as first, world.rt.session() as second:
        a, b = first.get(Case, c["id"]), second.get(Case, c["id"])
        a.priority, a.version = "high", a.version + 1
        first.commit()
        b.priority, b.version = "low", b.version + 1
        with pytest.raises(StaleDataError):
            second.commit()
    assert world.case(c["id"])["priority"] == "high"


@pytest.mark.parametrize("backend", ["postgresql"])
def test_every_write_path_stores_the_same_case(world, backend):
    """On PostgreSQL a case is written three ways: statement by statement (the first case of a
    year inside a transaction: with an Idempotency-Key, the year's counter does not exist yet),
    one statement inside a transaction (with an Idempotency-Key), one statement that is its own
    transaction (without). The rows must not differ."""
    from sqlalchemy import event, select

    from service.cases.models import Case, CaseEvent, CaseTier
    from service.notifications.models import OutboxMessage

    pg_rt = world.rt
    seen: list[tuple[str, str]] = []

    def listener(conn, _cursor, statement, *_):  # the statement's start, and whether it commits by itself
        seen.append((" ".join(statement.split())[:18], conn.get_execution_options().get("isolation_level")))

    def submit(key: str | None) -> dict:
        seen.clear()
        r = world.client.post("/v1/cases", json={"title": "土地证办不下来", "description": "企业土地证迟迟办不下来",
                                                 "amount": "1234.50"},
                              headers=world.h("ent", **({"Idempotency-Key": key} if key else {})))
        assert r.status_code == 201, r.text
        return r.json()

    event.listen(pg_rt.engine, "before_cursor_execute", listener)
    try:
        first = submit("k-1")
        statements = [s for s, _ in seen]
        assert "WITH n AS ( UPDATE" in statements and "INSERT INTO cases " in statements  # tried, then one by one
        assert all(mode != "AUTOCOMMIT" for _, mode in seen)
        second = submit(None)
        assert [s for s, _ in seen] == ["SELECT api_keys.id", "WITH n AS ( UPDATE"]  # key and enterprise; the case
        assert all(mode == "AUTOCOMMIT" for _, mode in seen)
        third = submit("k-3")
        assert "WITH n AS ( UPDATE" in [s for s, _ in seen] and "INSERT INTO cases " not in [s for s, _ in seen]
        assert all(mode != "AUTOCOMMIT" for _, mode in seen)
    finally:
        event.remove(pg_rt.engine, "before_cursor_execute", listener)
    made = (first, second, third)
    assert [c["tracking_no"] for c in made] == ["LH-2026-000001", "LH-2026-000002", "LH-2026-000003"]
    skip = {"id", "tracking_no"}
    with pg_rt.session() as s:
        stored = [s.get(Case, c["id"]) for c in made]
        columns = [{k: v for k, v in vars(c).items() if k not in skip and not k.startswith("_")} for c in stored]
        assert columns[0] == columns[1] == columns[2]

        def rows(model, case_id, *cols):
            return [tuple(getattr(r, c) for c in cols) for r in s.scalars(
                select(model).where(model.case_id == case_id).order_by(model.id))]

        for model, cols in ((CaseEvent, ("type", "at", "actor", "data")), (CaseTier, ("tier", "entered_at", "reason")),
                            (OutboxMessage, ("recipient_kind", "recipient", "channel", "event_type", "status",
                                             "attempts", "next_attempt_at"))):
            a, b, c = (rows(model, case.id, *cols) for case in stored)
            assert a and a == b == c, model.__name__
        for case, c in zip(stored, made):
            for m in s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id)):
                event = s.get(CaseEvent, m.event_id)
                assert event.case_id == case.id and m.payload["event_id"] == event.id
                assert m.payload["case"]["id"] == case.id and m.payload["case"]["tracking_no"] == c["tracking_no"]


@pytest.mark.parametrize("backend", ["postgresql"])
def test_the_first_case_of_a_year_without_a_transaction_creates_the_counter(world, backend):
    """Where the case's one statement is its own transaction, the first case of a year finds no
    counter: the counter is created (nothing issued), then the statement numbers the case."""
    from sqlalchemy import event

    seen: list[str] = []
    listener = lambda *a: seen.append(" ".join(a[2].split())[:18])  # noqa: E731
    event.listen(world.rt.engine, "before_cursor_execute", listener)
    try:
        c = world.submit()
    finally:
        event.remove(world.rt.engine, "before_cursor_execute", listener)
    assert seen == ["SELECT api_keys.id", "WITH n AS ( UPDATE", "INSERT INTO tracki", "WITH n AS ( UPDATE"]
    assert c["tracking_no"] == "LH-2026-000001"
    assert world.submit()["tracking_no"] == "LH-2026-000002"


def test_a_case_routed_to_a_meeting_goes_on_its_next_sitting(world):
    """A case whose rules start it at the city meeting (tier 4) is put on that series' next
    sitting when it is submitted; the sitting is created once, however many cases need it."""
    from sqlalchemy import func, select

    from service.directory.models import Sitting

    made = [world.submit(title="跨县区物流通道不畅", description=f"舞阳县到临颍县的货运公路断头，影响原料运输{i}")
            for i in range(3)]
    assert {c["tier"] for c in made} == {4}
    detail = world.case(made[0]["id"])
    routed = next(e for e in detail["timeline"] if e["type"] == "routed")
    sitting = routed["data"]["sitting"]
    assert sitting["series"].startswith("city") and sitting["number"] >= 1
    assert all(next(e for e in world.case(c["id"])["timeline"] if e["type"] == "routed")["data"]["sitting"] == sitting
               for c in made)
    with world.rt.session() as s:
        assert s.scalar(select(func.count()).select_from(Sitting).where(Sitting.series_key == sitting["series"],
                                                                        Sitting.starts_at > world.rt.clock())) == 1



PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_files_over_the_api(world, tmp_path, monkeypatch):
    """A case's files for machines: uploaded by tracking number, listed, downloaded byte for byte,
    on the timeline; a wrong file, a missing part, a JSON body and an oversized body refused."""
    from dataclasses import replace

    from support import refused

    monkeypatch.setattr(world.rt, "settings", replace(world.rt.settings, attachments_dir=str(tmp_path),
                                                      max_upload_bytes=200_000))
    case, other = world.submit(), world.submit()
    r = world.client.post(f"/v1/cases/{case['tracking_no']}/files", headers=world.h("ent"),
                          files={"file": ("出让金缴款凭证.pdf", PDF, "application/octet-stream")})
    assert r.status_code == 201, r.text
    row = r.json()
    assert (row["case_id"], row["name"], row["content_type"], row["size"]) == (
        case["id"], "出让金缴款凭证.pdf", "application/pdf", len(PDF))
    assert row["uploaded_by"].startswith("enterprise:") and row["url"] == f"/v1/cases/{case['id']}/files/{row['id']}"
    listed = world.client.get(f"/v1/cases/{case['id']}/files", headers=world.h("land")).json()["items"]
    assert [f["id"] for f in listed] == [row["id"]]
    got = world.client.get(row["url"], headers=world.h("land"))
    assert got.content == PDF and got.headers["content-type"] == "application/pdf"
    assert "attachment;" in got.headers["content-disposition"] and got.headers["x-content-type-options"] == "nosniff"
    assert any(e["type"] == "commented" and "添加材料：出让金缴款凭证.pdf" in str(e["data"])
               for e in world.case(case["id"])["timeline"])
    # a file of another case is not reachable through this one
    assert world.client.get(f"/v1/cases/{other['id']}/files/{row['id']}", headers=world.h("admin")).status_code == 404
    assert world.client.get(f"/v1/cases/{case['id']}/files/999", headers=world.h("admin")).status_code == 404

    h = world.h("ent")
    refused(world.client.post(f"/v1/cases/{case['id']}/files", headers=h,
                              files={"file": ("合同.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")}), 422, "file")
    refused(world.client.post(f"/v1/cases/{case['id']}/files", headers=h,
                              files={"file": ("run.exe", b"MZ\x90\x00", "application/octet-stream")}), 422, "file")
    refused(world.client.post(f"/v1/cases/{case['id']}/files", headers=h,
                              files={"other": ("a.pdf", PDF, "application/pdf")}), 422, "file")
    refused(world.client.post(f"/v1/cases/{case['id']}/files", headers=h, json={"name": "a.pdf"}), 422, "file")
    # over the operator's limit: named; over what the door lets through at all: 413 unread
    refused(world.client.post(f"/v1/cases/{case['id']}/files", headers=h,
                              files={"file": ("big.pdf", b"%PDF-" + b"0" * 300_000, "application/pdf")}), 422, "file")
    door = 10 * 2**20 + 70_000  # the app was made with the default 10 MB
    huge = world.client.post(f"/v1/cases/{case['id']}/files", headers=h,
                             files={"file": ("big.pdf", b"%PDF-" + b"0" * door, "application/pdf")})
    assert huge.status_code == 413 and huge.headers["content-type"] == "application/problem+json"
    assert len(world.client.get(f"/v1/cases/{case['id']}/files", headers=h).json()["items"]) == 1
    assert count(world.rt, CaseEvent, case_id=case["id"], type="commented") == 1
