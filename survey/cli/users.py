"""``flask users``: accounts."""

from __future__ import annotations

import getpass

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from survey.cli.common import fail
from survey.extensions import db
from survey.models import ROLES, User
from survey.users import UserError
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
    """Liệt kê các tài khoản."""
    for user in db.session.scalars(sa.select(User).order_by(User.username)):
        state = "" if user.active else " (đã khoá)"
        click.echo(f"{user.username}\t{user.role}\t{user.full_name}{state}")
