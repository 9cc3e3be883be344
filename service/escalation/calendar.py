"""Working days of the People's Republic of China (工作日), and deadlines counted in them.

Statutory holidays are days off; the adjusted working weekends (调休, e.g. Saturday 2026-02-14)
are working days. The ``holidays`` package carries the State Council's schedule for every year
it has been published; the last such year is read from the package itself, so upgrading it
extends the known calendar. For a later year the operator adds the schedule in a YAML file
(``CLOSEDLOOP_HOLIDAYS``); until then deadlines in that year still compute — from the
package's statutory dates, without make-up days — and are marked provisional.

Deadlines are counted in whole working days (a tier's 3 working days end at the close of the
third working day) or in working hours (办公时间): an urgent case's 4 working hours count only
the office's hours — with the office open 09:00–12:00 and 14:00–18:00, a case filed at 09:00
on a Monday is due at 15:00 that day (the lunch break does not count), one filed at 16:30 at
11:30 on Tuesday morning.

Everything takes aware datetimes and the clock as an argument; nothing here reads the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import importlib
import importlib.util
import sys

import yaml

from routing_rules.language import OFFICE_UNITS, Duration


def _china():
    """``holidays.countries.china`` without running ``holidays.countries``' ``__init__``, which
    imports all 250 countries' calendars (11 MB in every API and worker process) to give us one.
    The package is registered unexecuted, with its path, so its modules import one by one as a
    namespace package's would; ``holidays.China()`` and the package's own lazy loaders
    (``holidays.Germany()``) still work. Only ``from holidays.countries import Germany`` would not,
    and nothing here does that."""
    name = "holidays.countries"
    if name not in sys.modules:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.submodule_search_locations is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)  # not executed: its __path__ only
    return importlib.import_module("holidays.countries.china")


_CHINA = _china()

DAY = 86400.0


@dataclass(frozen=True)
class YearSchedule:
    """An operator-supplied year: days off, and weekend days that are working days."""

    days_off: frozenset[date]
    workdays: frozenset[date]


def _dates(items: list, year: int, source: str) -> set[date]:
    out: set[date] = set()
    for item in items or []:
        text = str(item)
        first, _, last = text.partition("..")
        try:
            a = date.fromisoformat(first.strip())
            b = date.fromisoformat(last.strip()) if last else a
        except ValueError as exc:
            raise ValueError(f"{source}: {year}: '{text}' is not a date or a range like 2027-02-05..2027-02-11") from exc
        if a.year != year or b.year != year or b < a:
            raise ValueError(f"{source}: {year}: '{text}' must lie within {year}, first day first")
        out.update(a + timedelta(days=i) for i in range((b - a).days + 1))
    return out


def load_holiday_file(path: Path) -> dict[int, YearSchedule]:
    """``{2027: {days_off: [2027-01-01, 2027-02-05..2027-02-11], workdays: [2027-02-14]}}``."""
    # every scalar read as text: dates are parsed here, with an error that says which one
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of years to {{days_off: [...], workdays: [...]}}")
    out = {}
    for key, spec in data.items():
        year = int(key) if str(key).isdigit() else None
        if year is None or not isinstance(spec, dict) or set(spec) - {"days_off", "workdays"}:
            raise ValueError(f"{path}: each entry is a year with 'days_off' and 'workdays' lists")
        out[year] = YearSchedule(frozenset(_dates(spec.get("days_off"), year, str(path))),
                                 frozenset(_dates(spec.get("workdays"), year, str(path))))
    return out


DEFAULT_OFFICE_HOURS = "09:00-12:00,14:00-18:00"


def parse_office_hours(text: str) -> tuple[tuple[time, time], ...]:
    """``09:00-12:00,14:00-18:00`` → the office's periods of a working day, in order."""
    periods = []
    for part in str(text).split(","):
        first, sep, last = part.strip().partition("-")
        try:
            a, b = time.fromisoformat(first.strip()), time.fromisoformat(last.strip())
        except ValueError:
            a = b = None
        if not sep or a is None or b is None or b <= a:
            raise ValueError(f"office hours: '{part.strip()}' is not a period like 09:00-12:00 "
                             f"(write them like {DEFAULT_OFFICE_HOURS})")
        if periods and a < periods[-1][1]:
            raise ValueError(f"office hours: '{part.strip()}' starts before the period before it ends; "
                             "list the periods in order without overlap")
        periods.append((a, b))
    return tuple(periods)


