"""The deadline sweep with the clock passed in, on SQLite and PostgreSQL."""

from datetime import datetime, timedelta

from support import TZ

from service.escalation.sweep import next_moment, next_wake, preview, sweep


def at(y, m, d, h=10, mi=0, s=0):
    return datetime(y, m, d, h, mi, s, tzinfo=TZ)


def events(world, cid, kind):
    return [e for e in world.case(cid)["timeline"] if e["type"] == kind]


def test_a_passed_deadline_escalates_once_and_says_how_late(world):
    c = world.submit()  # Thu 11-26 10:00, due Tue 12-01 18:00
    assert sweep(world.rt, at(2026, 12, 1, 17, 59)).counts()["escalated"] == 0
    report = sweep(world.rt, at(2026, 12, 1, 18, 0, 30))
    (row,) = report.escalated
    assert (row["tracking_no"], row["tier"]) == (c["tracking_no"], 2)
    assert 30.0 <= row["late_seconds"] < 31.0  # the tick's lateness plus its own running time
    again = sweep(world.rt, at(2026, 12, 1, 18, 0, 31))
    assert again.counts()["escalated"] == 0
    case = world.case(c["id"])
    assert case["tier"] == 2 and case["sitting_id"] is not None
    (e,) = events(world, c["id"], "escalated")
    assert e["actor"] == "system" and e["data"]["reason"] == "deadline" and 30.0 <= e["data"]["late_seconds"] < 31
    assert e["data"]["from_tier"] == 1 and e["data"]["sitting"]["series"] == "county-yuanhui"
    # its notifications, written in the same transaction (with COPY on PostgreSQL)
    from sqlalchemy import select

    from service.notifications.models import OutboxMessage

    with world.rt.session() as s:
        rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.event_id == e["id"])))
    assert {(r.recipient_kind, r.recipient) for r in rows} == {
        ("department", "natural-resources"), ("officer", "officer-yuanhui-1"),
        ("enterprise", str(c["enterprise_id"])), ("secretary", "county-yuanhui")}
    # the Luohe directory configures no channels: each is owed, and marked as having none
    assert all(r.status == "no_channel" and r.channel is None and r.payload["case"]["tracking_no"] == c["tracking_no"]
               and r.payload["data"]["late_seconds"] == e["data"]["late_seconds"] for r in rows)


def test_spring_festival_deadline(world):
    world.clock.set(at(2026, 2, 13, 10))  # Friday; Sat 02-14 is worked; 02-15..02-23 off
    c = world.submit()
    assert datetime.fromisoformat(c["due_at"]) == at(2026, 2, 25, 18)
    assert sweep(world.rt, at(2026, 2, 24, 17, 59)).counts() == {"escalated": 0, "supervised": 0, "warned": 0,
                                                                  "reminded": 0, "closed": 0, "callbacks_overdue": 0,
                                                                  "recounted": 0, "published": 0}
    assert sweep(world.rt, at(2026, 2, 24, 18, 0)).warned == [c["tracking_no"]]  # one working day before
    assert sweep(world.rt, at(2026, 2, 25, 17, 59)).counts()["escalated"] == 0
    assert sweep(world.rt, at(2026, 2, 25, 18, 1)).counts()["escalated"] == 1


def test_national_day_make_up_sunday(world):
    world.clock.set(at(2026, 9, 18, 17))  # Friday 17:00; Sunday 09-20 is a working day
    c = world.submit(urgency="urgent")  # the urgent policy: four office hours at tier 1
    assert c["sla_policy"] == "urgent"
    assert datetime.fromisoformat(c["due_at"]) == at(2026, 9, 20, 12)  # one hour Friday, three on Sunday
    assert sweep(world.rt, at(2026, 9, 20, 11, 0, 1)).warned == [c["tracking_no"]]  # one office hour before
    assert sweep(world.rt, at(2026, 9, 20, 12, 0, 1)).counts()["escalated"] == 1


def test_catch_up_after_an_outage_goes_in_deadline_order_one_tier_per_tick(world):
    first = world.submit(title="土地证一")
    world.clock.advance(hours=2)
    second = world.submit(title="土地证二")
    third = world.submit(title="土地证三")
    world.act(third["id"], "escalate", "officer", {"reason": "到第二级"})
    world.act(third["id"], "escalate", "officer", {"reason": "到第三级"})  # tier 3: seven working days
    # the workers were down for a month
    report = sweep(world.rt, at(2027, 1, 4, 9))
    assert [r["tracking_no"] for r in report.escalated] == [first["tracking_no"], second["tracking_no"],
                                                            third["tracking_no"]]
    assert [r["tier"] for r in report.escalated] == [2, 2, 4]
    assert all(r["late_seconds"] > 20 * 86400 for r in report.escalated)
    # each got a new deadline at a sitting still ahead, so a second tick now finds nothing
    assert sweep(world.rt, at(2027, 1, 4, 9, 0, 1)).counts()["escalated"] == 0


