"""Sittings of a meeting series (会议场次): the next one whose agenda is still open.

A case entering tier 2, 4 or 5 goes on the agenda of the next sitting of its series whose agenda
has not closed; a sitting that falls on a holiday moves to the next working day, same hour.
Used by manual escalation and reopening here, by the deadline sweep (#4) and the agendas (#6).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from croniter import croniter
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from routing_rules.language import Duration

from ..escalation.calendar import WorkCalendar
from ..directory import MeetingSeries
from ..directory.models import Sitting

_HORIZON = 400  # schedule candidates looked at before giving up (more than a year of weeklies)


def next_sitting_time(schedule: str, closes_before: str, after: datetime,
                      calendar: WorkCalendar, skip: set[datetime] | None = None) -> tuple[datetime, datetime]:
    """(starts_at, agenda_closes_at) of the first scheduled sitting whose agenda closes after
    ``after``; ``skip``: start times of sittings that were cancelled."""
    cutoff = Duration.parse(closes_before)
    # No sitting that starts before ``after + cutoff`` can still be open (a working day is at
    # least a calendar day), so the search starts there, however frequent the schedule.
    earliest = after + (timedelta(days=cutoff.amount) if cutoff.unit == "working_days"
                        else timedelta(seconds=cutoff.calendar_seconds or 0))
    it = croniter(schedule, (earliest - timedelta(seconds=1)).astimezone(calendar.tz))
    for _ in range(_HORIZON):
        planned = it.get_next(datetime)
        starts, closes = sitting_times(planned, cutoff, calendar)
        if closes > after and (not skip or starts not in skip):
            return starts.astimezone(after.tzinfo), closes.astimezone(after.tzinfo)
    raise ValueError(f"schedule '{schedule}' has no sitting within {_HORIZON} occurrences")


def sitting_times(planned: datetime, cutoff: Duration, calendar: WorkCalendar) -> tuple[datetime, datetime]:
    """A planned sitting moved off a holiday to the next working day (same hour), and its cut-off."""
    planned = planned.astimezone(calendar.tz)
    day = calendar.next_working_day(planned.date())
    starts = datetime.combine(day, planned.timetz().replace(tzinfo=None), calendar.tz)
    return starts, calendar.before(starts, cutoff)


def next_sitting(session: Session, series: MeetingSeries, after: datetime, calendar: WorkCalendar) -> Sitting:
    """The sitting whose agenda is the next to close after ``after``: the series' next scheduled
    one (created and numbered if new, cancelled ones skipped), or an extra sitting an admin added
    before it."""
    cancelled = set(session.scalars(select(Sitting.starts_at).where(
        Sitting.series_key == series.key, Sitting.status == CANCELLED, Sitting.starts_at > after)))
    starts, closes = next_sitting_time(series.schedule, series.agenda_closes_before, after, calendar, cancelled)
    extra = session.scalar(
        select(Sitting).where(Sitting.series_key == series.key, Sitting.kind == "extra", Sitting.status == SCHEDULED,
                              Sitting.agenda_closes_at > after, Sitting.starts_at < starts)
        .order_by(Sitting.agenda_closes_at).limit(1))
    if extra is not None:
        return extra
    for _ in range(5):
        found = session.scalar(select(Sitting).where(Sitting.series_key == series.key, Sitting.starts_at == starts))
        if found is not None:
            return found
        # Another transaction may create it (or take the number) first: then nothing is inserted
        # and the loop looks again. No savepoint, so this also works where each statement is its
        # own transaction (case intake, cases/writes.py): a sitting stands on its own.
        new_id = session.execute(_insert_if_free(session), dict(
            series_key=series.key, number=next_number(session, series), starts_at=starts, agenda_closes_at=closes,
            status=SCHEDULED, kind="regular")).scalar()
        if new_id is not None:
            return session.get(Sitting, new_id)
    raise RuntimeError(f"could not create the next sitting of {series.key}")


def _insert_if_free(session: Session):
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    return insert(Sitting).on_conflict_do_nothing().returning(Sitting.id)


def next_number(session: Session, series: MeetingSeries) -> int:
    """Sittings are numbered in the order they are created, from the series' ``first_number``."""
    last = session.scalar(select(func.max(Sitting.number)).where(Sitting.series_key == series.key))
    return series.first_number if last is None else last + 1


SCHEDULED, PUBLISHED, HELD, CANCELLED = "scheduled", "published", "held", "cancelled"
STATUSES = (SCHEDULED, PUBLISHED, HELD, CANCELLED)

__all__ = ["next_number", "next_sitting", "next_sitting_time", "sitting_times"]
