from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, utcnow


class Enterprise(Base):
    """企业 — an enterprise, known by its unified social credit code."""

    __tablename__ = "enterprises"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    # early real codes can fail the check character; they are kept, but flagged
    credit_code_flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str] = mapped_column(String(200))
    district: Mapped[str] = mapped_column(ForeignKey("districts.key"))
    industry: Mapped[str | None] = mapped_column(String(60))
    key_project_level: Mapped[str] = mapped_column(String(20), default="none")
    whitelisted: Mapped[bool] = mapped_column(Boolean, default=False)
    officer_id: Mapped[str | None] = mapped_column(ForeignKey("officers.key"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
