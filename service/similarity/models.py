from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, JSONType, UTCDateTime


class SimilarityQueue(Base):
    """Cases filed and not yet placed in the near-duplicate index: one row written with the case
    (in its transaction, so none is lost), taken off by the sweep that indexes it (service.py)."""

    __tablename__ = "similarity_queue"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True, autoincrement=False)


class CaseSignature(Base):
    """A case's place in the near-duplicate index (相似诉求): its band keys."""

    __tablename__ = "case_signatures"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True, autoincrement=False)
    keys: Mapped[list] = mapped_column(JSONType)
    indexed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseBand(Base):
    """One band key of one case: cases that share a key are candidates for "the same problem"."""

    __tablename__ = "case_bands"
    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True, autoincrement=False)


class CaseLink(Base):
    """Two open cases of different enterprises that report the same problem (同一问题), found once,
    when the later of them was indexed: one row each way, so that a case's similar cases are the
    rows under its id — read, not recomputed, at every lookup."""

    __tablename__ = "case_links"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True, autoincrement=False)
    other_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True, autoincrement=False)
    similarity: Mapped[float] = mapped_column(Float)
