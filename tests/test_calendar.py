"""Working-day arithmetic against the official 2026 schedule (State Council, 2025-11-04)."""

import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from zoneinfo import ZoneInfo

from routing_rules import Duration
from service.escalation.calendar import WorkCalendar, load_holiday_file
from service.meetings.sittings import next_sitting_time

TZ = ZoneInfo("Asia/Shanghai")
cal = WorkCalendar(TZ, "18:00")


def at(y, m, d, h=10, mi=0):
    return datetime(y, m, d, h, mi, tzinfo=TZ)


@pytest.mark.parametrize(
    "start, n, expected",
    [
        # Sat 02-14 is a make-up working day; 02-15 to 02-23 are the Spring Festival
        (at(2026, 2, 13), 3, date(2026, 2, 25)),
        # Sun 09-20 is a make-up working day for National Day
        (at(2026, 9, 18), 1, date(2026, 9, 20)),
        # Oct 1–7 off
        (at(2026, 9, 30), 1, date(2026, 10, 8)),
        # Sat 10-10 is a make-up working day
        (at(2026, 10, 9), 1, date(2026, 10, 10)),
        # an ordinary weekend
        (at(2026, 11, 27), 1, date(2026, 11, 30)),
        # New Year: Jan 1–3 off, Sun Jan 4 worked
        (at(2025, 12, 31), 1, date(2026, 1, 4)),
    ],
)
def test_working_days_2026(start, n, expected):
    due, provisional = cal.add_working_days(start, n)
    assert due == datetime.combine(expected, datetime.min.time().replace(hour=18), TZ)
    assert provisional is False


def test_deadline_in_an_unpublished_year_is_provisional_then_exact(tmp_path):
    due, provisional = cal.add_working_days(at(2026, 12, 30), 3)
    assert provisional is True and due.astimezone(TZ).date() == date(2027, 1, 5)  # Jan 1 statutory, guessed
    schedule = tmp_path / "holidays.yaml"
    schedule.write_text("2027:\n  days_off: [2027-01-01..2027-01-03, 2027-01-04]\n  workdays: [2027-01-09]\n")
    exact = WorkCalendar(TZ, "18:00", load_holiday_file(schedule))
    due, provisional = exact.add_working_days(at(2026, 12, 30), 3)
    assert provisional is False and due.astimezone(TZ).date() == date(2027, 1, 6)


@pytest.mark.parametrize("text, error", [
    ("2027:\n  days_off: [2027-13-01]\n", "not a date"),
    ("2027:\n  days_off: [2028-01-01]\n", "must lie within 2027"),
    ("2027:\n  holidays: []\n", "'days_off' and 'workdays'"),
])
def test_bad_holiday_file(tmp_path, text, error):
    path = tmp_path / "h.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=error):
        load_holiday_file(path)


def test_paused_time_skips_the_spring_festival():
    paused = at(2026, 2, 13, 12)  # Friday noon, due Wednesday 02-25 18:00
    left = cal.working_seconds_between(paused, at(2026, 2, 25, 18))
    # Fri 12 h + Sat (make-up) 24 h + Tue 24 h + Wed 18 h
    assert left == (12 + 24 + 24 + 18) * 3600
    resumed, provisional = cal.add_working_seconds(at(2026, 2, 26, 9), left)
    # Thu 15 h, Fri 24 h, Sat 02-28 (make-up) 24 h, Mon 03-02 15 h → 15:00 Monday
    assert resumed.astimezone(TZ) == at(2026, 3, 2, 15) and provisional is False


def test_warning_before_a_deadline():
    assert cal.before(at(2026, 2, 25, 18), Duration(1, "working_days")).astimezone(TZ) == at(2026, 2, 24, 18)
    assert cal.before(at(2026, 2, 25, 18), Duration(4, "hours")).astimezone(TZ) == at(2026, 2, 25, 14)
    assert cal.after(at(2026, 2, 25, 18), Duration(90, "seconds"))[0] == at(2026, 2, 25, 18) + timedelta(seconds=90)


def test_sitting_on_a_holiday_moves_to_the_next_working_day():
    # Tuesday 09:00 weekly, agenda closes a day before; Tue 2026-02-17 is in the Spring Festival
    starts, closes = next_sitting_time("0 9 * * 2", "1 days", at(2026, 2, 12, 12), cal)
    assert starts.astimezone(TZ) == at(2026, 2, 24, 9)  # moved to Tuesday 02-24, the first working day
    assert closes.astimezone(TZ) == at(2026, 2, 23, 9)


def test_sitting_across_the_agenda_cutoff():
    # Wednesday, agenda for Thursday's 09:00 city meeting closed Wednesday 09:00: next week's
    starts, _ = next_sitting_time("0 9 * * 4", "1 days", at(2026, 11, 25, 10), cal)
    assert starts.astimezone(TZ) == at(2026, 12, 3, 9)
    starts, _ = next_sitting_time("0 9 * * 4", "1 days", at(2026, 11, 25, 8), cal)
    assert starts.astimezone(TZ) == at(2026, 11, 26, 9)