def test_tier_five_overdue_is_supervised_and_reminded_never_dropped(world):
    c = world.submit()
    world.to_top(c["id"])
    case = world.case(c["id"])
    assert case["tier"] == 5
    due = datetime.fromisoformat(case["due_at"])
    report = sweep(world.rt, due + timedelta(seconds=5))
    assert report.supervised and report.counts()["escalated"] == 0
    case = world.case(c["id"])
    assert case["tier"] == 5 and case["supervised"] is True and case["status"] == "open"
    counts = sweep(world.rt, due + timedelta(seconds=6)).counts()
    assert {k: v for k, v in counts.items() if k != "published"} == {
        "escalated": 0, "supervised": 0, "warned": 0, "reminded": 0, "closed": 0, "callbacks_overdue": 0,
        "recounted": 0}
    later = due + timedelta(days=10)
    first = sweep(world.rt, later)
    assert first.reminded == [c["tracking_no"]]
    assert sweep(world.rt, later + timedelta(seconds=1)).reminded == []
    assert sweep(world.rt, later + timedelta(days=7)).reminded == [c["tracking_no"]]
    kinds = [e["type"] for e in world.case(c["id"])["timeline"]]
    assert kinds.count("supervised") == 1 and kinds.count("reminded") == 2


def test_paused_cases_do_not_escalate(world):
    c = world.submit()
    world.act(c["id"], "accept", "land")
    world.act(c["id"], "request-info", "land", {"text": "请补充"})
    assert sweep(world.rt, at(2026, 12, 20)).counts()["escalated"] == 0
    world.clock.set(at(2026, 12, 21, 9))
    world.act(c["id"], "supplement", "ent", {"text": "已补充"})
    assert sweep(world.rt, at(2026, 12, 21, 10)).counts()["escalated"] == 0  # the time left runs again
    assert sweep(world.rt, at(2026, 12, 31, 10)).counts()["escalated"] == 1


def test_warning_once_per_tier(world):
    c = world.submit()
    assert sweep(world.rt, at(2026, 11, 30, 18, 0, 1)).warned == [c["tracking_no"]]
    assert sweep(world.rt, at(2026, 11, 30, 19)).warned == []
    sweep(world.rt, at(2026, 12, 1, 18, 1))  # escalates to tier 2
    case = world.case(c["id"])
    warn_at = datetime.fromisoformat(case["warn_at"])
    assert sweep(world.rt, warn_at + timedelta(seconds=1)).warned == [c["tracking_no"]]
    assert len(events(world, c["id"], "warning")) == 2


def test_escalation_to_a_meeting_respects_the_agenda_cutoff(world):
    # Yuanhui's county meeting sits Tuesdays 09:00; its agenda closes a day before
    c = world.submit()  # due Tue 12-01 18:00
    sweep(world.rt, at(2026, 12, 1, 18, 5))
    sitting = events(world, c["id"], "escalated")[0]["data"]["sitting"]
    assert datetime.fromisoformat(sitting["starts_at"]).astimezone(TZ) == at(2026, 12, 8, 9)
    world.clock.set(at(2026, 12, 7, 8, 59))  # just before Monday's cut-off: this Tuesday's sitting
    d = world.submit(title="电费异常", description="电费高")
    world.act(d["id"], "escalate", "officer", {"reason": "提交周例会"})
    assert events(world, d["id"], "escalated")[0]["data"]["sitting"]["id"] == sitting["id"]
    world.clock.set(at(2026, 12, 7, 9, 1))  # just after: the following week
    e = world.submit(title="电费异常二", description="电费高")
    world.act(e["id"], "escalate", "officer", {"reason": "提交周例会"})
    later = events(world, e["id"], "escalated")[0]["data"]["sitting"]
    assert datetime.fromisoformat(later["starts_at"]).astimezone(TZ) == at(2026, 12, 15, 9)
    assert later["number"] == sitting["number"] + 1


