"""Delivering the outbox (消息推送): claim due messages, send them, record what happened.

Three short steps, each its own transaction, so that a worker may die at any line:

1. **claim** — due messages (``pending`` and due, or ``sending`` whose lease ran out because the
   worker that claimed them died) become ``sending`` until ``now + lease``. On PostgreSQL the
   claim skips rows another worker holds (``FOR UPDATE SKIP LOCKED``): two workers never send
   the same message at once;
2. **send** — outside any transaction, channels in parallel, each channel's messages in order;
3. **record** — delivered, or back to ``pending`` after an exponential back-off with jitter (a
   429's Retry-After is honoured), or ``dead`` after the last try or on an error that retrying
   cannot fix (a 4xx other than 429, a channel misconfigured).

A worker that dies between 2 and 3 leaves the message ``sending``; after the lease it is sent
again with the same delivery id (at least once — receivers de-duplicate on that id).

Per channel, a circuit counts consecutive failures of endpoints that could not be reached (a
timeout, a refused connection, a 5xx); at the threshold it opens and the channel's messages wait
for ``circuit_rest`` seconds instead of hammering a dead endpoint; the first success closes it.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, true, update

from ..enterprises.models import Enterprise
from ..runtime import Runtime
from .channels import Outcome, Sender
from .metrics import observe_delivery
from .models import DEAD, DELIVERED, PENDING, SENDING, Circuit, OutboxMessage
from .templates import render

log = logging.getLogger("closedloop.notifications")



@dataclass
class Report:
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    deferred: int = 0  # waited for an open circuit without being tried
    claimed: int = 0

    def counts(self) -> dict:
        return {"delivered": self.delivered, "retried": self.retried, "dead": self.dead, "deferred": self.deferred}


@dataclass
class Claimed:
    id: int
    event_id: int
    case_id: int
    recipient_kind: str
    recipient: str
    channel: str
    event_type: str
    payload: dict
    attempts: int
    created_at: datetime


def backoff(attempt: int, base: float, cap: float, rng: random.Random = random) -> float:
    """Seconds before try ``attempt + 1``: doubling from ``base``, capped, with "equal jitter"
    (half fixed, half random) so that a burst of failures does not retry in lockstep."""
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    return delay / 2 + rng.uniform(0, delay / 2)


# ---------------------------------------------------------------------------- 1. claim
def claim(rt: Runtime, now: datetime, ids: list[int] | None = None, limit: int | None = None) -> list[Claimed]:
    """Claim the given messages first, then — room permitting — whatever else is due: under load
    one round takes what several hand-overs queued, and the tasks behind it find little left."""
    limit = limit or rt.settings.notify.batch
    due = or_(
        (OutboxMessage.status == PENDING) & (OutboxMessage.next_attempt_at <= now),
        (OutboxMessage.status == SENDING) & (OutboxMessage.lease_until < now),
    )
    with rt.session() as session:
        locking = session.bind.dialect.name == "postgresql"

        def pick(extra, n: int) -> list[int]:
            query = select(OutboxMessage.id).where(due, extra).order_by(OutboxMessage.id).limit(n)
            return list(session.scalars(query.with_for_update(skip_locked=True) if locking else query))

        chosen = pick(OutboxMessage.id.in_(ids[:limit]), limit) if ids else []
        if len(chosen) < limit:
            chosen += pick(OutboxMessage.id.not_in(chosen) if chosen else true(), limit - len(chosen))
        if not chosen:
            return []
        lease = now + timedelta(seconds=rt.settings.notify.lease)
        rows = session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(chosen), due)
            .values(status=SENDING, lease_until=lease)
            .returning(OutboxMessage.id, OutboxMessage.event_id, OutboxMessage.case_id, OutboxMessage.recipient_kind,
                       OutboxMessage.recipient, OutboxMessage.channel, OutboxMessage.event_type,
                       OutboxMessage.payload, OutboxMessage.attempts, OutboxMessage.created_at)
        ).all()
        session.commit()
    return sorted((Claimed(*row) for row in rows), key=lambda c: c.id)


# ---------------------------------------------------------------------------- 2. send
def _body(msg: Claimed, message) -> dict:
    """The webhook's JSON: the stored payload, who it is for, and the text people read."""
    return {**msg.payload, "delivery_id": msg.id, "recipient": {"kind": msg.recipient_kind, "key": msg.recipient},
            "title": message.title, "text": message.text, "link": message.link}


