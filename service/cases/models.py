from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, Numeric, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, JSONType, UTCDateTime, utcnow
from .machine import RUNNING

# what the lists filter on most, carried in the scope indexes: a filter that throws most of a
# department's or an officer's cases away is decided in the index, without visiting the table
LIST_FILTERS = ["status", "tier", "due_at", "needs_triage", "category", "theme", "district"]
CO_POSITIONS = 3  # auth.principal.department_parts reads these indexes
PROVISIONAL_SQL = "due_provisional AND due_at IS NOT NULL"
RUNNING_SQL = "status IN (" + ", ".join(f"'{s}'" for s in sorted(RUNNING)) + ")"
# the sweep's partial indexes: written as the sweep's queries say it, so PostgreSQL matches them
# with any value of the bound deadline (escalation.sweep)
TO_ESCALATE = "due_at IS NOT NULL AND supervised IS false"
TO_WARN = "warn_at IS NOT NULL AND warned_tier IS DISTINCT FROM tier"


class Case(Base):
    """诉求 — an enterprise's demand, and where it stands on the ladder."""

    __tablename__ = "cases"
    __table_args__ = (
        # The sweep's work, and nothing else (migration 0014): what may fall due — a supervised
        # case past its deadline is reminded, never escalated, so it stays out of the range the
        # escalation reads — and what may still be warned at its tier (warned ones leave)
        Index("ix_cases_to_escalate", "due_at", "id", postgresql_where=text(TO_ESCALATE),
              sqlite_where=text(TO_ESCALATE.replace("false", "0"))),
        Index("ix_cases_to_warn", "warn_at", "id", postgresql_where=text(TO_WARN),
              sqlite_where=text(TO_WARN.replace("IS DISTINCT FROM", "IS NOT"))),
        Index("ix_cases_status_tier", "status", "tier"),
        # Only a running case has a deadline (paused, resolved, closed and withdrawn ones keep what
        # was left in paused_remaining): "overdue" is then due_at < now alone, which PostgreSQL
        # estimates right, where "and running" again made it guess five times too few
        CheckConstraint(f"due_at IS NULL OR {RUNNING_SQL}", name="ck_cases_deadline_running").ddl_if(
            dialect="postgresql"),
        # The lists (newest first: created_at, id) read a page in order from an index that holds
        # the reader's scope or the filter first (migration 0013; measured at a million cases by
        # bench/listing.py)
        Index("ix_cases_newest", "created_at", "id"),
        Index("ix_cases_lead_newest", "lead_department", "created_at", "id", postgresql_include=LIST_FILTERS),
        Index("ix_cases_officer_newest", "officer_id", "created_at", "id",
              postgresql_include=[*LIST_FILTERS, "lead_department"]),
        Index("ix_cases_district_newest", "district", "created_at", "id"),
        # an officer's cases in one district: nothing else bounds "district=X" for an officer
        # whose cases all lie in another (bench/listing.py: 41 ms p50 through the officer's index)
        Index("ix_cases_officer_district_newest", "officer_id", "district", "created_at", "id"),
        Index("ix_cases_enterprise_newest", "enterprise_id", "created_at", "id"),
        # the triage queue (待分办), small: with who may see it, so an officer's unclaimed part and a
        # department's are decided in the index
        Index("ix_cases_triage_newest", "created_at", "id", postgresql_where=text("needs_triage IS true"),
              sqlite_where=text("needs_triage IS 1"),
              postgresql_include=[*LIST_FILTERS, "officer_id", "lead_department"]),
        Index("ix_cases_priority_newest", "priority", "created_at", "id",
              postgresql_where=text("priority <> 'normal'"), sqlite_where=text("priority <> 'normal'")),
        # a department's co-handled cases in order: one index per position in the list (rarely
        # longer than three; those few in the last index)
        *[Index(f"ix_cases_co{k}_newest", text(f"(co_departments ->> {k})"), "created_at", "id",
                postgresql_where=text(f"jsonb_array_length(co_departments) > {k}"),
                postgresql_include=[*LIST_FILTERS, "lead_department"]).ddl_if(dialect="postgresql")
          for k in range(CO_POSITIONS)],
        Index("ix_cases_co_many_newest", "created_at", "id",
              postgresql_where=text(f"jsonb_array_length(co_departments) > {CO_POSITIONS}")).ddl_if(dialect="postgresql"),
        # the running cases' deadlines with what a report groups them under: "overdue now" and
        # the longest overdue read this small index alone, not the whole table (bench/reports.py)
        Index("ix_cases_running_due", "due_at", postgresql_where=text(RUNNING_SQL), sqlite_where=text(RUNNING_SQL),
              postgresql_include=["lead_department", "district", "tier", "officer_id", "theme", "category"]),
        # the running deadlines counted from a guessed calendar: few, read when a year is published
        Index("ix_cases_provisional", "id", postgresql_where=text(PROVISIONAL_SQL), sqlite_where=text(PROVISIONAL_SQL)),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # given last in the submitting transaction (see cases.service.next_tracking_no)
    tracking_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    district: Mapped[str] = mapped_column(String(40))
    officer_id: Mapped[str | None] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(40))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    urgency: Mapped[str] = mapped_column(String(10), default="normal")
    attachments: Mapped[list] = mapped_column(JSONType, default=list)

    status: Mapped[str] = mapped_column(String(24))
    tier: Mapped[int] = mapped_column(Integer)
    lead_department: Mapped[str | None] = mapped_column(String(40))
    co_departments: Mapped[list] = mapped_column(JSONType, default=list)
    needs_triage: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[str] = mapped_column(String(10))
    tags: Mapped[list] = mapped_column(JSONType, default=list)
    sla_policy: Mapped[str] = mapped_column(String(40))
    theme: Mapped[str | None] = mapped_column(String(40))
    routing: Mapped[dict] = mapped_column(JSONType)
    sitting_id: Mapped[int | None] = mapped_column(ForeignKey("sittings.id"), index=True)

    # The clock: due_at is null while paused; paused_remaining holds what was left.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    # only while provisional: what the deadline was counted from ({"from", "due", "warn"}), so that
    # it can be counted again when the year's holidays are published (escalation/recalendar.py)
    due_basis: Mapped[dict | None] = mapped_column(JSONType)
    paused_remaining: Mapped[float | None] = mapped_column(Float)  # seconds (working or calendar)
    paused_remaining_warn: Mapped[float | None] = mapped_column(Float)
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)  # 督办: overdue at tier 5
    supervision_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    warned_tier: Mapped[int | None] = mapped_column(Integer)  # the tier whose warning was sent
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # by the sweep, last time
    pending_extension: Mapped[dict | None] = mapped_column(JSONType)
    confirm_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    resolution: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column(Integer)
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_of: Mapped[int | None] = mapped_column(Integer)  # 重复件: closed into this case
    # title and description in routing's matching form (traditional → simplified, full-width →
    # ASCII, glosses and blanks out): what `?text=` searches, normalised the same way
    search_text: Mapped[str | None] = mapped_column(Text)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    events: Mapped[list["CaseEvent"]] = relationship(order_by="CaseEvent.id", lazy="raise")

    # Every UPDATE of a case carries "WHERE version = <the version read>": a change made by someone
    # else in between fails (StaleDataError) instead of being overwritten. The domain sets the new
    # version itself (one step per change, whatever the number of flushes).
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class CaseEvent(Base):
    """An append-only record of one change (or comment) on a case."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    type: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict] = mapped_column(JSONType, default=dict)


class CaseTier(Base):
    """One row per case and tier entered: the guard that makes a tier change happen once."""

    __tablename__ = "case_tiers"
    __table_args__ = (UniqueConstraint("case_id", "tier", name="uq_case_tier"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    tier: Mapped[int] = mapped_column(Integer)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(40))


class TrackingCounter(Base):
    """Per prefix and year, the last number given: tracking numbers (LH) and the offices'
    supervision sheet numbers (漯企督). Incremented inside the case's own
    transaction, so a rolled-back submission gives its number back: no gaps."""

    __tablename__ = "tracking_counters"
    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"
    principal: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
