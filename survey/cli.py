"""Command-line tools, one group per domain. Commands call services, never views."""

from __future__ import annotations

import getpass
import sys

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from survey import questionnaires
from survey.extensions import db
from survey.models import ROLES, User

users_cli = AppGroup("users", help="Quản lý tài khoản.")
questionnaires_cli = AppGroup("questionnaires", help="Kiểm tra và công bố phiếu khảo sát.")
demo_cli = AppGroup("demo", help="Dữ liệu mẫu để chạy thử.")


def fail(message: str) -> None:
    """Print one precise line to stderr and exit 1."""
    click.echo(f"Lỗi: {message}", err=True)
    sys.exit(1)


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True, help="Vai trò.")
@click.option("--full-name", required=True, help="Họ và tên.")
@click.option("--password", help="Mật khẩu (bỏ trống để nhập ẩn).")
def create_user(username: str, role: str, full_name: str, password: str | None) -> None:
    """Tạo tài khoản USERNAME."""
    from survey.users import UserError
    from survey.users import create_user as create

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


@questionnaires_cli.command("check")
@click.argument("paths", nargs=-1, type=click.Path())
def check_questionnaires(paths: tuple[str, ...]) -> None:
    """Kiểm tra tệp phiếu (mặc định: cả thư mục questionnaires/) và đối chiếu với các
    phiên bản đã công bố."""
    from pathlib import Path

    directory = Path(current_app.config["QUESTIONNAIRES_DIR"])
    try:
        if paths:
            found = {}
            problems = []
            for path in paths:
                try:
                    d = questionnaires.load_file(Path(path), directory / "schema.json")
                    found[(d.slug, d.version)] = d
                except questionnaires.QuestionnaireError as exc:
                    problems += exc.problems
            if problems:
                raise questionnaires.QuestionnaireError(problems)
        else:
            found = questionnaires.load_directory(directory)
    except questionnaires.QuestionnaireError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} lỗi.", err=True)
        sys.exit(1)
    for (slug, version), d in sorted(found.items()):
        click.echo(f"OK {slug} v{version}: {len(list(d.questions()))} câu hỏi, {len(d.items)} câu tính chỉ số")


@questionnaires_cli.command("publish")
def publish_questionnaires() -> None:
    """Công bố các phiên bản phiếu mới trong questionnaires/ (phiên bản đã công bố không
    bao giờ bị sửa)."""
    definitions = current_app.extensions["sipas_questionnaires"]
    try:
        added = questionnaires.publish(db.session, definitions)
    except questionnaires.PublishedQuestionnaireChanged as exc:
        fail(str(exc))
    db.session.commit()
    for row in added:
        click.echo(f"Đã công bố {row.slug} v{row.version}.")
    if not added:
        click.echo("Không có phiên bản mới; các phiếu đã công bố khớp với tệp.")


@demo_cli.command("load")
def load_demo() -> None:
    """Nạp dữ liệu mẫu vào cơ sở dữ liệu trống (chạy lại không nạp trùng)."""
    from survey.demo import DEMO_PASSWORD, load

    definitions = current_app.extensions["sipas_questionnaires"]
    report = load(db.session, definitions)
    db.session.commit()
    if report.loaded:
        click.echo(report.summary)
    else:
        click.echo("Cơ sở dữ liệu đã có dữ liệu: không nạp lại dữ liệu mẫu.")
    click.echo(f"Tài khoản chạy thử (mật khẩu: {DEMO_PASSWORD}):")
    for username, role in report.logins:
        click.echo(f"  {username:<14} {role}")


__all__ = ["demo_cli", "questionnaires_cli", "users_cli"]
