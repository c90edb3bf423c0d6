"""``flask round``: paper-channel survey rounds."""

from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from survey import questionnaires
from survey.cli.common import fail, round_or_fail
from survey.extensions import db
from survey.paper.fieldwork import close_fieldwork
from survey.paper.purge import purge_pii
from survey.paper.rounds import RoundError, create_round

round_cli = AppGroup("round", help="Đợt khảo sát phiếu giấy (Bưu điện).")


@round_cli.command("create")
@click.option("--name", required=True, help="Tên đợt, ví dụ 'Quý I/2026'.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d", "%d/%m/%Y"]), required=True)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d", "%d/%m/%Y"]), required=True)
@click.option("--questionnaire", "slug", default="sipas-dich-vu", show_default=True)
def round_create(name: str, start: datetime, end: datetime, slug: str) -> None:
    """Tạo đợt khảo sát cho các hồ sơ trả kết quả trong kỳ."""
    row = questionnaires.get(db.session, slug)
    if row is None:
        fail(f"phiếu {slug!r} chưa được công bố (flask questionnaires publish)")
    try:
        survey_round = create_round(
            db.session, name=name, period_start=start.date(), period_end=end.date(), questionnaire=row
        )
    except RoundError as exc:
        fail(str(exc))
    db.session.commit()
    click.echo(f"Đã tạo đợt khảo sát số {survey_round.id}: {survey_round.name}.")


@round_cli.command("purge-pii")
@click.option("--round", "round_id", type=int, required=True)
@click.option("--yes", is_flag=True, help="Không hỏi lại.")
def round_purge_pii(round_id: int, yes: bool) -> None:
    """Xoá họ tên, số điện thoại, địa chỉ của khung mẫu khi kết thúc đợt (giữ phiếu trả lời và thiết kế mẫu)."""
    survey_round = round_or_fail(round_id)
    if not yes:
        click.confirm(
            f"Xoá vĩnh viễn thông tin cá nhân của đợt {survey_round.id} ({survey_round.name})?", abort=True, err=True
        )
    try:
        cleared = purge_pii(db.session, survey_round, instance_path=current_app.instance_path)
    except RoundError as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    click.echo(f"Đã xoá thông tin cá nhân của {cleared:,} hồ sơ.".replace(",", "."))


@round_cli.command("close")
@click.option("--round", "round_id", type=int, required=True)
def round_close(round_id: int) -> None:
    """Kết thúc thực địa: tỉ lệ trả lời thành chính thức; sau đó mới xoá được thông tin cá nhân."""
    survey_round = round_or_fail(round_id)
    try:
        pending = close_fieldwork(db.session, survey_round)
    except RoundError as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    click.echo(
        f"Đã kết thúc thực địa đợt {survey_round.id}; {pending} trường hợp không có kết quả (chưa rõ đủ điều kiện)."
    )
