"""``flask qr``: QR posters for the counters."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from survey.cli.common import fail
from survey.extensions import db, lazy_module
from survey.models import Place
from survey.qr import counters

if TYPE_CHECKING:  # imported when a command runs: pandas, reportlab (survey.extensions.lazy_module)
    from survey.qr import printing
else:
    printing = lazy_module("survey.qr.printing")


qr_cli = AppGroup("qr", help="Mã QR và áp phích cho các quầy.")


@qr_cli.command("posters")
@click.option("--place", "place_code", help="Mã nơi tiếp nhận (bỏ trống: mọi nơi trong tỉnh).")
@click.option("--size", type=click.Choice(["A4", "A5"], case_sensitive=False), default="A4", show_default=True)
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True, help="Tệp PDF sẽ ghi.")
def qr_posters(place_code: str | None, size: str, out: str) -> None:
    """In áp phích mã QR (một trang mỗi quầy đang hoạt động) ra một tệp PDF."""
    place_id = None
    if place_code:
        place_id = db.session.scalar(sa.select(Place.id).where(Place.code == place_code.strip().upper()))
        if place_id is None:
            fail(f"không có nơi tiếp nhận mã {place_code!r}")
    items = counters.counters_for_posters(db.session, place_id=place_id)
    try:
        base_url = printing.public_base_url(current_app.config)
        pdf = printing.poster_pdf(
            items,
            base_url=base_url,
            secret=current_app.config["SECRET_KEY"],
            province=current_app.config["PROVINCE_NAME"],
            minutes=printing.answer_minutes(db.session),
            default_slug=current_app.config["QR_QUESTIONNAIRE"],
            size=size.upper(),
        )
    except printing.PosterConfigError as exc:
        fail(str(exc))
    target = Path(out)
    if not target.parent.is_dir():
        fail(f"thư mục {target.parent} không tồn tại")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".ap-phich-", suffix=".pdf")
    with os.fdopen(fd, "wb") as fh:  # written whole, then renamed: never a half-written file
        fh.write(pdf)
    os.replace(tmp, target)
    click.echo(f"Đã ghi {len(items)} áp phích khổ {size.upper()} ({base_url}) vào {target}.")
