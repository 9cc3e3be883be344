"""Enterprises managed, not just created (issue #17 item 8): the list, changes and deactivation,
the record of every change, and the bulk import from the sheet the offices keep."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from stdnum.cn import uscc

from support import PROBLEM, refused

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["企业名称", "统一社会信用代码", "所属县区", "行业", "重点项目级别", "白名单", "首席服务官"]


def code(n: int, prefix: str = "91411100MA4") -> str:
    """A valid unified social credit code (its check character computed), the n-th of a series."""
    first17 = f"{prefix}{n:0{17 - len(prefix)}d}"
    return first17 + uscc.calc_check_digit(first17)


def wrong_check(valid: str) -> str:
    return valid[:-1] + ("0" if valid[-1] != "0" else "1")


def sheet(rows: list[list], header: list | None = None, above: list[list] | None = None) -> bytes:
    """An .xlsx as the offices keep it: optional title rows, the Chinese header row, one enterprise a row."""
    wb = Workbook()
    ws = wb.active
    ws.title = "企业名单"
    for line in above or []:
        ws.append(line)
    ws.append(header or HEADER)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(world, data: bytes, dry_run: bool | None, who: str = "admin"):
    query = "" if dry_run is None else f"?dry_run={'true' if dry_run else 'false'}"
    return world.client.post(f"/v1/enterprises/import{query}", files={"file": ("企业名单.xlsx", data, XLSX)},
                             headers=world.h(who))


def register(world, who: str = "admin", **body) -> dict:
    r = world.client.post("/v1/enterprises", headers=world.h(who), json=body)
    assert r.status_code == 201, r.text
    return r.json()


def listing(world, query: str = "", who: str = "admin") -> dict:
    r = world.client.get(f"/v1/enterprises{query}", headers=world.h(who))
    assert r.status_code == 200, r.text
    return r.json()


def names(page: dict) -> list[str]:
    return [e["name"] for e in page["items"]]


def changes(world, enterprise_id: int, query: str = "") -> list[dict]:
    r = world.client.get(f"/v1/enterprises/{enterprise_id}/changes{query}", headers=world.h("admin"))
    assert r.status_code == 200, r.text
    return r.json()["items"]


@pytest.fixture
def firms(world):
    """Beside the world's two (Yuanhui/officer-yuanhui-1, Linying/officer-linying-1): three more."""
    world.enterprise("Shuanghui Foods 漯河双汇", key_project_level="provincial", whitelisted=True)
    world.enterprise("召陵无官企业", district="shaoling", officer=None)
    world.enterprise("源汇停业企业", active=False)
    reg = register(world, credit_code=code(7).lower(), name="漯河卫龙食品", district="yuanhui",
                   officer_id="officer-yuanhui-1", industry="food")
    world.enterprises["漯河卫龙食品"] = reg["id"]
    return world


