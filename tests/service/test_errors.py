"""Every wrong request gets a 4xx problem+json whose detail names the field and the fix."""

import pytest


def problem(r, status):
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"description": "x"}, "title: it is required"),
        ({"title": "", "description": "x"}, "title:"),
        ({"title": "t", "description": "x", "urgency": "asap"}, "urgency:"),
        ({"title": "t", "description": "x", "amount": -5}, "amount:"),
        ({"title": "t", "description": "x", "colour": "red"}, "colour: this field is not accepted; remove it"),
        ({"title": "t", "description": "x", "category": "golf"}, "category: unknown category 'golf'"),
        ({"title": "t" * 201, "description": "x"}, "title:"),
        ([1, 2], "body:"),
    ],
)
def test_case_validation_names_the_field(world, payload, field):
    body = problem(world.client.post("/v1/cases", json=payload, headers=world.h("ent")), 422)
    assert field in body["detail"]


def test_not_json(world):
    r = world.client.post("/v1/cases", content=b"{not json", headers={**world.h("ent"), "Content-Type": "application/json"})
    assert "not valid JSON" in problem(r, 422)["detail"]


def test_action_body_validation(world):
    c = world.submit()
    world.act(c["id"], "accept", "land")
    assert problem(world.client.post(f"/v1/cases/{c['id']}/resolve", json={}, headers=world.h("land")), 422)[
        "detail"] == "resolution: it is required"
    world.act(c["id"], "resolve", "land", {"resolution": "done"})
    r = world.client.post(f"/v1/cases/{c['id']}/confirm", json={"satisfied": True, "rating": 9}, headers=world.h("ent"))
    assert problem(r, 422)["detail"].startswith("rating:")
    r = world.client.post(f"/v1/cases/{c['id']}/confirm", json={"satisfied": True}, headers=world.h("ent"))
    assert problem(r, 422)["detail"].startswith("rating: a satisfied confirmation carries a rating")
    r = world.client.post(f"/v1/cases/{c['id']}/extend", json={"until": "2027-01-01T00:00:00", "reason": "x"},
                          headers=world.h("admin"))
    assert problem(r, 422)["detail"].startswith("until:")  # a deadline needs its time zone


def test_bad_headers_and_queries(world):
    c = world.submit()
    r = world.client.post(f"/v1/cases/{c['id']}/accept", json={}, headers=world.h("land", **{"If-Match": "yesterday"}))
    assert problem(r, 422)["detail"].startswith("If-Match:")
    assert problem(world.client.get("/v1/cases?cursor=zzz", headers=world.h("admin")), 422)["detail"].startswith("cursor:")
    assert problem(world.client.get("/v1/cases?status=lost", headers=world.h("admin")), 422)["detail"].startswith("status:")
    assert problem(world.client.get("/v1/cases?tier=9", headers=world.h("admin")), 422)["detail"].startswith("tier:")
    assert problem(world.client.get("/v1/cases/abc", headers=world.h("admin")), 422)["detail"].startswith("case_id:")


def test_unknown_paths_methods_and_cases(world):
    assert "no such endpoint" in problem(world.client.get("/v1/nothing", headers=world.h("admin")), 404)["detail"]
    assert problem(world.client.delete("/v1/cases", headers=world.h("admin")), 405)["detail"].startswith("method:")
    assert problem(world.client.get("/v1/cases/999", headers=world.h("admin")), 404)["detail"] == "no case 999"
    assert problem(world.client.post("/v1/cases/1/fly", json={}, headers=world.h("admin")), 404)


def test_missing_key(world):
    assert problem(world.client.get("/v1/cases"), 401)["detail"].startswith("Authorization:")


def test_body_size_limit(world):
    huge = {"title": "t", "description": "土" * 600_000}  # about 1.8 MB of UTF-8
    assert problem(world.client.post("/v1/cases", json=huge, headers=world.h("ent")), 413)["detail"].startswith("body:")

    def chunks():
        yield b'{"title": "t", "description": "'
        for _ in range(40):
            yield b"x" * 50_000
        yield b'"}'

    r = world.client.post("/v1/cases", content=chunks(), headers={**world.h("ent"), "Content-Type": "application/json"})
    assert problem(r, 413)


def test_enterprise_registration_errors(world):
    h = world.h("admin")
    base = {"name": "测试企业", "district": "yuanhui"}
    bad_check = problem(world.client.post("/v1/enterprises", json={**base, "credit_code": "91110000600037341A"},
                                          headers=h), 422)["detail"]
    assert "should be 'L'" in bad_check and "accept_invalid_check" in bad_check
    assert "not a unified social credit code" in problem(
        world.client.post("/v1/enterprises", json={**base, "credit_code": "123"}, headers=h), 422)["detail"]
    assert problem(world.client.post("/v1/enterprises", json={**base, "credit_code": "91110000600037341L",
                                                              "district": "atlantis"}, headers=h), 422)[
        "detail"].startswith("district: unknown district 'atlantis'")
    flagged = world.client.post("/v1/enterprises", json={**base, "credit_code": "91110000600037341A",
                                                         "accept_invalid_check": True}, headers=h)
    assert flagged.status_code == 201 and flagged.json()["credit_code_flagged"] is True
    ok = world.client.post("/v1/enterprises", json={**base, "credit_code": "9111 0000 6000 3734 1L"}, headers=h)
    assert ok.status_code == 201 and ok.json()["credit_code"] == "91110000600037341L"
    dup = problem(world.client.post("/v1/enterprises", json={**base, "credit_code": "91110000600037341L"},
                                    headers=h), 409)
    assert dup["enterprise_id"] == ok.json()["id"] and "already registered as enterprise" in dup["detail"]


def test_routing_reload_refuses_bad_files_and_keeps_running_rules(world, tmp_path, monkeypatch):
    import shutil

    from routing_rules import DEFAULT_RULES, load_ruleset

    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES, rules)
    # the runtime reads the copy for this test only (monkeypatch puts its own loader back)
    monkeypatch.setattr(world.rt.rules, "_loader", lambda: load_ruleset(rules, world.rt.directory.vocabulary()))
    before = world.client.get("/v1/routing/rules", headers=world.h("admin")).json()["version"]
    (rules / "99-bad.yaml").write_text("rules:\n  - {id: x, description: d, when: {category: land}, then: {lead: nobody}}\n",
                                       encoding="utf-8")
    r = world.client.post("/v1/routing/reload", headers=world.h("admin"))
    body = problem(r, 422)
    assert body["errors"][0]["line"] == 2 and "unknown department 'nobody'" in body["errors"][0]["reason"]
    assert body["running_version"] == before
    assert world.client.get("/v1/routing/rules", headers=world.h("admin")).json()["version"] == before
    (rules / "99-bad.yaml").unlink()
    (rules / "99-good.yaml").write_text("# an edit\n", encoding="utf-8")
    r = world.client.post("/v1/routing/reload", headers=world.h("admin"))
    assert r.status_code == 200 and r.json()["version"] != before and r.json()["previous_version"] == before


def test_simulate_explains(world):
    r = world.client.post("/v1/routing/simulate", json={"title": "專用變壓器報裝", "district": "linying",
                                                        "enterprise": {"whitelisted": True}}, headers=world.h("ent"))
    assert r.status_code == 200
    d = r.json()
    assert d["lead_department"] == "power-supply" and d["sla_policy"] == "key-project"
    assert [x["id"] for x in d["rules"]] == ["key-project", "power-supply"]
