"""The web application (issue #14), second part, over HTTP: an enterprise registers itself and its
officer approves or refuses; the admin's pages (accounts, keys, enterprises, directory, rules with
the try box and reload, dead letters with re-drive) — the admin's alone, each action the same
domain call as the API and recorded in the audit log."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select
from stdnum.cn import uscc

from service.accounts.models import Account, Registration
from service.audit.models import AuditEntry
from service.enterprises.models import Enterprise, EnterpriseChange
from service.notifications.models import DEAD, PENDING, OutboxMessage
from test_web import PASSWORD, account, csrf, sign_in


def code(n: int) -> str:
    body = f"91411102MA{n:07d}"
    return body + uscc.calc_check_digit(body)


def application(**changes) -> dict:
    return {"credit_code": code(1), "name": "漯河新注册食品有限公司", "district": "yuanhui", "contact": "刘经理",
            "phone": "13903950000", "username": "xinzhuce", "password": PASSWORD, **changes}


def audit_actions(world) -> list[str]:
    with world.rt.session() as s:
        return list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.fixture
def officers(world):
    account(world, "wang", "officer", officer_id="officer-yuanhui-1")
    account(world, "zhang", "officer", officer_id="officer-linying-1")
    return world


def test_an_enterprise_registers_and_its_officer_approves_it(officers):
    client = officers.client
    form = client.get("/register")
    assert form.status_code == 200 and "统一社会信用代码" in form.text and "<script" not in form.text
    assert 'href="/register"' in client.get("/login").text
    bad = client.post("/register", data=application(credit_code="91411102MA0000001X", password="short",
                                                    phone="call me"))
    assert bad.status_code == 422
    assert "统一社会信用代码不正确" in bad.text and "联系电话" in bad.text and "密码至少 10 位" in bad.text
    assert 'value="漯河新注册食品有限公司"' in bad.text  # what was typed stays
    assert 'aria-describedby="credit_code-error"' in bad.text
    done = client.post("/register", data=application())
    assert done.status_code == 201 and "王建国" in done.text  # the district's officer decides
    assert sign_in(client, "xinzhuce").status_code == 401  # nothing signs in before approval

    sign_in(client, "zhang")  # another district's officer neither sees nor decides it
    page = client.get("/app/registrations")
    assert "漯河新注册食品有限公司" not in page.text
    with officers.rt.session() as s:
        reg_id = s.scalar(select(Registration.id))
    r = client.post(f"/app/registrations/{reg_id}/approve", data={"csrf": csrf(page.text)})
    assert r.status_code == 404
    sign_in(client, "wang")
    page = client.get("/app/registrations")
    assert "漯河新注册食品有限公司" in page.text and "待审核" in page.text
    r = client.post(f"/app/registrations/{reg_id}/approve", data={"csrf": csrf(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    again = client.post(f"/app/registrations/{reg_id}/approve", data={"csrf": csrf(page.text)})
    assert again.status_code == 409 and "approved already" in again.text
    with officers.rt.session() as s:
        ent = s.scalar(select(Enterprise).where(Enterprise.credit_code == code(1)))
        assert ent.officer_id == "officer-yuanhui-1" and ent.district == "yuanhui"
        assert s.scalar(select(EnterpriseChange.actor).where(EnterpriseChange.enterprise_id == ent.id)) == \
            "officer:officer-yuanhui-1"
        acct = s.scalar(select(Account).where(Account.username == "xinzhuce"))
        assert acct.role == "enterprise" and acct.enterprise_id == ent.id and acct.display_name == "刘经理"
        assert s.get(Registration, reg_id).password_hash == ""  # moved to the account, not kept twice
    assert audit_actions(officers)[-2:] == ["registrations.apply", "registrations.approve"]
    assert sign_in(client, "xinzhuce").status_code == 303  # with the password the applicant chose
    assert "我的诉求" in client.get("/app/cases").text


def test_a_known_enterprise_applies_and_a_refusal_needs_a_reason(officers):
    client = officers.client
    with officers.rt.session() as s:
        known = Enterprise(credit_code=code(2), name="临颍已登记物流有限公司", district="linying",
                           officer_id="officer-linying-1", created_at=officers.rt.clock())
        s.add(known)
        s.commit()
        known_id = known.id
    # it says Yuanhui, but the enterprise is Linying's: its own officer decides
    assert client.post("/register", data=application(credit_code=code(2), username="linying-wl")).status_code == 201
    twice = client.post("/register", data=application(credit_code=code(2), username="linying-wl2"))
    assert twice.status_code == 409 and "已有注册申请在审核中" in twice.text
    account(officers, "taken", "leader")
    taken = client.post("/register", data=application(credit_code=code(3), username="taken"))
    assert taken.status_code == 409 and "该用户名已被使用" in taken.text
    with officers.rt.session() as s:
        reg = s.scalar(select(Registration).where(Registration.username == "linying-wl"))
        assert (reg.enterprise_id, reg.officer_id) == (known_id, "officer-linying-1")
    sign_in(client, "zhang")
    page = client.get("/app/registrations").text
    assert "该企业已登记" in page
    r = client.post(f"/app/registrations/{reg.id}/refuse", data={"csrf": csrf(page), "reason": " "})
    assert r.status_code == 422 and "请填写不予通过的理由" in r.text
    r = client.post(f"/app/registrations/{reg.id}/refuse", data={"csrf": csrf(page), "reason": "联系人不是本企业员工"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "联系人不是本企业员工" in client.get("/app/registrations").text
    assert sign_in(client, "linying-wl").status_code == 401
    # refused: the name is free again, and the enterprise may apply anew
    assert client.post("/register", data=application(credit_code=code(2), username="linying-wl")).status_code == 201
    account(officers, "dept", "department", department="natural-resources")
    sign_in(client, "dept")
    assert client.get("/app/registrations").status_code == 404


ADMIN_PAGES = ["/app/admin", "/app/admin/accounts", "/app/admin/keys", "/app/admin/enterprises",
               "/app/admin/directory", "/app/admin/rules", "/app/admin/calendar", "/app/admin/dead-letters"]


def test_the_admin_pages_are_the_admins_alone(officers):
    client = officers.client
    account(officers, "boss", "leader")
    for who in ("wang", "boss"):
        sign_in(client, who)
        for path in ADMIN_PAGES:
            assert client.get(path).status_code == 404, (who, path)
        token = csrf(client.get("/app/cases").text)
        r = client.post("/app/admin/accounts", data={"csrf": token, "username": "sneaky", "password": PASSWORD,
                                                     "role": "admin"})
        assert r.status_code == 404
    with officers.rt.session() as s:
        assert s.scalar(select(Account).where(Account.username == "sneaky")) is None
    account(officers, "root", "admin")
    sign_in(client, "root")
    for path in ADMIN_PAGES:
        page = client.get(path)
        assert page.status_code == 200 and "系统管理" in page.text, path


def test_the_admin_manages_accounts_and_keys(officers):
    client = officers.client
    account(officers, "root", "admin")
    sign_in(client, "root")
    token = csrf(client.get("/app/admin/accounts").text)
    weak = client.post("/app/admin/accounts", data={"csrf": token, "username": "land-clerk", "password": "12345678901",
                                                    "role": "department", "department": "natural-resources"})
    assert weak.status_code == 422 and "too easy to guess" in weak.text and 'value="land-clerk"' in weak.text
    r = client.post("/app/admin/accounts", data={"csrf": token, "username": "land-clerk", "password": PASSWORD,
                                                 "role": "department", "department": "natural-resources"},
                    follow_redirects=False)
    assert r.status_code == 303
    with officers.rt.session() as s:
        clerk = s.scalar(select(Account).where(Account.username == "land-clerk"))
        assert clerk.department == "natural-resources"
    r = client.post(f"/app/admin/accounts/{clerk.id}/disable", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303 and sign_in(officers.client.__class__(client.app), "land-clerk").status_code == 401
    new = "另一个 很长的 口令 Lantern-77"
    client.post(f"/app/admin/accounts/{clerk.id}/password", data={"csrf": token, "password": new})
    other = client.__class__(client.app)
    assert sign_in(other, "land-clerk", new).status_code == 303

    token = csrf(client.get("/app/admin/keys").text)
    issued = client.post("/app/admin/keys", data={"csrf": token, "role": "department", "department": "taxation",
                                                  "label": "税务局系统对接"})
    assert issued.status_code == 201
    key = issued.text.split('<code id="issued-key">')[1].split("</code>")[0]
    assert client.get("/v1/cases", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert key not in client.get("/app/admin/keys").text  # shown once
    with officers.rt.session() as s:
        from service.auth.models import ApiKey

        key_id = s.scalar(select(ApiKey.id).where(ApiKey.label == "税务局系统对接"))
    bad = client.post("/app/admin/keys", data={"csrf": token, "role": "department", "department": "nowhere"})
    assert bad.status_code == 422 and "no such department" in bad.text
    client.post(f"/app/admin/keys/{key_id}/revoke", data={"csrf": token})
    assert client.get("/v1/cases", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert audit_actions(officers)[-5:] == ["accounts.create", "accounts.disable", "accounts.reset_password",
                                            "keys.issue", "keys.revoke"]


def test_the_admin_reads_enterprises_and_the_directory_and_tries_and_reloads_the_rules(officers, tmp_path):
    from routing_rules import DEFAULT_RULES, load_ruleset

    client = officers.client
    account(officers, "root", "admin")
    sign_in(client, "root")
    found = client.get("/app/admin/enterprises", params={"q": "临颍"}).text
    assert "临颍测试物流有限公司" in found and "漯河测试食品有限公司" not in found
    directory = client.get("/app/admin/directory").text
    assert "自然资源和规划局" in directory and "王建国" in directory
    page = client.get("/app/admin/rules").text
    version = officers.rt.rules.current.version
    assert version in page
    tried = client.post("/app/admin/rules/try", data={"csrf": csrf(page), "title": "土地证办不下来",
                                                      "description": "厂房用地的不动产权证书迟迟办不下来"})
    assert tried.status_code == 200 and "结果：市自然资源和规划局" in tried.text, tried.text[-2000:]
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES, rules)
    loader = officers.rt.rules._loader
    officers.rt.rules._loader = lambda: load_ruleset(rules, officers.rt.directory.vocabulary())
    try:
        (rules / "99-bad.yaml").write_text(
            "rules:\n  - {id: x, description: d, when: {category: land}, then: {lead: nobody}}\n", encoding="utf-8")
        refused = client.post("/app/admin/rules/reload", data={"csrf": csrf(page)})
        assert refused.status_code == 422 and "99-bad.yaml 第 2 行" in refused.text and "nobody" in refused.text
        assert officers.rt.rules.current.version == version
        (rules / "99-bad.yaml").write_text("# mended\n", encoding="utf-8")
        r = client.post("/app/admin/rules/reload", data={"csrf": csrf(page)}, follow_redirects=False)
        assert r.status_code == 303 and officers.rt.rules.current.version != version
    finally:
        officers.rt.rules._loader = loader
    assert audit_actions(officers)[-2:] == ["rules.reload", "rules.reload"]


def test_the_admin_redrives_a_dead_letter(officers):
    client = officers.client
    c = officers.submit()
    with officers.rt.session() as s:
        m = OutboxMessage(case_id=c["id"], recipient_kind="department", recipient="natural-resources",
                          channel="department:natural-resources/webhook", event_type="routed", payload={},
                          status=DEAD, attempts=8, last_error="HTTP 503 from the receiver")
        s.add(m)
        s.commit()
        mid = m.id
    account(officers, "root", "admin")
    sign_in(client, "root")
    page = client.get("/app/admin/dead-letters").text
    assert "HTTP 503 from the receiver" in page and f"重新投递 {mid}" in page
    r = client.post(f"/app/admin/dead-letters/{mid}/redrive", data={"csrf": csrf(page)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("notice=redriven")
    with officers.rt.session() as s:
        m = s.get(OutboxMessage, mid)
        assert (m.status, m.attempts) == (PENDING, 0)  # sent again by the next delivery run
    assert "notifications.redeliver" in audit_actions(officers)
    again = client.post(f"/app/admin/dead-letters/{mid}/redrive", data={"csrf": csrf(page)}, follow_redirects=False)
    assert again.headers["location"].endswith("notice=gone")


def test_the_admin_imports_next_years_holiday_notice(officers, tmp_path):
    """节假日: the notice pasted, read into a table, refused with its line, confirmed: the file is
    written, a provisional deadline counted again, the audit log says so."""
    import dataclasses
    from datetime import datetime

    from support import TZ

    rt = officers.rt
    before = rt.settings
    rt.settings = dataclasses.replace(before, holidays_file=tmp_path / "holidays.yaml")
    try:
        officers.clock.set(datetime(2026, 12, 30, 10, tzinfo=TZ))
        case = officers.submit()  # guessed: due Tue 2027-01-05 (Jan 1 statutory only)
        assert case["due_provisional"] is True
        client = officers.client
        account(officers, "root", "admin")
        sign_in(client, "root")
        page = client.get("/app/admin/calendar").text
        assert "未公布" in page  # 2027 is not published yet
        notice = ("国务院办公厅关于2027年部分节假日安排的通知\n"
                  "一、元旦：1月1日（周五）至4日（周一）放假调休，共4天。1月9日（周六）上班。\n")
        bad = client.post("/app/admin/calendar", data={"csrf": csrf(page), "step": "preview",
                                                       "notice": notice.replace("共4天", "共3天")})
        assert bad.status_code == 422 and "第 2 行无法识别" in bad.text and "未写入" in bad.text
        shown = client.post("/app/admin/calendar", data={"csrf": csrf(page), "step": "preview", "notice": notice})
        assert shown.status_code == 200 and "2027-01-01..2027-01-04" in shown.text and "2027-01-09" in shown.text
        assert not (tmp_path / "holidays.yaml").exists()  # nothing written before the confirmation
        done = client.post("/app/admin/calendar", data={"csrf": csrf(page), "step": "confirm", "notice": notice})
        assert done.status_code == 200 and "1 件时限调整" in done.text, done.text[-1500:]
        assert "运营方节假日文件" in done.text
        moved = officers.case(case["id"])
        assert moved["due_provisional"] is False and moved["due_at"] != case["due_at"]
        assert audit_actions(officers)[-1] == "calendar.import"
    finally:
        rt.settings = before
        rt.reload_calendar()


def test_the_rules_page_shows_each_rules_objection_rate(officers):
    """异议率 per rule: of the cases a rule made the lead's in the last 90 days, how many the lead
    objected to (the objection names the rule)."""
    import re

    client = officers.client
    first = officers.submit()  # 土地证: the land bureau's rule
    officers.submit()
    officers.act(first["id"], "object", "land", {"reason": "不属于本部门职责"})
    rule = officers.case(first["id"])["routing"]["rules"][-1]["id"]
    account(officers, "root", "admin")
    sign_in(client, "root")
    page = client.get("/app/admin/rules").text
    row = re.search(rf"<td>{re.escape(rule)}</td>.*?</tr>", page, re.S).group(0)
    cells = re.findall(r"<td>([^<]*)</td>", row)
    assert cells[-3:] == ["2", "1", "50.0%"], cells