# ---------------------------------------------------------------------------- the list
def test_list_filters_combine_and_pages_follow_on(firms):
    world = firms
    everyone = listing(world)
    assert len(everyone["items"]) == 6 and everyone["next_cursor"] is None
    assert [e["id"] for e in everyone["items"]] == sorted(world.enterprises.values())  # registration order
    assert everyone["items"][0]["active"] is True

    # pages of two: every enterprise once, and the last page says there is no more
    seen, cursor, pages = [], None, 0
    while True:
        page = listing(world, "?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        pages += 1
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and seen == [e["id"] for e in everyone["items"]]

    assert names(listing(world, "?q=shuanghui")) == ["Shuanghui Foods 漯河双汇"]  # name, any case
    assert names(listing(world, "?q=停业")) == ["源汇停业企业"]
    assert names(listing(world, "?q=91411100ma4")) == ["漯河卫龙食品"]  # the start of the code, as typed
    assert names(listing(world, "?q=9141 1100-MA4")) == ["漯河卫龙食品"]
    assert listing(world, "?q=%25")["items"] == []  # a % is a character, not a wildcard
    assert set(names(listing(world, "?district=yuanhui"))) == {
        "漯河测试食品有限公司", "Shuanghui Foods 漯河双汇", "源汇停业企业", "漯河卫龙食品"}
    assert names(listing(world, "?officer_id=officer-linying-1")) == ["临颍测试物流有限公司"]
    assert names(listing(world, "?key_project_level=provincial")) == ["Shuanghui Foods 漯河双汇"]
    assert names(listing(world, "?whitelisted=true")) == ["Shuanghui Foods 漯河双汇"]
    assert names(listing(world, "?active=false")) == ["源汇停业企业"]
    assert len(listing(world, "?active=true&district=yuanhui&whitelisted=false")["items"]) == 2

    refused(world.client.get("/v1/enterprises?district=nowhere", headers=world.h("admin")), 422, "district")
    refused(world.client.get("/v1/enterprises?officer_id=nobody", headers=world.h("admin")), 422, "officer_id")
    refused(world.client.get("/v1/enterprises?key_project_level=national", headers=world.h("admin")), 422,
            "key_project_level")
    refused(world.client.get("/v1/enterprises?q=%20%20", headers=world.h("admin")), 422, "q")
    refused(world.client.get("/v1/enterprises?limit=201", headers=world.h("admin")), 422, "limit")
    refused(world.client.get("/v1/enterprises?limit=0", headers=world.h("admin")), 422, "limit")
    for bad in ("garbage", "", "Yzk"):  # not a cursor; "c9" (a case list's cursor) is not this list's
        refused(world.client.get(f"/v1/enterprises?cursor={bad}", headers=world.h("admin")), 422, "cursor")


def test_an_officer_lists_only_its_own_and_others_are_refused(firms):
    world = firms
    mine = listing(world, who="officer")
    assert set(names(mine)) == {"漯河测试食品有限公司", "Shuanghui Foods 漯河双汇", "源汇停业企业", "漯河卫龙食品"}
    assert names(listing(world, who="other-officer")) == ["临颍测试物流有限公司"]
    assert names(listing(world, "?officer_id=officer-yuanhui-1&active=false", who="officer")) == ["源汇停业企业"]
    refused(world.client.get("/v1/enterprises?officer_id=officer-linying-1", headers=world.h("officer")), 403,
            "officer_id")
    for who in ("land", "ent", "secretary"):
        r = world.client.get("/v1/enterprises", headers=world.h(who))
        assert r.status_code == 403, r.text


def test_unknown_query_parameters_are_refused_naming_them(firms):
    world = firms
    body = refused(world.client.get("/v1/enterprises?distrct=yuanhui", headers=world.h("admin")), 422, "distrct")
    assert "district" in body["detail"]  # it names the ones it takes
    ent = world.enterprises["漯河测试食品有限公司"]
    refused(world.client.get(f"/v1/enterprises/{ent}/changes?page=2", headers=world.h("admin")), 422, "page")
    refused(world.client.patch(f"/v1/enterprises/{ent}?force=1", json={"industry": "食品"}, headers=world.h("admin")),
            422, "force")


# ---------------------------------------------------------------------------- changes
def test_an_admin_changes_anything_and_gives_an_officer(firms):
    world = firms
    loose = world.enterprises["召陵无官企业"]
    r = world.client.patch(f"/v1/enterprises/{loose}", headers=world.h("admin"), json={
        "officer_id": "officer-shaoling-1", "name": "  召陵某食品有限公司 ", "industry": "食品",
        "key_project_level": "municipal", "whitelisted": True})
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["officer_id"], got["name"], got["industry"], got["key_project_level"], got["whitelisted"]) == (
        "officer-shaoling-1", "召陵某食品有限公司", "食品", "municipal", True)
    # moved to another officer, then deactivated; the industry cleared
    r = world.client.patch(f"/v1/enterprises/{loose}", headers=world.h("admin"),
                           json={"officer_id": "officer-etdz-1", "active": False, "industry": None})
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["industry"] is None
    assert world.client.get(f"/v1/enterprises/{loose}", headers=world.h("admin")).json()["officer_id"] == \
        "officer-etdz-1"
    r = world.client.patch(f"/v1/enterprises/{loose}", headers=world.h("admin"), json={"officer_id": None})
    assert r.status_code == 200 and r.json()["officer_id"] is None

    for body, field in [({"name": "   "}, "name"), ({"name": ""}, "name"), ({"industry": " "}, "industry"),
                        ({"officer_id": ""}, "officer_id"), ({"officer_id": "nobody"}, "officer_id"),
                        ({"name": None}, "name"), ({"active": None}, "active"), ({"active": 0}, "active"),
                        ({"whitelisted": "yes"}, "whitelisted"), ({"key_project_level": "national"},
                                                                  "key_project_level"),
                        ({"credit_code": code(1)}, "credit_code"), ({"district": "linying"}, "district"),
                        ({}, "body")]:
        refused(world.client.patch(f"/v1/enterprises/{loose}", headers=world.h("admin"), json=body), 422, field)
    refused(world.client.patch("/v1/enterprises/99999", headers=world.h("admin"), json={"industry": "食品"}), 404,
            "enterprise_id")


