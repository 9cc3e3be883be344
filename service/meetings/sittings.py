"""Sittings of a meeting series (会议场次): the next one whose agenda is still open.

A case entering tier 2, 4 or 5 goes on the agenda of the next sitting of its series whose agenda
has not closed; a sitting that falls on a holiday moves to the next working day, same hour.
Used by manual escalation and reopening here, by the deadline sweep (#4) and the agendas (#6).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from croniter import croniter
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from routing_rules.language import Duration

from ..escalation.calendar import WorkCalendar
from ..directory.models import Sitting

_HORIZON = 400  # schedule candidates looked at before giving up (more than a year of weeklies)


def next_sitting_time(schedule: str, closes_before: str, after: datetime,
                      calendar: WorkCalendar) -> tuple[datetime, datetime]:
    """(starts_at, agenda_closes_at) of the first sitting whose agenda closes after ``after``."""
    cutoff = Duration.parse(closes_before)
    # No sitting that starts before ``after + cutoff`` can still be open (a working day is at
    # least a calendar day), so the search starts there, however frequent the schedule.
    earliest = after + (timedelta(days=cutoff.amount) if cutoff.unit == "working_days"
                        else timedelta(seconds=cutoff.calendar_seconds or 0))
    it = croniter(schedule, (earliest - timedelta(seconds=1)).astimezone(calendar.tz))
    for _ in range(_HORIZON):
        planned = it.get_next(datetime)
        day = calendar.next_working_day(planned.date())
        starts = datetime.combine(day, planned.timetz().replace(tzinfo=None), calendar.tz)
        closes = calendar.before(starts, cutoff)
        if closes > after:
            return starts.astimezone(after.tzinfo), closes.astimezone(after.tzinfo)
    raise ValueError(f"schedule '{schedule}' has no sitting within {_HORIZON} occurrences")


def next_sitting(session: Session, series_key: str, schedule: str, closes_before: str,
                 after: datetime, calendar: WorkCalendar) -> Sitting:
    """The sitting row for the next open agenda, created (and numbered) if it is new."""
    starts, closes = next_sitting_time(schedule, closes_before, after, calendar)
    for _ in range(5):
        found = session.scalar(select(Sitting).where(Sitting.series_key == series_key, Sitting.starts_at == starts))
        if found is not None:
            return found
        try:
            with session.begin_nested():
                number = (session.scalar(select(func.max(Sitting.number)).where(Sitting.series_key == series_key)) or 0) + 1
                sitting = Sitting(series_key=series_key, number=number, starts_at=starts, agenda_closes_at=closes)
                session.add(sitting)
            return sitting
        except IntegrityError:
            continue  # another transaction created it (or took the number) first: look again
    raise RuntimeError(f"could not create the next sitting of {series_key}")


__all__ = ["next_sitting", "next_sitting_time"]
