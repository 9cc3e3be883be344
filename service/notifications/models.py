from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, JSONType, UTCDateTime, utcnow


# an outbox row's states (delivery.py moves them; docs/notifications.md)
PENDING, SENDING, DELIVERED, DEAD, NO_CHANNEL = "pending", "sending", "delivered", "dead", "no_channel"
STATUSES = (PENDING, SENDING, DELIVERED, DEAD, NO_CHANNEL)


class OutboxMessage(Base):
    """A notification owed (待推送消息) to one recipient on one channel: written in the transaction
    of the change that causes it, delivered afterwards at least once, its id the idempotency key.

    status: ``pending`` → ``sending`` (claimed until ``lease_until``) → ``delivered``, or back to
    ``pending`` with a later ``next_attempt_at``, or ``dead`` after the last try (re-drivable);
    ``no_channel`` when the recipient has no channel in the directory."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # a case's event; or, for a sitting's agenda digest to its secretary, the sitting
    event_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    sitting_id: Mapped[int | None] = mapped_column(ForeignKey("sittings.id"))
    recipient_kind: Mapped[str] = mapped_column(String(20))  # department, officer, enterprise, secretary
    recipient: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str | None] = mapped_column(String(160))  # directory reference, e.g. department:tax/webhook
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Circuit(Base):
    """Per channel, the run of failed deliveries: after a few, the channel rests (the circuit is
    open) instead of being hammered while its endpoint is down."""

    __tablename__ = "notification_circuits"
    channel: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    open_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
