"""Writing a new case (立案): its row, its first tier record, its two events, its outbox rows and
its tracking number — everything ``service.submit`` decided, written in as few round trips as
the database allows. Intake is the hot path (docs/benchmarks.md, Intake).

- PostgreSQL: **one statement** — data-modifying CTEs take the next number from the per-year
  counter (locking its row until the commit that follows at once), insert the case with it, its
  tier record, its events, and the outbox rows with the new ids patched into their payloads.
- Any other database (SQLite, the embedded default): the same rows with cached Core statements,
  the tracking number last.

Both write the rows that ``submit`` computed; neither decides anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import bindparam, insert, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from ..notifications import outbox
from .models import Case, CaseEvent, CaseTier


@dataclass
class NewEvent:
    type: str
    actor: str
    data: dict
    series: str | None = None  # the meeting series whose secretary hears of it
    id: int | None = None


def row(case: Case) -> dict:
    """The new case's column values; a column left unset takes its default, on the row and on the
    (transient) object the API answers with."""
    values = {}
    for column in Case.__table__.columns:
        if column.key in ("id", "tracking_no"):
            continue
        value = getattr(case, column.key)
        if value is None and column.default is not None:
            value = column.default.arg(None) if callable(column.default.arg) else column.default.arg
            setattr(case, column.key, value)
        values[column.key] = value
    return values


def write_new(session: Session, case: Case, events: list[NewEvent], now: datetime, prefix: str, year: int,
              next_tracking_no) -> None:
    """Insert the case and what comes with it; sets ``case.id``, ``case.tracking_no`` and each
    event's id, and hands the new outbox rows to the notifier at commit."""
    if session.get_bind().dialect.name == "postgresql" and _write_pg(session, case, events, now, prefix, year):
        return
    case.id = session.execute(_INSERT_CASE, row(case)).scalar_one()
    ids = session.scalars(_INSERT_EVENTS, [dict(case_id=case.id, type=e.type, at=now, actor=e.actor, data=e.data)
                                           for e in events]).all()
    session.execute(_INSERT_TIER, dict(case_id=case.id, tier=case.tier, entered_at=now, reason="routed"))
    for event_id, e in zip(ids, events, strict=True):
        e.id = event_id
    # Last, so that the counter row stays locked only for the commit that follows.
    case.tracking_no = next_tracking_no(session, prefix, year)
    session.execute(_SET_TRACKING_NO, dict(case_id=case.id, tracking_no=case.tracking_no))
    for e in events:  # written at commit (outbox.write_staged), with the tracking number
        outbox.stage(session, case, _event(e, now), e.series)


def _event(e: NewEvent, now: datetime, event_id: int | None = None) -> SimpleNamespace:
    """The event as the outbox reads it (a plain object: it is already written)."""
    return SimpleNamespace(id=e.id if event_id is None else event_id, type=e.type, at=now, actor=e.actor, data=e.data)


# ---------------------------------------------------------------------------- portable
_INSERT_CASE = insert(Case.__table__).returning(Case.__table__.c.id)
_INSERT_EVENTS = insert(CaseEvent.__table__).returning(CaseEvent.__table__.c.id, sort_by_parameter_order=True)
_INSERT_TIER = insert(CaseTier.__table__)
_SET_TRACKING_NO = (update(Case.__table__).where(Case.__table__.c.id == bindparam("case_id"))
                    .values(tracking_no=bindparam("tracking_no")))


# ---------------------------------------------------------------------------- PostgreSQL
def _write_pg(session: Session, case: Case, events: list[NewEvent], now: datetime, prefix: str, year: int) -> bool:
    values = row(case)
    directory = session.info.get(outbox.DIRECTORY)
    case.id = 0  # the payloads get the real id, the tracking number and the event ids inside the statement
    rows = []
    for n, e in enumerate(events):
        rows += [{**r, "ord": n * 1000 + i}
                 for i, r in enumerate(outbox.rows_for(case, _event(e, now, event_id=0), e.series, directory))]
    params = {"case": _as_json(values), "prefix": prefix, "year": year, "now": now,
              "events": [{"ord": n, "type": e.type, "actor": e.actor, "data": e.data} for n, e in enumerate(events)],
              "outbox": [{k: r[k] for k in ("ord", "recipient_kind", "recipient", "channel", "event_type", "payload",
                                            "status")} for r in rows]}
    found = session.execute(_ONE_STATEMENT, params).one_or_none()
    if found is None:  # the year's counter does not exist yet: the portable path creates it
        return False
    case.id, case.tracking_no, event_ids, pending = found
    by_type = {kind: int(event_id) for kind, event_id in event_ids}
    for e in events:
        e.id = by_type[e.type]
    session.info.setdefault(outbox._NEW, []).extend(pending or ())
    return True


