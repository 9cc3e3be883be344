from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey
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
