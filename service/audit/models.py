from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, JSONType, UTCDateTime


class AuditEntry(Base):
    """One administrative act (管理操作日志): who, when, what, on what, from where. Append-only —
    on PostgreSQL a trigger refuses every UPDATE and DELETE (migration 0007)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"), Index("ix_audit_log_action", "action"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[dict] = mapped_column(JSONType, default=dict)
    source: Mapped[str | None] = mapped_column(String(100))  # the client's address, as the server saw it
