from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, utcnow


class ApiKey(Base):
    """An API key, stored as a hash, bound to a role and what its holder may see."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    officer_id: Mapped[str | None] = mapped_column(ForeignKey("officers.key"))
    department: Mapped[str | None] = mapped_column(ForeignKey("departments.key"))
    series: Mapped[str | None] = mapped_column(ForeignKey("meeting_series.key"))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
