"""The near-duplicate index in the database, and "similar open cases" of a case (相似诉求).

Intake does not compute signatures (it is the hot path, and the signature needs NumPy): it only
queues the new case (``similarity_queue``, one small row in the case's own transaction), and the
sweep indexes the queue (:func:`index_queued`), so a new case's similar cases appear within one
sweep interval. The index is rows, not memory: every API process and every machine reads the same
one, and a worker that dies mid-batch rolls the batch back into the queue.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from sqlalchemy import and_, delete, insert, select
from sqlalchemy.orm import Session

from ..auth.principal import Principal, visible_cases
from ..cases import machine
from ..cases.models import Case
from ..enterprises.models import Enterprise
from ..runtime import Runtime
from . import THRESHOLD, band_keys, jaccard, shingles, signature, text_of_search
from .models import CaseBand, CaseSignature, SimilarityQueue


def index_queued(rt: Runtime, now: datetime, batch: int = 500) -> int:
    """Index one committed batch of queued cases; returns how many were taken off the queue."""
    with rt.session() as session:
        claim = select(SimilarityQueue.case_id).order_by(SimilarityQueue.case_id).limit(batch)
        if rt.engine.dialect.name == "postgresql":
            claim = claim.with_for_update(skip_locked=True)  # two workers index different cases
        ids = list(session.scalars(claim))
        if not ids:
            return 0
        rows = session.execute(select(Case.id, Case.search_text, Case.status).where(Case.id.in_(ids))).all()
        signatures, bands = [], []
        for case_id, search_text, status in rows:
            if status not in machine.ACTIVE:
                continue  # closed before it was indexed: never anyone's similar open case
            keys = band_keys(signature(shingles(text_of_search(search_text))))
            signatures.append({"case_id": case_id, "keys": keys, "indexed_at": now})
            bands += [{"key": k, "case_id": case_id} for k in dict.fromkeys(keys)]
        if signatures:
            session.execute(insert(CaseSignature), signatures)
        if bands:
            session.execute(insert(CaseBand), bands)
        session.execute(delete(SimilarityQueue).where(SimilarityQueue.case_id.in_(ids)))
        session.commit()
        return len(ids)


class Similar(BaseModel):
    """An open case that reports the same problem as another (同一问题)."""

    case_id: int
    tracking_no: str | None
    title: str
    enterprise: str
    district: str
    lead_department: str | None
    status: str
    similarity: float


def similar_open(session: Session, case: Case, p: Principal | None = None, limit: int = 50) -> tuple[list[Similar], int]:
    """The open cases of *other* enterprises that report the same problem as ``case``, most
    alike first: (those ``p`` may see, how many there are in all). ``p`` None: all of them
    (an agenda, which a meeting reads whole)."""
    keys = session.scalar(select(CaseSignature.keys).where(CaseSignature.case_id == case.id))
    if not keys:
        return [], 0
    candidates = (select(CaseBand.case_id).where(CaseBand.key.in_(keys), CaseBand.case_id != case.id)
                  .distinct().scalar_subquery())
    where = [Case.id.in_(candidates), Case.status.in_(machine.ACTIVE), Case.enterprise_id != case.enterprise_id]
    rows = session.execute(
        select(Case.id, Case.tracking_no, Case.title, Case.search_text, Case.district, Case.lead_department,
               Case.status, Enterprise.name, visible_cases(p, session.get_bind().dialect.name) if p else True)
        .join(Enterprise, Enterprise.id == Case.enterprise_id).where(and_(*where))).all()
    mine = shingles(text_of_search(case.search_text))
    found = []
    for r in rows:
        score = jaccard(mine, shingles(text_of_search(r.search_text)))
        if score >= THRESHOLD:
            found.append((Similar(case_id=r.id, tracking_no=r.tracking_no, title=r.title, enterprise=r.name,
                                  district=r.district, lead_department=r.lead_department, status=r.status,
                                  similarity=round(score, 3)), bool(r[-1])))
    found.sort(key=lambda f: (-f[0].similarity, f[0].case_id))
    return [s for s, seen in found if seen][:limit], len(found)


def links_among(session: Session, case_ids: list[int]) -> dict[int, set[int]]:
    """Which of these cases report the same problem as which, from different enterprises: the
    pairs that share a band key, verified with the exact similarity — one query for all of them
    (an agenda asks this once, not once per item)."""
    if len(case_ids) < 2:
        return {}
    mine = select(CaseBand.key, CaseBand.case_id).where(CaseBand.case_id.in_(case_ids)).subquery()
    other = mine.alias()
    pairs = set(session.execute(select(mine.c.case_id, other.c.case_id).join(other, and_(
        other.c.key == mine.c.key, other.c.case_id > mine.c.case_id))).all())
    if not pairs:
        return {}
    ids = {i for p in pairs for i in p}
    rows = {r.id: r for r in session.execute(
        select(Case.id, Case.enterprise_id, Case.search_text).where(Case.id.in_(ids)))}
    grams = {i: shingles(text_of_search(rows[i].search_text)) for i in ids}
    out: dict[int, set[int]] = {}
    for a, b in pairs:
        if rows[a].enterprise_id != rows[b].enterprise_id and jaccard(grams[a], grams[b]) >= THRESHOLD:
            out.setdefault(a, set()).add(b)
            out.setdefault(b, set()).add(a)
    return out
