"""Notifications delivered to real receivers on loopback (HTTP and SMTP), on SQLite and PostgreSQL.

Signatures are checked here by an independent implementation written from docs/notifications.md
and DingTalk's documentation, not by the code that makes them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
import urllib.parse
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from processes import free_port
from receivers import SECRETS, HTTPReceiver, SMTPReceiver, channel_directory
from service.app import create_app
from service.config import NotifySettings, Settings
from service.directory import SourceErrors, load_directory
from service.notifications.channels import Sender
from service.notifications.delivery import backoff, deliver
from service.notifications.models import Circuit, OutboxMessage
from service.runtime import Runtime

LAND = "/department/natural-resources"


@pytest.fixture
def secrets_env(monkeypatch):
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)


@pytest.fixture
def http():
    receiver = HTTPReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def smtp():
    receiver = SMTPReceiver().start()
    yield receiver
    receiver.stop()


class Setup:
    def __init__(self, rt: Runtime, world, sender: Sender):
        self.rt, self.world, self.sender = rt, world, sender

    def deliver(self, ids=None):
        return deliver(self.rt, self.sender, ids)

    def rows(self, **where) -> list[OutboxMessage]:
        with self.rt.session() as s:
            q = select(OutboxMessage).order_by(OutboxMessage.id)
            for k, v in where.items():
                q = q.where(getattr(OutboxMessage, k) == v)
            return list(s.scalars(q))

    def advance(self, seconds: float) -> None:
        self.rt.clock.advance(seconds=seconds)


@pytest.fixture
def notify(rt, world, http, smtp, secrets_env, tmp_path):
    """The world's database, seen by a runtime whose directory has channels on every recipient."""
    directory = channel_directory(tmp_path / "directory.yaml", http.url)
    settings = replace(rt.settings, directory=directory, notify=NotifySettings(
        timeout=0.5, max_attempts=4, backoff=10, lease=30, circuit_threshold=3, circuit_rest=120,
        smtp_url=smtp.url, smtp_from="closedloop@luohe.example.cn", public_url="https://closedloop.example.cn"))
    nrt = Runtime.build(settings, clock=rt.clock)
    world.rt = nrt
    world.client = TestClient(create_app(nrt))
    sender = Sender(settings.notify)
    yield Setup(nrt, world, sender)
    sender.close()
    nrt.engine.dispose()


