from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class Account(Base):
    """A person who signs in: the password stored as an argon2 hash, the role and scope as on an
    API key (enterprise, officer, department, secretary, admin)."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(20))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    officer_id: Mapped[str | None] = mapped_column(ForeignKey("officers.key"))
    department: Mapped[str | None] = mapped_column(ForeignKey("departments.key"))
    series: Mapped[str | None] = mapped_column(ForeignKey("meeting_series.key"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A signed-in browser: the cookie holds a random token, the table its hash (a stolen
    database yields no usable cookie), the account, the form token (CSRF) and when it ends."""

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Registration(Base):
    """An enterprise's own application for an account (企业注册申请), waiting for its chief service
    officer: the enterprise's particulars, the user name and the password's hash (moved to the
    account on approval, cleared on refusal), who decides and what was decided."""

    __tablename__ = "registrations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(200))
    district: Mapped[str] = mapped_column(ForeignKey("districts.key"))
    contact: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(30))
    username: Mapped[str] = mapped_column(String(60), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    # the enterprise's officer when the code is registered already, else the district's
    officer_id: Mapped[str | None] = mapped_column(ForeignKey("officers.key"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | approved | refused
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(500), default="")
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
