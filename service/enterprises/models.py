from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, true
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, JSONType, UTCDateTime, utcnow


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
    # deactivated (注销, moved away, closed): kept, because its cases refer to it, but its keys
    # submit no new cases. The server default gives the rows that predate the column (0006) true.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class EnterpriseChange(Base):
    """One change to an enterprise's record — registered, imported or changed — written in the
    transaction of the change itself, so the record and the change stand or fall together.

    ``changes`` is ``{field: [old, new]}``; a registration's old values are null."""

    __tablename__ = "enterprise_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))  # Principal.actor, e.g. "admin:k_3" or "officer:officer-yuanhui-1"
    action: Mapped[str] = mapped_column(String(20))  # register | import | change
    changes: Mapped[dict] = mapped_column(JSONType, default=dict)