def verify_webhook(received, secret: str) -> bool:
    """What a receiver does (docs/notifications.md): HMAC-SHA256 of "<timestamp>.<body>"."""
    ts = received.headers["X-Closedloop-Timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), f"{ts}.".encode() + received.body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(ts)) < 300
    return fresh and hmac.compare_digest(expected, received.headers["X-Closedloop-Signature"])


def verify_dingtalk(path: str, secret: str) -> bool:
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    ts = query["timestamp"][0]
    digest = hmac.new(secret.encode("utf-8"), f"{ts}\n{secret}".encode("utf-8"), digestmod=hashlib.sha256).digest()
    return query["sign"][0] == base64.b64encode(digest).decode()  # parse_qs has already unquoted it


def test_a_routed_case_reaches_every_channel_signed_and_readable(notify, http, smtp):
    c = notify.world.submit(title="厂房土地证办不下来", description="企业厂房的不动产权证书迟迟办不下来，影响融资")
    assert c["lead_department"] == "natural-resources"
    report = notify.deliver()
    assert report.dead == 0 and report.retried == 0

    (land,) = [r for r in http.on(LAND)]
    body = land.json()
    assert verify_webhook(land, SECRETS["CLOSEDLOOP_SECRET_TEST_HOOK"])
    assert not verify_webhook(land, "another-secret")
    assert body["type"] == "routed" and body["case"]["tracking_no"] == c["tracking_no"]
    assert body["recipient"] == {"kind": "department", "key": "natural-resources"}
    assert land.headers["X-Closedloop-Event-Id"] == str(body["event_id"])
    assert land.headers["X-Closedloop-Delivery-Id"] == str(body["delivery_id"])
    assert body["link"] == f"https://closedloop.example.cn/v1/cases/{c['id']}"
    text = body["text"]
    for expected in (c["tracking_no"], "漯河测试食品有限公司", "厂房土地证办不下来", "市自然资源和规划局", "请于"):
        assert expected in text, (expected, text)
    due_local = c["due_at"]  # the deadline in local time, as people read it
    assert "18:00" in text and "年" in text, due_local

    # the officer hears of it; the enterprise is not told of its own submission (it has the 201)
    (officer,) = http.on("/officer/officer-yuanhui-1")
    assert "请跟踪办理进度" in officer.json()["text"]
    assert not http.on("/enterprises")

    (wecom,) = http.on("/wecom")
    assert wecom.path.endswith("key=" + SECRETS["CLOSEDLOOP_WECOM_TEST_KEY"])
    assert wecom.json()["msgtype"] == "markdown" and c["tracking_no"] in wecom.json()["markdown"]["content"]
    (ding,) = http.on("/dingtalk")
    assert "access_token=" + SECRETS["CLOSEDLOOP_DINGTALK_TEST_TOKEN"] in ding.path
    assert verify_dingtalk(ding.path, SECRETS["CLOSEDLOOP_DINGTALK_TEST_SECRET"])
    assert ding.json()["msgtype"] == "markdown" and ding.json()["markdown"]["title"].startswith("【新诉求交办】")

    (rcpt, mail), = smtp.messages  # noqa: E999
    assert rcpt == ["ziranziyuan@luohe.example.cn"]
    assert mail["Subject"] == f"【新诉求交办】{c['tracking_no']}"
    assert "漯河测试食品有限公司" in mail.get_content()
    assert mail["Message-ID"].startswith("<closedloop-")

    # filed by the officer on its behalf, the enterprise hears of it (through the enterprise
    # service platform that relays to enterprises)
    notify.world.submit(who="officer", enterprise_id=c["enterprise_id"])
    notify.deliver()
    (ent,) = http.on("/enterprises")
    assert ent.json()["type"] == "submitted" and "可凭编号" in ent.json()["text"]
    assert ent.json()["recipient"] == {"kind": "enterprise", "key": str(c["enterprise_id"])}

    # the delivery log on the case's timeline
    timeline = notify.world.case(c["id"])["timeline"]
    routed = next(e for e in timeline if e["type"] == "routed")
    assert {d["channel"] for d in routed["deliveries"]} >= {
        "department:natural-resources/webhook", "department:natural-resources/wecom",
        "department:natural-resources/dingtalk", "department:natural-resources/email"}
    assert all(d["status"] == "delivered" and d["attempts"] == 1 for d in routed["deliveries"])
    # an enterprise sees only what was sent to it
    ent_view = notify.world.case(c["id"], who="ent")["timeline"]
    assert all(d["recipient_kind"] == "enterprise" for e in ent_view for d in e["deliveries"])


def test_delivery_starts_right_after_commit_with_the_new_ids(notify):
    handed: list = []
    notify.rt.notifier = handed.append
    c = notify.world.submit()
    pending = [m.id for m in notify.rows(case_id=c["id"], status="pending")]
    assert handed and sorted(i for batch in handed for i in batch) == pending
    # a refused submission commits nothing and hands over nothing
    handed.clear()
    notify.world.submit(title="", expect=422)
    assert handed == []


def test_5xx_and_timeouts_are_retried_with_backoff_under_one_delivery_id(notify, http):
    http.script(LAND, "500", "hang", "close")
    http.hang_seconds = 2  # longer than the 0.5 s timeout
    c = notify.world.submit()
    notify.deliver()
    (row,) = notify.rows(case_id=c["id"], channel="department:natural-resources/webhook", event_type="routed")
    assert (row.status, row.attempts) == ("pending", 1) and row.last_error.startswith("HTTP 500")
    first_wait = (row.next_attempt_at - notify.rt.clock()).total_seconds()
    assert 5 <= first_wait <= 10  # base 10 s, equal jitter

    errors = []
    for _ in range(2):
        notify.advance(3600)
        notify.deliver()
        (row,) = notify.rows(id=row.id)
        errors.append(row.last_error)
    assert errors[0].startswith("timeout") and errors[1].startswith("connection failed"), errors
    notify.advance(3600)
    notify.deliver()
    (row,) = notify.rows(id=row.id)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 4, None)
    got = [r for r in http.on(LAND) if r.json()["type"] == "routed"]
    # the hung request may have reached the handler too; every copy carries the same delivery id
    assert {r.headers["X-Closedloop-Delivery-Id"] for r in got} == {str(row.id)}


