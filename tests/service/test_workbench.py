"""The API a workbench needs (issue #17): the contract slips mended, one pagination style, internal
notes and what each reader sees, bulk actions, duplicates, the audit log, `make run PORT=`."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select, text

from service.audit.models import AuditEntry
from service.cases.schemas import CaseOut
from service.cases.views import INTERNAL_FIELDS
from service.notifications.models import OutboxMessage

ROOT = Path(__file__).resolve().parents[2]
PROBLEM = "application/problem+json"


# ---------------------------------------------------------------------------- 1. make run PORT
def test_make_run_stops_at_once_when_its_port_is_taken():
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        out = subprocess.run(["make", "--no-print-directory", "run", f"PORT={port}"], cwd=ROOT, capture_output=True,
                             text=True, timeout=120)
    finally:
        busy.close()
    assert out.returncode != 0 and f"port {port} is taken" in out.stdout + out.stderr
    assert "database ready" not in out.stdout  # refused before init and demo
    dry = subprocess.run(["make", "-n", "run", "PORT=8099"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "closedloop serve --port 8099" in dry.stdout


# ---------------------------------------------------------------------------- 3. blank input
def test_blank_text_is_refused_after_stripping(world):
    r = world.client.post("/v1/cases", json={"title": "   ", "description": " \n "}, headers=world.h("ent"))
    assert r.status_code == 422 and r.json()["detail"].startswith("title: must not be empty or blank")
    assert "description:" in r.json()["detail"]
    case = world.submit(title="  厂区土地证办不下来  ")
    assert case["title"] == "厂区土地证办不下来"
    r = world.client.post(f"/v1/cases/{case['id']}/comment", json={"text": "   "}, headers=world.h("land"))
    assert r.status_code == 422 and r.json()["detail"].startswith("text:")


# ---------------------------------------------------------------------------- 5. one pagination style
def test_lists_page_one_way_and_refuse_unknown_parameters(world):
    for _ in range(3):
        world.submit()
    r = world.client.get("/v1/notifications?cursor=200", headers=world.h("admin"))
    assert r.status_code == 422 and r.json()["detail"].startswith("cursor:")
    r = world.client.get("/v1/notifications?after=2", headers=world.h("admin"))
    assert r.status_code == 422 and r.json()["detail"].startswith("after: not a query parameter")
    assert "cursor" in r.json()["detail"]
    r = world.client.get("/v1/cases?stauts=open", headers=world.h("admin"))
    assert r.status_code == 422 and r.json()["errors"] == [{"field": "stauts", "message": "unknown query parameter"}]
    seen, cursor = [], None
    while True:
        page = world.client.get("/v1/notifications?limit=2" + (f"&cursor={cursor}" if cursor else ""),
                                headers=world.h("admin")).json()
        seen += [n["id"] for n in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) >= 3
    keys = world.client.get("/v1/api-keys?limit=3", headers=world.h("admin")).json()
    assert set(keys) == {"items", "next_cursor"} and len(keys["items"]) == 3 and keys["next_cursor"]
    rest = world.client.get(f"/v1/api-keys?cursor={keys['next_cursor']}", headers=world.h("admin")).json()["items"]
    assert not {k["id"] for k in rest} & {k["id"] for k in keys["items"]}


# ---------------------------------------------------------------------------- 6. contract slips
def test_contract_slips(world):
    case = world.submit()
    r = world.client.post(f"/v1/cases/{case['id']}/withdraw", headers=world.h("ent"))  # no body at all
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    r = world.client.post("/v1/cases", content=b'{"title": "x",', headers=world.h("ent", **{"Content-Type": "application/json"}))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"
    r = world.client.delete("/v1/cases", headers=world.h("admin"))
    assert r.status_code == 405 and r.json()["title"] == "Method not allowed"
    r = world.client.get("/v1/nowhere", headers=world.h("admin"))
    assert r.status_code == 404 and r.json()["title"] == "Not found"
    r = world.client.get("/v1/cases")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")


# ---------------------------------------------------------------------------- 9. internal notes
def test_internal_notes_and_routing_internals_stay_with_the_handling_side(world):
    case = world.submit()
    world.act(case["id"], "comment", "land", {"text": "内部意见：建议暂缓", "internal": True})
    world.act(case["id"], "comment", "land", {"text": "已收到，正在核实"})
    r = world.client.post(f"/v1/cases/{case['id']}/comment", json={"text": "我也要内部", "internal": True},
                          headers=world.h("ent"))
    assert r.status_code == 403 and r.json()["detail"].startswith("internal:")
    mine = world.case(case["id"], "ent")
    staff = world.case(case["id"], "officer")
    assert "内部意见" not in str(mine) and "已收到" in str(mine) and "内部意见：建议暂缓" in str(staff)
    routed = next(e for e in mine["timeline"] if e["type"] == "routed")
    assert "rules" not in routed["data"] and "ruleset_version" not in routed["data"]
    assert "rules" in next(e for e in staff["timeline"] if e["type"] == "routed")["data"]
    listed = world.client.get("/v1/cases", headers=world.h("ent")).json()["items"][0]
    assert listed["routing"] is None
    with world.rt.session() as s:
        told = list(s.scalars(select(OutboxMessage.recipient_kind).where(OutboxMessage.event_type == "noted")))
    assert told and "enterprise" not in told


def test_what_each_reader_sees_field_by_field(world):
    case = world.submit()
    for who in ("ent", "officer", "land", "admin"):
        got = world.case(case["id"], who)
        for field in CaseOut.model_fields:
            hidden = who == "ent" and field in INTERNAL_FIELDS
            assert (got[field] is None) if hidden else (field in got), (who, field)
        if who != "ent":
            assert got["routing"]["rules"], who


# ---------------------------------------------------------------------------- 10. bulk actions
def test_bulk_actions_give_each_case_its_own_result_and_event(world):
    ours = [world.submit()["id"] for _ in range(3)]
    loan = world.submit(title="中小企业贷款审批时间长", description="银行抽贷")["id"]  # the finance office's
    world.act(ours[2], "accept", "land")
    r = world.client.post("/v1/cases/bulk", json={"action": "accept", "case_ids": [*ours, loan, 2**31 - 1]},
                          headers=world.h("land"))
    assert r.status_code == 200, r.text
    results = {x["case_id"]: x for x in r.json()["results"]}
    assert [results[i]["status"] for i in ours] == [200, 200, 409]
    assert results[loan]["status"] == 404 and results[2**31 - 1]["status"] == 404
    assert r.json()["done"] == 2 and r.json()["refused"] == 3
    for i in ours[:2]:
        assert [e["type"] for e in world.case(i)["timeline"]].count("accepted") == 1
    r = world.client.post("/v1/cases/bulk", json={"action": "reassign", "case_ids": ours, "body": {}},
                          headers=world.h("officer"))
    assert r.status_code == 422 and r.json()["detail"].startswith("lead_department:")  # checked before any case
    with world.rt.session() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "cases.bulk.accept"))
    assert entry.details["done"] == 2 and entry.actor.startswith("department")


# ---------------------------------------------------------------------------- 11. duplicates
def test_a_duplicate_closes_into_the_original(world):
    original = world.submit()
    again = world.submit(title="土地证还是办不下来", description="同一个问题再次反映")
    other = world.submit("other-ent", title="土地证办不下来", description="另一家企业")
    r = world.client.post(f"/v1/cases/{again['id']}/mark-duplicate", json={"of": other["id"]}, headers=world.h("admin"))
    assert r.status_code == 422 and "共性问题" in r.json()["detail"]
    r = world.client.post(f"/v1/cases/{again['id']}/mark-duplicate", json={"of": again["id"]}, headers=world.h("land"))
    assert r.status_code == 422
    closed = world.act(again["id"], "mark-duplicate", "land", {"of": original["id"]})
    assert closed["status"] == "closed" and closed["duplicate_of"] == original["id"] and closed["due_at"] is None
    merged = [e for e in world.case(original["id"])["timeline"] if e["type"] == "duplicate_merged"]
    assert merged and merged[0]["data"]["case_id"] == again["id"]
    told = world.case(again["id"], "ent")["timeline"][-1]
    assert told["type"] == "duplicated" and any(d["recipient_kind"] == "enterprise" for d in told["deliveries"])
    r = world.client.post(f"/v1/cases/{again['id']}/mark-duplicate", json={"of": original["id"]},
                          headers=world.h("land"))
    assert r.status_code == 409  # closed already


# ---------------------------------------------------------------------------- 12. the audit log
def test_administration_is_audited_and_the_log_is_append_only(world, backend):
    issued = world.client.post("/v1/api-keys", json={"role": "department", "department": "fiscal"},
                               headers=world.h("admin")).json()
    world.client.delete(f"/v1/api-keys/{issued['id']}", headers=world.h("admin"))
    world.client.post("/v1/routing/reload", headers=world.h("admin"))
    log = world.client.get("/v1/audit", headers=world.h("admin")).json()["items"]
    assert [e["action"] for e in log][:3] == ["rules.reload", "keys.revoke", "keys.issue"]
    assert log[2]["target"] == issued["id"] and log[2]["actor"].startswith("admin") and log[2]["source"]
    assert world.client.get("/v1/audit?action=keys.", headers=world.h("admin")).json()["items"][0]["action"] == "keys.revoke"
    csv_text = world.client.get("/v1/audit?format=csv", headers=world.h("admin")).text
    assert "keys.issue" in csv_text and "操作人" in csv_text
    assert world.client.get("/v1/audit", headers=world.h("officer")).status_code == 403
    if backend == "postgresql":
        with pytest.raises(Exception, match="append-only"):
            with world.rt.engine.begin() as conn:
                conn.execute(text("UPDATE audit_log SET actor = 'someone else'"))
        with pytest.raises(Exception, match="append-only"):
            with world.rt.engine.begin() as conn:
                conn.execute(text("DELETE FROM audit_log"))


# ---------------------------------------------------------------------------- 4. search
def test_search_normalises_both_sides_and_filters(world):
    power = world.submit(title="专用变压器报装", description="新厂区需要报装一台１２５０千伏安专用变压器")
    land = world.submit(title="厂区土地证办不下来", description="出让金已缴清")
    other = world.submit("other-ent", title="變壓器增容", description="临颍的企业")
    ids = lambda q, who="admin": [c["id"] for c in world.client.get(f"/v1/cases?{q}", headers=world.h(who)).json()["items"]]  # noqa: E731
    assert ids("text=變壓器") == [other["id"], power["id"]]
    assert ids("text=变压器") == [other["id"], power["id"]]
    assert ids("text=1250千伏安") == [power["id"]]  # full-width digits in the text
    assert ids("text=土 地") == [land["id"]]
    assert ids(f"text={power['tracking_no'].lower()}") == [power["id"]]
    assert ids(f"enterprise_id={world.enterprises['临颍测试物流有限公司']}") == [other["id"]]
    assert ids("text=变压器", "ent") == [power["id"]]  # the reader's scope still applies
    assert ids("from=2026-11-26&to=2026-11-26") == [other["id"], land["id"], power["id"]]
    assert ids("from=2026-11-27") == []
    theme = world.case(power["id"])["theme"]
    assert power["id"] in ids(f"theme={theme}")
    assert ids("theme=no-such-theme") == [] and ids("priority=urgent") == [] and ids("category=energy") == []


def test_times_in_error_details_are_the_citys(world):
    case = world.submit()
    world.act(case["id"], "accept", "land")
    r = world.client.post(f"/v1/cases/{case['id']}/extend", headers=world.h("land"),
                          json={"until": "2026-11-27T09:00:00+08:00", "reason": "需要时间"})
    assert r.status_code == 422 and "2026-12-01T18:00+08:00" in r.json()["detail"], r.text


def test_sittings_page_like_every_list(world):
    from datetime import timedelta

    for day in range(1, 8):
        starts = (world.clock() + timedelta(days=day * 3)).isoformat()
        r = world.client.post("/v1/meetings", json={"series": "county-yuanhui", "starts_at": starts},
                              headers=world.h("admin"))
        assert r.status_code == 201, r.text
    first = world.client.get("/v1/meetings?limit=5", headers=world.h("admin")).json()
    assert len(first["items"]) == 5 and first["next_cursor"]
    second = world.client.get(f"/v1/meetings?limit=5&cursor={first['next_cursor']}", headers=world.h("admin")).json()
    assert not {s["id"] for s in second["items"]} & {s["id"] for s in first["items"]}
    assert second["items"][0]["starts_at"] >= first["items"][-1]["starts_at"]
