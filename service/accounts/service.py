"""Accounts and sign-in (登录): create, disable and reset an account; check a password; open,
find and close a browser's session. The clock is passed in.

A signed-in person is a :class:`Principal` like a key's holder, so every page goes through the
same access rules and state machine as the API.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..auth.principal import ROLES, Principal
from ..errors import Conflict, Invalid, NotFound
from .models import Account, WebSession

SESSION_HOURS = 12  # a working day; signed out after it, or at sign-out
MIN_PASSWORD = 10
_hasher = PasswordHasher()  # argon2id with the library's current parameters
# verified when the user name is unknown, so that a wrong name costs as long as a wrong password
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"password: at least {MIN_PASSWORD} characters")
    from zxcvbn import zxcvbn

    if zxcvbn(password[:100])["guesses_log10"] < 8:
        raise Invalid("password: too easy to guess; use a longer phrase of unrelated words")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create(session: Session, now: datetime, username: str, password: str, role: str, *,
           display_name: str = "", enterprise_id: int | None = None, officer_id: str | None = None,
           department: str | None = None, series: str | None = None, password_hash: str | None = None) -> Account:
    """A new account, its scope required as on a key of the same role. ``password_hash``: a
    password checked and hashed already (an approved registration's)."""
    if role not in ROLES:
        raise Invalid(f"role: must be one of {', '.join(ROLES)}")
    needed = {"enterprise": ("enterprise_id", enterprise_id), "officer": ("officer_id", officer_id),
              "department": ("department", department), "secretary": ("series", series)}.get(role)
    if needed and needed[1] is None:
        raise Invalid(f"{needed[0]}: a {role} account needs its {needed[0]} (what the person may see)")
    from ..auth.keys import check_scope

    check_scope(session, enterprise_id=enterprise_id, officer_id=officer_id, department=department, series=series)
    if password_hash is None:
        check_password(password)
        password_hash = _hasher.hash(password)
    account = Account(username=username, password_hash=password_hash, display_name=display_name,
                      role=role, enterprise_id=enterprise_id, officer_id=officer_id, department=department,
                      series=series, active=True, created_at=now)
    session.add(account)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"username: '{username}' is taken; choose another") from None
    return account


def principal_of(account: Account) -> Principal:
    return Principal(key_id=f"user:{account.username}", role=account.role, enterprise_id=account.enterprise_id,
                     officer_id=account.officer_id, department=account.department, series=account.series)


def sign_in(session: Session, now: datetime, username: str, password: str) -> tuple[Account, str] | None:
    """(the account, the new session's token for the cookie), or None: a wrong name or password
    and a disabled account are the same None, so that the page reveals nothing."""
    account = session.scalar(select(Account).where(Account.username == username))
    try:
        _hasher.verify(account.password_hash if account else _DUMMY, password)
    except (VerifyMismatchError, InvalidHashError):
        return None
    if account is None or not account.active:
        return None
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_digest(token), account_id=account.id, csrf=secrets.token_urlsafe(32),
                           created_at=now, expires_at=now + timedelta(hours=SESSION_HOURS)))
    session.execute(delete(WebSession).where(WebSession.expires_at < now))  # the stale ones, while here
    return account, token


def find(session: Session, now: datetime, token: str | None) -> tuple[Account, WebSession] | None:
    """The signed-in account of a cookie's token, if the session is open and the account active."""
    if not token:
        return None
    ws = session.get(WebSession, _digest(token))
    if ws is None or ws.expires_at <= now:
        return None
    account = session.get(Account, ws.account_id)
    if account is None or not account.active:
        return None
    return account, ws


def sign_out(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))


def disable(session: Session, account_id: int) -> Account:
    """Disabled at once: its open sessions end with it."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"account {account_id} does not exist")
    account.active = False
    session.execute(delete(WebSession).where(WebSession.account_id == account_id))
    return account


def reset_password(session: Session, account_id: int, password: str) -> Account:
    """A new password set by an admin; the account's open sessions end."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"account {account_id} does not exist")
    check_password(password)
    account.password_hash = _hasher.hash(password)
    account.active = True
    session.execute(delete(WebSession).where(WebSession.account_id == account_id))
    return account