def test_an_officer_changes_what_it_may_of_its_own(firms):
    world = firms
    ent = world.enterprises["漯河测试食品有限公司"]
    r = world.client.patch(f"/v1/enterprises/{ent}", headers=world.h("officer"), json={
        "industry": "食品加工", "key_project_level": "provincial", "whitelisted": True,
        "officer_id": "officer-yuanhui-1"})  # naming itself moves nothing
    assert r.status_code == 200, r.text
    assert (r.json()["industry"], r.json()["key_project_level"], r.json()["whitelisted"]) == (
        "食品加工", "provincial", True)
    for body, field in [({"officer_id": "officer-linying-1"}, "officer_id"), ({"officer_id": None}, "officer_id"),
                        ({"name": "改个名字"}, "name"), ({"active": False}, "active"),
                        ({"industry": "物流", "active": False}, "active")]:
        refused(world.client.patch(f"/v1/enterprises/{ent}", headers=world.h("officer"), json=body), 403, field)
    after = world.client.get(f"/v1/enterprises/{ent}", headers=world.h("admin")).json()
    assert (after["industry"], after["active"], after["officer_id"]) == ("食品加工", True, "officer-yuanhui-1")
    # another officer's enterprise is not found, as when reading it
    r = world.client.patch(f"/v1/enterprises/{ent}", headers=world.h("other-officer"), json={"industry": "物流"})
    assert r.status_code == 404, r.text
    for who in ("ent", "land", "secretary"):
        r = world.client.patch(f"/v1/enterprises/{ent}", headers=world.h(who), json={"industry": "物流"})
        assert r.status_code == 403, (who, r.text)


def test_a_deactivated_enterprise_submits_no_case(world):
    world.submit()
    r = world.client.patch(f"/v1/enterprises/{world.enterprises['漯河测试食品有限公司']}", headers=world.h("admin"),
                           json={"active": False})
    assert r.status_code == 200, r.text
    r = world.client.post("/v1/cases", json={"title": "土地证办不下来", "description": "迟迟办不下来"},
                          headers=world.h("ent"))
    refused(r, 409, "enterprise_id")


# ---------------------------------------------------------------------------- the record
def test_every_registration_and_change_is_recorded(firms):
    world = firms
    ent = world.enterprises["漯河卫龙食品"]
    [registered] = changes(world, ent)
    assert registered["action"] == "register" and registered["actor"].startswith("admin:")
    assert registered["changes"]["credit_code"] == [None, code(7)]
    assert registered["changes"]["active"] == [None, True]
    by_officer = register(world, who="officer", credit_code=code(8), name="源汇新企业", district="yuanhui")
    assert changes(world, by_officer["id"])[0]["actor"] == "officer:officer-yuanhui-1"

    world.client.patch(f"/v1/enterprises/{ent}", headers=world.h("officer"),
                       json={"whitelisted": True, "industry": "food"})  # industry as it was: not a change
    world.client.patch(f"/v1/enterprises/{ent}", headers=world.h("admin"), json={"active": False})
    world.client.patch(f"/v1/enterprises/{ent}", headers=world.h("admin"), json={"active": False})  # no change
    world.client.patch(f"/v1/enterprises/{ent}", headers=world.h("officer"), json={"name": "不许"})  # refused
    log = changes(world, ent)
    assert [c["action"] for c in log] == ["change", "change", "register"]  # newest first
    assert log[0]["changes"] == {"active": [True, False]} and log[0]["actor"].startswith("admin:")
    assert log[1]["changes"] == {"whitelisted": [False, True]} and log[1]["actor"] == "officer:officer-yuanhui-1"

    first = world.client.get(f"/v1/enterprises/{ent}/changes?limit=2", headers=world.h("admin")).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = changes(world, ent, f"?limit=2&cursor={first['next_cursor']}")
    assert [c["id"] for c in first["items"] + rest] == [c["id"] for c in log]
    refused(world.client.get(f"/v1/enterprises/{ent}/changes?cursor={listing(world, '?limit=1')['next_cursor']}",
                             headers=world.h("admin")), 422, "cursor")  # the list's cursor is not the record's

    for who in ("officer", "ent", "land"):
        assert world.client.get(f"/v1/enterprises/{ent}/changes", headers=world.h(who)).status_code == 403
    refused(world.client.get("/v1/enterprises/99999/changes", headers=world.h("admin")), 404, "enterprise_id")


