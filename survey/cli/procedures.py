"""``flask procedures``: the procedure catalogue (danh mục TTHC) from the national list."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup

from survey.cli.common import fail
from survey.extensions import db, lazy_module

if TYPE_CHECKING:  # imported when a command runs: pandas, reportlab (survey.extensions.lazy_module)
    from survey.paper import frames, procedures
else:
    frames = lazy_module("survey.paper.frames")
    procedures = lazy_module("survey.paper.procedures")


procedures_cli = AppGroup("procedures", help="Danh mục thủ tục hành chính (mã TTHC, lĩnh vực, nhóm lĩnh vực).")


@procedures_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def procedures_import(path: str) -> None:
    """Nhập danh mục TTHC từ CSV/XLSX: cột Mã TTHC, Tên TTHC, Lĩnh vực, Cấp thực hiện (có thể
    thêm Nhóm lĩnh vực). Thủ tục đã có được cập nhật theo mã; nhóm lĩnh vực suy từ lĩnh vực nếu
    không có cột đó."""
    try:
        table = frames.read_table(Path(path).read_bytes(), path).astype(str)
        done = procedures.import_catalogue(db.session, table)
    except (frames.FrameError, procedures.CatalogueError) as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    groups = ", ".join(f"{group}: {n}" for group, n in sorted(done.groups.items()))
    click.echo(f"Đã nhập {done.added} thủ tục mới, cập nhật {done.updated} ({groups}).")