def _one_statement():
    columns = [c.name for c in Case.__table__.columns if c.key not in ("id", "tracking_no")]
    # The case travels as one JSON object, typed by jsonb_populate_record against the table
    # itself: a short statement (psycopg caches its parsing) and one bind instead of fifty.
    sql = f"""
WITH n AS (
    UPDATE tracking_counters SET value = value + 1
    WHERE prefix = CAST(:prefix AS TEXT) AND year = CAST(:year AS INTEGER) RETURNING value
), c AS (
    INSERT INTO cases ({", ".join(columns)}, tracking_no)
    SELECT {", ".join("r." + c for c in columns)},
           CAST(:prefix AS TEXT) || '-' || CAST(:year AS TEXT) || '-' || lpad(n.value::text, 6, '0')
    FROM n, jsonb_populate_record(NULL::cases, CAST(:case AS JSONB)) AS r
    RETURNING id, tracking_no, tier
), t AS (
    INSERT INTO case_tiers (case_id, tier, entered_at, reason)
    SELECT c.id, c.tier, CAST(:now AS TIMESTAMPTZ), 'routed' FROM c
), e AS (
    INSERT INTO case_events (case_id, type, at, actor, data)
    SELECT c.id, x.type, CAST(:now AS TIMESTAMPTZ), x.actor, x.data
    FROM c, jsonb_to_recordset(CAST(:events AS JSONB)) AS x(ord INTEGER, type TEXT, actor TEXT, data JSONB)
    ORDER BY x.ord
    RETURNING id, type
), o AS (
    INSERT INTO outbox (event_id, case_id, recipient_kind, recipient, channel, event_type, payload, status,
                        attempts, next_attempt_at, created_at)
    SELECT e.id, c.id, r.recipient_kind, r.recipient, r.channel, r.event_type,
           jsonb_set(jsonb_set(jsonb_set(r.payload, '{{event_id}}', to_jsonb(e.id)),
                               '{{case,id}}', to_jsonb(c.id)), '{{case,tracking_no}}', to_jsonb(c.tracking_no)),
           r.status, 0, CAST(:now AS TIMESTAMPTZ), CAST(:now AS TIMESTAMPTZ)
    FROM c, e JOIN jsonb_to_recordset(CAST(:outbox AS JSONB))
              AS r(ord INTEGER, recipient_kind TEXT, recipient TEXT, channel TEXT, event_type TEXT, payload JSONB,
                   status TEXT) ON r.event_type = e.type
    ORDER BY r.ord
    RETURNING id, status
)
SELECT c.id, c.tracking_no,
       (SELECT array_agg(ARRAY[e.type, e.id::text]) FROM e),
       (SELECT array_agg(o.id ORDER BY o.id) FILTER (WHERE o.status = '{outbox.PENDING}') FROM o)
FROM c
"""
    return text(sql).bindparams(
        bindparam("case", type_=postgresql.JSONB), bindparam("events", type_=postgresql.JSONB),
        bindparam("outbox", type_=postgresql.JSONB), bindparam("now", type_=Case.__table__.c.created_at.type))


def _as_json(values: dict) -> dict:
    """A row for jsonb_populate_record: times in UTC ISO form, amounts as exact strings."""
    out = {}
    for key, value in values.items():
        if isinstance(value, datetime):
            value = value.astimezone(timezone.utc).isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        out[Case.__table__.c[key].name] = value
    return out


_ONE_STATEMENT = _one_statement()

__all__ = ["NewEvent", "row", "write_new"]