# ---------------------------------------------------------------------------- the import
def test_a_dry_run_lists_every_row_and_writes_nothing(world):
    taken = register(world, credit_code=code(1), name="已登记企业", district="yuanhui")
    before = listing(world)["items"]
    data = sheet([
        ["漯河甲食品有限公司", code(2), "源汇区", "食品", "市级", "是", "王建国"],          # 2 ok
        ["漯河乙物流有限公司", wrong_check(code(3)), "linying", "物流", "", "", ""],      # 3 the check character
        ["漯河丙机械有限公司", code(4), "东城区", None, None, None, None],                 # 4 unknown district
        ["漯河甲食品有限公司（重复）", code(2).lower(), "源汇", None, None, None, None],   # 5 duplicate of row 2
        ["已登记企业", code(1), "yuanhui", None, None, None, None],                       # 6 registered already
        [None, None, None, None, None, None, None],                                       # blank: left out
        ["", "ABC", "郾城区", None, "国家级", "可能", "无名氏"],                            # 8 many at once
        ["漯河戊科技有限公司", 914111001234567890, "411102", None, "无", "否", "officer-etdz-1"],  # 9 a number
    ])
    r = upload(world, data, dry_run=True)
    assert r.status_code == 200, r.text
    answer = r.json()
    rows = {row["row"]: row for row in answer["rows"]}
    assert sorted(rows) == [2, 3, 4, 5, 6, 8, 9]
    assert rows[2] == {"row": 2, "status": "ok", "errors": [], "enterprise_id": None}
    assert rows[3]["status"] == "error" and len(rows[3]["errors"]) == 1
    assert rows[3]["errors"][0].startswith("统一社会信用代码:") and f"should be '{code(3)[-1]}'" in rows[3]["errors"][0]
    assert rows[4]["errors"] == [rows[4]["errors"][0]] and rows[4]["errors"][0].startswith("所属县区: unknown district")
    assert rows[5]["status"] == "error" and rows[5]["errors"][0].startswith("统一社会信用代码:")
    assert "row 2" in rows[5]["errors"][0]
    assert rows[6] == {"row": 6, "status": "exists", "errors": [], "enterprise_id": taken["id"]}
    assert [e.split(":")[0] for e in rows[8]["errors"]] == ["企业名称", "统一社会信用代码", "重点项目级别", "白名单",
                                                            "首席服务官"]
    assert rows[9]["errors"][0].startswith("统一社会信用代码: the cell holds a number")
    assert (answer["dry_run"], answer["created"], answer["ok"], answer["exists"], answer["errors"]) == (
        True, 0, 1, 1, 5)
    assert listing(world)["items"] == before


def test_a_sheet_with_one_wrong_row_imports_nothing(world):
    data = sheet([["漯河甲食品有限公司", code(2), "源汇区", None, None, None, None],
                  ["漯河乙物流有限公司", wrong_check(code(3)), "临颍县", None, None, None, None]])
    before = listing(world)["items"]
    body = refused(upload(world, data, dry_run=False), 422, "file")
    assert "nothing was imported" in body["detail"]
    assert [(row["row"], row["status"]) for row in body["rows"]] == [(2, "ok"), (3, "error")]
    assert (body["created"], body["failed"]) == (0, 1)
    assert body["errors"][0]["field"] == "row 3" and body["errors"][0]["message"].startswith("统一社会信用代码:")
    assert listing(world)["items"] == before


