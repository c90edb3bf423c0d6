"""``flask demo``: demonstration data."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import AppGroup

from survey.extensions import db, lazy_module

if TYPE_CHECKING:  # imported when a command runs: pandas, reportlab (survey.extensions.lazy_module)
    from survey import demo
else:
    demo = lazy_module("survey.demo")


demo_cli = AppGroup("demo", help="Dữ liệu mẫu để chạy thử.")


@demo_cli.command("frame-file")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--rows", type=int, default=2000, show_default=True)
@click.option("--year", type=int, help="Năm (mặc định: năm nay).")
@click.option("--quarter", type=click.IntRange(1, 4), default=1, show_default=True)
def demo_frame_file(out: str, rows: int, year: int | None, quarter: int) -> None:
    """Ghi một tệp khung mẫu thử (CSV) cho các nơi tiếp nhận mẫu, để thử nhập khung mẫu."""
    demo.write_frame_file(out, rows=rows, year=year, quarter=quarter)
    click.echo(f"Đã ghi {rows} hồ sơ thử vào {out} (quý {quarter}).")


@demo_cli.command("load")
def load_demo() -> None:
    """Nạp dữ liệu mẫu vào cơ sở dữ liệu trống (chạy lại không nạp trùng)."""
    definitions = current_app.extensions["sipas_questionnaires"]
    report = demo.load(db.session, definitions)
    db.session.commit()
    if report.loaded:
        click.echo(report.summary)
    else:
        click.echo("Cơ sở dữ liệu đã có dữ liệu: không nạp lại dữ liệu mẫu.")
    click.echo(f"Tài khoản chạy thử (mật khẩu: {demo.DEMO_PASSWORD}):")
    for username, role in report.logins:
        click.echo(f"  {username:<14} {role}")
