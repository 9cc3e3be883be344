from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


RARE = "kind IN ('extended', 'objected', 'reassigned')"


class CaseFact(Base):
    """One reportable happening on a case (受理, 办结, 满意, 升级…), with what it is counted under
    as it stood at that moment: the lead department, district, officer, tier, theme and category.

    Written in the transaction of the change itself, like the event it mirrors, so that a past
    period's report never changes when later events re-route or escalate the case. Narrow and
    indexed on (at, kind): a month of a province's cases is one index range."""

    __tablename__ = "case_facts"
    __table_args__ = (
        Index("ix_case_facts_at_kind", "at", "kind"),
        Index("ix_case_facts_case_kind", "case_id", "kind"),
        # a period's handling times, index-only (the median and p90 need every value)
        Index("ix_case_facts_resolved", "at", postgresql_where=text("kind = 'resolved'"),
              sqlite_where=text("kind = 'resolved'"),
              postgresql_include=["working_days", "lead_department", "district", "officer_id", "tier", "theme",
                                  "category"]),
        # the rare kinds a report looks up by time: objections and what upholds them, extensions
        Index("ix_case_facts_rare", "kind", "at", postgresql_where=text(RARE), sqlite_where=text(RARE)),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    lead_department: Mapped[str | None] = mapped_column(String(40))
    district: Mapped[str] = mapped_column(String(40))
    officer_id: Mapped[str | None] = mapped_column(String(60))
    tier: Mapped[int] = mapped_column(Integer)
    theme: Mapped[str | None] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(String(40))
    on_time: Mapped[bool | None] = mapped_column(Boolean)       # accepted, resolved
    working_days: Mapped[float | None] = mapped_column(Float)   # resolved: since submission
    satisfied: Mapped[bool | None] = mapped_column(Boolean)     # closed (None: by default), reopened
    rating: Mapped[int | None] = mapped_column(Integer)         # closed, reopened


class ReportMonth(Base):
    """月度汇总 — a closed month's facts counted per grouping (``dim``: department, district,
    tier, officer, theme, category or city) and key, and per (kind, tier, on_time, satisfied,
    extended), with the sums the means need; and, as kind ``first_resolved``, the cases first
    resolved in the month by the month they were received in (what "received and resolved"
    needs). Written by rollups.roll_up once the month has ended; PostgreSQL only."""

    __tablename__ = "report_months"
    __table_args__ = (Index("ix_report_months_dim_month", "dim", "month"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    dim: Mapped[str] = mapped_column(String(12))
    key: Mapped[str | None] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))
    tier: Mapped[int] = mapped_column(Integer)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    extended: Mapped[bool] = mapped_column(Boolean)  # resolved on time, its tier's deadline extended
    received_month: Mapped[date | None] = mapped_column(Date)  # first_resolved: the month received
    n: Mapped[int] = mapped_column(Integer)
    rating_sum: Mapped[int] = mapped_column(Integer)
    rating_n: Mapped[int] = mapped_column(Integer)
    days_sum: Mapped[float] = mapped_column(Float)
    days_n: Mapped[int] = mapped_column(Integer)


class RolledMonth(Base):
    """A month whose rollup is written (and when)."""

    __tablename__ = "report_rolled_months"
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    rolled_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RollupWatermark(Base):
    """The highest fact id the rollups have seen (one row): a fact above it whose time lies in a
    rolled month makes that month unusable until it is rolled again."""

    __tablename__ = "report_rollup_watermark"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fact_id: Mapped[int] = mapped_column(Integer)