def test_frequent_sittings_with_a_long_cutoff_are_found():
    # hourly sittings whose agenda closes 30 days before: the first open one is a month ahead
    starts, closes = next_sitting_time("0 * * * *", "30 days", at(2026, 11, 24, 10, 30), cal)
    assert closes > at(2026, 11, 24, 10, 30) and starts - closes == timedelta(days=30)
    assert starts.astimezone(TZ) == at(2026, 12, 24, 11)  # a Thursday


# ---------------------------------------------------------------------------- working hours (办公时间)
HOURS4 = Duration.parse("4 working_hours")


@pytest.mark.parametrize("filed, due", [
    (at(2026, 12, 7, 9), at(2026, 12, 7, 15)),        # Monday morning: the lunch break does not count
    (at(2026, 12, 7, 11), at(2026, 12, 7, 17)),       # one hour before lunch, three after
    (at(2026, 12, 7, 12, 30), at(2026, 12, 7, 18)),   # filed in the lunch break: counts from 14:00
    (at(2026, 12, 7, 16, 30), at(2026, 12, 8, 11, 30)),  # an evening in between: the next morning
    (at(2026, 12, 7, 20), at(2026, 12, 8, 15)),       # after hours: the whole of the next day's first four
    (at(2026, 12, 7, 7), at(2026, 12, 7, 15)),        # before opening: from 09:00
    (at(2026, 12, 4, 17), at(2026, 12, 7, 12)),       # Friday 17:00: one hour, the weekend, three on Monday
    (at(2026, 9, 30, 17), at(2026, 10, 8, 12)),       # before National Day: the week off does not count
    (at(2026, 2, 13, 17), at(2026, 2, 14, 12)),       # Saturday 02-14 is a make-up working day
])
def test_urgent_four_working_hours(filed, due):
    got, provisional = cal.after(filed, HOURS4)
    assert got == due and provisional is False
    assert cal.office_seconds_between(filed, got) == 4 * 3600


def test_a_span_that_ends_at_closing_ends_there_not_at_the_next_opening():
    assert cal.after(at(2026, 12, 7, 9), Duration.parse("3 working_hours"))[0] == at(2026, 12, 7, 12)
    assert cal.after(at(2026, 12, 7, 14), Duration.parse("240 working_minutes"))[0] == at(2026, 12, 7, 18)


def test_warning_before_a_working_hour_deadline_counts_back_over_lunch_and_night():
    hour = Duration.parse("1 working_hour")
    assert cal.before(at(2026, 12, 7, 14, 30), hour) == at(2026, 12, 7, 11, 30)
    assert cal.before(at(2026, 12, 8, 9, 30), hour) == at(2026, 12, 7, 17, 30)
    assert cal.before(at(2026, 12, 7, 9, 30), Duration.parse("2 working_hours")) == at(2026, 12, 4, 16, 30)


def test_paused_working_hours_resume_with_what_was_left():
    due = at(2026, 12, 7, 15)
    left = cal.left("working_hours", at(2026, 12, 7, 11), due)
    assert left == 2 * 3600  # 11–12 and 14–15: not the lunch break
    resumed, _ = cal.ahead("working_hours", at(2026, 12, 7, 16, 30), left)
    assert resumed == at(2026, 12, 8, 9, 30)  # 16:30–18:00, then half an hour of the next morning


def test_office_hours_are_configurable_and_checked():
    summer = WorkCalendar(TZ, "18:00", office_hours="08:30-12:00,15:00-18:00")
    assert summer.after(at(2026, 12, 7, 8, 30), HOURS4)[0] == at(2026, 12, 7, 15, 30)
    for bad, why in [("9-12", "not a period"), ("09:00-12:00,11:00-18:00", "starts before"),
                     ("12:00-09:00", "not a period")]:
        with pytest.raises(ValueError, match=why):
            WorkCalendar(TZ, "18:00", office_hours=bad)


def test_working_hours_into_an_unpublished_year_are_provisional():
    due, provisional = cal.after(at(2026, 12, 31, 17), HOURS4)
    assert provisional is True and due == at(2027, 1, 4, 12)  # Jan 1 statutory; the weekend


def test_the_calendar_loads_chinas_holidays_not_every_countrys():
    # holidays.countries' __init__ imports all 250 countries (11 MB in every process); the calendar
    # imports China's module alone, and the package's lazy loaders still reach any other country
    code = ("import sys, datetime, service.escalation.calendar as c, holidays;"
            "loaded = [m for m in sys.modules if m.startswith('holidays.countries.')];"
            "assert loaded == ['holidays.countries.china'], loaded;"
            "assert not c.WorkCalendar().is_working_day(datetime.date(2026, 10, 1));"
            "assert c.WorkCalendar().is_working_day(datetime.date(2026, 2, 14));"
            "assert holidays.Germany(years=2026).get('2026-12-25')")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parent.parent)
