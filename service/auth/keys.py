"""API keys: issued once, stored as SHA-256 hashes, bound to a role and its scope.

Keys are 256 random bits, so a fast hash is enough: there is nothing to brute-force, and every
request can be checked with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from ..db import utcnow
from ..errors import Conflict, Invalid, NotFound, Unauthorized
from .models import ApiKey
from .principal import ROLES, Principal

BOOTSTRAP_ID = "admin-token"
# the bootstrap token opens everything: at least this long, and at least 10^10 guesses by zxcvbn's
# estimate (its "very unguessable"), which refuses words, keyboard walks, repeats and years
MIN_TOKEN_LENGTH, MIN_TOKEN_GUESSES_LOG10 = 16, 10


class WeakSecret(ValueError):
    """CLOSEDLOOP_ADMIN_TOKEN is too easy to guess; the process refuses to start with it."""


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue(session: Session, role: str, *, enterprise_id: int | None = None, officer_id: str | None = None,
          department: str | None = None, series: str | None = None, label: str = "") -> tuple[ApiKey, str]:
    """Create a key; returns the row and the key itself, which is never stored or shown again."""
    if role not in ROLES:
        raise Invalid(f"role: must be one of {', '.join(ROLES)}")
    needed = {"enterprise": ("enterprise_id", enterprise_id), "officer": ("officer_id", officer_id),
              "department": ("department", department), "secretary": ("series", series)}.get(role)
    if needed and needed[1] is None:
        raise Invalid(f"{needed[0]}: a {role} key needs its {needed[0]} (what the holder may see)")
    key_id = secrets.token_hex(8)
    key = f"cl_{key_id}_{secrets.token_urlsafe(32)}"
    row = ApiKey(id=key_id, key_hash=digest(key), role=role, enterprise_id=enterprise_id, officer_id=officer_id,
                 department=department, series=series, label=label, created_at=utcnow())
    session.add(row)
    return row, key


def check_admin_token(token: str) -> None:
    """Refuse a bootstrap admin token that is short or guessable, saying why and how to make one."""
    how = "make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
    if len(token) < MIN_TOKEN_LENGTH:
        raise WeakSecret(f"CLOSEDLOOP_ADMIN_TOKEN: {len(token)} characters is too short (at least "
                         f"{MIN_TOKEN_LENGTH}); {how}")
    from zxcvbn import zxcvbn  # only at start; the estimate is not needed per request

    estimate = zxcvbn(token[:100])
    if estimate["guesses_log10"] < MIN_TOKEN_GUESSES_LOG10:
        raise WeakSecret(f"CLOSEDLOOP_ADMIN_TOKEN: too easy to guess (about 10^{estimate['guesses_log10']:.0f} "
                         f"guesses; at least 10^{MIN_TOKEN_GUESSES_LOG10} needed); {how}")


def ensure_bootstrap_admin(session: Session, token: str) -> bool:
    """CLOSEDLOOP_ADMIN_TOKEN becomes the first admin key and follows the variable when its value
    changes. A revoked one stays revoked while the value is the same: revoking it is how an admin
    retires a token that may have leaked, and a restart must not bring it back. Returns whether
    the token is an active key."""
    check_admin_token(token)
    row = session.get(ApiKey, BOOTSTRAP_ID)
    hashed = digest(token)
    if row is None:
        session.add(ApiKey(id=BOOTSTRAP_ID, key_hash=hashed, role="admin", label="CLOSEDLOOP_ADMIN_TOKEN",
                           created_at=utcnow()))
    elif not hmac.compare_digest(row.key_hash, hashed):
        row.key_hash, row.revoked_at = hashed, None
    return row is None or row.revoked_at is None


_KEYS = ApiKey.__table__
_BY_HASH = select(_KEYS.c.id, _KEYS.c.role, _KEYS.c.enterprise_id, _KEYS.c.officer_id, _KEYS.c.department,
                  _KEYS.c.series, _KEYS.c.revoked_at).where(_KEYS.c.key_hash == bindparam("key_hash"))


def authenticate(session: Session, authorization: str | None) -> Principal:
    return authenticate_with(session, authorization, _BY_HASH)[0]


def authenticate_with(session: Session, authorization: str | None, query) -> tuple[Principal, Row]:
    """The caller's principal, and the row of ``query`` (from ``key_and``): the key and what the
    caller reads next in one round trip (case intake reads the submitting enterprise so)."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("Authorization: send 'Authorization: Bearer <api key>'")
    key = authorization[7:].strip()
    # a Core query on the table: every request pays for it, so no ORM bookkeeping
    row = session.connection().execute(query, {"key_hash": digest(key)}).first()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("Authorization: this API key is unknown or revoked")
    return Principal(row.id, row.role, row.enterprise_id, row.officer_id, row.department, row.series), row


def key_and(table, onclause, *columns):
    """A statement for ``authenticate_with``: the key's columns, and ``columns`` of ``table``
    joined (outer) on ``onclause``."""
    return _BY_HASH.add_columns(*columns).outerjoin_from(_KEYS, table, onclause)


def check_scope(session: Session, *, enterprise_id=None, officer_id=None, department=None, series=None) -> None:
    """Every scope named on a key or an account must exist (an unknown one would see nothing,
    silently)."""
    from ..directory.models import Department, MeetingSeries, Officer
    from ..enterprises.models import Enterprise

    for field, value, model in (("enterprise_id", enterprise_id, Enterprise), ("officer_id", officer_id, Officer),
                                ("department", department, Department), ("series", series, MeetingSeries)):
        if value is not None and session.get(model, value) is None:
            raise Invalid(f"{field}: no such {field.replace('_id', '')} '{value}'")


def revoke(session: Session, key_id: str) -> ApiKey:
    row = session.get(ApiKey, key_id, with_for_update=True)
    if row is None:
        raise NotFound(f"key_id: no API key with id '{key_id}'")
    if row.revoked_at is None:
        if row.role == "admin":
            # locks the other active admin keys, so two concurrent revocations cannot both pass
            others = session.scalars(select(_KEYS.c.id).where(
                _KEYS.c.role == "admin", _KEYS.c.revoked_at.is_(None), _KEYS.c.id != key_id).with_for_update()).all()
            if not others:
                raise Conflict(f"key_id: '{key_id}' is the last active admin key; issue another admin key first, "
                               "or nobody could manage keys any more")
        row.revoked_at = utcnow()
    return row
