"""What the weekly meetings keep (会议): agenda items, minutes, and the items they assign."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, JSONType, UTCDateTime


class AgendaItem(Base):
    """A case on a sitting's agenda (议题). Written when the agenda is published at its cut-off,
    and at once when a case is carried over to a sitting (from the minutes, or a cancelled one)."""

    __tablename__ = "agenda_items"
    __table_args__ = (UniqueConstraint("sitting_id", "case_id", name="uq_agenda_item"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("sittings.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(20))  # escalated, carried_over, sitting_cancelled
    carried_from: Mapped[int | None] = mapped_column(ForeignKey("sittings.id"))


class Minutes(Base):
    """会议纪要: the decisions of a sitting, applied once. A second post with the same body changes
    nothing; a different body is refused (409)."""

    __tablename__ = "minutes"
    sitting_id: Mapped[int] = mapped_column(ForeignKey("sittings.id"), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict] = mapped_column(JSONType)
    outcome: Mapped[dict] = mapped_column(JSONType)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(100))


class Assignment(Base):
    """交办 / 督办事项: an item the meeting assigned to a lead unit with a deadline. Its status —
    open, or closed (销号) — is the case's: it is closed when the case closes."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("sitting_id", "case_id", name="uq_assignment"),
                      UniqueConstraint("sheet_prefix", "sheet_year", "sheet_no", name="uq_assignment_sheet"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("sittings.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # 第N项 of the sitting's minutes
    # the supervision sheet's document number, 漯企督〔2026〕17号: the issuing office's code, the
    # year of issue, its place in that office's gapless yearly sequence (None: issued before
    # migration 0015, numbered as then)
    sheet_prefix: Mapped[str | None] = mapped_column(String(8))
    sheet_year: Mapped[int | None] = mapped_column(Integer)
    sheet_no: Mapped[int | None] = mapped_column(Integer)
    matter: Mapped[str] = mapped_column(Text)
    requirement: Mapped[str] = mapped_column(Text)
    lead_department: Mapped[str] = mapped_column(String(40))
    co_departments: Mapped[list] = mapped_column(JSONType, default=list)
    leader: Mapped[str | None] = mapped_column(String(60))   # 责任领导
    handler: Mapped[str | None] = mapped_column(String(60))  # 经办人
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def sheet_number(self, sitting_number: int, sitting_year: int) -> str:
        """督办单编号: 漯企督〔2026〕17号 — or, for a sheet issued before migration 0015, the number
        it was issued with (〔2026〕第3次会议第1号): a number once given is never changed."""
        if self.sheet_no is None:
            return f"〔{sitting_year}〕第{sitting_number}次会议第{self.seq}号"
        return f"{self.sheet_prefix}〔{self.sheet_year}〕{self.sheet_no}号"
