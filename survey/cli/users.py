"""``flask users``: accounts."""

from __future__ import annotations

import getpass

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from survey.cli.common import fail
from survey.extensions import db
from survey.models import ROLES, User
from survey.users import UserError, set_team_leader
from survey.users import create_user as create

users_cli = AppGroup("users", help="Quản lý tài khoản.")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True, help="Vai trò.")
@click.option("--full-name", required=True, help="Họ và tên.")
@click.option("--password", help="Mật khẩu (bỏ trống để nhập ẩn).")
def create_user(username: str, role: str, full_name: str, password: str | None) -> None:
    """Tạo tài khoản USERNAME."""
    if password is None:
        password = getpass.getpass("Mật khẩu: ")
        if getpass.getpass("Nhập lại mật khẩu: ") != password:
            fail("hai lần nhập mật khẩu không khớp")
    try:
        user = create(db.session, username=username, full_name=full_name, role=role, password=password)
    except UserError as exc:
        fail(str(exc))
    db.session.commit()
    click.echo(f"Đã tạo tài khoản {user.username} ({user.role_label}).")


@users_cli.command("list")
def list_users() -> None:
    """Liệt kê các tài khoản (với tổ trưởng của điều tra viên)."""
    leaders = dict(db.session.execute(sa.select(User.id, User.username).where(User.role == "supervisor")).all())
    for user in db.session.scalars(sa.select(User).order_by(User.username)):
        state = "" if user.active else " (đã khoá)"
        team = f"\ttổ: {leaders[user.team_leader_id]}" if user.team_leader_id in leaders else ""
        click.echo(f"{user.username}\t{user.role}\t{user.full_name}{state}{team}")


def _user_or_fail(username: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.username == username.strip().lower()))
    if user is None:
        fail(f"không có tài khoản {username!r}")
    return user


@users_cli.command("team")
@click.argument("surveyor")
@click.argument("leader", required=False)
@click.option("--none", "no_team", is_flag=True, help="Đưa điều tra viên ra khỏi tổ.")
def team(surveyor: str, leader: str | None, no_team: bool) -> None:
    """Đưa điều tra viên SURVEYOR vào tổ do LEADER (tổ trưởng) phụ trách."""
    if (leader is None) == (not no_team):
        fail("ghi tên tổ trưởng, hoặc --none để đưa ra khỏi tổ (không cả hai)")
    member = _user_or_fail(surveyor)
    head = _user_or_fail(leader) if leader is not None else None
    try:
        set_team_leader(db.session, member, head)
    except UserError as exc:
        fail(str(exc))
    db.session.commit()
    click.echo(f"{member.username}: tổ của {head.username}." if head else f"{member.username}: không thuộc tổ nào.")
