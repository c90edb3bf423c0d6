"""``flask frame``: import the sampling frame of a round."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup

from survey.cli.common import fail, round_or_fail
from survey.extensions import db, lazy_module

if TYPE_CHECKING:  # imported when a command runs: pandas, reportlab (survey.extensions.lazy_module)
    from survey.paper import frames, mapping
else:
    frames = lazy_module("survey.paper.frames")
    mapping = lazy_module("survey.paper.mapping")


frame_cli = AppGroup("frame", help="Khung mẫu: danh sách hồ sơ đã trả kết quả.")


@frame_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--round", "round_id", type=int, required=True, help="Số đợt khảo sát.")
@click.option("--valid-only", is_flag=True, help="Chỉ nhập các dòng hợp lệ khi tệp có lỗi.")
@click.option("--report", type=click.Path(dir_okay=False), help="Ghi danh sách lỗi (CSV) vào tệp này.")
@click.option(
    "--profile", "profile_name", help="Đọc cột theo hồ sơ ánh xạ đã lưu (tên như trên trang Hồ sơ ánh xạ cột)."
)
def frame_import(path: str, round_id: int, valid_only: bool, report: str | None, profile_name: str | None) -> None:
    """Nhập khung mẫu từ tệp CSV hoặc XLSX. Tệp có lỗi không được nhập, trừ khi --valid-only.
    Không có --profile: hồ sơ ánh xạ khớp tiêu đề của tệp (nếu có), nếu không thì tự nhận diện cột."""
    survey_round = round_or_fail(round_id)
    try:
        table = frames.read_table(Path(path).read_bytes(), path)
        found = mapping.profile_for_file(db.session, [str(c) for c in table.columns], profile_name)
        if found is not None:
            click.echo(f"Đọc cột theo hồ sơ ánh xạ “{found[1].name}”.")
        checked = frames.check(db.session, survey_round, table, None if found is None else found[0])
    except frames.FrameError as exc:
        fail(str(exc))
    for problem in checked.problems[:20]:
        click.echo(f"dòng {problem.row}, cột {problem.column}: {problem.message}", err=True)
    if len(checked.problems) > 20:
        click.echo(f"… và {len(checked.problems) - 20} lỗi khác. Theo nhóm:", err=True)
        for group in checked.grouped()[:20]:
            value = f" {group.value}" if group.value else ""
            rows = ", ".join(map(str, group.first_rows))
            click.echo(f"  cột {group.column}:{value} {group.message}: {group.count} dòng (dòng {rows}…)", err=True)
    if report and checked.problems:
        Path(report).write_bytes(checked.problems_csv())
        click.echo(f"Danh sách lỗi: {report}", err=True)
    if checked.problems and not valid_only:
        fail(f"{len(checked.problems)} lỗi ở {checked.n_rows - checked.n_valid} dòng; chưa nhập dòng nào")
    try:
        stored = frames.store(db.session, survey_round, checked, valid_only=valid_only)
    except frames.FrameError as exc:
        db.session.rollback()
        fail(str(exc))
    survey_round.frame_file = Path(path).name
    db.session.commit()
    click.echo(f"Đã nhập {stored:,} hồ sơ vào khung mẫu của đợt {survey_round.id}.".replace(",", "."))
    for (name, group), n in sorted(checked.from_linh_vuc.items()):
        click.echo(f"  nhóm lĩnh vực từ lĩnh vực {name!r}: {group} ({n} dòng)")
    if checked.unused:
        click.echo("Các cột không dùng: " + ", ".join(checked.unused))


@frame_cli.command("profiles")
def frame_profiles() -> None:
    """Liệt kê các hồ sơ ánh xạ cột đã lưu (tạo và xoá trên trang Hồ sơ ánh xạ cột)."""
    for profile in mapping.profiles(db.session):
        columns = ", ".join(
            f"{frames.COLUMN_LABELS.get(f, f)} ← {h}" for f, h in mapping.ordered_columns(profile.columns)
        )
        click.echo(f"{profile.name}: {columns}")
