"""The deadline sweep (超时升级): what the beat runs every tick, and the embedded default runs
in-process. A plain function of the database and the clock.

Each tick, in order:

1. **escalate** open and in-progress cases whose deadline has passed, one tier each, oldest
   deadline first — new tier, sitting and deadline, an ``escalated`` event saying how late it
   was, notifications; a tier-5 case is instead flagged for supervision (督办);
2. **warn** cases whose warning time has passed, once per case and tier;
3. **remind** supervised tier-5 cases at the supervision interval;
4. **close** resolved cases whose confirmation window has passed (confirmed by default);
5. **remind** the officer, once, of a call-back (回访) still owed past its due time.

Why it is safe to run anywhere, any number of times: deadlines live in the database, not the
broker; each batch claims its rows with ``FOR UPDATE SKIP LOCKED`` (on SQLite, ``BEGIN
IMMEDIATE`` serialises writers), re-reads them under the lock, and the tier change is guarded by
the unique (case, tier) record. A second beat, a replayed task or a worker killed between two
batches finds nothing to do for what was done, and the rows that were not done yet.

Catch-up: a case escalated in this tick is not escalated again in the same tick (``escalated_at``),
so after an outage every case climbs one tier per tick, in deadline order, each step counting its
next deadline from when the previous one passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Callable

import json
import logging
import time

import psycopg
from sqlalchemy import bindparam, inspect, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, load_only

from .. import callbacks
from ..callbacks.models import Callback
from ..cases import machine
from ..cases.models import Case
from ..cases.service import close_unconfirmed, record
from ..directory.models import Sitting
from ..errors import Conflict
from ..notifications import outbox
from ..reports import facts
from ..runtime import Runtime
from . import recalendar
from ..similarity.service import index_queued
from .ladder import TOP_TIER, enter_tier
from .metrics import observe_escalation

log = logging.getLogger("closedloop.sweep")


@dataclass
class SweepReport:
    escalated: list[dict] = field(default_factory=list)
    supervised: list[dict] = field(default_factory=list)
    warned: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    callbacks_overdue: list[str] = field(default_factory=list)
    recounted: list[dict] = field(default_factory=list)
    indexed: int = 0
    published: list[int] = field(default_factory=list)  # sittings whose agenda closed this tick

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.__dict__.items() if k != "indexed"}


def _due(now: datetime, dialect: str):
    """What may be escalated now, read from ``ix_cases_to_escalate`` (the deadlines of the cases
    not supervised). On PostgreSQL only a running case has a deadline (a check constraint), so the
    status is not asked: asked, it lets the planner take the index of all running deadlines
    instead, which at a million cases walks every supervised case past due (20,000) to find none
    (bench/escalation.py). SQLite has no such check; there the status is asked."""
    where = [Case.due_at <= now, Case.supervised.is_(False), or_(Case.escalated_at.is_(None), Case.escalated_at < now)]
    if dialect != "postgresql":
        where.append(Case.status.in_(machine.RUNNING))
    return select(Case).where(*where).order_by(Case.due_at, Case.id)


def _claim(session: Session, stmt, batch: int) -> list[Case]:
    return list(session.scalars(stmt.limit(batch).with_for_update(skip_locked=True)))


# What escalating a case reads; everything else stays unloaded (and may not be read: raiseload).
_ESCALATION_COLUMNS = (
    Case.id, Case.tracking_no, Case.enterprise_id, Case.district, Case.officer_id, Case.title, Case.status,
    Case.tier, Case.lead_department, Case.co_departments, Case.sla_policy, Case.theme, Case.sitting_id,
    Case.due_at, Case.supervised, Case.version, Case.escalated_at, Case.confirm_due_at,  # + what notices show
    Case.category,  # + what the report facts count under
)


def escalate_due(rt: Runtime, now: datetime, report: SweepReport, batch: int,
                 on_backlog: Callable[[datetime], None] | None = None) -> None:
    """Escalate what is due as of ``now``, batch after batch. ``on_backlog`` is called once if
    the first batch is full: the workers use it to send helpers that drain the same rows in
    parallel (they skip each other's locked rows, and carry this ``now``, so nothing escalated
    in this tick is escalated again)."""
    sittings: dict = {}  # the next sitting per series, for this tick
    # Lateness is measured to when each escalation is actually made: the tick's ``now`` plus the
    # time this tick has been running (a burst of 10,000 takes seconds; the last ones are later).
    started = time.monotonic()
    first = True
    stmt = _due(now, rt.engine.dialect.name).options(load_only(*_ESCALATION_COLUMNS, raiseload=True))
    while True:
        with rt.session() as session:
            cases = _claim(session, stmt, batch)
            if not cases:
                return
            if first and on_backlog is not None and len(cases) == batch:
                on_backlog(now)
            first = False
            bulk = session.get_bind().dialect.name == "postgresql"
            writes = _Writes(rt.directory) if bulk else None
            try:
                done = [_escalate(session, rt, case, now, sittings, guarded=False, started=started, writes=writes)
                        for case in cases]
                if writes is not None:
                    writes.update_cases(session, cases)
                    session.flush()
                    writes.copy(session)
                session.commit()
            except (IntegrityError, psycopg.IntegrityError):  # the latter from COPY, below SQLAlchemy
                # a (case, tier) record already there: a bug or a hand edit, not a race (we hold the
                # row locks). Redo this batch case by case, so one bad row cannot block the rest.
                session.rollback()
                sittings.clear()
                done = []
                for case in _claim(session, stmt, batch):
                    try:
                        with session.begin_nested():
                            done.append(_escalate(session, rt, case, now, sittings, guarded=True, started=started))
                    except Conflict:
                        log.error("case %s: already at the next tier; left for an operator", case.tracking_no)
                        case.escalated_at = now  # not retried this tick
                session.commit()
        for kind, row, late in done:
            (report.supervised if kind == "supervised" else report.escalated).append(row)
            observe_escalation(kind, late)


class _Writes:
    """A batch's new rows besides the cases' own (events, tier records, report facts, outbox), written with
    COPY on PostgreSQL: a burst of thousands of escalations is bound by these inserts."""

    def __init__(self, directory=None) -> None:
        self.directory = directory
        self.tiers: list[tuple] = []
        self.events: list[tuple] = []  # (case, type, at, data, secretary series)

    def update_cases(self, session: Session, cases: list[Case]) -> None:
        """Write the batch's cases as one pipelined ``executemany`` per set of changed columns,
        and take them out of the session so that its flush does not write them again. The ORM
        writes a versioned row with an UPDATE of its own checked by its row count: 10,000 round
        trips were half of a 10,000-case burst (bench/escalation.py). The rows are locked by this
        transaction (``FOR UPDATE``), so the version check has nothing left to catch."""
        groups: dict[tuple[str, ...], list[dict]] = {}
        for case in cases:
            state = inspect(case)  # what was set since the load: committed_state holds the old values
            changed = {key: state.dict[key] for key in state.committed_state if key in Case.__table__.c}
            groups.setdefault(tuple(sorted(changed)), []).append({"_id": case.id, **changed})
        for case in cases:
            session.expunge(case)
        table = Case.__table__
        for columns, rows in groups.items():
            if columns:
                session.execute(update(table).where(table.c.id == bindparam("_id"))
                                .values({c: bindparam(c) for c in columns}), rows)

    def copy(self, session: Session) -> None:
        cursor = session.connection().connection.driver_connection.cursor()
        with cursor:
            if self.tiers:
                with cursor.copy("COPY case_tiers (case_id, tier, entered_at, reason) FROM STDIN") as copy:
                    for row in self.tiers:
                        copy.write_row(row)
            if not self.events:
                return
            cursor.execute("SELECT nextval(pg_get_serial_sequence('case_events', 'id')) "
                           "FROM generate_series(1, %s)", (len(self.events),))
            ids = [row[0] for row in cursor.fetchall()]
            outbox_rows = []
            with cursor.copy("COPY case_events (id, case_id, type, at, actor, data) FROM STDIN") as copy:
                for event_id, (case, kind, at, data, series) in zip(ids, self.events, strict=True):
                    copy.write_row((event_id, case.id, kind, at, "system", json.dumps(data, ensure_ascii=False)))
                    event = SimpleNamespace(id=event_id, type=kind, at=at, actor="system", data=data)
                    rows = outbox.rows_for(case, event, series, self.directory)
                    payload = json.dumps(rows[0]["payload"], ensure_ascii=False) if rows else None
                    outbox_rows += [(r["event_id"], r["case_id"], r["recipient_kind"], r["recipient"], r["channel"],
                                     r["event_type"], payload, r["status"], 0, at, at) for r in rows]
            with cursor.copy(f"COPY case_facts ({', '.join(facts.COLUMNS)}) FROM STDIN") as copy:
                for case, kind, at, data, _ in self.events:
                    if (fact := facts.fact_for(case, kind, at, data)) is not None:
                        copy.write_row(tuple(fact[c] for c in facts.COLUMNS))
            with cursor.copy("COPY outbox (event_id, case_id, recipient_kind, recipient, channel, event_type, "
                             "payload, status, attempts, next_attempt_at, created_at) FROM STDIN") as copy:
                for row in outbox_rows:
                    copy.write_row(row)
            if outbox_rows:
                session.info[outbox.DRAIN] = True


def _escalate(session: Session, rt: Runtime, case: Case, now: datetime, sittings: dict,
              guarded: bool, started: float, writes: _Writes | None = None) -> tuple[str, dict, float]:
    late = round((now - case.due_at).total_seconds() + (time.monotonic() - started), 3)
    series = None
    if case.tier >= TOP_TIER:
        case.supervised = True
        case.supervision_next_at, _ = rt.calendar.after(case.due_at, rt.settings.supervision_interval)
        data = {"reason": "deadline", "tier": case.tier, "late_seconds": late, "due_at": case.due_at.isoformat()}
        kind = "supervised"
        if case.sitting_id is not None:
            series = session.scalar(select(Sitting.series_key).where(Sitting.id == case.sitting_id))
    else:
        old_due, from_tier = case.due_at, case.tier
        placed = enter_tier(session, rt, case, from_tier + 1, now, "deadline", since=old_due, sittings=sittings,
                            guarded=guarded, tier_rows=writes.tiers if writes is not None else None)
        data = {"reason": "deadline", "by": "deadline", "from_tier": from_tier, "late_seconds": late,
                "was_due_at": old_due.isoformat(), **placed}
        kind = "escalated"
        series = placed.get("sitting", {}).get("series")
    case.escalated_at = now
    case.version += 1
    case.updated_at = now
    if writes is not None:
        writes.events.append((case, kind, now, data, series))
    else:
        record(session, case, kind, "system", now, data, series)
    return kind, {"tracking_no": case.tracking_no, "tier": case.tier, "late_seconds": late}, late


def _each_claimed(rt: Runtime, stmt, batch: int, act: Callable[[Session, Case], None]) -> None:
    """Claim rows batch after batch (skipping rows another sweep holds) and act on each."""
    while True:
        with rt.session() as session:
            cases = _claim(session, stmt, batch)
            if not cases:
                return
            for case in cases:
                act(session, case)
            session.commit()


def warn_due(rt: Runtime, now: datetime, report: SweepReport, batch: int) -> None:
    stmt = (select(Case)
            .where(Case.status.in_(machine.RUNNING), Case.warn_at <= now, Case.due_at > now,
                   Case.warned_tier.is_distinct_from(Case.tier))
            .order_by(Case.warn_at, Case.id))

    def warn(session: Session, case: Case) -> None:
        case.warned_tier = case.tier
        record(session, case, "warning", "system", now,
               {"tier": case.tier, "due_at": case.due_at.isoformat(),
                "seconds_left": (case.due_at - now).total_seconds()})
        report.warned.append(case.tracking_no)

    _each_claimed(rt, stmt, batch, warn)


def remind_supervised(rt: Runtime, now: datetime, report: SweepReport, batch: int) -> None:
    stmt = (select(Case)
            .where(Case.supervised.is_(True), Case.status.in_(machine.ACTIVE), Case.supervision_next_at <= now)
            .order_by(Case.supervision_next_at, Case.id))

    def remind(session: Session, case: Case) -> None:
        planned = case.supervision_next_at
        case.supervision_next_at, _ = rt.calendar.after(planned, rt.settings.supervision_interval)
        if case.supervision_next_at <= now:  # after an outage: one reminder, the next one ahead
            case.supervision_next_at, _ = rt.calendar.after(now, rt.settings.supervision_interval)
        record(session, case, "reminded", "system", now,
               {"planned_at": planned.isoformat(), "next_at": case.supervision_next_at.isoformat()})
        report.reminded.append(case.tracking_no)

    _each_claimed(rt, stmt, batch, remind)


def close_confirmed_by_default(rt: Runtime, now: datetime, report: SweepReport, batch: int) -> None:
    while True:
        with rt.session() as session:
            closed = close_unconfirmed(session, rt, now, limit=batch)
            session.commit()
        report.closed += closed
        if len(closed) < batch:
            return


def remind_callbacks(rt: Runtime, now: datetime, report: SweepReport, batch: int) -> None:
    """回访逾期: a call-back still owed past its due time is put to the case's officer, once
    (``reminded_at``); after that it stays on the officer's list, as every pending one does."""
    stmt = (select(Callback).where(Callback.state == callbacks.PENDING, Callback.reminded_at.is_(None),
                                   Callback.due_at <= now).order_by(Callback.due_at, Callback.id))
    while True:
        with rt.session() as session:
            owed = list(session.scalars(stmt.limit(batch).with_for_update(skip_locked=True)))
            if not owed:
                return
            cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_({o.case_id for o in owed})))}
            for callback in owed:
                callback.reminded_at = now
                case = cases[callback.case_id]
                record(session, case, "callback_overdue", "system", now,
                       {"callback_id": callback.id, "reason": callback.reason,
                        "callback_due": callback.due_at.isoformat(), "attempts": callback.attempts})
                report.callbacks_overdue.append(case.tracking_no)
            session.commit()
        if len(owed) < batch:
            return


