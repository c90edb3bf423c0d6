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
qr_cli = AppGroup("qr", help="Mã QR và áp phích cho các quầy.")


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


@qr_cli.command("posters")
@click.option("--place", "place_code", help="Mã nơi tiếp nhận (bỏ trống: mọi nơi trong tỉnh).")
@click.option("--size", type=click.Choice(["A4", "A5"], case_sensitive=False), default="A4", show_default=True)
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True, help="Tệp PDF sẽ ghi.")
def qr_posters(place_code: str | None, size: str, out: str) -> None:
    """In áp phích mã QR (một trang mỗi quầy đang hoạt động) ra một tệp PDF."""
    import os
    import tempfile
    from pathlib import Path

    from survey import counters, posters_service
    from survey.models import Place

    place_id = None
    if place_code:
        place_id = db.session.scalar(sa.select(Place.id).where(Place.code == place_code.strip().upper()))
        if place_id is None:
            fail(f"không có nơi tiếp nhận mã {place_code!r}")
    items = counters.counters_for_posters(db.session, place_id=place_id)
    try:
        base_url = posters_service.public_base_url(current_app.config)
        pdf = posters_service.poster_pdf(
            items,
            base_url=base_url,
            secret=current_app.config["SECRET_KEY"],
            province=current_app.config["PROVINCE_NAME"],
            size=size.upper(),
        )
    except posters_service.PosterConfigError as exc:
        fail(str(exc))
    target = Path(out)
    if not target.parent.is_dir():
        fail(f"thư mục {target.parent} không tồn tại")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".ap-phich-", suffix=".pdf")
    with os.fdopen(fd, "wb") as fh:  # written whole, then renamed: never a half-written file
        fh.write(pdf)
    os.replace(tmp, target)
    click.echo(f"Đã ghi {len(items)} áp phích khổ {size.upper()} ({base_url}) vào {target}.")
