"""The web application (issue #14), first part: accounts, signing in and out, the session's
safety (cookie flags, CSRF, another origin, CSP, throttling), and the case pages through the
same domain as the API — over HTTP here, in headless Chromium in test_web_browser.py."""

from __future__ import annotations

import io
import re

import pytest
from docx import Document
from sqlalchemy import select

from service.accounts import service as accounts
from service.accounts.models import Account, WebSession
from service.cases.models import Case

PASSWORD = "漯河 validate 晨光 Orchard-42"


def account(world, username: str, role: str, **scope) -> Account:
    with world.rt.session() as s:
        a = accounts.create(s, world.rt.clock(), username, PASSWORD, role, **scope)
        s.commit()
        return a


def sign_in(client, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password}, follow_redirects=False)


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture
def people(world):
    account(world, "ent-a", "enterprise", enterprise_id=world.enterprises["漯河测试食品有限公司"])
    account(world, "ent-b", "enterprise", enterprise_id=world.enterprises["临颍测试物流有限公司"])
    account(world, "land", "department", department="natural-resources")
    return world


def test_the_home_page_sends_a_stranger_to_sign_in(world):
    r = world.client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = world.client.get("/app/cases", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    page = world.client.get("/login")
    assert page.status_code == 200 and "登录" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'; script-src 'self'")
    assert "<script" not in page.text  # the policy allows no inline script, and none is needed


def test_signing_in_sets_a_safe_cookie_and_signing_out_ends_the_session(people):
    client = people.client
    r = sign_in(client, "ent-a")
    assert r.status_code == 303 and r.headers["location"] == "/app/cases"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP here; behind HTTPS it is (test below)
    page = client.get("/app/cases")
    assert page.status_code == 200 and "我的诉求" in page.text and "ent-a" in page.text
    token = csrf(page.text)
    assert client.post("/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
    assert client.get("/app/cases", follow_redirects=False).headers["location"] == "/login"
    with people.rt.session() as s:
        assert s.scalars(select(WebSession)).all() == []


def test_the_cookie_is_secure_behind_https(people):
    r = people.client.post("/login", data={"username": "ent-a", "password": PASSWORD},
                           headers={"X-Forwarded-Proto": "https"}, follow_redirects=False)
    assert "Secure" in r.headers["set-cookie"]


def test_a_wrong_password_an_unknown_name_and_a_disabled_account_get_the_same_answer(people):
    answers = [sign_in(people.client, "ent-a", "wrong password 123"), sign_in(people.client, "nobody"),]
    with people.rt.session() as s:
        accounts.disable(s, s.scalar(select(Account.id).where(Account.username == "land")))
        s.commit()
    answers.append(sign_in(people.client, "land"))
    assert {r.status_code for r in answers} == {401}
    assert all("用户名或密码不正确，或账号已停用" in r.text and "set-cookie" not in r.headers for r in answers)


def test_sign_in_attempts_are_throttled_per_user_name(people):
    codes = [sign_in(people.client, "ent-b", "wrong password 123").status_code for _ in range(7)]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
    assert "尝试次数过多" in sign_in(people.client, "ent-b").text  # even the right password waits
    assert sign_in(people.client, "ent-a").status_code == 303  # another name is not held up


def test_forms_without_the_sessions_token_or_from_another_origin_are_refused(people):
    client = people.client
    sign_in(client, "ent-a")
    token = csrf(client.get("/app/cases/new").text)
    body = {"title": "厂区土地证办不下来", "description": "出让金已缴清，土地证三个月未办结", "urgency": "normal",
            "form_token": "t1"}
    assert client.post("/app/cases/new", data=body).status_code == 403
    assert client.post("/app/cases/new", data={**body, "csrf": "forged"}).status_code == 403
    r = client.post("/app/cases/new", data={**body, "csrf": token}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "已过期或来自其他网站" in r.text
    with people.rt.session() as s:
        assert s.scalars(select(Case)).all() == []


def test_an_enterprise_submits_through_the_page_once_however_often_it_presses(people):
    client = people.client
    sign_in(client, "ent-a")
    page = client.get("/app/cases/new")
    token, form_token = csrf(page.text), re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    body = {"csrf": token, "form_token": form_token, "title": "厂区土地证办不下来",
            "description": "出让金已缴清，土地证三个月未办结", "category": "", "amount": "", "urgency": "normal"}
    first = client.post("/app/cases/new", data=body, follow_redirects=False)
    second = client.post("/app/cases/new", data=body, follow_redirects=False)  # the button pressed twice
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    with people.rt.session() as s:
        case = s.scalars(select(Case)).one()
    assert case.lead_department == "natural-resources"  # routed by the same rules as the API
    page = client.get(first.headers["location"])
    assert "诉求已提交" in page.text and "第1级" in page.text and 'aria-current="step"' in page.text
    assert "撤回诉求" in page.text and "受理" not in re.sub(r"待受理", "", page.text)  # its actions only


def test_a_bad_form_keeps_what_was_typed_and_names_the_field(people):
    client = people.client
    sign_in(client, "ent-a")
    token = csrf(client.get("/app/cases/new").text)
    r = client.post("/app/cases/new", data={"csrf": token, "form_token": "x", "title": "土地证", "description": "",
                                            "amount": "三百万", "urgency": "normal"})
    assert r.status_code == 422
    assert 'id="description-error"' in r.text and 'id="amount-error"' in r.text and "请填写数字金额" in r.text
    assert 'value="土地证"' in r.text and 'value="三百万"' in r.text


def test_the_department_accepts_and_resolves_and_a_stale_page_gets_a_clear_message(people):
    case = people.submit()
    client = people.client
    sign_in(client, "land")
    page = client.get(f"/app/cases/{case['id']}")
    token = csrf(page.text)
    assert 'action="/app/cases/%d/accept"' % case["id"] in page.text
    # why the rules placed it here, the evidence weighed, for the department deciding to object
    assert "分办依据" in page.text and "证据计分" in page.text and "市自然资源和规划局" in page.text
    assert client.post(f"/app/cases/{case['id']}/accept", data={"csrf": token, "version": "1"},
                       follow_redirects=False).status_code == 303
    again = client.post(f"/app/cases/{case['id']}/accept", data={"csrf": token, "version": "1"})
    assert again.status_code in (409, 412) and "刷新后再办理" in again.text
    page = client.get(f"/app/cases/{case['id']}")
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    r = client.post(f"/app/cases/{case['id']}/resolve", data={"csrf": token, "version": version,
                                                              "resolution": "土地证已发放"}, follow_redirects=False)
    assert r.status_code == 303
    assert people.case(case["id"])["status"] == "resolved"


def test_another_enterprise_cannot_open_the_case_by_its_address(people):
    case = people.submit()
    client = people.client
    sign_in(client, "ent-a")
    own = client.get(f"/app/cases/{case['id']}").text
    assert case["title"] in own and "分办依据" not in own  # the rules' workings are the handling side's
    client.post("/logout", data={"csrf": csrf(own)})
    sign_in(client, "ent-b")
    r = client.get(f"/app/cases/{case['id']}")
    assert r.status_code == 404 and "无权查看" in r.text and case["title"] not in r.text
    assert case["title"] not in client.get("/app/cases").text
    token = csrf(client.get("/app/cases").text)
    r = client.post(f"/app/cases/{case['id']}/withdraw", data={"csrf": token, "reason": "撤回"})
    assert r.status_code == 404 and people.case(case["id"])["status"] == "open"


def test_passwords_are_stored_as_argon2id_and_weak_ones_refused(world):
    a = account(world, "someone", "admin")
    assert a.password_hash.startswith("$argon2id$") and PASSWORD not in a.password_hash
    with world.rt.session() as s, pytest.raises(Exception, match="password: at least 10 characters"):
        accounts.create(s, world.rt.clock(), "short", "abc", "admin")
    with world.rt.session() as s, pytest.raises(Exception, match="too easy to guess"):
        accounts.create(s, world.rt.clock(), "weak", "password123", "admin")


def test_admins_manage_accounts_through_the_api(world):
    h = world.h("admin")
    body = {"username": "zhang.wei", "password": PASSWORD, "role": "department", "department": "natural-resources",
            "display_name": "张伟"}
    r = world.client.post("/v1/accounts", json=body, headers=h)
    assert r.status_code == 201 and r.json()["active"] is True and "password" not in r.text
    account_id = r.json()["id"]
    assert world.client.post("/v1/accounts", json=body, headers=h).status_code == 409  # the name is taken
    weak = world.client.post("/v1/accounts", json={**body, "username": "li", "password": "password123"}, headers=h)
    assert weak.status_code == 422 and "password" in weak.json()["detail"]
    unscoped = world.client.post("/v1/accounts", json={**body, "username": "wang", "department": None}, headers=h)
    assert unscoped.status_code == 422 and "department" in unscoped.json()["detail"]
    listed = world.client.get("/v1/accounts", headers=h).json()["items"]
    assert [a["username"] for a in listed] == ["zhang.wei"] and "argon2" not in str(listed)

    client = world.client
    assert sign_in(client, "zhang.wei").status_code == 303
    assert client.get("/app/cases").status_code == 200
    assert world.client.post(f"/v1/accounts/{account_id}/disable", headers=h).json()["active"] is False
    assert client.get("/app/cases", follow_redirects=False).status_code == 303  # its session ended at once
    assert sign_in(client, "zhang.wei").status_code == 401
    new = "另一个 long passphrase 湖畔 7"
    r = world.client.post(f"/v1/accounts/{account_id}/password", json={"password": new}, headers=h)
    assert r.status_code == 200 and r.json()["active"] is True
    assert sign_in(client, "zhang.wei", new).status_code == 303
    with world.rt.session() as s:
        from service.audit.models import AuditEntry

        actions = [e.action for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions[-3:] == ["accounts.create", "accounts.disable", "accounts.reset_password"]


def test_the_demo_prints_an_account_per_role_that_signs_in(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.config import Settings
    from service.runtime import Runtime

    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CLOSEDLOOP_")}, "CLOSEDLOOP_DATABASE_URL": url}
    cli = str(Path(sys.executable).with_name("closedloop"))
    assert subprocess.run([cli, "init"], env=env, capture_output=True, text=True, timeout=120).returncode == 0
    out = subprocess.run([cli, "demo"], env=env, capture_output=True, text=True, timeout=300).stdout
    people = re.findall(r"^\s+(\w+)\s+.+?\s+(demo-[\w-]+)\s+(\S+)$", out.split("demo accounts")[1], re.M)
    assert {role for role, _, _ in people} == {"admin", "enterprise", "officer", "department", "secretary", "leader"}
    with TestClient(create_app(Runtime.build(Settings(database_url=url)))) as client:
        for role, username, password in people:
            r = client.post("/login", data={"username": username, "password": password}, follow_redirects=False)
            assert r.status_code == 303, (role, r.text)
            assert client.get("/app/cases").status_code == 200


def test_a_case_is_found_by_its_tracking_number_by_who_may_see_it(people):
    case = people.submit()
    no = case["tracking_no"]
    assert people.client.get(f"/v1/cases/{no}", headers=people.h("ent")).json()["id"] == case["id"]
    assert people.client.get(f"/v1/cases/{no}", headers=people.h("other-ent")).status_code == 404
    assert people.client.get("/v1/cases/LH-2026-999999", headers=people.h("admin")).status_code == 404
    bad = people.client.get("/v1/cases/土地证", headers=people.h("admin"))
    assert bad.status_code == 422 and "case_id" in bad.json()["detail"]
    client = people.client
    sign_in(client, "ent-a")
    found = client.get("/app/cases", params={"q": no})
    assert found.status_code == 200 and f'href="/app/cases/{case["id"]}"' in found.text and f'value="{no}"' in found.text
    assert f'href="/app/cases/{case["id"]}"' not in client.get("/app/cases", params={"q": "贷款"}).text


def test_the_officer_triages_from_its_queue_with_the_rules_suggestion(people):
    account(people, "officer", "officer", officer_id="officer-yuanhui-1")
    c = people.submit(title="意见建议", description="对本地营商环境总体满意，希望继续保持。")
    placed = people.submit()
    client = people.client
    sign_in(client, "officer")
    queue = client.get("/app/cases", params={"view": "triage"}).text
    assert f'href="/app/cases/{c["id"]}"' in queue and f'href="/app/cases/{placed["id"]}"' not in queue
    page = client.get(f"/app/cases/{c['id']}").text
    assert "规则建议" in page and "结论" in page  # the engine's explanation, as a person reads it
    assert 'name="lead_department"' in page and 'name="co_departments" multiple' in page
    r = client.post(f"/app/cases/{c['id']}/reassign", follow_redirects=False, data={
        "csrf": csrf(page), "version": "1", "lead_department": "commerce", "co_departments": ["fiscal", "commerce"]})
    assert r.status_code == 303
    after = people.case(c["id"])
    assert (after["lead_department"], after["co_departments"], after["needs_triage"]) == ("commerce", ["fiscal"], False)
    assert f'href="/app/cases/{c["id"]}"' not in client.get("/app/cases", params={"view": "triage"}).text


def test_a_department_asks_for_more_time_and_the_officer_grants_it(people):
    account(people, "officer", "officer", officer_id="officer-yuanhui-1")
    case = people.submit()
    people.act(case["id"], "accept", "land")
    client = people.client
    sign_in(client, "land")
    queue = client.get("/app/cases").text  # a department's list is its queue: by deadline, time left shown
    assert "按期限" in queue and "个工作日" in queue
    page = client.get(f"/app/cases/{case['id']}").text
    assert 'type="datetime-local"' in page
    r = client.post(f"/app/cases/{case['id']}/extend", follow_redirects=False, data={
        "csrf": csrf(page), "until": "2026-12-31T18:00", "reason": "需协调省厅"})
    assert r.status_code == 303, r.text
    sign_in(client, "officer")
    page = client.get(f"/app/cases/{case['id']}").text
    r = client.post(f"/app/cases/{case['id']}/approve-extension", follow_redirects=False,
                    data={"csrf": csrf(page), "approve": "1", "reason": ""})
    assert r.status_code == 303, r.text
    assert people.case(case["id"])["due_at"].startswith("2026-12-31T10:00")  # 18:00 in Luohe, in UTC


def test_the_dashboard_shows_the_reports_figures_in_each_readers_scope(people):
    account(people, "boss", "admin")
    c = people.submit()
    people.act(c["id"], "accept", "land")
    people.act(c["id"], "resolve", "land", {"resolution": "已办结"})
    people.submit(title="中小企业贷款审批时间长", description="银行抽贷，流动资金紧张")
    client = people.client
    sign_in(client, "boss")
    page = client.get("/app/dashboard")
    assert page.status_code == 200 and "绩效看板" in page.text and "<svg" in page.text and "<script" not in page.text
    assert 'href="/app/cases?department=natural-resources"' in page.text  # a bar leads to the cases behind it
    assert "近十二个月办结率" in page.text
    listed = client.get("/app/cases", params={"department": "natural-resources"}).text
    assert f'href="/app/cases/{c["id"]}"' in listed and "贷款审批" not in listed
    sign_in(client, "land")  # a department: its own row and the city's totals
    page = client.get("/app/dashboard").text
    assert "自然资源" in page and 'href="/app/cases?department=financial-regulation"' not in page
    sign_in(client, "ent-a")  # an enterprise reads no report
    assert client.get("/app/dashboard").status_code == 404


def test_a_leader_reads_every_case_and_the_dashboard_and_changes_nothing(people):
    account(people, "mayor", "leader")
    c = people.submit()
    client = people.client
    assert sign_in(client, "mayor").status_code == 303
    assert client.get("/", follow_redirects=False).headers["location"] == "/app/dashboard"
    page = client.get("/app/dashboard")
    assert page.status_code == 200 and "当前超期：按层级" in page.text
    case_page = client.get(f"/app/cases/{c['id']}").text
    assert c["title"] in case_page and "<form method=\"post\" action=\"/app/cases/" not in case_page  # nothing offered
    r = client.post(f"/app/cases/{c['id']}/comment", data={"csrf": csrf(case_page), "text": "请尽快办理"})
    assert r.status_code == 403 and people.case(c["id"])["version"] == 1
    assert client.get("/app/cases/new").status_code == 200  # the form shows, but submitting is refused:
    r = client.post("/app/cases/new", data={"csrf": csrf(case_page), "form_token": "l1", "title": "土地证",
                                            "description": "办不下来", "urgency": "normal"})
    assert r.status_code == 403 and "无权办理" in r.text


def test_the_secretary_opens_the_agenda_downloads_it_and_records_the_minutes_once(people):
    from datetime import datetime, timedelta

    account(people, "sec", "secretary", series="county-yuanhui")
    account(people, "sec-b", "secretary", series="county-linying")
    c = people.submit()
    people.act(c["id"], "reassign", "admin", {"lead_department": "natural-resources"})
    c = people.act(c["id"], "escalate", "admin", {"reason": "提交县区周例会"})
    sitting = people.client.get(f"/v1/meetings/{c['sitting_id']}", headers=people.h("admin")).json()
    client = people.client
    sign_in(client, "sec")
    assert f'href="/app/meetings/{sitting["id"]}"' in client.get("/app/meetings").text
    page = client.get(f"/app/meetings/{sitting['id']}").text
    assert c["tracking_no"] in page and "议程截止后方可记录会议纪要" in page  # before the cut-off: no form
    docx = client.get(f"/app/meetings/{sitting['id']}/agenda.docx")
    assert docx.status_code == 200 and docx.content[:2] == b"PK" and "attachment" in docx.headers["content-disposition"]
    printed = client.get(f"/app/meetings/{sitting['id']}/agenda.html")
    assert c["tracking_no"] in printed.text and "script-src" not in printed.headers["content-security-policy"]

    people.clock.set(datetime.fromisoformat(sitting["agenda_closes_at"]) + timedelta(hours=1))
    assert client.get("/app/meetings", follow_redirects=False).status_code == 303  # days later: signed out
    sign_in(client, "sec")
    page = client.get(f"/app/meetings/{sitting['id']}").text
    form = {"csrf": csrf(page), "case_ids": f"{c['id']},", "decision-%d" % c["id"]: "assigned",
            "lead-%d" % c["id"]: "", "due-%d" % c["id"]: "", "attendees": "县长、各局局长"}
    r = client.post(f"/app/meetings/{sitting['id']}/minutes", data=form)
    assert r.status_code == 422 and "交办须填写牵头单位和完成时限" in r.text  # kept on the page, nothing applied
    form.update({"lead-%d" % c["id"]: "financial-regulation", "due-%d" % c["id"]: "2026-12-31",
                 "requirement-%d" % c["id"]: "协调银行续贷"})
    r = client.post(f"/app/meetings/{sitting['id']}/minutes", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    after = people.case(c["id"])
    assert after["lead_department"] == "financial-regulation" and after["status"] == "open"
    again = client.post(f"/app/meetings/{sitting['id']}/minutes", data=form, follow_redirects=False)
    assert again.status_code == 303 and people.case(c["id"])["version"] == after["version"]  # recorded once
    page = client.get(f"/app/meetings/{sitting['id']}").text
    assert "会议纪要已于" in page and "督办单（1 份）" in page and "协调银行续贷" in page  # the sheet, on the page
    for document in ("minutes", "supervision"):
        word = client.get(f"/app/meetings/{sitting['id']}/{document}.docx")
        assert word.status_code == 200 and word.content[:2] == b"PK", document
        text = "\n".join(p.text for p in Document(io.BytesIO(word.content)).paragraphs)
        tables = " ".join(c.text for t in Document(io.BytesIO(word.content)).tables for r in t.rows for c in r.cells)
        assert c["tracking_no"] in text + tables, document
    assert client.get(f"/app/meetings/{sitting['id']}/nonsense.docx").status_code == 404
    sign_in(client, "sec-b")  # another county's secretary
    for path in ("", "/agenda.docx", "/minutes.docx", "/supervision.docx"):
        assert client.get(f"/app/meetings/{sitting['id']}{path}").status_code == 404, path


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def attachments_dir(people, tmp_path, monkeypatch):
    from dataclasses import replace

    monkeypatch.setattr(people.rt, "settings", replace(people.rt.settings, attachments_dir=str(tmp_path / "files")))
    return tmp_path / "files"


def test_files_are_attached_checked_and_served_only_to_who_may_see_the_case(people, attachments_dir):
    client = people.client
    sign_in(client, "ent-a")
    page = client.get("/app/cases/new").text
    r = client.post("/app/cases/new", follow_redirects=False, data={
        "csrf": csrf(page), "form_token": "f1", "title": "厂区土地证办不下来", "description": "出让金已缴清，土地证未办结",
        "urgency": "normal"}, files={"file": ("出让金缴款凭证.pdf", PDF, "application/pdf")})
    assert r.status_code == 303
    case_url = r.headers["location"].split("?")[0]
    page = client.get(case_url).text
    link = re.search(r'href="(/app/cases/\d+/files/\d+)">出让金缴款凭证.pdf', page).group(1)
    got = client.get(link)
    assert got.content == PDF and got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith("attachment; filename*=UTF-8''")
    assert "sandbox" in got.headers["content-security-policy"]
    assert "添加材料：出让金缴款凭证.pdf" in page  # on the timeline
    assert len(list(attachments_dir.rglob("*"))) == 2  # one directory, one file

    # a file that is not what its name says, or not a kind accepted: refused, nothing attached
    fake = client.post(f"{case_url}/files", data={"csrf": csrf(page)},
                       files={"file": ("合同.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")})
    assert fake.status_code == 422 and "not the PDF file its name says" in fake.text
    exe = client.post(f"{case_url}/files", data={"csrf": csrf(page)}, files={"file": ("run.exe", b"MZ", "x")})
    assert exe.status_code == 422 and "not a kind accepted" in exe.text
    r = client.post(f"{case_url}/files", data={"csrf": csrf(page)}, follow_redirects=False,
                    files={"file": ("现场照片.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "image/png")})
    assert r.status_code == 303
    assert client.get(case_url).text.count(f'href="{case_url}/files/') == 2

    sign_in(client, "ent-b")  # another enterprise: neither the case nor its file
    assert client.get(link).status_code == 404
    sign_in(client, "land")  # the lead department reads it
    assert client.get(link).content == PDF


def test_a_refused_file_makes_no_case_and_an_oversized_body_is_refused_at_the_door(people, attachments_dir):
    client = people.client
    sign_in(client, "ent-a")
    page = client.get("/app/cases/new").text
    r = client.post("/app/cases/new", data={
        "csrf": csrf(page), "form_token": "f2", "title": "土地证", "description": "办不下来", "urgency": "normal"},
        files={"file": ("合同.docx", b"not a zip", "application/octet-stream")})
    assert r.status_code == 422 and 'id="file-error"' in r.text and 'value="土地证"' in r.text
    with people.rt.session() as s:
        assert s.scalars(select(Case)).all() == []
    huge = b"%PDF-" + b"0" * (people.rt.settings.max_upload_bytes + 70_000)
    r = client.post("/app/cases/new", data={"csrf": csrf(page), "form_token": "f3", "title": "x", "description": "y"},
                    files={"file": ("big.pdf", huge, "application/pdf")})
    assert r.status_code == 413