def sweep(rt: Runtime, now: datetime | None = None, batch: int | None = None,
          on_backlog: Callable[[datetime], None] | None = None) -> SweepReport:
    """One tick. ``now`` is the clock (the runtime's by default)."""
    now = now or rt.clock()
    batch = batch or rt.settings.sweep_batch
    report = SweepReport()
    # first: a deadline that a newly published year moved into the past escalates in this tick
    report.recounted = recalendar.on_tick(rt, now)
    escalate_due(rt, now, report, batch, on_backlog)
    warn_due(rt, now, report, batch)
    remind_supervised(rt, now, report, batch)
    close_confirmed_by_default(rt, now, report, batch)
    remind_callbacks(rt, now, report, batch)
    # after the escalations, so that a case escalated before a cut-off is on that agenda
    from ..meetings.service import publish_due

    report.published = publish_due(rt, now)
    # the cases filed since the last tick join the near-duplicate index (共性问题)
    report.indexed = index_queued(rt, now, batch)
    return report


def next_moment(rt: Runtime, now: datetime) -> datetime | None:
    """When a tick next has something to do, if anything is ahead: the earliest deadline of a case
    not supervised, warning not yet given at its tier, supervision reminder (督办), end of a
    confirmation window or call-back falling overdue after ``now``. One statement, each part read
    off the index its claim reads. The worker and the embedded loop wake at it rather than at the next interval, so a
    deadline escalates when it passes, not up to an interval later; what changes afterwards (a
    new case, an extension) is seen by the next regular tick."""
    running = [] if rt.engine.dialect.name == "postgresql" else [Case.status.in_(machine.RUNNING)]  # see _due
    parts = [
        select(Case.due_at).where(Case.due_at > now, Case.supervised.is_(False), *running).order_by(Case.due_at),
        select(Case.warn_at).where(Case.status.in_(machine.RUNNING), Case.warn_at > now,
                                   Case.warned_tier.is_distinct_from(Case.tier)).order_by(Case.warn_at),
        select(Case.supervision_next_at).where(Case.supervised.is_(True), Case.status.in_(machine.ACTIVE),
                                               Case.supervision_next_at > now).order_by(Case.supervision_next_at),
        # only a resolved case has one (set when it is resolved, cleared as it leaves): asked, the
        # status lets the planner sort every resolved case instead of reading one index entry
        select(Case.confirm_due_at).where(Case.confirm_due_at > now).order_by(Case.confirm_due_at),
        select(Callback.due_at).where(Callback.state == callbacks.PENDING, Callback.reminded_at.is_(None),
                                      Callback.due_at > now).order_by(Callback.due_at),
    ]
    with rt.session() as session:
        moments = session.execute(select(*(part.limit(1).scalar_subquery() for part in parts))).one()
    return min((m for m in moments if m is not None), default=None)


def next_wake(rt: Runtime, now: datetime) -> datetime | None:
    """The moment to sweep again before the regular interval is up, if there is one: the next
    moment (``next_moment``, from the tick's own ``now``) when it comes within the interval."""
    moment = next_moment(rt, now)
    if moment is None or (moment - now).total_seconds() >= rt.settings.sweep_interval:
        return None
    return moment


def preview(rt: Runtime, now: datetime | None = None, limit: int = 1000) -> list[dict]:
    """What the next tick would escalate, without changing anything (``closedloop sweep --dry-run``)."""
    now = now or rt.clock()
    with rt.session() as session:
        return [{"tracking_no": c.tracking_no, "from_tier": c.tier,
                 "to": "supervision" if c.tier >= TOP_TIER else c.tier + 1,
                 "due_at": c.due_at.isoformat(), "late_seconds": (now - c.due_at).total_seconds()}
                for c in session.scalars(_due(now, rt.engine.dialect.name).limit(limit))]
