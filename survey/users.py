"""Account services, shared by the CLI and the admin pages."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.orm import Session

from survey.models import ROLES, User
from survey.models.user import MIN_PASSWORD_LENGTH

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class UserError(ValueError):
    """Invalid account data; the message is shown to the user."""


def create_user(session: Session, *, username: str, full_name: str, role: str, password: str) -> User:
    """Create an account (flushes, does not commit)."""
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise UserError("tên đăng nhập chỉ gồm chữ thường không dấu, số, dấu . _ - (2–64 ký tự)")
    if role not in ROLES:
        raise UserError(f"vai trò {role!r} không tồn tại (chọn: {', '.join(ROLES)})")
    if not full_name.strip():
        raise UserError("họ tên không được để trống")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự")
    if session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise UserError(f"tên đăng nhập {username!r} đã tồn tại")
    user = User(username=username, full_name=full_name.strip(), role=role)
    user.set_password(password)
    session.add(user)
    session.flush()
    return user


def set_team_leader(session: Session, surveyor: User, leader: User | None) -> None:
    """Put `surveyor` in the team led by `leader` (a supervisor, tổ trưởng); None: no team.
    Flushes."""
    if surveyor.role != "surveyor":
        raise UserError(f"{surveyor.username} không phải điều tra viên: chỉ điều tra viên thuộc một tổ")
    if leader is not None and leader.role != "supervisor":
        raise UserError(f"{leader.username} không phải tổ trưởng điều tra (vai trò supervisor)")
    if leader is not None and not leader.active:
        raise UserError(f"tài khoản {leader.username} đã bị khoá")
    surveyor.team_leader_id = leader.id if leader is not None else None
    session.flush()
