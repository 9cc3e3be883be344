"""Writing a new case (立案): its row, its first tier record, its two events, its outbox rows and
its tracking number — everything ``service.submit`` decided, written in as few round trips as
the database allows. Intake is the hot path (docs/benchmarks.md, Intake).

- PostgreSQL: **one statement** — data-modifying CTEs take the next number from the per-year
  counter (locking its row until the commit), insert the case with it, its tier record, its
  events, its report fact (reports/facts.py: received), its place in the near-duplicate index's
  queue (similarity/), and the outbox rows with the new ids patched into their payloads. In a session that
  ``statement_per_transaction`` set up (the API's intake without an Idempotency-Key), that
  statement is its own transaction: PostgreSQL commits it as it ends, so the counter row is
  never locked while the client is between round trips, and no BEGIN or COMMIT travels.
- Any other database (SQLite, the embedded default): the same rows with cached Core statements,
  the tracking number last.

Both write the rows that ``submit`` computed; neither decides anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import Numeric, bindparam, insert, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from ..db import UTCDateTime
from ..notifications import outbox
from ..reports import facts
from ..reports.models import CaseFact
from ..similarity.models import SimilarityQueue
from .models import Case, CaseEvent, CaseTier


@dataclass
class NewEvent:
    type: str
    actor: str
    data: dict
    series: str | None = None  # the meeting series whose secretary hears of it
    id: int | None = None


class NewCase(SimpleNamespace):
    """A case being filed (立案): the columns of ``cases`` as plain attributes. Not an ORM entity —
    the row is written here with Core, and an entity's bookkeeping cost intake about a tenth of
    its Python time — but read like one by the ladder, the outbox and the API's answer."""


_WRITTEN = [c.key for c in Case.__table__.columns if c.key not in ("id", "tracking_no")]
_FIXED_DEFAULTS = {c.key: None if c.default is None or callable(c.default.arg) else c.default.arg
                   for c in Case.__table__.columns}
_MADE_DEFAULTS = [(c.key, c.default.arg) for c in Case.__table__.columns
                  if c.default is not None and callable(c.default.arg)]


def new_case(**values) -> NewCase:
    """A case to file: the columns given, every other at its column default (or None)."""
    for key, make in _MADE_DEFAULTS:
        if key not in values:
            values[key] = make(None)  # SQLAlchemy's wrapper of the default takes a context
    return NewCase(**{**_FIXED_DEFAULTS, **values})


def row(case: NewCase) -> dict:
    """The new case's column values, as written."""
    values = vars(case)
    return {key: values[key] for key in _WRITTEN}


def statement_per_transaction(session: Session) -> bool:
    """On PostgreSQL, run this session's statements each as a transaction of its own
    (AUTOCOMMIT); call it before the session's first statement. For a caller whose only write is
    the case's one statement (and, at most, the creation of a meeting's next sitting, which
    stands on its own: meetings/sittings.py). Returns whether it did."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    session.connection(execution_options=_OWN_TRANSACTIONS)
    return True


_OWN_TRANSACTIONS = {"isolation_level": "AUTOCOMMIT"}


def _own_transactions(conn) -> bool:
    """Whether each statement on this connection is its own transaction (statement_per_transaction)."""
    return conn.get_execution_options().get("isolation_level") == _OWN_TRANSACTIONS["isolation_level"]


def write_new(session: Session, case: NewCase, events: list[NewEvent], now: datetime, prefix: str, year: int,
              next_tracking_no) -> None:
    """Insert the case and what comes with it; sets ``case.id``, ``case.tracking_no`` and each
    event's id, and hands the new outbox rows to the notifier at commit."""
    if session.get_bind().dialect.name == "postgresql" and _write_pg(session, case, events, now, prefix, year):
        return
    case.id = session.execute(_INSERT_CASE, row(case)).scalar_one()
    ids = session.scalars(_INSERT_EVENTS, [dict(case_id=case.id, type=e.type, at=now, actor=e.actor, data=e.data)
                                           for e in events]).all()
    session.execute(_INSERT_TIER, dict(case_id=case.id, tier=case.tier, entered_at=now, reason="routed"))
    session.execute(_QUEUE_SIMILARITY, dict(case_id=case.id))
    for event_id, e in zip(ids, events, strict=True):
        e.id = event_id
        if (fact := facts.fact_for(case, e.type, now, e.data)) is not None:
            session.execute(_INSERT_FACT, fact)
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
_INSERT_FACT = insert(CaseFact.__table__)
_QUEUE_SIMILARITY = insert(SimilarityQueue.__table__)
_SET_TRACKING_NO = (update(Case.__table__).where(Case.__table__.c.id == bindparam("case_id"))
                    .values(tracking_no=bindparam("tracking_no")))


# ---------------------------------------------------------------------------- PostgreSQL
def _write_pg(session: Session, case: NewCase, events: list[NewEvent], now: datetime, prefix: str, year: int) -> bool:
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
    conn = session.connection()
    found = conn.execute(_ONE_STATEMENT, params).one_or_none()
    if found is None:  # the year's counter does not exist yet
        if not _own_transactions(conn):
            return False  # the portable path creates it, in this transaction
        # each statement commits by itself: create the counter (none issued yet), then number
        conn.execute(_NEW_COUNTER, {"prefix": prefix, "year": year})
        found = conn.execute(_ONE_STATEMENT, params).one()
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
    RETURNING id, tracking_no, tier, lead_department, district, officer_id, theme, category
), f AS (
    INSERT INTO case_facts (case_id, kind, at, lead_department, district, officer_id, tier, theme, category)
    SELECT c.id, 'submitted', CAST(:now AS TIMESTAMPTZ), c.lead_department, c.district, c.officer_id, c.tier,
           c.theme, c.category FROM c
), t AS (
    INSERT INTO case_tiers (case_id, tier, entered_at, reason)
    SELECT c.id, c.tier, CAST(:now AS TIMESTAMPTZ), 'routed' FROM c
), q AS (
    INSERT INTO similarity_queue (case_id) SELECT c.id FROM c
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


_TIMES = [c.key for c in Case.__table__.columns if c.key in _WRITTEN and isinstance(c.type, UTCDateTime)]
_AMOUNTS = [c.key for c in Case.__table__.columns if c.key in _WRITTEN and isinstance(c.type, Numeric)]
# the JSON row is keyed by column name, ``row`` by attribute key: the same for every column of cases
assert all(c.key == c.name for c in Case.__table__.columns)


def _as_json(values: dict) -> dict:
    """A row for jsonb_populate_record: times in ISO form with their offset, amounts as exact strings."""
    out = dict(values)
    for key in _TIMES:
        value = out[key]
        if value is not None:
            if value.tzinfo is None:
                raise ValueError(f"{key}: naive datetime given to the database; pass an aware one")
            out[key] = value.isoformat()
    for key in _AMOUNTS:
        if out[key] is not None:
            out[key] = str(out[key])
    return out


_ONE_STATEMENT = _one_statement()
_NEW_COUNTER = text("INSERT INTO tracking_counters (prefix, year, value) VALUES (:prefix, :year, 0) "
                    "ON CONFLICT DO NOTHING")

__all__ = ["NewCase", "NewEvent", "new_case", "row", "statement_per_transaction", "write_new"]
