"""The audit log of administration (审计日志): keys issued and revoked, enterprises registered,
changed and imported, rule reloads, re-deliveries, sittings added and cancelled, bulk actions —
written in the transaction of the act itself, so that an act and its record stand or fall
together. (An enterprise's field-by-field history is also kept with it: enterprises/models.py.)"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from .models import AuditEntry


def source_of(request: Request | None) -> str | None:
    """The client's address (behind a proxy: run uvicorn with --proxy-headers so this is the
    client's, not the proxy's)."""
    return request.client.host if request is not None and request.client else None


def record(session: Session, actor: str, action: str, target: str | None, details: dict | None, at,
           request: Request | None = None) -> AuditEntry:
    entry = AuditEntry(at=at, actor=actor, action=action, target=target, details=details or {},
                       source=source_of(request))
    session.add(entry)
    return entry
