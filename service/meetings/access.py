"""Who reads and who records a sitting (会议的读与写): the one place both the API and the pages ask."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..directory.models import Sitting
from ..errors import Forbidden, NotFound
from .service import get_sitting


def staff(p: Principal) -> None:
    if p.role == "enterprise":
        raise Forbidden("meetings are read by officers, departments, secretaries, leaders and admins")


def readable(session: Session, p: Principal, sitting_id: int) -> Sitting:
    """A secretary reads only its own series' sittings (another's answers 404, as for cases)."""
    staff(p)
    sitting = get_sitting(session, sitting_id)
    if p.role == "secretary" and sitting.series_key != p.series:
        raise NotFound(f"meeting_id: no sitting {sitting_id} of your series")
    return sitting


def writable(session: Session, p: Principal, sitting_id: int) -> Sitting:
    if p.role not in ("secretary", "admin"):
        raise Forbidden("minutes are recorded by the series' secretary or an admin")
    return readable(session, p, sitting_id)


def may_record(p: Principal) -> bool:
    return p.role in ("secretary", "admin")
