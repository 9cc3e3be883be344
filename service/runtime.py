"""What a running process holds: settings, the directory, the calendar, the active rule set, the
database, and the clock. The API and the workers are thin shells around it."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from routing_rules import ActiveRuleSet, load_ruleset

from .auth.limits import Limiter
from .config import Settings
from .db import make_engine, make_sessionmaker, utcnow
from .directory import Directory, load_directory
from .escalation.calendar import WorkCalendar, load_holiday_file
from .notifications import outbox


@dataclass
class Runtime:
    settings: Settings
    directory: Directory
    calendar: WorkCalendar
    rules: ActiveRuleSet
    engine: Engine
    sessions: sessionmaker
    limiter: Limiter
    clock: Callable[[], datetime] = field(default=utcnow)
    # started right after each commit that wrote outbox rows (notifications/dispatch.py)
    notifier: Callable[[list[int] | None], None] | None = None
    # the holiday file as last read (mtime, size), how many times a calendar was loaded in this
    # process, and the load whose provisional deadlines were counted again (escalation/recalendar.py)
    calendar_source: tuple | None = None
    calendar_generation: int = 1
    calendar_recounted: int = 0
    calendar_checked: float = 0.0  # time.monotonic() of the last look at the holiday file

    @classmethod
    def build(cls, settings: Settings | None = None, clock: Callable[[], datetime] = utcnow) -> "Runtime":
        settings = settings or Settings.from_env()
        directory = load_directory(settings.directory)
        vocabulary = directory.vocabulary()
        calendar = load_calendar(settings)
        rules = ActiveRuleSet(lambda: load_ruleset(settings.rules, vocabulary))
        engine = make_engine(settings.database_url)
        sessions = make_sessionmaker(engine)
        limiter = Limiter.build(settings.rate_limit, settings.daily_case_cap, settings.redis_url)
        rt = cls(settings, directory, calendar, rules, engine, sessions, limiter, clock)
        rt.calendar_source = _holiday_file_state(settings)
        if settings.redis_url:
            from .notifications.dispatch import CeleryNotifier

            rt.notifier = CeleryNotifier(settings.redis_url)
        outbox.install(sessions, directory, rt.notify)
        return rt

    def notify(self, ids: list[int] | None) -> None:
        if self.notifier is not None:
            self.notifier(ids)

    def reload_calendar(self) -> None:
        """Read the holiday file again (ValueError if it cannot be: the calendar in use stays)."""
        source = _holiday_file_state(self.settings)
        self.calendar = load_calendar(self.settings)
        self.calendar_source = source
        self.calendar_generation += 1

    def refresh_calendar(self) -> bool:
        """Reload the calendar if the holiday file changed since it was read (a stat, no more)."""
        if _holiday_file_state(self.settings) == self.calendar_source:
            return False
        self.reload_calendar()
        return True

    def refresh_calendar_now_and_then(self, every: float = 5.0) -> None:
        """An API process's look at the holiday file, at most every ``every`` seconds: new cases
        get the new year's deadlines within seconds of the file changing, without a restart.
        (The sweep counts the stored ones again; this process only reads.)"""
        now = time.monotonic()
        if now - self.calendar_checked < every:
            return
        self.calendar_checked = now
        try:
            self.refresh_calendar()
        except ValueError:
            logging.getLogger("closedloop.calendar").exception("the holiday file cannot be read; the calendar in use stays")

    def session(self) -> Session:
        return self.sessions()

    @property
    def tracking_prefix(self) -> str:
        return self.settings.tracking_prefix or self.directory.city.tracking_prefix

    def series_for(self, tier: int, district: str | None, theme: str | None):
        """The meeting series a case at a meeting tier goes to (None for tiers 1 and 3)."""
        series = [s for s in self.directory.meeting_series if s.tier == tier]
        if tier == 2:
            series = [s for s in series if s.district == district]
        elif tier == 4:
            themed = [s for s in series if s.theme == theme]
            series = themed or series  # a theme without its own meeting goes to the first
        return series[0] if series else None


def load_calendar(settings: Settings) -> WorkCalendar:
    """The calendar with the operator's years. A holiday file named but not there yet is no
    years (`closedloop holidays import` creates it), said in the log."""
    extra = None
    if settings.holidays_file:
        if settings.holidays_file.exists():
            extra = load_holiday_file(settings.holidays_file)
        else:
            logging.getLogger("closedloop.calendar").warning(
                "CLOSEDLOOP_HOLIDAYS names %s, which does not exist: no operator years", settings.holidays_file)
    return WorkCalendar(settings.timezone, settings.workday_end, extra, settings.office_hours)


def _holiday_file_state(settings: Settings) -> tuple | None:
    if not settings.holidays_file:
        return None
    try:
        st = settings.holidays_file.stat()
    except FileNotFoundError:
        return ("missing",)
    return (st.st_mtime_ns, st.st_size)