def test_a_clean_sheet_is_imported_and_recorded_and_can_be_sent_again(world):
    rows = [["漯河甲食品有限公司", code(2), "源汇区", "食品", "市级", "是", "王建国"],
            ["漯河乙物流有限公司", code(3), "linying", "物流", "省级", "否", "officer-linying-1"],
            ["漯河丙机械有限公司", code(4).translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"}), "召陵", None,
             None, None, None]]  # full-width digits, as an input method types them
    # as offices keep it: a title row above the header, a 序号 column, blanks in the headers
    data = sheet([[i + 1, *row] for i, row in enumerate(rows)], above=[["2026年重点企业名单"]],
                 header=["序号", "企业名称", "统一社会信用代码", "所属 县区", "行业", "重点项目级别", "白名单",
                         "*首席服务官"])
    r = upload(world, data, dry_run=False)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert (answer["dry_run"], answer["created"], answer["ok"], answer["exists"], answer["errors"]) == (
        False, 3, 3, 0, 0)
    assert [row["row"] for row in answer["rows"]] == [3, 4, 5]
    ids = [row["enterprise_id"] for row in answer["rows"]]
    got = [world.client.get(f"/v1/enterprises/{i}", headers=world.h("admin")).json() for i in ids]
    assert [(e["credit_code"], e["district"], e["industry"], e["key_project_level"], e["whitelisted"],
             e["officer_id"], e["active"]) for e in got] == [
        (code(2), "yuanhui", "食品", "municipal", True, "officer-yuanhui-1", True),
        (code(3), "linying", "物流", "provincial", False, "officer-linying-1", True),
        (code(4), "shaoling", None, "none", False, None, True)]
    [imported] = changes(world, ids[0])
    assert imported["action"] == "import" and imported["changes"]["name"] == [None, "漯河甲食品有限公司"]
    # the officer now serves its imported enterprise
    assert "漯河甲食品有限公司" in names(listing(world, who="officer"))

    again = upload(world, data, dry_run=False).json()
    assert (again["created"], again["exists"]) == (0, 3)
    assert [row["enterprise_id"] for row in again["rows"]] == ids


def test_what_is_no_sheet_or_too_much_of_one_is_refused(world):
    good = sheet([["漯河甲食品有限公司", code(2), "源汇区", None, None, None, None]])
    assert upload(world, good, dry_run=True, who="officer").status_code == 403
    assert upload(world, good, dry_run=True, who="land").status_code == 403
    refused(upload(world, good, dry_run=None), 422, "dry_run")
    refused(world.client.post("/v1/enterprises/import?dry_run=true", headers=world.h("admin")), 422, "file")
    refused(upload(world, b"name,code\n", dry_run=True), 422, "file")
    refused(upload(world, b"", dry_run=True), 422, "file")
    refused(upload(world, sheet([]), dry_run=True), 422, "file")  # a header, and no row
    body = refused(upload(world, sheet([["甲", code(2)]], header=["企业名称", "统一社会信用代码"]), dry_run=True),
                   422, "file")
    assert "所属县区" in body["detail"]
    refused(upload(world, sheet([["甲", code(2), "源汇区"]], header=["名称", "代码", "县区"]), dry_run=True), 422, "file")
    refused(upload(world, sheet([["甲", code(2), "源汇区", "乙"]], header=["企业名称", "统一社会信用代码", "所属县区",
                                                                    "企业名称"]), dry_run=True), 422, "file")

    many = [[f"企业{i}", code(10 + i), "源汇区", None, None, None, None] for i in range(5001)]
    data = sheet(many)
    assert len(data) < 1_000_000  # under the body limit: the row limit is what refuses it
    body = refused(upload(world, data, dry_run=True), 413, "file")
    assert "5,000" in body["detail"]
    assert upload(world, sheet(many[:5000]), dry_run=True).json()["ok"] == 5000