def test_backoff_doubles_with_jitter_and_is_capped():
    import random

    rng = random.Random(7)
    waits = [backoff(n, 2.0, 60.0, rng) for n in range(1, 9)]
    for n, w in enumerate(waits, start=1):
        full = min(60.0, 2.0 * 2 ** (n - 1))
        assert full / 2 <= w <= full
    assert len({round(backoff(3, 2.0, 60.0, rng), 6) for _ in range(20)}) > 1  # jittered


def test_429_honours_retry_after(notify, http):
    http.script(LAND, "429:900")
    c = notify.world.submit()
    notify.deliver()
    (row,) = notify.rows(case_id=c["id"], channel="department:natural-resources/webhook", event_type="routed")
    assert row.status == "pending" and row.last_error.startswith("HTTP 429")
    assert (row.next_attempt_at - notify.rt.clock()).total_seconds() >= 900
    notify.advance(899)
    notify.deliver()
    assert notify.rows(id=row.id)[0].attempts == 1  # not before the time it asked for
    notify.advance(2)
    notify.deliver()
    assert notify.rows(id=row.id)[0].status == "delivered"


def test_a_4xx_is_not_retried_and_an_admin_can_redeliver_it(notify, http):
    http.script(LAND, "400")
    http.script("/wecom", "errcode:93000")  # an invalid robot: refused for good
    c = notify.world.submit()
    notify.deliver()
    dead = {m.channel: m for m in notify.rows(case_id=c["id"], status="dead")}
    assert set(dead) == {"department:natural-resources/webhook", "department:natural-resources/wecom"}
    assert dead["department:natural-resources/webhook"].attempts == 1
    assert "not retried" in dead["department:natural-resources/wecom"].last_error

    w = notify.world
    r = w.client.get("/v1/notifications", params={"case_id": c["id"], "status": "dead"}, headers=w.h("admin"))
    assert r.status_code == 200 and {i["channel"] for i in r.json()["items"]} == set(dead)
    assert w.client.get("/v1/notifications", headers=w.h("land")).status_code == 403
    bad = w.client.get("/v1/notifications", params={"status": "lost"}, headers=w.h("admin"))
    assert bad.status_code == 422 and "status" in bad.json()["detail"]

    target = dead["department:natural-resources/webhook"].id
    handed: list = []
    w.rt.notifier = handed.append
    r = w.client.post(f"/v1/notifications/{target}/redeliver", headers=w.h("admin"))
    assert r.status_code == 202 and r.json()["status"] == "pending" and handed == [[target]]
    again = w.client.post(f"/v1/notifications/{target}/redeliver", headers=w.h("admin"))
    assert again.status_code == 409 and "already on its way" in again.json()["detail"]
    assert again.headers["content-type"].startswith("application/problem+json")
    assert w.client.post("/v1/notifications/999999/redeliver", headers=w.h("admin")).status_code == 404
    assert w.client.post(f"/v1/notifications/{target}/redeliver", headers=w.h("officer")).status_code == 403
    notify.deliver(handed[0])
    assert notify.rows(id=target)[0].status == "delivered"


def test_the_last_try_dead_letters(notify, http):
    http.default = "500"
    c = notify.world.submit()
    for _ in range(6):
        notify.deliver()
        notify.advance(7200)
    rows = notify.rows(case_id=c["id"], channel="department:natural-resources/webhook")
    assert {(m.status, m.attempts) for m in rows} == {("dead", 4)}