def test_resolved_cases_close_after_the_confirmation_window(world):
    c = world.submit()
    world.act(c["id"], "accept", "land")
    c = world.act(c["id"], "resolve", "land", {"resolution": "已办结"})
    assert sweep(world.rt, at(2026, 12, 20)).closed == [c["tracking_no"]]
    assert world.case(c["id"])["status"] == "closed"


def test_the_next_moment_is_when_a_tick_next_has_something_to_do(world):
    """What the worker and the embedded loop wake at (sweep.next_moment): the earliest warning,
    deadline, reminder or end of a confirmation window still ahead."""
    from service.cases.models import Case

    def row(cid):
        with world.rt.session() as s:
            return s.get(Case, cid)

    assert next_moment(world.rt, at(2026, 11, 26)) is None  # nothing filed: nothing ahead
    c = world.submit()  # Thu 11-26 10:00: warned Mon 11-30 18:00, due Tue 12-01 18:00
    warn_at, due_at = row(c["id"]).warn_at, row(c["id"]).due_at
    assert warn_at < due_at and next_moment(world.rt, at(2026, 11, 26, 11)) == warn_at
    assert sweep(world.rt, warn_at + timedelta(seconds=1)).warned == [c["tracking_no"]]
    assert next_moment(world.rt, warn_at + timedelta(seconds=1)) == due_at  # warned at its tier: the deadline
    # a case supervised at tier 5 is past its deadline for good: its next reminder is what is ahead
    top = world.submit()
    world.to_top(top["id"])
    top_due = row(top["id"]).due_at
    assert top_due > due_at
    sweep(world.rt, top_due + timedelta(seconds=5))  # c escalates too: its new deadline is ahead
    assert row(top["id"]).supervised
    ahead = [row(c["id"]).warn_at, row(c["id"]).due_at, row(top["id"]).supervision_next_at]
    assert next_moment(world.rt, top_due + timedelta(seconds=5)) == min(t for t in ahead if t is not None)
    # a resolved case: the end of its confirmation window
    world.act(c["id"], "accept", "land")
    world.act(c["id"], "resolve", "land", {"resolution": "已办结"})
    now = world.rt.clock()
    confirm_due = row(c["id"]).confirm_due_at
    assert next_moment(world.rt, now) == min(confirm_due, row(top["id"]).supervision_next_at)


def test_the_embedded_loop_sleeps_until_the_next_moment_or_the_interval(world):
    import asyncio

    from service.app import _until_next_tick

    interval = world.rt.settings.sweep_interval
    until = lambda tick: asyncio.run(_until_next_tick(world.rt, next_wake, tick))  # noqa: E731
    assert until(world.rt.clock()) == interval  # nothing ahead
    c = world.submit()
    assert until(world.rt.clock()) == interval  # its warning is days ahead
    from service.cases.models import Case

    with world.rt.session() as s:
        warn_at = s.get(Case, c["id"]).warn_at
    world.clock.set(warn_at - timedelta(seconds=2))
    assert until(world.rt.clock()) == 2.0
    # what fell due while the last tick ran (after its moment) is swept at once, not forgotten
    world.clock.set(warn_at + timedelta(seconds=1))
    assert until(warn_at - timedelta(seconds=1)) == 0.0


def test_preview_changes_nothing(world):
    c = world.submit()
    rows = preview(world.rt, at(2026, 12, 2))
    assert rows == [{"tracking_no": c["tracking_no"], "from_tier": 1, "to": 2,
                     "due_at": rows[0]["due_at"], "late_seconds": rows[0]["late_seconds"]}]
    assert world.case(c["id"])["tier"] == 1 and preview(world.rt, at(2026, 12, 2)) == rows


def test_metrics_show_lateness_and_overdue(world):
    world.submit()
    world.clock.set(at(2026, 12, 1, 18, 30))
    text = world.client.get("/metrics").text
    assert 'closedloop_overdue_cases{tier="1"} 1.0' in text
    sweep(world.rt)
    text = world.client.get("/metrics").text
    assert 'closedloop_escalation_lateness_seconds_count{kind="escalated"}' in text
    assert 'closedloop_overdue_cases{tier="1"} 0.0' in text


def test_a_case_already_at_the_next_tier_does_not_block_the_batch(world):
    """A (case, tier) record that should not exist (a hand edit, a bug) costs that case, not the rest."""
    from service.cases.models import CaseTier

    a, b, c = world.submit(title="土地证一"), world.submit(title="土地证二"), world.submit(title="土地证三")
    with world.rt.session() as s:
        s.add(CaseTier(case_id=b["id"], tier=2, entered_at=world.clock(), reason="hand edit"))
        s.commit()
    report = sweep(world.rt, at(2026, 12, 2, 9))
    assert sorted(r["tracking_no"] for r in report.escalated) == sorted([a["tracking_no"], c["tracking_no"]])
    assert world.case(b["id"])["tier"] == 1 and world.case(a["id"])["tier"] == 2
    assert sweep(world.rt, at(2026, 12, 2, 9)).counts()["escalated"] == 0  # not retried in the same tick


