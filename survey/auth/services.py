"""Signing in and out: plain functions, no request access.

Per-account backoff: after `FREE_ATTEMPTS` consecutive failed sign-ins an account refuses
every attempt (even with the right password) for 1 minute, then 2, 4, … up to
`MAX_LOCK_MINUTES`; a successful sign-in resets the count. The per-address limit is the
view's (``SIPAS_LOGIN_RATE_LIMIT``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from survey.models import User
from survey.models.base import utcnow

# A valid scrypt hash of a random string: checked when the user does not exist, so that a
# wrong user name takes as long as a wrong password.
_DUMMY_HASH = (
    "scrypt:32768:8:1$KtnC1nPbTu7HOgVE$2ae0c0b8bb5a5b7c8b5d0f3d0a17b1b6e7d7c2c4a8f2e5b7d9c1"
    "a3e5f7b9d1c3e5a7f9b1d3c5e7a9f1b3d5c7e9a1b3d5f7c9e1a3b5d7f9c1e3a5b7d9f1c3e5a7b9d1f3"
)
FREE_ATTEMPTS = 5
MAX_LOCK_MINUTES = 60


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt. `reason` is for the security log: ``ok``,
    ``unknown_user``, ``bad_password``, ``inactive`` or ``locked``."""

    user: User | None
    reason: str
    account: str | None = None  # the user name, only when such an account exists
    locked_until: datetime | None = None


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; they were stored in UTC.
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def lock_minutes(failures: int) -> int:
    """Minutes an account stays locked after `failures` consecutive failed sign-ins."""
    if failures < FREE_ATTEMPTS:
        return 0
    return int(min(2 ** (failures - FREE_ATTEMPTS), MAX_LOCK_MINUTES))


def authenticate(session: Session, username: str, password: str, *, now: datetime | None = None) -> SignIn:
    """Check the credentials; on success record the login time, on failure count it. Flushes."""
    now = now or utcnow()
    user = session.scalars(sa.select(User).where(User.username == username.strip().lower())).first()
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return SignIn(None, "unknown_user")
    locked_until = _aware(user.locked_until)
    if locked_until is not None and locked_until > now:
        return SignIn(None, "locked", user.username, locked_until)
    if not user.check_password(password):
        user.failed_logins += 1
        minutes = lock_minutes(user.failed_logins)
        user.locked_until = now + timedelta(minutes=minutes) if minutes else None
        session.flush()
        return SignIn(None, "bad_password", user.username, user.locked_until)
    if not user.active:
        return SignIn(None, "inactive", user.username)
    user.failed_logins = 0
    user.locked_until = None
    if not user.session_nonce:  # an account from before nonces existed
        user.end_sessions()
    user.last_login_at = now
    return SignIn(user, "ok", user.username)


def end_session(session: Session, user: User) -> None:
    """Logout: the cookie the user had (and any copy of it) no longer signs anyone in."""
    user.end_sessions()
    session.flush()


def load_session_user(session: Session, cookie_id: str) -> User | None:
    """The active user a session cookie's ``<id>:<nonce>`` names, if the nonce is current."""
    user_id, _, nonce = cookie_id.partition(":")
    if not user_id.isdigit() or not nonce:
        return None
    user = session.get(User, int(user_id))
    if user is None or not user.active or user.session_nonce != nonce:
        return None
    return user