def _send_channel(rt: Runtime, sender: Sender, ref: str, batch: list[Claimed], names: dict[int, str],
                  circuit: tuple[int, datetime | None], now: datetime) -> list[tuple[Claimed, Outcome | None]]:
    """Send one channel's messages in order; stop (deferring the rest) once its circuit opens."""
    failures, open_until = circuit
    channel = rt.directory.channel(ref)
    results: list[tuple[Claimed, Outcome | None]] = []
    settings = rt.settings.notify
    for msg in batch:
        if open_until is not None and open_until > now:
            results.append((msg, None))  # the circuit is open: wait, untried
            continue
        if channel is None:
            results.append((msg, Outcome(ok=False, error=f"channel {ref} is no longer in the directory")))
            continue
        enterprise = names.get(msg.payload.get("case", {}).get("enterprise_id"), "企业")
        message = render(msg.payload, msg.recipient_kind, msg.recipient, rt.directory, enterprise,
                         rt.settings.tz, settings.public_url)
        outcome = sender.send(channel, message, _body(msg, message), msg.id)
        results.append((msg, outcome))
        failures, open_until = circuit_after(failures, open_until, outcome, now, settings)
    return results


def circuit_after(failures: int, open_until: datetime | None, outcome: Outcome, now: datetime,
                  settings) -> tuple[int, datetime | None]:
    """A channel's circuit after one try: closed by any answer from the endpoint; opened for
    ``circuit_rest`` by the ``circuit_threshold``-th failure in a row to reach it (and again by a
    failed trial after the rest)."""
    if outcome.ok or outcome.reachable:
        return 0, None
    failures += 1
    if open_until is not None and open_until > now:
        return failures, open_until
    if failures >= settings.circuit_threshold:
        return failures, now + timedelta(seconds=settings.circuit_rest)
    return failures, None


def send(rt: Runtime, sender: Sender, claimed: list[Claimed], now: datetime, report: Report) -> None:
    by_channel: dict[str, list[Claimed]] = defaultdict(list)
    for msg in claimed:
        by_channel[msg.channel].append(msg)
    with rt.session() as session:
        circuits = {c.channel: (c.failures, c.open_until)
                    for c in session.scalars(select(Circuit).where(Circuit.channel.in_(list(by_channel))))}
        ent_ids = {m.payload.get("case", {}).get("enterprise_id") for m in claimed} - {None}
        names = dict(session.execute(select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(ent_ids))).all())
    jobs = [(ref, batch, circuits.get(ref, (0, None))) for ref, batch in by_channel.items()]
    if len(jobs) == 1:
        outcomes = [_send_channel(rt, sender, jobs[0][0], jobs[0][1], names, jobs[0][2], now)]
    else:
        outcomes = list(sender.pool.map(lambda j: _send_channel(rt, sender, j[0], j[1], names, j[2], now), jobs))
    record(rt, [pair for group in outcomes for pair in group], circuits, rt.clock(), report)


