"""回访: every closure followed up — owed on closing by default and for a sample of confirmations,
on the officer's list, answered, reopening when the enterprise is not satisfied, and counted in the
satisfaction figures. SQLite and PostgreSQL."""

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from support import refused

from service import callbacks
from service.callbacks.models import Callback
from service.cases.service import close_unconfirmed
from service.notifications.models import OutboxMessage


def closed_by_default(world, title="土地证办不下来") -> dict:
    """A case resolved and never confirmed: closed by default, owing a call-back."""
    c = world.submit(title=title)
    world.act(c["id"], "accept", "land")
    world.act(c["id"], "resolve", "land", {"resolution": "已协调办理"})
    with world.rt.session() as s:
        assert close_unconfirmed(s, world.rt, world.clock() + timedelta(days=10)) == [c["tracking_no"]]
        s.commit()
    return world.case(c["id"])


def city_figures(world):
    """The city's row of the performance report over the weeks the test's cases live in."""
    from datetime import date

    from service.reports.measures import compute, parse_period

    with world.rt.session() as s:
        return compute(s, world.rt, parse_period(None, date(2026, 11, 1), date(2026, 12, 31), date(2026, 12, 2))).city


def owed(world, who="officer", **params) -> list[dict]:
    r = world.client.get("/v1/callbacks", params=params, headers=world.h(who))
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_a_case_closed_by_default_is_called_back_once(world):
    c = closed_by_default(world)
    assert c["status"] == "closed"
    (row,) = owed(world)
    assert (row["case_id"], row["reason"], row["state"], row["attempts"]) == (c["id"], "by_default", "pending", 0)
    assert owed(world, "other-officer") == []  # another officer's enterprises are not theirs to call
    assert world.client.get("/v1/callbacks", headers=world.h("land")).status_code == 403
    # the officer is told in the closure's own message, with the call-back's due moment
    with world.rt.session() as s:
        told = s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == c["id"],
                                                     OutboxMessage.event_type == "closed",
                                                     OutboxMessage.recipient_kind == "officer")).all()
    assert told and all(m.payload["data"]["callback_due"] == row["due_at"] for m in told)
    # a second sweep over the same moment closes nothing more, owes nothing more
    with world.rt.session() as s:
        assert close_unconfirmed(s, world.rt, world.clock() + timedelta(days=11)) == []
        assert s.scalar(select(func.count()).select_from(Callback)) == 1


def test_an_overdue_call_back_is_put_to_its_officer_once(world):
    """回访逾期: the sweep tells the officer, once, of a call-back owed past its due time; one
    answered in time is never reminded; the wake-up moment knows when it falls due."""
    from datetime import datetime

    from service.escalation.sweep import next_moment, sweep

    c = closed_by_default(world)
    answered = closed_by_default(world, title="厂区不动产权证书更名迟迟办不下来")
    world.act(answered["id"], "callback", "officer", {"reached": True, "satisfied": True, "rating": 5})
    (row,) = owed(world)
    due = datetime.fromisoformat(row["due_at"])
    before = due - timedelta(minutes=1)
    assert next_moment(world.rt, before) <= due
    assert sweep(world.rt, before).callbacks_overdue == []
    report = sweep(world.rt, due + timedelta(seconds=1))
    assert report.callbacks_overdue == [c["tracking_no"]]
    assert sweep(world.rt, due + timedelta(days=1)).callbacks_overdue == []  # once
    (event,) = [e for e in world.case(c["id"])["timeline"] if e["type"] == "callback_overdue"]
    assert event["actor"] == "system" and event["data"]["callback_due"] == row["due_at"]
    with world.rt.session() as s:
        told = s.scalars(select(OutboxMessage).where(OutboxMessage.event_id == event["id"])).all()
        assert {(m.recipient_kind, m.recipient) for m in told} == {("officer", "officer-yuanhui-1")}
        assert s.scalar(select(Callback.reminded_at).where(Callback.id == row["id"])) is not None
    assert owed(world)[0]["id"] == row["id"]  # still owed, still on the list
    # what the officer reads
    from zoneinfo import ZoneInfo

    from service.notifications.templates import render

    message = render(told[0].payload, "officer", "officer-yuanhui-1", world.rt.directory, "漯河回访测试企业",
                     ZoneInfo("Asia/Shanghai"), "https://x")
    assert "回访逾期" in message.text and "请尽快回访企业" in message.text and "回访期限" in message.text, message.text


