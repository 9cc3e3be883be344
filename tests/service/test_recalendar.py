"""Deadlines in an unpublished year counted again when its holidays arrive (issue #16, item 2),
and urgent cases due within the office's hours (item 3). SQLite and PostgreSQL."""

import dataclasses
from datetime import datetime

import pytest
from sqlalchemy import select

from support import TZ

from service.escalation.recalendar import reload_calendar
from service.escalation.sweep import sweep
from service.notifications.models import OutboxMessage


def at(y, m, d, h=10, mi=0, s=0):
    return datetime(y, m, d, h, mi, s, tzinfo=TZ)


def timeline(world, cid, kind):
    return [e for e in world.case(cid)["timeline"] if e["type"] == kind]


@pytest.fixture
def holiday_file(world, tmp_path):
    """The runtime reads its holidays from a file of the test's; the runtime (shared by the tests
    of a backend) gets its own calendar back afterwards."""
    rt, before = world.rt, world.rt.settings
    path = tmp_path / "holidays.yaml"
    rt.settings = dataclasses.replace(before, holidays_file=path)
    yield path
    rt.settings = before
    rt.reload_calendar()


# 2027 as the State Council might publish it: New Year's Day Friday, the Monday after off too,
# Saturday 01-09 worked in exchange
PUBLISHED_2027 = "2027:\n  days_off: [2027-01-01..2027-01-04]\n  workdays: [2027-01-09]\n"


def test_a_published_year_moves_provisional_deadlines_and_tells_the_handlers(world, holiday_file):
    world.clock.set(at(2026, 12, 30, 10))
    c = world.submit()  # three working days: Dec 31, then Jan 4 and 5 on the guessed calendar
    assert c["due_provisional"] is True and datetime.fromisoformat(c["due_at"]) == at(2027, 1, 5, 18)
    settled = world.submit(title="土地证二", description="土地证办理进度", urgency="normal")
    world.clock.set(at(2026, 12, 30, 11))

    # the operator adds 2027: Jan 4 is now a day off, so the deadline is one working day later
    holiday_file.write_text(PUBLISHED_2027)
    report = reload_calendar(world.rt, "admin:test", world.clock())
    assert report["moved"] == 2 and report["confirmed"] == 0
    case = world.case(c["id"])
    assert case["due_provisional"] is False and datetime.fromisoformat(case["due_at"]) == at(2027, 1, 6, 18)
    (e,) = timeline(world, c["id"], "deadline_recounted")
    assert e["actor"] == "admin:test" and e["data"]["reason"] == "calendar"
    assert datetime.fromisoformat(e["data"]["old_due"]) == at(2027, 1, 5, 18)
    assert datetime.fromisoformat(e["data"]["new_due"]) == at(2027, 1, 6, 18)
    assert datetime.fromisoformat(e["data"]["new_warn"]) == at(2027, 1, 5, 18)  # one working day before
    with world.rt.session() as s:
        told = {(m.recipient_kind, m.recipient) for m in s.scalars(
            select(OutboxMessage).where(OutboxMessage.event_id == e["id"]))}
    assert told == {("department", "natural-resources"), ("officer", "officer-yuanhui-1")}
    assert timeline(world, settled["id"], "deadline_recounted")

    # the same calendar again changes nothing: no second event
    again = reload_calendar(world.rt, "admin:test", world.clock())
    assert again["moved"] == again["confirmed"] == 0
    assert len(timeline(world, c["id"], "deadline_recounted")) == 1
    # and the sweep escalates by the new deadline, not the old one
    assert sweep(world.rt, at(2027, 1, 5, 18, 0, 1)).counts()["escalated"] == 0
    assert sweep(world.rt, at(2027, 1, 6, 18, 0, 1)).counts()["escalated"] == 2


def test_a_deadline_that_comes_earlier_and_is_now_past_escalates_on_the_next_tick(world, holiday_file):
    world.clock.set(at(2026, 12, 31, 10))
    c = world.submit()  # guessed: Jan 4, 5, 6 (Jan 1 statutory) -> due Wed Jan 6 18:00
    assert datetime.fromisoformat(c["due_at"]) == at(2027, 1, 6, 18)
    # published late: Saturday Jan 2 is a make-up working day, so the third working day is Jan 5
    holiday_file.write_text("2027:\n  days_off: [2027-01-01]\n  workdays: [2027-01-02]\n")
    # the sweep notices the new file on its own (no import, no restart) — a day late
    report = sweep(world.rt, at(2027, 1, 6, 9))
    assert [r["tracking_no"] for r in report.recounted] == [c["tracking_no"]]
    assert [r["tracking_no"] for r in report.escalated] == [c["tracking_no"]]
    (e,) = timeline(world, c["id"], "deadline_recounted")
    assert datetime.fromisoformat(e["data"]["new_due"]) == at(2027, 1, 5, 18)
    (esc,) = timeline(world, c["id"], "escalated")
    assert 15 * 3600 <= esc["data"]["late_seconds"] < 15 * 3600 + 1  # counted from the new deadline


