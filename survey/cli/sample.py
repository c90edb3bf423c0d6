"""``flask sample``: the stratified draw of a round."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup

from survey.cli.common import fail, round_or_fail
from survey.extensions import db, lazy_module
from survey.paper.rounds import RoundError

if TYPE_CHECKING:  # imported when a command runs: pandas, reportlab (survey.extensions.lazy_module)
    from survey.paper import sample
else:
    sample = lazy_module("survey.paper.sample")


sample_cli = AppGroup("sample", help="Chọn mẫu phân tầng.")


@sample_cli.command("draw")
@click.option("--round", "round_id", type=int, required=True)
@click.option(
    "--method", type=click.Choice(["proportional", "fixed", "neyman"]), default="proportional", show_default=True
)
@click.option("--total", type=int, help="Cỡ mẫu toàn đợt (proportional, neyman).")
@click.option("--per-stratum", type=int, help="Cỡ mẫu mỗi tầng (fixed).")
@click.option("--minimum", type=int, default=0, show_default=True, help="Tối thiểu mỗi tầng.")
@click.option("--oversample", multiple=True, help="Hệ số chọn thêm theo nhóm lĩnh vực, ví dụ dat_dai=1.5.")
@click.option("--reserve-rate", type=float, default=0.4, show_default=True)
@click.option("--seed", type=int, help="Hạt giống ngẫu nhiên (bỏ trống: tạo mới, được lưu cùng đợt).")
@click.option("--sd-from-round", type=int, help="Neyman: độ lệch chuẩn mỗi tầng lấy từ phiếu của đợt này.")
def sample_draw(round_id, method, total, per_stratum, minimum, oversample, reserve_rate, seed, sd_from_round) -> None:
    """Chọn mẫu ngẫu nhiên phân tầng (nơi tiếp nhận × nhóm lĩnh vực) kèm danh sách dự phòng."""
    survey_round = round_or_fail(round_id)
    try:
        done = sample.draw_round(
            db.session,
            survey_round,
            method=method,
            total_n=total,
            per_stratum=per_stratum,
            minimum=minimum,
            oversample=sample.parse_oversample(oversample),
            reserve_rate=reserve_rate,
            seed=seed,
            sd_round=round_or_fail(sd_from_round) if sd_from_round else None,
        )
    except RoundError as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    click.echo(
        f"Đã chọn {done.achieved} hồ sơ chính và {done.reserves} dự phòng "
        f"ở {len(done.design)} tầng (hạt giống {done.seed})."
    )
    if done.size_changed:
        click.echo(
            f"Lưu ý: cỡ mẫu đạt được {done.achieved} khác cỡ mẫu yêu cầu {done.requested} do tối thiểu mỗi tầng.",
            err=True,
        )
