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


@demo_cli.command("frame-file")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--rows", type=int, default=2000, show_default=True)
@click.option("--year", type=int, help="Năm (mặc định: năm nay).")
@click.option("--quarter", type=click.IntRange(1, 4), default=1, show_default=True)
def demo_frame_file(out: str, rows: int, year: int | None, quarter: int) -> None:
    """Ghi một tệp khung mẫu thử (CSV) cho các nơi tiếp nhận mẫu, để thử nhập khung mẫu."""
    from survey.demo import write_frame_file

    write_frame_file(out, rows=rows, year=year, quarter=quarter)
    click.echo(f"Đã ghi {rows} hồ sơ thử vào {out} (quý {quarter}).")


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


round_cli = AppGroup("round", help="Đợt khảo sát phiếu giấy (Bưu điện).")
frame_cli = AppGroup("frame", help="Khung mẫu: danh sách hồ sơ đã trả kết quả.")
sample_cli = AppGroup("sample", help="Chọn mẫu phân tầng.")


def _round(round_id: int):  # type: ignore[no-untyped-def]
    from survey.models import SurveyRound

    survey_round = db.session.get(SurveyRound, round_id)
    if survey_round is None:
        fail(f"không có đợt khảo sát số {round_id}")
    return survey_round


@round_cli.command("create")
@click.option("--name", required=True, help="Tên đợt, ví dụ 'Quý I/2026'.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d", "%d/%m/%Y"]), required=True)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d", "%d/%m/%Y"]), required=True)
@click.option("--questionnaire", "slug", default="sipas-dich-vu", show_default=True)
def round_create(name: str, start, end, slug: str) -> None:  # type: ignore[no-untyped-def]
    """Tạo đợt khảo sát cho các hồ sơ trả kết quả trong kỳ."""
    from survey.rounds import RoundError, create_round

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


@frame_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--round", "round_id", type=int, required=True, help="Số đợt khảo sát.")
@click.option("--valid-only", is_flag=True, help="Chỉ nhập các dòng hợp lệ khi tệp có lỗi.")
@click.option("--report", type=click.Path(dir_okay=False), help="Ghi danh sách lỗi (CSV) vào tệp này.")
def frame_import(path: str, round_id: int, valid_only: bool, report: str | None) -> None:
    """Nhập khung mẫu từ tệp CSV hoặc XLSX. Tệp có lỗi không được nhập, trừ khi --valid-only."""
    from pathlib import Path

    from survey import frames

    survey_round = _round(round_id)
    try:
        table = frames.read_table(Path(path).read_bytes(), path)
        checked = frames.check(db.session, survey_round, table)
    except frames.FrameError as exc:
        fail(str(exc))
    for problem in checked.problems[:20]:
        click.echo(f"dòng {problem.row}, cột {problem.column}: {problem.message}", err=True)
    if len(checked.problems) > 20:
        click.echo(f"… và {len(checked.problems) - 20} lỗi khác.", err=True)
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
def sample_draw(round_id, method, total, per_stratum, minimum, oversample, reserve_rate, seed, sd_from_round) -> None:  # type: ignore[no-untyped-def]
    """Chọn mẫu ngẫu nhiên phân tầng (nơi tiếp nhận × nhóm lĩnh vực) kèm danh sách dự phòng."""
    from analysis.sampling import AllocationRule
    from survey.rounds import RoundError, draw_sample, stratum_sd_from_round

    survey_round = _round(round_id)
    factors = {}
    for item in oversample:
        group, _, factor = item.partition("=")
        try:
            factors[group.strip()] = float(factor)
        except ValueError:
            fail(f"--oversample {item!r}: cần dạng nhom=hệ_số, ví dụ dat_dai=1.5")
    try:
        rule = AllocationRule(
            method=method,
            total_n=total,
            per_stratum=per_stratum,
            minimum=minimum,
            oversample=factors,
            reserve_rate=reserve_rate,
        )
        stratum_sd = stratum_sd_from_round(db.session, _round(sd_from_round)) if sd_from_round else None
        design = draw_sample(db.session, survey_round, rule, seed=seed, stratum_sd=stratum_sd)
    except (RoundError, ValueError) as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    achieved = int(design["n_h"].sum())
    click.echo(
        f"Đã chọn {achieved} hồ sơ chính và {int(design['reserve_h'].sum())} dự phòng "
        f"ở {len(design)} tầng (hạt giống {survey_round.seed})."
    )
    if total and achieved != total:
        click.echo(f"Lưu ý: cỡ mẫu đạt được {achieved} khác cỡ mẫu yêu cầu {total} do tối thiểu mỗi tầng.", err=True)


@round_cli.command("purge-pii")
@click.option("--round", "round_id", type=int, required=True)
@click.option("--yes", is_flag=True, help="Không hỏi lại.")
def round_purge_pii(round_id: int, yes: bool) -> None:
    """Xoá họ tên, số điện thoại, địa chỉ của khung mẫu khi kết thúc đợt (giữ phiếu trả lời và thiết kế mẫu)."""
    from survey.rounds import purge_pii

    survey_round = _round(round_id)
    if not yes:
        click.confirm(
            f"Xoá vĩnh viễn thông tin cá nhân của đợt {survey_round.id} ({survey_round.name})?", abort=True, err=True
        )
    cleared = purge_pii(db.session, survey_round)
    db.session.commit()
    from survey import frames

    frames.remove_uploads(current_app.instance_path, survey_round.id)
    click.echo(f"Đã xoá thông tin cá nhân của {cleared:,} hồ sơ.".replace(",", "."))