# ---------------------------------------------------------------------------- 3. record
def record(rt: Runtime, results: list[tuple[Claimed, Outcome | None]], circuits: dict, now: datetime,
           report: Report) -> None:
    settings = rt.settings.notify
    state = dict(circuits)
    delivered: dict[int, list[int]] = {}  # attempts -> ids: one UPDATE for the usual case
    with rt.session() as session:
        for msg, outcome in results:
            ref = msg.channel
            failures, open_until = state.get(ref, (0, None))
            mine = (OutboxMessage.id == msg.id) & (OutboxMessage.status == SENDING)
            if outcome is None:
                session.execute(update(OutboxMessage).where(mine).values(
                    status=PENDING, lease_until=None, next_attempt_at=open_until or now))
                report.deferred += 1
                continue
            attempts = msg.attempts + 1
            was_open = open_until is not None and open_until > now
            failures, open_until = circuit_after(failures, open_until, outcome, now, settings)
            if open_until is not None and not was_open:
                log.warning("channel %s: %s failures in a row; resting until %s", ref, failures, open_until.isoformat())
            state[ref] = (failures, open_until)
            if outcome.ok:
                delivered.setdefault(attempts, []).append(msg.id)
                report.delivered += 1
                observe_delivery("delivered", (now - msg.created_at).total_seconds())
            elif outcome.retry and attempts < settings.max_attempts:
                wait = backoff(attempts, settings.backoff, settings.backoff_cap)
                if outcome.after is not None:
                    wait = max(wait, min(outcome.after, settings.backoff_cap))
                retry_at = max(now + timedelta(seconds=wait), open_until or now)
                session.execute(update(OutboxMessage).where(mine).values(
                    status=PENDING, attempts=attempts, lease_until=None, last_error=outcome.error,
                    next_attempt_at=retry_at))
                report.retried += 1
                observe_delivery("retried")
            else:
                session.execute(update(OutboxMessage).where(mine).values(
                    status=DEAD, attempts=attempts, lease_until=None, last_error=outcome.error))
                report.dead += 1
                observe_delivery("dead")
                log.warning("notification %s to %s dead after %s tries: %s", msg.id, ref, attempts, outcome.error)
        for attempts, ids in delivered.items():
            session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.status == SENDING)
                            .values(status=DELIVERED, attempts=attempts, delivered_at=now, lease_until=None,
                                    last_error=None))
        for ref, (failures, open_until) in state.items():
            if circuits.get(ref) == (failures, open_until):
                continue
            row = session.get(Circuit, ref)
            if row is None:
                session.add(Circuit(channel=ref, failures=failures, open_until=open_until))
            else:
                row.failures, row.open_until = failures, open_until
        session.commit()


# ---------------------------------------------------------------------------- the whole step
def deliver(rt: Runtime, sender: Sender, ids: list[int] | None = None, rounds: int = 20) -> Report:
    """Deliver the given messages (after their commit) and whatever else is due, or (ids None,
    the catch-up) whatever is due: claim, send, record, for up to ``rounds`` batches while full."""
    report = Report()
    for _ in range(rounds):
        now = rt.clock()
        claimed = claim(rt, now, ids)
        if not claimed:
            break
        report.claimed += len(claimed)
        send(rt, sender, claimed, now, report)
        if len(claimed) < rt.settings.notify.batch:
            break
        ids = None
    return report


def redrive(session, notification_id: int, now: datetime) -> OutboxMessage:
    """Send a dead (or delivered) notification again, with a fresh count of tries; the caller
    records who asked and commits, then hands the id to the sender."""
    from ..errors import Conflict, NotFound
    from .models import DEAD, DELIVERED, NO_CHANNEL

    message = session.get(OutboxMessage, notification_id, with_for_update=True)
    if message is None:
        raise NotFound(f"notification_id: no notification {notification_id}")
    if message.status not in (DEAD, DELIVERED):
        hint = ("add a channel for this recipient to the directory; later notifications will use it"
                if message.status == NO_CHANNEL else "it is already on its way; wait for it to be delivered or dead")
        raise Conflict(f"notification {notification_id} is {message.status}: {hint}",
                       current_status=message.status)
    redeliver(message, now)
    return message


def redeliver(message: OutboxMessage, now: datetime) -> None:
    """An admin's second chance for a message (dead, or delivered and wanted again)."""
    message.status = PENDING
    message.attempts = 0
    message.next_attempt_at = now
    message.lease_until = None
