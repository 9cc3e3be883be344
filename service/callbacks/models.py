from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


TO_REMIND = "state = 'pending' AND reminded_at IS NULL"


class Callback(Base):
    """回访: a call to the enterprise after its case closed, owed by its chief service officer.
    ``state``: pending (on the officer's list), done (answered), unreached (given up after the
    attempts allowed)."""

    __tablename__ = "callbacks"
    __table_args__ = (
        Index("ix_callbacks_officer_state", "officer_id", "state", "due_at"),
        # what the sweep may remind (回访逾期): owed, past due, not yet put to the officer
        Index("ix_callbacks_to_remind", "due_at", "id", postgresql_where=text(TO_REMIND), sqlite_where=text(TO_REMIND)),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reason: Mapped[str] = mapped_column(String(20))  # by_default | sample
    officer_id: Mapped[str | None] = mapped_column(String(60))
    district: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(12), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    # when the sweep told the officer the call-back is overdue (once: the list shows it after)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
