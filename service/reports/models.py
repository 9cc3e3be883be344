from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


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