def test_a_case_reopened_at_the_top_is_reminded_and_a_closed_one_never(world):
    """Reopened at tier 5 (not satisfied), a case is supervised at once with a fresh deadline: the
    sweep never escalates it, so its reminders must run; once closed it keeps no reminder date
    (the sweep's reminder range holds only cases still supervised)."""
    from service.cases.models import Case

    c = world.submit()
    world.refused_at_top(c["id"])
    case = world.case(c["id"])
    assert (case["tier"], case["supervised"], case["status"]) == (5, True, "open")
    due = datetime.fromisoformat(case["due_at"])
    assert sweep(world.rt, due + timedelta(seconds=5)).counts()["escalated"] == 0
    assert sweep(world.rt, due + timedelta(days=10)).reminded == [c["tracking_no"]]
    world.act(c["id"], "accept", "land")
    world.act(c["id"], "resolve", "land", {"resolution": "重新办理完毕"})
    world.act(c["id"], "confirm", "ent", {"satisfied": True, "rating": 5})
    with world.rt.session() as s:
        assert s.get(Case, c["id"]).supervision_next_at is None
    assert sweep(world.rt, due + timedelta(days=60)).reminded == []


def next_reminder(world, case_id):
    from service.cases.models import Case

    with world.rt.session() as s:
        return s.get(Case, case_id).supervision_next_at


def test_feedback_in_time_moves_the_supervision_reminder_and_reaches_who_supervises(world):
    """回执: a supervised case's unit reports within the interval — no reminder that interval; a
    reminder comes only when an interval passes without a report."""
    from sqlalchemy import select

    from service.notifications.models import OutboxMessage

    c = world.submit()
    world.act(c["id"], "reassign", "officer", {"lead_department": "natural-resources",
                                               "co_departments": ["financial-regulation"]})
    world.to_top(c["id"])
    due = datetime.fromisoformat(world.case(c["id"])["due_at"])
    assert sweep(world.rt, due + timedelta(seconds=5)).supervised
    next_at = next_reminder(world, c["id"])
    world.clock.set(next_at - timedelta(hours=1))  # in time
    body = {"progress": "已完成管网抢修方案论证，施工队伍已进场", "next_step": "12月10日前完成主管道更换",
            "expected_done": "2027-01-15", "contact": "李科长", "phone": "0395-3100001"}
    world.act(c["id"], "feedback", "finance", body)  # a co-handling unit reports too
    (e,) = events(world, c["id"], "fed_back")
    assert e["actor"] == "department:financial-regulation" and e["data"]["on_time"] is True
    assert e["data"]["progress"] == body["progress"] and e["data"]["expected_done"] == "2027-01-15"
    moved = next_reminder(world, c["id"])
    assert moved > next_at and e["data"]["next_report_due"] == moved.isoformat()
    assert sweep(world.rt, next_at + timedelta(minutes=1)).reminded == []  # the report came: no reminder
    assert sweep(world.rt, moved + timedelta(minutes=1)).reminded == [c["tracking_no"]]  # none since: reminded
    # a report left until after its reminder was due (no sweep ran since) is late
    late = next_reminder(world, c["id"]) + timedelta(hours=1)
    world.clock.set(late)
    world.act(c["id"], "feedback", "land", {"progress": "主管道更换完成过半"})
    last = events(world, c["id"], "fed_back")[-1]["data"]
    assert last["on_time"] is False and datetime.fromisoformat(last["next_report_due"]) > late
    assert sweep(world.rt, late + timedelta(minutes=1)).reminded == []  # the late report still counts
    with world.rt.session() as s:
        told = {(m.recipient_kind, m.recipient) for m in s.scalars(
            select(OutboxMessage).where(OutboxMessage.event_id == e["id"]))}
    assert ("officer", "officer-yuanhui-1") in told and any(kind == "secretary" for kind, _ in told)
    r = world.client.post(f"/v1/cases/{c['id']}/feedback", json={"progress": ""}, headers=world.h("land"))
    assert r.status_code == 422 and r.json()["detail"].startswith("progress:")