def test_a_date_a_person_chose_stays_only_its_flag_and_warning_change(world, holiday_file):
    world.clock.set(at(2026, 12, 28, 10))
    c = world.submit()
    world.act(c["id"], "accept", "land")
    world.act(c["id"], "extend", "land", {"until": "2027-01-15T18:00:00+08:00", "reason": "需等待规划调整"})
    world.act(c["id"], "approve-extension", "officer", {"approve": True})
    before = world.case(c["id"])
    assert before["due_provisional"] is True
    holiday_file.write_text(PUBLISHED_2027)
    report = reload_calendar(world.rt, "admin:test", world.clock())
    assert report == {**report, "moved": 0, "confirmed": 1}
    after = world.case(c["id"])
    assert after["due_at"] == before["due_at"] and after["due_provisional"] is False
    (e,) = timeline(world, c["id"], "deadline_confirmed")
    assert e["data"]["old_due"] == e["data"]["new_due"]


def test_a_resumed_clock_counts_what_was_left_again(world, holiday_file):
    world.clock.set(at(2026, 12, 28, 10))
    c = world.submit()  # due Thu Dec 31 18:00
    world.act(c["id"], "accept", "land")
    world.clock.set(at(2026, 12, 29, 10))  # 56 hours of working days left (to Dec 31 18:00)
    world.act(c["id"], "request-info", "land", {"text": "请补充土地出让合同"})
    world.clock.set(at(2026, 12, 31, 10))
    world.act(c["id"], "supplement", "ent", {"text": "已上传合同"})
    guessed = world.case(c["id"])
    # 14 hours of Dec 31, (Jan 1 statutory, the weekend), 24 of Jan 4, 18 of Jan 5
    assert guessed["due_provisional"] is True and datetime.fromisoformat(guessed["due_at"]) == at(2027, 1, 5, 18)
    holiday_file.write_text(PUBLISHED_2027)
    reload_calendar(world.rt, "admin:test", world.clock())
    resumed = world.case(c["id"])
    assert datetime.fromisoformat(resumed["due_at"]) == at(2027, 1, 6, 18)  # Jan 4 is off now
    assert resumed["due_provisional"] is False


def test_a_holiday_file_that_cannot_be_read_leaves_the_calendar_in_use(world, holiday_file):
    holiday_file.write_text(PUBLISHED_2027)
    world.rt.reload_calendar()
    holiday_file.write_text("2027:\n  days_off: [2027-02-30]\n")
    with pytest.raises(ValueError, match="2027-02-30"):
        reload_calendar(world.rt, "admin:test", world.clock())
    assert not world.rt.calendar.is_working_day(datetime(2027, 1, 4).date())  # still the good file's
    assert sweep(world.rt, at(2026, 11, 27, 10)).counts()["escalated"] == 0  # and the sweep still runs


def test_urgent_cases_are_due_the_same_working_day(world):
    world.clock.set(at(2026, 12, 7, 11))  # Monday 11:00
    c = world.submit(urgency="urgent")
    assert c["sla_policy"] == "urgent"
    # one hour before lunch, three after it
    assert datetime.fromisoformat(c["due_at"]) == at(2026, 12, 7, 17)
    world.clock.set(at(2026, 12, 7, 16, 30))
    late = world.submit(urgency="urgent", title="停产了", description="企业停电停产")
    assert datetime.fromisoformat(late["due_at"]) == at(2026, 12, 8, 11, 30)  # the next working morning
    # warned one office hour before, escalated when it passes
    assert sweep(world.rt, at(2026, 12, 7, 16, 0, 1)).warned == [c["tracking_no"]]
    report = sweep(world.rt, at(2026, 12, 7, 17, 0, 1))
    assert [r["tracking_no"] for r in report.escalated] == [c["tracking_no"]]
