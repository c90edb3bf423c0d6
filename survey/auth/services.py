"""Signing in: plain functions, no request access."""

from __future__ import annotations

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


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None. Records the login time."""
    user = session.scalars(sa.select(User).where(User.username == username.strip().lower())).first()
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.active or not user.check_password(password):
        return None
    user.last_login_at = utcnow()
    return user
