"""The directory as tables: loaded from the YAML file by ``closedloop init``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, JSONType, UTCDateTime


class District(Base):
    __tablename__ = "districts"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str | None] = mapped_column(String(12))


class Department(Base):
    __tablename__ = "departments"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    short_name: Mapped[str] = mapped_column(String(60))
    duties: Mapped[str] = mapped_column(Text, default="")


class Officer(Base):
    """首席服务官 — a chief service officer."""

    __tablename__ = "officers"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    district: Mapped[str | None] = mapped_column(ForeignKey("districts.key"))
    title: Mapped[str] = mapped_column(String(100), default="")


class MeetingSeries(Base):
    """例会 — a weekly (or monthly) meeting series."""

    __tablename__ = "meeting_series"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    tier: Mapped[int] = mapped_column(Integer)
    district: Mapped[str | None] = mapped_column(ForeignKey("districts.key"))
    theme: Mapped[str | None] = mapped_column(String(60))
    schedule: Mapped[str] = mapped_column(String(100))
    agenda_closes_before: Mapped[str] = mapped_column(String(40))
    secretary: Mapped[str | None] = mapped_column(String(100))


class Sitting(Base):
    """A numbered sitting of a series (会议场次, "第148次服务企业周例会").

    status: ``scheduled`` → ``published`` (the agenda closed at its cut-off and was frozen into
    ``agenda``) → ``held`` (minutes recorded); or ``cancelled`` (its items moved to the next).
    ``kind``: ``regular`` (from the series' schedule) or ``extra`` (added by an admin)."""

    __tablename__ = "sittings"
    __table_args__ = (
        UniqueConstraint("series_key", "starts_at", name="uq_sitting_series_start"),
        UniqueConstraint("series_key", "number", name="uq_sitting_series_number"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_key: Mapped[str] = mapped_column(ForeignKey("meeting_series.key"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    agenda_closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    kind: Mapped[str] = mapped_column(String(10), default="regular")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agenda: Mapped[dict | None] = mapped_column(JSONType)  # the agenda as published (frozen)
    cancelled_reason: Mapped[str | None] = mapped_column(Text)
