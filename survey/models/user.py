"""Accounts and roles."""

import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from survey.models.base import Base, in_list, utcnow

ROLES = ("admin", "supervisor", "surveyor", "analyst")
ROLE_LABELS = {
    "admin": "Quản trị hệ thống",
    "supervisor": "Tổ trưởng điều tra (Bưu điện)",
    "surveyor": "Điều tra viên (Bưu điện)",
    "analyst": "Chuyên viên phân tích (Sở Nội vụ)",
}
MIN_PASSWORD_LENGTH = 10


class User(UserMixin, Base):
    __tablename__ = "user_account"
    __audited__ = True
    __audit_hidden__ = frozenset({"password_hash", "session_nonce"})
    __table_args__ = (
        sa.CheckConstraint(in_list("role", ROLES), name="role"),
        sa.CheckConstraint("team_leader_id IS NULL OR team_leader_id <> id", name="team_leader_not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(20))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    #: Part of the session cookie's user id; changed at logout (and password change), so a
    #: cookie copied before is refused afterwards.
    session_nonce: Mapped[str] = mapped_column(sa.String(32), default=lambda: secrets.token_hex(16), server_default="")
    #: Consecutive failed sign-ins, and until when signing in is refused (backoff).
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    #: A surveyor's team: the supervisor (tổ trưởng) who leads it (`survey.users.set_team_leader`).
    team_leader_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )

    def set_password(self, password: str) -> None:
        # Werkzeug's default is scrypt (memory-hard), with a per-password salt.
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def end_sessions(self) -> None:
        """Invalidate every session cookie issued for this account."""
        self.session_nonce = secrets.token_hex(16)

    def get_id(self) -> str:  # Flask-Login: what the session cookie names
        return f"{self.id}:{self.session_nonce}"

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive users cannot sign in
        return self.active

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"