def test_not_reached_three_times_gives_up(world):
    c = closed_by_default(world)
    for attempt in (1, 2):
        world.act(c["id"], "callback", "officer", {"reached": False, "comment": f"第{attempt}次未接通"})
        assert owed(world)[0]["attempts"] == attempt
    world.act(c["id"], "callback", "officer", {"reached": False})
    assert owed(world) == [] and owed(world, state="unreached")[0]["attempts"] == 3
    kinds = [e for e in world.case(c["id"])["timeline"] if e["type"] == "called_back"]
    assert [e["data"]["reached"] for e in kinds] == [False, False, False]
    r = world.client.post(f"/v1/cases/{c['id']}/callback", json={"reached": False}, headers=world.h("officer"))
    assert r.status_code == 409 and "no call-back pending" in r.json()["detail"]


def test_a_satisfied_call_back_is_done_and_counts_as_satisfied(world):
    c = closed_by_default(world)
    world.act(c["id"], "callback", "officer", {"reached": True, "satisfied": True, "rating": 5, "comment": "很满意"})
    assert owed(world) == [] and owed(world, state="done")[0]["satisfied"] is True
    assert world.case(c["id"])["status"] == "closed"
    city = city_figures(world)
    # the case closed by default gave no answer of its own; the call-back's answer is the one counted
    assert (city.counts["confirmations"], city.counts["satisfied"], city.rates["satisfaction_rate"]) == (1, 1, 1.0)


def test_an_unsatisfied_call_back_reopens_one_tier_up_like_an_unsatisfied_confirmation(world):
    c = closed_by_default(world)
    world.act(c["id"], "callback", "officer", {"reached": True, "satisfied": False, "rating": 2,
                                               "comment": "土地证仍未拿到"})
    case = world.case(c["id"])
    assert case["status"] == "open" and case["tier"] == 2 and case["due_at"] is not None
    assert case["closed_at"] is None and case["sitting_id"] is not None
    (e,) = [e for e in case["timeline"] if e["type"] == "reopened"]
    assert e["data"]["by"] == "callback" and e["data"]["satisfied"] is False and e["data"]["from_tier"] == 1
    with world.rt.session() as s:
        told = {m.recipient_kind for m in s.scalars(select(OutboxMessage).where(OutboxMessage.event_id == e["id"]))}
    assert {"department", "enterprise"} <= told  # the officer made the call: not told of it
    city = city_figures(world)
    assert (city.counts["confirmations"], city.counts["satisfied"], city.counts["reopened"]) == (1, 0, 1)
    assert city.rates["satisfaction_rate"] == 0.0


def test_a_sample_of_satisfied_confirmations_is_called_back(world):
    rt, before = world.rt, world.rt.settings
    try:
        for rate, owes in ((1.0, True), (0.0, False)):
            rt.settings = dataclasses.replace(before, callback_sample=rate)
            c = world.submit(title=f"抽样{rate}")
            world.act(c["id"], "accept", "land")
            world.act(c["id"], "resolve", "land", {"resolution": "已办结"})
            world.act(c["id"], "confirm", "ent", {"satisfied": True, "rating": 5})
            assert any(r["case_id"] == c["id"] for r in owed(world)) is owes
    finally:
        rt.settings = before
    # the sample is the tracking number's, not chance: the same case always in or always out
    numbers = [f"LH-2026-{n:06d}" for n in range(1, 2001)]
    picked = [n for n in numbers if callbacks.sampled(n, 0.2)]
    assert picked == [n for n in numbers if callbacks.sampled(n, 0.2)] and 330 < len(picked) < 470


@pytest.mark.parametrize("body, field", [
    ({"reached": True}, "satisfied"),
    ({"reached": False, "satisfied": True}, "satisfied"),
    ({"reached": True, "satisfied": True, "rating": 9}, "rating"),
    ({"satisfied": True}, "reached"),
])
def test_a_call_back_that_does_not_add_up_is_refused_naming_the_field(world, body, field):
    c = closed_by_default(world)
    refused(world.client.post(f"/v1/cases/{c['id']}/callback", json=body, headers=world.h("officer")), 422, field)
    assert owed(world)[0]["attempts"] == 0


def test_the_officer_sees_the_list_and_records_on_the_case_page(world):
    from test_web import account, csrf, sign_in

    c = closed_by_default(world)
    account(world, "wang", "officer", officer_id="officer-yuanhui-1")
    assert sign_in(world.client, "wang").status_code == 303
    page = world.client.get("/app/callbacks").text
    assert c["tracking_no"] in page and "逾期未确认、默认办结" in page
    case_page = world.client.get(f"/app/cases/{c['id']}").text
    assert "记录回访结果" in case_page
    r = world.client.post(f"/app/cases/{c['id']}/callback", data={"csrf": csrf(case_page), "reached": "1",
                                                                       "satisfied": "1", "comment": "满意"},
                          follow_redirects=False)
    assert r.status_code == 303, r.text[-800:]
    assert "暂无待回访" in world.client.get("/app/callbacks").text
    assert "记录回访结果" not in world.client.get(f"/app/cases/{c['id']}").text
