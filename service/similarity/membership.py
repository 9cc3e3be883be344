"""Which cases the near-duplicate index holds: the open ones (相似诉求只在未办结的诉求之间).

A case enters through the queue (``similarity_queue``, written with the case, indexed by the sweep)
and leaves, in the transaction that closes or withdraws it, with its signature, band and link rows —
left there, they would only make every later lookup read more, for ever (a city's closed cases
outnumber its open ones a few times over within a year). A closed case reopened on a call-back
(回访不满意) is queued to enter again.
"""

from __future__ import annotations

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from .models import CaseBand, CaseLink, CaseSignature, SimilarityQueue


def leave(session: Session, case_id: int) -> None:
    """Take a case out of the index: one statement when it is not there. (A queue row of a case
    closed before it was indexed is the sweep's to drop: ``index_queued`` skips a closed case.)"""
    keys = session.scalar(delete(CaseSignature).where(CaseSignature.case_id == case_id)
                          .returning(CaseSignature.keys))
    if keys:  # the band rows' key leads their primary key: delete them by it, not by a scan of case_id
        session.execute(delete(CaseBand).where(CaseBand.key.in_(keys), CaseBand.case_id == case_id))
        # its links, both ways: the rows under its id, then the others' rows that point back
        others = session.scalars(delete(CaseLink).where(CaseLink.case_id == case_id)
                                 .returning(CaseLink.other_id)).all()
        if others:
            session.execute(delete(CaseLink).where(CaseLink.case_id.in_(others), CaseLink.other_id == case_id))


def enter(session: Session, case_id: int) -> None:
    """Queue a case to be indexed again (a reopened one): the sweep signs it from its text."""
    leave(session, case_id)
    session.execute(delete(SimilarityQueue).where(SimilarityQueue.case_id == case_id))  # closed while queued
    session.execute(insert(SimilarityQueue).values(case_id=case_id))