class WorkCalendar:
    def __init__(self, tz: ZoneInfo | str = "Asia/Shanghai", workday_end: str | time = "18:00",
                 extra_years: dict[int, YearSchedule] | None = None,
                 office_hours: str | tuple[tuple[time, time], ...] = DEFAULT_OFFICE_HOURS):
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.workday_end = time.fromisoformat(workday_end) if isinstance(workday_end, str) else workday_end
        self.office_hours = parse_office_hours(office_hours) if isinstance(office_hours, str) else office_hours
        self.extra = dict(extra_years or {})
        self.official_through = max(_CHINA.ChinaStaticHolidays.special_public_holidays)
        self._cn = _CHINA.China()  # expands to each year as it is asked about
        self._cache: dict[date, bool] = {}

    # ------------------------------------------------------------------ days
    def known(self, day: date) -> bool:
        """Is this day's status official (published, or given by the operator)?"""
        return day.year <= self.official_through or day.year in self.extra

    def is_working_day(self, day: date) -> bool:
        cached = self._cache.get(day)
        if cached is None:
            schedule = self.extra.get(day.year)
            if schedule is not None:
                cached = day in schedule.workdays or (day.weekday() < 5 and day not in schedule.days_off)
            else:
                cached = self._cn.is_working_day(day)
            self._cache[day] = cached
        return cached

    def next_working_day(self, day: date) -> date:
        """The day itself if it is a working day, else the next one."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def shown(self, moment: datetime) -> str:
        """A moment as a person here reads it in a message: local time with its offset
        (2026-12-01T18:00+08:00), not UTC."""
        return moment.astimezone(self.tz).isoformat(timespec="minutes")

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def end_of_day(self, day: date) -> datetime:
        return datetime.combine(day, self.workday_end, self.tz).astimezone(timezone.utc)

    # ------------------------------------------------------------------ durations
    def add_working_days(self, start: datetime, n: int) -> tuple[datetime, bool]:
        """The end of the n-th working day after ``start``'s date; provisional if it relies on an
        unpublished year."""
        day = self.local_date(start)
        provisional = False
        count = 0
        while count < n:
            day += timedelta(days=1)
            provisional |= not self.known(day)
            if self.is_working_day(day):
                count += 1
        return self.end_of_day(day), provisional

    def subtract_working_days(self, end: datetime, n: int) -> datetime:
        day = self.local_date(end)
        count = 0
        while count < n:
            day -= timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return self.end_of_day(day)

    def after(self, start: datetime, duration: Duration) -> tuple[datetime, bool]:
        """``start`` plus a duration: (the moment, whether it is provisional)."""
        if duration.unit == "working_days":
            return self.add_working_days(start, duration.amount)
        if duration.unit in OFFICE_UNITS:
            return self.add_office_seconds(start, duration.office_seconds)
        return start + timedelta(seconds=duration.calendar_seconds or 0), False

    def before(self, end: datetime, duration: Duration) -> datetime:
        if duration.unit == "working_days":
            return self.subtract_working_days(end, duration.amount)
        if duration.unit in OFFICE_UNITS:
            return self.subtract_office_seconds(end, duration.office_seconds)
        return end - timedelta(seconds=duration.calendar_seconds or 0)

    # ------------------------------------------------------------------ office hours (办公时间)
    def _periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The office's open periods on a day (none on a day off)."""
        if not self.is_working_day(day):
            return []
        return [(datetime.combine(day, a, self.tz), datetime.combine(day, b, self.tz)) for a, b in self.office_hours]

    def add_office_seconds(self, start: datetime, seconds: float) -> tuple[datetime, bool]:
        """Forward from ``start`` by ``seconds`` of office hours. A start outside the hours counts
        from the next opening; a span that ends exactly at a closing ends there (not at the next
        opening), so that 3 working hours from 09:00 end at 12:00, not at 14:00."""
        moment = start.astimezone(self.tz)
        day = moment.date()
        provisional = False
        remaining = float(seconds)
        for _ in range(3660):  # ten years of days: an office with no hours at all is an error, not a hang
            provisional |= not self.known(day)
            for lo, hi in self._periods(day):
                if hi <= moment:
                    continue
                begin = max(lo, moment)
                room = (hi - begin).total_seconds()
                if remaining <= room:
                    return (begin + timedelta(seconds=remaining)).astimezone(timezone.utc), provisional
                remaining -= room
            day += timedelta(days=1)
        raise ValueError("office hours: no working time in ten years; check the office hours and the holidays")

    def subtract_office_seconds(self, end: datetime, seconds: float) -> datetime:
        """Back from ``end`` by ``seconds`` of office hours (a warning before a working-hour deadline)."""
        moment = end.astimezone(self.tz)
        day = moment.date()
        remaining = float(seconds)
        for _ in range(3660):
            for lo, hi in reversed(self._periods(day)):
                if lo >= moment:
                    continue
                finish = min(hi, moment)
                room = (finish - lo).total_seconds()
                if remaining <= room:
                    return (finish - timedelta(seconds=remaining)).astimezone(timezone.utc)
                remaining -= room
            day -= timedelta(days=1)
        raise ValueError("office hours: no working time in ten years; check the office hours and the holidays")

    def office_seconds_between(self, a: datetime, b: datetime) -> float:
        """Seconds of office hours between two moments (0 if b is not after a)."""
        if b <= a:
            return 0.0
        total = 0.0
        day, last = self.local_date(a), self.local_date(b)
        while day <= last:
            for lo, hi in self._periods(day):
                total += max(0.0, (min(hi, b) - max(lo, a)).total_seconds())
            day += timedelta(days=1)
        return total

    # ------------------------------------------------------------------ a paused clock, by its unit
    def left(self, unit: str, now: datetime, until: datetime) -> float:
        """What is left of a deadline at ``now``, in the measure its unit counts: working-day
        seconds, office seconds, or plain seconds (计时暂停)."""
        if unit == "working_days":
            return self.working_seconds_between(now, until)
        if unit in OFFICE_UNITS:
            return self.office_seconds_between(now, until)
        return max(0.0, (until - now).total_seconds())

    def ahead(self, unit: str, now: datetime, seconds: float) -> tuple[datetime, bool]:
        """The inverse of :meth:`left`: ``seconds`` of that measure after ``now``."""
        if unit == "working_days":
            return self.add_working_seconds(now, seconds)
        if unit in OFFICE_UNITS:
            return self.add_office_seconds(now, seconds)
        return now + timedelta(seconds=seconds), False

    # ------------------------------------------------------------------ paused clocks
    def _day_bounds(self, day: date) -> tuple[datetime, datetime]:
        start = datetime.combine(day, time(0), self.tz)
        return start, datetime.combine(day + timedelta(days=1), time(0), self.tz)

    def working_seconds_between(self, a: datetime, b: datetime) -> float:
        """Seconds of working days between two moments (0 if b is not after a)."""
        if b <= a:
            return 0.0
        total = 0.0
        day = self.local_date(a)
        last = self.local_date(b)
        while day <= last:
            if self.is_working_day(day):
                lo, hi = self._day_bounds(day)
                total += max(0.0, (min(hi, b) - max(lo, a)).total_seconds())
            day += timedelta(days=1)
        return total

    def add_working_seconds(self, start: datetime, seconds: float) -> tuple[datetime, bool]:
        """Move forward through working days only, by ``seconds`` of them."""
        moment = start.astimezone(self.tz)
        provisional = False
        remaining = seconds
        while True:
            day = moment.date()
            provisional |= not self.known(day)
            _, hi = self._day_bounds(day)
            if self.is_working_day(day):
                room = (hi - moment).total_seconds()
                if remaining <= room:
                    return (moment + timedelta(seconds=remaining)).astimezone(timezone.utc), provisional
                remaining -= room
            moment = hi
