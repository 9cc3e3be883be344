"""The near-duplicate index in the database, and "similar open cases" of a case (相似诉求).

Intake does not compute signatures (it is the hot path, and the signature needs NumPy): it only
queues the new case (``similarity_queue``, one small row in the case's own transaction), and the
sweep indexes the queue (:func:`index_queued`), so a new case's similar cases appear within one
sweep interval. The index is rows, not memory: every API process and every machine reads the same
one, and a worker that dies mid-batch rolls the batch back into the queue.

Indexing also finds the new cases' similar open cases — the candidates that share a band key,
verified by their exact similarity — and writes them as links (``case_links``, :func:`link`). A
lookup then reads a case's links (:func:`similar_open`): one indexed query, however many open
cases share its bands. Verifying is the costly part (a template many firms submit puts hundreds
of cases in one band), and it is done once per case, in the background, not at every reading of
a case page or an agenda.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from sqlalchemy import and_, delete, insert, select, text
from sqlalchemy.orm import Session

from ..auth.principal import Principal, visible_cases
from ..cases import machine
from ..cases.models import Case
from ..enterprises.models import Enterprise
from ..runtime import Runtime
from . import THRESHOLD, band_keys, jaccard, shingles, signature, text_of_search
from .models import CaseBand, CaseLink, CaseSignature, SimilarityQueue


# PostgreSQL's advisory lock that makes indexers take turns (index_queued)
INDEXER_LOCK = "hashtext('closedloop.similarity')"


def index_queued(rt: Runtime, now: datetime, batch: int = 500) -> int:
    """Index one committed batch of queued cases; returns how many were taken off the queue."""
    with rt.session() as session:
        claim = select(SimilarityQueue.case_id).order_by(SimilarityQueue.case_id).limit(batch)
        postgres = rt.engine.dialect.name == "postgresql"
        if postgres:
            claim = claim.with_for_update(skip_locked=True)  # two workers index different cases
        ids = list(session.scalars(claim))
        if not ids:
            return 0
        if postgres:
            # and one after the other: two batches linked side by side would not see each other's
            # bands, and the pairs between them would never be found (read committed: each
            # statement after the wait sees what the batch before committed)
            session.execute(text(f"SELECT pg_advisory_xact_lock({INDEXER_LOCK})"))
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
            link(session, [s["case_id"] for s in signatures])
        session.execute(delete(SimilarityQueue).where(SimilarityQueue.case_id.in_(ids)))
        session.commit()
        return len(ids)


_READ = 5000  # ids per statement when reading the candidates' texts


def link(session: Session, case_ids: list[int]) -> int:
    """Link the cases just indexed (their bands written in this transaction) with every indexed
    case of another enterprise that reports the same problem: the candidates sharing a band key,
    kept when their exact similarity reaches the threshold. One row each way; returns the pairs.

    A case closed while a batch is indexed may keep a link to a case of the batch; every lookup
    reads open cases only, and the row goes when the other case leaves the index."""
    mine = select(CaseBand.key, CaseBand.case_id).where(CaseBand.case_id.in_(case_ids)).subquery()
    pairs = {(min(a, b), max(a, b)) for a, b in session.execute(
        select(mine.c.case_id, CaseBand.case_id).distinct()
        .join(CaseBand, and_(CaseBand.key == mine.c.key, CaseBand.case_id != mine.c.case_id)))}
    if not pairs:
        return 0
    ids = sorted({i for p in pairs for i in p})
    firm, grams = {}, {}
    for at in range(0, len(ids), _READ):
        for r in session.execute(select(Case.id, Case.enterprise_id, Case.search_text)
                                 .where(Case.id.in_(ids[at:at + _READ]))):
            firm[r.id] = r.enterprise_id
            grams[r.id] = shingles(text_of_search(r.search_text))
    rows = []
    for a, b in pairs:
        if firm[a] != firm[b]:  # the same firm twice is a duplicate (重复件), not a common problem
            score = jaccard(grams[a], grams[b])
            if score >= THRESHOLD:
                rows += [{"case_id": a, "other_id": b, "similarity": round(score, 3)},
                         {"case_id": b, "other_id": a, "similarity": round(score, 3)}]
    if rows:
        session.execute(insert(CaseLink), rows)
    return len(rows) // 2


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
    rows = session.execute(
        select(Case.id, Case.tracking_no, Case.title, Case.district, Case.lead_department, Case.status,
               Enterprise.name, CaseLink.similarity,
               visible_cases(p, session.get_bind().dialect.name) if p else True)
        .join(Case, Case.id == CaseLink.other_id).join(Enterprise, Enterprise.id == Case.enterprise_id)
        .where(CaseLink.case_id == case.id, Case.status.in_(machine.ACTIVE))).all()
    found = [(Similar(case_id=r.id, tracking_no=r.tracking_no, title=r.title, enterprise=r.name, district=r.district,
                      lead_department=r.lead_department, status=r.status, similarity=r.similarity), bool(r[-1]))
             for r in rows]
    found.sort(key=lambda f: (-f[0].similarity, f[0].case_id))
    return [s for s, seen in found if seen][:limit], len(found)


def links_among(session: Session, case_ids: list[int]) -> dict[int, set[int]]:
    """Which of these cases report the same problem as which, from different enterprises: their
    links among themselves — one query for all of them (an agenda asks this once, not per item)."""
    if len(case_ids) < 2:
        return {}
    out: dict[int, set[int]] = {}
    for a, b in session.execute(select(CaseLink.case_id, CaseLink.other_id)
                                .where(CaseLink.case_id.in_(case_ids), CaseLink.other_id.in_(case_ids))):
        out.setdefault(a, set()).add(b)
    return out
