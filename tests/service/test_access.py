"""Every cell of the access matrix in docs/access.md, against the running API."""

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "access.md"
COLUMNS = ["admin", "ent", "other-ent", "officer", "other-officer", "land", "finance", "tax", "secretary",
           "other-secretary", "leader"]


def matrix() -> dict[str, dict[str, str]]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| `([A-Z]+ [^`]+)`(?: \([^)]*\))? \|(.+)\|$", line)
        if m:
            cells = [c.strip() for c in m.group(2).split("|")]
            assert len(cells) == len(COLUMNS), line
            rows[m.group(1)] = dict(zip(COLUMNS, cells, strict=False))
    return rows


MATRIX = matrix()
ACTIONS = ["accept", "comment", "request-info", "supplement", "resolve", "confirm", "escalate", "extend",
           "approve-extension", "object", "reassign", "withdraw", "mark-duplicate", "feedback", "callback"]
BODIES = {
    "accept": {}, "comment": {"text": "备注"}, "request-info": {"text": "请补充材料"}, "supplement": {"text": "已补充"},
    "resolve": {"resolution": "已办结"}, "confirm": {"satisfied": True, "rating": 4}, "escalate": {"reason": "升级"},
    "approve-extension": {"approve": True}, "object": {"reason": "不属于本部门"},
    "reassign": {"lead_department": "natural-resources", "co_departments": ["financial-regulation"]},
    "withdraw": {"reason": "撤回"},
    "mark-duplicate": {"of": 1},
    "feedback": {"progress": "已协调不动产登记中心，材料已受理"},
    "callback": {"reached": True, "satisfied": True, "rating": 5, "comment": "企业表示满意"},  # the access test names a real original of E's (test_case_actions)
}
# what must happen first (as admin) so the action is allowed by status
BEFORE = {"request-info": ["accept"], "resolve": ["accept"], "supplement": ["accept", "request-info"],
          "confirm": ["accept", "resolve"], "approve-extension": ["accept", "extend"], "callback": ["accept", "resolve"]}


def test_the_document_covers_every_endpoint_and_action():
    assert len(MATRIX) == 38 + len(ACTIONS)
    for action in ACTIONS:
        assert f"POST /v1/cases/{{id}}/{action}" in MATRIX


def prepared_case(world) -> dict:
    """E's case, lead L (land), co C (finance), on the Yuanhui county meeting's sitting (tier 2)."""
    c = world.submit()
    world.act(c["id"], "reassign", "admin", BODIES["reassign"])
    return world.act(c["id"], "escalate", "admin", {"reason": "提交县区周例会"})


def extend_body(case) -> dict:
    due = datetime.fromisoformat(case["due_at"])
    return {"until": (due + timedelta(days=30)).isoformat(), "reason": "需要更多时间"}


def valid_code(first17: str) -> str:
    from stdnum.cn import uscc

    return first17 + uscc.calc_check_digit(first17)


def outcome(status_code: int) -> str:
    return "✓" if 200 <= status_code < 300 else str(status_code)


@pytest.mark.parametrize("action", ACTIONS)
def test_case_actions(world, action):
    expected = MATRIX[f"POST /v1/cases/{{id}}/{action}"]
    got = {}
    for who in COLUMNS:
        case = prepared_case(world)
        for step in BEFORE.get(action, []):
            world.act(case["id"], step, "admin", extend_body(case) if step == "extend" else BODIES[step])
        body = extend_body(case) if action == "extend" else BODIES.get(action)
        if action == "mark-duplicate":  # of E's earlier case on the same matter (land's, O's)
            body = {"of": world.submit()["id"]}
        if action == "callback":  # closed by default when nobody confirmed: a call-back is owed (回访)
            from service.cases.service import close_unconfirmed

            with world.rt.session() as s:
                close_unconfirmed(s, world.rt, world.rt.clock() + timedelta(days=30))
                s.commit()
        r = world.client.post(f"/v1/cases/{case['id']}/{action}", json=body, headers=world.h(who))
        got[who] = outcome(r.status_code)
        assert r.status_code < 500
        if r.status_code >= 400:
            assert r.headers["content-type"] == "application/problem+json"
    assert got == expected


def test_similar_cases(world):
    """Whoever may read the case, except enterprises: another firm's demand is not theirs to read."""
    case = prepared_case(world)
    got = {who: outcome(world.client.get(f"/v1/cases/{case['id']}/similar", headers=world.h(who)).status_code)
           for who in COLUMNS}
    assert got == MATRIX["GET /v1/cases/{id}/similar"]


def test_reading_cases(world):
    case = prepared_case(world)
    got_one, got_list = {}, {}
    for who in COLUMNS:
        got_one[who] = outcome(world.client.get(f"/v1/cases/{case['id']}", headers=world.h(who)).status_code)
        ids = [c["id"] for c in world.client.get("/v1/cases", headers=world.h(who)).json()["items"]]
        got_list[who] = "listed" if case["id"] in ids else "—"
    assert got_one == MATRIX["GET /v1/cases/{id}"]
    assert got_list == MATRIX["GET /v1/cases"]


def test_case_files(world, tmp_path, monkeypatch):
    """Adding a file is commenting with bytes; reading the files is reading the case."""
    from dataclasses import replace

    monkeypatch.setattr(world.rt, "settings", replace(world.rt.settings, attachments_dir=str(tmp_path)))
    case = prepared_case(world)
    first = world.client.post(f"/v1/cases/{case['id']}/files", headers=world.h("admin"),
                              files={"file": ("材料.pdf", b"%PDF-1.4 admin", "application/pdf")}).json()
    got: dict[str, dict[str, str]] = {"POST /v1/cases/{id}/files": {}, "GET /v1/cases/{id}/files": {},
                                      "GET /v1/cases/{id}/files/{file}": {}}
    for who in COLUMNS:
        r = world.client.post(f"/v1/cases/{case['id']}/files", headers=world.h(who),
                              files={"file": (f"{who}.pdf", b"%PDF-1.4 " + who.encode(), "application/pdf")})
        got["POST /v1/cases/{id}/files"][who] = outcome(r.status_code)
        listed = world.client.get(f"/v1/cases/{case['id']}/files", headers=world.h(who))
        got["GET /v1/cases/{id}/files"][who] = outcome(listed.status_code)
        one = world.client.get(first["url"], headers=world.h(who))
        got["GET /v1/cases/{id}/files/{file}"][who] = outcome(one.status_code)
        for r in (listed, one):
            assert r.status_code < 500
            if r.status_code >= 400:
                assert r.headers["content-type"] == "application/problem+json" and "%PDF" not in r.text
            else:
                assert r.status_code == 200
    for name, row in got.items():
        assert row == MATRIX[name], name


def test_enterprises_directory_routing_and_keys(world):
    e = world.enterprises["漯河测试食品有限公司"]
    got: dict[str, dict[str, str]] = {k: {} for k in MATRIX if not k.startswith("POST /v1/cases")
                                       and k not in ("GET /v1/cases", "GET /v1/cases/{id}")
                                       and "/files" not in k and "/similar" not in k
                                       and "/v1/meetings" not in k and "/v1/reports" not in k}
    codes = iter(valid_code(f"91411100MA{n:07d}") for n in range(len(COLUMNS)))
    dead = dead_notification(world)
    for who in COLUMNS:
        h = world.h(who)
        ent_body = {"credit_code": next(codes), "name": f"新企业{who}", "district": "linying"}
        calls = {
            "POST /v1/api-keys": lambda: world.client.post("/v1/api-keys", json={"role": "admin"}, headers=h),
            "GET /v1/api-keys": lambda: world.client.get("/v1/api-keys", headers=h),
            "DELETE /v1/api-keys/{id}": lambda: world.client.delete(
                f"/v1/api-keys/{world.key(f'spare-{who}', 'admin').split('_')[1]}", headers=h),
            "POST /v1/accounts": lambda: world.client.post("/v1/accounts", json={
                "username": f"user-{who}", "password": PASSWORD, "role": "admin"}, headers=h),
            "GET /v1/accounts": lambda: world.client.get("/v1/accounts", headers=h),
            "POST /v1/accounts/{id}/disable": lambda: world.client.post(
                f"/v1/accounts/{spare_account(world, f'spare-{who}-1')}/disable", headers=h),
            "POST /v1/accounts/{id}/password": lambda: world.client.post(
                f"/v1/accounts/{spare_account(world, f'spare-{who}-2')}/password", json={"password": PASSWORD},
                headers=h),
            "GET /v1/directory": lambda: world.client.get("/v1/directory", headers=h),
            "POST /v1/enterprises": lambda: world.client.post("/v1/enterprises", json=ent_body, headers=h),
            "GET /v1/enterprises/{E}": lambda: world.client.get(f"/v1/enterprises/{e}", headers=h),
            "GET /v1/enterprises": lambda: world.client.get("/v1/enterprises", headers=h),
            "PATCH /v1/enterprises/{E}": lambda: world.client.patch(f"/v1/enterprises/{e}", json={"industry": "食品"},
                                                                   headers=h),
            "GET /v1/enterprises/{E}/changes": lambda: world.client.get(f"/v1/enterprises/{e}/changes", headers=h),
            "POST /v1/enterprises/import": lambda: world.client.post(
                "/v1/enterprises/import?dry_run=true", files={"file": ("企业名单.xlsx", _one_row_sheet(), XLSX)}, headers=h),
            "POST /v1/routing/simulate": lambda: world.client.post("/v1/routing/simulate", json={"title": "电费"},
                                                                   headers=h),
            "GET /v1/routing/rules": lambda: world.client.get("/v1/routing/rules", headers=h),
            "POST /v1/routing/reload": lambda: world.client.post("/v1/routing/reload", headers=h),
            "GET /v1/notifications": lambda: world.client.get("/v1/notifications", headers=h),
            "GET /v1/callbacks": lambda: world.client.get("/v1/callbacks", headers=h),
            "POST /v1/notifications/{id}/redeliver": lambda: world.client.post(
                f"/v1/notifications/{dead}/redeliver", headers=h),
        }
        for name, call in calls.items():
            got[name][who] = outcome(call().status_code)
    for name, row in got.items():
        assert row == MATRIX[name], name


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PASSWORD = "漯河 validate 晨光 Orchard-42"


def spare_account(world, username: str) -> int:
    from service.accounts import service as accounts

    with world.rt.session() as s:
        account = accounts.create(s, world.rt.clock(), username, PASSWORD, "admin")
        s.commit()
        return account.id


def _one_row_sheet() -> bytes:
    """A sheet in the layout offices keep, one enterprise: a dry run of it changes nothing."""
    import io

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["企业名称", "统一社会信用代码", "所属县区", "行业", "重点项目级别", "白名单", "首席服务官"])
    book.active.append(["漯河矩阵测试有限公司", valid_code("91411100MA4999999"), "源汇区", "食品", "无", "否", ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def dead_notification(world) -> int:
    """A dead-lettered notification (the world's directory has no channels, so made by hand)."""
    from sqlalchemy import select

    from service.notifications.models import OutboxMessage

    case = world.submit()
    with world.rt.session() as s:
        message = s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case["id"])).first()
        message.status, message.channel = "dead", "department:natural-resources/webhook"
        s.commit()
        return message.id


def test_submitting_for_an_enterprise(world):
    e = world.enterprises["漯河测试食品有限公司"]
    got = {}
    for who in COLUMNS:
        r = world.client.post("/v1/cases", json={"title": "电费异常", "description": "电费高", "enterprise_id": e},
                              headers=world.h(who))
        got[who] = outcome(r.status_code)
    assert got == MATRIX["POST /v1/cases"]


def test_revoked_and_unknown_keys_are_401(world):
    key_id = world.key("temp", "admin").split("_")[1]
    assert world.client.get("/v1/directory", headers=world.h("temp")).status_code == 200
    assert world.client.delete(f"/v1/api-keys/{key_id}", headers=world.h("admin")).status_code == 200
    r = world.client.get("/v1/directory", headers=world.h("temp"))
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert world.client.get("/v1/directory").status_code == 401
    assert world.client.get("/v1/directory", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_keys_are_shown_once_and_stored_hashed(world):
    r = world.client.post("/v1/api-keys", json={"role": "department", "department": "fiscal"}, headers=world.h("admin"))
    assert r.status_code == 201
    key = r.json()["key"]
    listed = world.client.get("/v1/api-keys", headers=world.h("admin")).json()["items"]
    assert all("key" not in k for k in listed)
    from service.auth.models import ApiKey

    with world.rt.session() as s:
        stored = s.get(ApiKey, r.json()["id"])
        assert stored.key_hash != key and key not in stored.key_hash and len(stored.key_hash) == 64
    bad = world.client.post("/v1/api-keys", json={"role": "department"}, headers=world.h("admin"))
    assert bad.status_code == 422 and bad.json()["detail"].startswith("department:")


def test_meetings(world):
    """S's sitting (the Yuanhui county meeting) with E's case on it, after its agenda closed;
    minutes are posted first by the admin, then replayed unchanged by whoever may."""
    case = prepared_case(world)
    sid = case["sitting_id"]
    with world.rt.session() as s:
        from service.directory.models import Sitting

        closes = s.get(Sitting, sid).agenda_closes_at
    world.clock.set(closes + timedelta(hours=2))
    minutes = {"decisions": [{"case_id": case["id"], "decision": "carried_over"}]}
    rows = [k for k in MATRIX if "/v1/meetings" in k]
    got: dict[str, dict[str, str]] = {k: {} for k in rows}
    for who in COLUMNS:
        h = world.h(who)
        calls = {
            "GET /v1/meetings": lambda: world.client.get("/v1/meetings", headers=h),
            "POST /v1/meetings": lambda: world.client.post("/v1/meetings", headers=h, json={
                "series": "county-yuanhui", "starts_at": (closes + timedelta(days=3 + COLUMNS.index(who))).isoformat()}),
            "GET /v1/meetings/{id}": lambda: world.client.get(f"/v1/meetings/{sid}", headers=h),
            "GET /v1/meetings/{id}/agenda": lambda: world.client.get(f"/v1/meetings/{sid}/agenda", headers=h),
            "POST /v1/meetings/{id}/minutes": lambda: world.client.post(f"/v1/meetings/{sid}/minutes", json=minutes,
                                                                       headers=h),
            "GET /v1/meetings/{id}/minutes": lambda: world.client.get(f"/v1/meetings/{sid}/minutes", headers=h),
            "GET /v1/meetings/{id}/supervision": lambda: world.client.get(f"/v1/meetings/{sid}/supervision", headers=h),
            "POST /v1/meetings/{id}/cancel": lambda: world.client.post(
                f"/v1/meetings/{world.case(case['id'])['sitting_id']}/cancel", json={"reason": "改期"}, headers=h),
        }
        record(got, who, calls)
    for name in rows:
        assert got[name] == MATRIX[name], name


def record(got: dict[str, dict[str, str]], who: str, calls: dict) -> None:
    """Make each call as ``who`` and note its outcome under the call's row."""
    for name in got:
        r = calls[name]()
        assert r.status_code < 500, r.text
        got[name][who] = outcome(r.status_code)


def test_reports(world):
    prepared_case(world)
    rows = [k for k in MATRIX if "/v1/reports" in k]
    got: dict[str, dict[str, str]] = {k: {} for k in rows}
    for who in COLUMNS:
        h = world.h(who)
        calls = {
            "GET /v1/reports/performance": lambda: world.client.get("/v1/reports/performance", headers=h),
            "GET /v1/reports/performance?group_by=district": lambda: world.client.get(
                "/v1/reports/performance?group_by=district", headers=h),
            "GET /v1/reports/bulletin": lambda: world.client.get("/v1/reports/bulletin?period=2026-11", headers=h),
        }
        record(got, who, calls)
    for name in rows:
        assert got[name] == MATRIX[name], name