def test_a_dead_endpoint_opens_its_circuit_and_is_not_hammered(notify, http):
    # the officer's endpoint is down; everything else is up
    down = f"http://127.0.0.1:{free_port()}"
    path = notify.rt.settings.directory
    path.write_text(path.read_text(encoding="utf-8").replace(f"{http.url}/officer/", f"{down}/officer/"),
                    encoding="utf-8")
    nrt = Runtime.build(notify.rt.settings, clock=notify.rt.clock)
    notify.rt, notify.world.rt = nrt, nrt
    notify.world.client = TestClient(create_app(nrt))
    for i in range(6):
        notify.world.submit(title=f"土地证办不下来{i}")
    report = notify.deliver()
    officer = notify.rows(channel="officer:officer-yuanhui-1/webhook")
    assert len(officer) == 6
    tried = [m for m in officer if m.attempts]
    assert len(tried) == 3  # the threshold; the other three wait for the circuit, untried
    assert report.deferred == 3
    with nrt.session() as s:
        circuit = s.get(Circuit, "officer:officer-yuanhui-1/webhook")
    assert circuit.failures == 3 and circuit.open_until == nrt.clock() + timedelta(seconds=120)
    untried = [m for m in officer if not m.attempts]
    assert all(m.next_attempt_at >= circuit.open_until for m in untried + tried[-1:])
    # while it rests, rounds come and go without touching the endpoint
    for _ in range(3):
        notify.advance(30)
        notify.deliver()
    assert sum(m.attempts for m in notify.rows(channel="officer:officer-yuanhui-1/webhook")) == 3
    # after the rest one trial goes through; still down, the circuit opens again at once
    notify.advance(60)
    notify.deliver()
    assert sum(m.attempts for m in notify.rows(channel="officer:officer-yuanhui-1/webhook")) == 4
    # other channels were not held up
    assert len([r for r in http.on(LAND) if r.json()["type"] == "routed"]) == 6
    nrt.engine.dispose()


def test_a_receiver_down_then_up_gets_everything_and_nothing_twice_under_another_id(notify, http):
    port = http.port
    http.stop()
    for i in range(5):
        notify.world.submit(title=f"用地指标迟迟不落地{i}")
    for _ in range(3):  # down: connection refused, retries, the circuits open
        notify.deliver()
        notify.advance(600)
    assert all("email" in m.channel for m in notify.rows(status="delivered"))
    assert not notify.rows(status="dead")
    http.port = port
    http.start()
    for _ in range(10):
        notify.advance(7200)
        notify.deliver()
    rows = notify.rows()
    assert rows and all(m.status == "delivered" for m in rows if m.channel and "email" not in m.channel)
    by_delivery: dict[str, set] = {}
    for r in http.received:
        body = r.json() if r.path.split("?")[0] not in ("/wecom", "/dingtalk") else None
        if body is not None:
            by_delivery.setdefault((body["event_id"], body["recipient"]["kind"], body["recipient"]["key"],
                                    r.path), set()).add(r.headers["X-Closedloop-Delivery-Id"])
    webhooks = [m for m in rows if m.channel and m.channel.endswith("/webhook")]
    assert len(by_delivery) == len(webhooks)  # every one arrived
    assert all(len(ids) == 1 for ids in by_delivery.values())  # and never under a second id


def test_secrets_never_reach_logs_errors_or_answers(notify, http, caplog):
    caplog.set_level(logging.DEBUG)
    http.script("/wecom", "500", "close")
    http.script("/dingtalk", "errcode:310000")
    notify.world.submit()
    notify.deliver()
    notify.advance(3600)
    notify.deliver()
    w = notify.world
    answers = [w.client.get("/v1/notifications", headers=w.h("admin")).text,
               w.client.get("/v1/directory", headers=w.h("admin")).text]
    errors = " ".join(m.last_error or "" for m in notify.rows())
    assert "errcode 310000" in errors  # the failures did happen and were recorded
    for secret in SECRETS.values():
        assert secret not in caplog.text
        assert secret not in errors
        for answer in answers:
            assert secret not in answer
    assert "wecom" in answers[1] and http.url not in answers[1]  # channels by kind, not by address


def test_a_missing_secret_is_a_clear_dead_letter(notify, http, monkeypatch):
    monkeypatch.delenv("CLOSEDLOOP_SECRET_TEST_HOOK")
    c = notify.world.submit()
    notify.deliver()
    (row,) = notify.rows(case_id=c["id"], channel="department:natural-resources/webhook", event_type="routed")
    assert row.status == "dead" and "CLOSEDLOOP_SECRET_TEST_HOOK is not set" in row.last_error
    assert not http.on(LAND)


def test_the_directory_refuses_a_secret_written_into_it(tmp_path):
    path = channel_directory(tmp_path / "d.yaml", "http://127.0.0.1:9")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("${CLOSEDLOOP_SECRET_TEST_HOOK}", "plain-text-secret", 1)
                    .replace("key=${CLOSEDLOOP_WECOM_TEST_KEY}", "key=abc123"), encoding="utf-8")
    line = next(i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if "plain-text-secret" in text)
    with pytest.raises(SourceErrors) as err:
        load_directory(path)
    message = str(err.value)
    assert f"d.yaml:{line}: write the secret as a ${{ENV_VAR}}" in message  # file, line and the fix
    assert "key=${ENV_VAR}" in message
    assert "plain-text-secret" not in message and "abc123" not in message  # never echoed


