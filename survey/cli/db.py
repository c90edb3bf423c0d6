"""``flask db backup`` and ``flask db restore``, added to Flask-Migrate's ``flask db`` group.

SQLite: SQLite's online backup API (a consistent copy while the site keeps running).
PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean`` (the client tools of the
server's major version must be installed). The password, if the URL has one, is passed in
``PGPASSWORD``, never on the command line."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
import sqlalchemy as sa
from flask_migrate.cli import db as db_cli

from survey.cli.common import fail
from survey.extensions import db

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


def _sqlite_path(url: sa.URL) -> Path:
    if not url.database or url.database == ":memory:":
        fail("cơ sở dữ liệu SQLite trong bộ nhớ không sao lưu được")
    return Path(url.database)


def _pg_command(tool: str, url: sa.URL) -> tuple[list[str], dict[str, str]]:
    if shutil.which(tool) is None:
        fail(f"không tìm thấy {tool} (cài gói postgresql-client cùng phiên bản với máy chủ)")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return [tool, "--dbname", plain], env


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, errors="replace", check=False)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["(không có thông báo)"]
        fail(f"{command[0]} thất bại: {lines[0]}")


def backup_database(url: sa.URL, target: Path) -> None:
    """Write a consistent copy of the database at `url` to `target` (replaced if present)."""
    tmp = target.with_name(target.name + ".partial")
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(f"file:{_sqlite_path(url)}?mode=ro", uri=True)
        dest = sqlite3.connect(tmp)
        try:
            source.backup(dest)
        finally:
            dest.close()
            source.close()
    else:
        command, env = _pg_command("pg_dump", url)
        _run([*command, "--format=custom", "--no-owner", "--no-privileges", "--file", str(tmp)], env)
    os.replace(tmp, target)  # never a half-written backup under the real name


def restore_database(url: sa.URL, source: Path) -> None:
    """Replace the content of the database at `url` with the backup `source`."""
    head = source.read_bytes()[:16] if source.is_file() else b""
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not head.startswith(SQLITE_MAGIC):
            fail(f"{source}: không phải bản sao lưu SQLite")
        backup = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            try:
                healthy = backup.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            except sqlite3.DatabaseError:
                healthy = False
            if not healthy:
                fail(f"{source}: bản sao lưu bị hỏng (integrity_check không đạt)")
            live = sqlite3.connect(_sqlite_path(url))
            try:
                backup.backup(live)
            finally:
                live.close()
        finally:
            backup.close()
        return
    if not head.startswith(PG_MAGIC):
        fail(f"{source}: không phải bản sao lưu pg_dump (định dạng custom)")
    command, env = _pg_command("pg_restore", url)
    _run(
        [*command, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction", str(source)], env
    )


@db_cli.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(target: Path) -> None:
    """Sao lưu cơ sở dữ liệu vào tệp TARGET (SQLite: bản sao trực tuyến; PostgreSQL: pg_dump)."""
    if not target.parent.is_dir():
        fail(f"thư mục {target.parent} không tồn tại")
    backup_database(db.engine.url, target)
    click.echo(f"Đã sao lưu vào {target} ({target.stat().st_size} byte).")


@db_cli.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Xác nhận thay toàn bộ dữ liệu hiện có.")
def restore_command(source: Path, yes: bool) -> None:
    """Khôi phục cơ sở dữ liệu từ bản sao lưu SOURCE (thay toàn bộ dữ liệu hiện có)."""
    if not source.is_file():
        fail(f"không có tệp {source}")
    if not yes:
        fail("khôi phục sẽ thay toàn bộ dữ liệu hiện có; chạy lại với --yes để xác nhận")
    db.session.remove()
    db.engine.dispose()  # no connection of ours holds a table pg_restore drops
    restore_database(db.engine.url, source)
    click.echo(f"Đã khôi phục từ {source}.")
