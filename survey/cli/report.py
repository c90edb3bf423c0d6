"""``flask report build``: a weighting run stored as a new snapshot, and every file of it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import AppGroup

from survey.cli.common import fail, round_or_fail
from survey.extensions import db, lazy_module
from survey.models import DossierCountTable

if TYPE_CHECKING:  # imported when a command runs: pandas, reportlab (survey.extensions.lazy_module)
    from survey.paper import dossier_counts
    from survey.reports import annual_pdf, exports, snapshots
else:
    dossier_counts = lazy_module("survey.paper.dossier_counts")
    annual_pdf = lazy_module("survey.reports.annual_pdf")
    exports = lazy_module("survey.reports.exports")
    snapshots = lazy_module("survey.reports.snapshots")


report_cli = AppGroup("report", help="Tính quyền số và xuất số liệu.")


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} không phải ngày dạng YYYY-MM-DD")


@report_cli.command("build")
@click.option("--round", "round_id", type=int, help="Đợt phỏng vấn cần tính quyền số.")
@click.option("--from", "start", help="Kênh QR: từ ngày (YYYY-MM-DD).")
@click.option("--to", "end", help="Kênh QR: đến ngày (YYYY-MM-DD).")
@click.option("--quarter", help="Kênh QR: cả một quý, dạng YYYY-Q (ví dụ 2026-1), thay cho --from/--to.")
@click.option("--channel", type=click.Choice(["qr", "paper"]), help="qr với --from/--to; paper với --round.")
@click.option("--frame-round", type=int, help="Kênh QR: đợt có khung mẫu cho số hồ sơ theo ô.")
@click.option("--counts-table", type=int, help="Kênh QR: bảng số hồ sơ đã nhập (thay cho --frame-round).")
@click.option("--background", is_flag=True, help="Kênh QR: tính cả theo đặc điểm người trả lời (chậm hơn).")
@click.option(
    "--questionnaire", "slug", help="Kênh QR: phiếu hỏi (slug) của lần tính; mặc định SIPAS_QR_QUESTIONNAIRE."
)
@click.option("--rake", is_flag=True, help="Đợt phỏng vấn: hiệu chỉnh theo tổng hồ sơ theo nơi và nhóm lĩnh vực.")
@click.option("--trim", type=float, help="Cắt quyền số ở K × trung vị.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Thư mục ghi tệp.")
def report_build(
    round_id, start, end, quarter, channel, frame_round, counts_table, background, slug, rake, trim, out_dir
) -> None:
    """Tính quyền số (một lần tính mới, có số thứ tự) rồi ghi mọi tệp xuất của lần tính đó."""
    first, last = _date(start, "--from"), _date(end, "--to")
    if quarter is not None:
        year, _sep, number = quarter.partition("-")
        if not (year.isdigit() and number.isdigit()) or first or last:
            fail(f"--quarter {quarter!r} phải có dạng YYYY-Q (ví dụ 2026-1) và không đi cùng --from/--to")
        try:
            first, last = snapshots.period_bounds("quarter", int(year), int(number))
        except snapshots.SnapshotError as exc:
            fail(str(exc))
    if round_id is not None and (first or last or channel == "qr"):
        fail("dùng --round (phỏng vấn) hoặc --from/--to --channel qr, không dùng cả hai")
    try:
        if round_id is not None:
            made = snapshots.build_paper_snapshot(db.session, round_or_fail(round_id), rake=rake, trim=trim)
        else:
            if channel != "qr" or first is None or last is None or (frame_round is None) == (counts_table is None):
                fail("cần --round N, hoặc --from D --to D --channel qr với --frame-round N hoặc --counts-table N")
            made = snapshots.build_qr_snapshot(
                db.session,
                slug=slug or current_app.config["QR_QUESTIONNAIRE"],
                start=first,
                end=last,
                frame_round=None if frame_round is None else round_or_fail(frame_round),
                counts_table=None if counts_table is None else _counts_table_or_fail(counts_table),
                background=background,
            )
    except snapshots.SnapshotError as exc:
        db.session.rollback()
        fail(str(exc))
    target = Path(out_dir)
    try:
        target.mkdir(parents=True, exist_ok=True)
        written = []
        for name, ext in exports.ALL_EXPORTS:
            body, _mimetype, filename = exports.export(db.session, made, name, ext)
            (target / filename).write_bytes(body)
            written.append(filename)
        body, filename = annual_pdf.annual_report_pdf(
            db.session, made, targets=current_app.config["TARGETS"], province=current_app.config["PROVINCE_NAME"]
        )
        (target / filename).write_bytes(body)
        written.append(filename)
    except OSError as exc:
        db.session.rollback()
        fail(f"không ghi được vào {out_dir}: {exc.strerror}")
    db.session.commit()
    click.echo(
        f"Lần tính quyền số #{made.id} ({made.label}): {made.respondents} phiếu; "
        f"đã ghi {len(written)} tệp vào {target}."
    )


def _counts_table_or_fail(table_id: int) -> DossierCountTable:
    table = db.session.get(DossierCountTable, table_id)
    if table is None:
        fail(f"không có bảng số hồ sơ #{table_id}")
    return table


counts_cli = AppGroup("counts", help="Bảng số hồ sơ từ hệ thống một cửa (tổng hậu phân tầng cho phiếu QR).")
report_cli.add_command(counts_cli)


@counts_cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--name", help="Tên bảng (mặc định: tên tệp).")
def counts_import(path: str, name: str | None) -> None:
    """Nhập một tệp CSV/XLSX số hồ sơ theo nơi tiếp nhận × nhóm lĩnh vực × kỳ (cả tệp hoặc không gì)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        fail(f"không đọc được {path}: {exc.strerror}")
    try:
        table = dossier_counts.import_counts(db.session, data, Path(path).name, name=name)
    except dossier_counts.CountsError as exc:
        db.session.rollback()
        details = "; ".join(f"{g.message} (dòng {', '.join(map(str, g.first_rows))})" for g in exc.groups)
        fail(f"{exc} {details}".strip())
    db.session.commit()
    click.echo(f"Bảng số hồ sơ #{table.id} ({table.name}): {table.cells} ô, {table.dossiers} hồ sơ.")