@pytest.mark.parametrize("backend", ["sqlite"])  # the embedded default is SQLite
def test_embedded_serve_delivers_in_process(rt, http, secrets_env, tmp_path, backend):
    """The embedded default (no Redis): the app's own thread delivers right after the commit."""
    directory = channel_directory(tmp_path / "directory.yaml", http.url, email=False)
    settings = replace(rt.settings, directory=directory, sweep_interval=3600,
                       notify=NotifySettings(interval=3600, timeout=2))
    nrt = Runtime.build(settings)  # the real clock
    from conftest import World

    with TestClient(create_app(nrt, scheduler=True)) as client:
        w = World(nrt, client)
        w.key("admin", "admin")
        w.key("ent", "enterprise", enterprise_id=w.enterprise("漯河嵌入式测试有限公司"))
        c = w.submit()
        deadline = time.time() + 5
        while time.time() < deadline and not http.on(LAND):
            time.sleep(0.02)
        (got,) = http.on(LAND)
        assert got.json()["case"]["tracking_no"] == c["tracking_no"]
    nrt.engine.dispose()


def test_settings_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("CLOSEDLOOP_NOTIFY_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("CLOSEDLOOP_SMTP_URL", "smtp://mail.example.cn:25")
    monkeypatch.setenv("CLOSEDLOOP_PUBLIC_URL", "https://cl.example.cn/")
    n = Settings.from_env().notify
    assert (n.max_attempts, n.smtp_url, n.public_url) == (3, "smtp://mail.example.cn:25", "https://cl.example.cn")


def test_the_webhook_receiver_command_checks_signatures(tmp_path):
    """`closedloop webhook-receiver` as a user runs it: a real delivery is OK, a repeat is marked
    DUPLICATE, a forged or stale one is REFUSED."""
    import json as _json
    import os
    import subprocess

    from processes import CLOSEDLOOP
    from service.directory import Channel
    from service.notifications.templates import Message

    port = free_port()
    env = {**os.environ, "CLOSEDLOOP_WEBHOOK_SECRET": "shared-secret-1"}
    proc = subprocess.Popen([str(CLOSEDLOOP), "webhook-receiver", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert "listening" in proc.stdout.readline()
        os.environ["CLOSEDLOOP_SECRET_TEST_RECEIVER"] = "shared-secret-1"
        channel = Channel(kind="webhook", url=f"http://127.0.0.1:{port}/hook",
                          secret="${CLOSEDLOOP_SECRET_TEST_RECEIVER}")
        body = {"event_id": 7, "type": "routed", "recipient": {"kind": "department", "key": "taxation"},
                "text": "【新诉求交办】LH-2026-000007"}
        sender = Sender(NotifySettings(timeout=5))
        message = Message("t", "t", "t", "l")
        assert sender.send(channel, message, body, delivery_id=41).ok
        assert sender.send(channel, message, body, delivery_id=41).ok
        forged = sender.client.post(f"http://127.0.0.1:{port}/hook", content=_json.dumps(body).encode(),
                                    headers={"X-Closedloop-Timestamp": str(int(time.time())),
                                             "X-Closedloop-Signature": "sha256=" + "0" * 64})
        assert forged.status_code == 401
        ts = str(int(time.time()) - 3600)
        stale = sender.client.post(f"http://127.0.0.1:{port}/hook", content=b"{}", headers={
            "X-Closedloop-Timestamp": ts,
            "X-Closedloop-Signature": "sha256=" + hmac.new(b"shared-secret-1", ts.encode() + b".{}",
                                                           hashlib.sha256).hexdigest()})
        assert stale.status_code == 401
        sender.close()
    finally:
        del os.environ["CLOSEDLOOP_SECRET_TEST_RECEIVER"]
        proc.terminate()
        out = proc.communicate(timeout=10)[0]
    assert "OK delivery 41 event 7 routed → department:taxation" in out
    assert "DUPLICATE delivery 41" in out
    assert "REFUSED /hook: signature does not match" in out
    assert "refused as a possible replay" in out


@pytest.mark.parametrize("event_type,reader,data,must", [
    ("routed", ("department", "natural-resources"), {}, ["新诉求交办", "请于 2026年11月30日 18:00 前受理并办结"]),
    ("routed", ("department", "taxation"), {}, ["协办单位", "请配合市自然资源和规划局"]),
    ("escalated", ("secretary", "county-yuanhui"),
     {"sitting": {"series": "county-yuanhui", "number": 148, "starts_at": "2026-12-01T01:00:00+00:00"}},
     ["诉求升级", "第2级", "源汇区服务企业周例会第148次会议（2026年12月01日 09:00）", "请将其列入会议材料"]),
    ("warning", ("officer", "officer-yuanhui-1"), {}, ["临期提醒", "将于 2026年11月30日 18:00 到期", "请督促"]),
    ("carried_over", ("secretary", "county-yuanhui"),
     {"sitting": {"series": "county-yuanhui", "number": 149, "starts_at": "2026-12-08T01:00:00+00:00"}},
     ["结转下次会议", "结转至源汇区服务企业周例会第149次会议", "请将其列入下次会议议程"]),
    ("assigned", ("department", "natural-resources"),
     {"minutes_of": {"series": "county-yuanhui", "number": 148, "starts_at": "2026-12-01T01:00:00+00:00"}},
     ["会议交办", "经源汇区服务企业周例会第148次会议", "请按会议要求于 2026年11月30日 18:00 前办结"]),
    ("resolved", ("enterprise", "3"), {"resolution": "已办结不动产权证"},
     ["诉求已办结", "办理结果：已办结不动产权证", "请在 2026年12月07日 18:00 前确认", "逾期未确认视为满意"]),
    ("closed", ("department", "natural-resources"), {}, ["诉求已闭环", "闭环销号"]),
    ("closed", ("officer", "officer-yuanhui-1"), {"callback": "by_default", "callback_due": "2026-12-03T10:00:00+00:00"},
     ["诉求已闭环", "企业逾期未确认，请于 2026年12月03日 18:00 前回访企业"]),
    ("closed", ("officer", "officer-yuanhui-1"), {"callback": "sample", "callback_due": "2026-12-03T10:00:00+00:00"},
     ["本件抽中回访，请于 2026年12月03日 18:00 前回访企业"]),
    ("reopened", ("department", "natural-resources"), {}, ["诉求重新办理", "不满意", "请于 2026年11月30日 18:00 前重新办结"]),
])
def test_every_message_names_the_case_the_enterprise_the_tier_and_the_task(event_type, reader, data, must):
    from zoneinfo import ZoneInfo

    from service.notifications.templates import render

    directory = load_directory()
    payload = {"event_id": 9, "type": event_type, "data": data, "case": {
        "id": 5, "tracking_no": "LH-2026-000005", "title": "厂房土地证办不下来", "enterprise_id": 3, "tier": 2,
        "lead_department": "natural-resources", "due_at": "2026-11-30T10:00:00+00:00",
        "confirm_due_at": "2026-12-07T10:00:00+00:00"}}
    message = render(payload, *reader, directory, "漯河测试食品有限公司", ZoneInfo("Asia/Shanghai"), "https://x")
    text = message.text
    assert message.title.endswith("LH-2026-000005") and "https://x/v1/cases/5" in text
    tier_name = {t.number: t.name for t in directory.tiers}[2]
    assert f"企业：漯河测试食品有限公司；当前层级：第2级 {tier_name}；办理时限：2026年11月30日 18:00" in text
    for piece in must:
        assert piece in text, (piece, text)


def test_the_secretary_gets_the_agenda_digest_at_the_cut_off(notify, http):
    from service.escalation.sweep import sweep

    c = notify.world.submit()
    notify.world.act(c["id"], "escalate", "admin", {"reason": "提交县区周例会"})
    notify.deliver()
    notify.rt.clock.set(notify.rt.clock().replace(day=30, hour=9, minute=1))  # Monday 09:01, past the cut-off
    assert sweep(notify.rt).published
    notify.deliver()
    (got,) = [r for r in http.on("/secretary/county-yuanhui") if r.json()["type"] == "agenda_published"]
    body = got.json()
    assert body["title"] == "【会议议程】第1次源汇区服务企业周例会"
    assert c["tracking_no"] in body["text"] and "漯河测试食品有限公司" in body["text"]
    assert body["link"].endswith("/agenda?format=html")
    assert verify_webhook(got, SECRETS["CLOSEDLOOP_SECRET_TEST_HOOK"])
