"""App factory and configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from survey import ConfigError, create_app
from survey.config import Defaults, load_env

ROOT = Path(__file__).resolve().parents[2]


_apps: list = []


@pytest.fixture(autouse=True)
def _dispose_engines():
    """Close the pooled connections of the apps a test made (no ResourceWarning later)."""
    from survey.extensions import db

    yield
    while _apps:
        with _apps.pop().app_context():
            db.engine.dispose()


def make(tmp_path: Path, **overrides: object):
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}", **overrides}, instance_path=str(tmp_path / "instance")
    )
    _apps.append(app)
    return app


def test_defaults_to_sqlite_in_instance_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIPAS_DATABASE_URL", raising=False)
    app = create_app(instance_path=str(tmp_path / "inst"))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'inst' / 'sipas.db'}"
    assert app.config["BABEL_DEFAULT_LOCALE"] == "vi"


def test_secret_key_is_generated_once_and_survives_restart(tmp_path: Path) -> None:
    first = make(tmp_path).config["SECRET_KEY"]
    second = make(tmp_path).config["SECRET_KEY"]
    assert first == second and len(first) >= 32
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_production_refuses_to_invent_a_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SIPAS_SECRET_KEY"):
        make(tmp_path, ENV="production")


def test_configured_secret_wins(tmp_path: Path) -> None:
    assert make(tmp_path, SECRET_KEY="k" * 40).config["SECRET_KEY"] == "k" * 40
    assert not (tmp_path / "instance" / "secret_key").exists()


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("not a url", "không hợp lệ"),
        ("mysql://root@localhost/x", "không được hỗ trợ"),
        ("postgresql+nosuchdriver://u@h/db", "không dùng được"),
        ("postgresql://postgres@127.0.0.1:1/nowhere", "Không kết nối được"),
    ],
)
def test_bad_database_url_is_one_line_error(tmp_path: Path, url: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        make(tmp_path, DATABASE_URL=url)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_database_url_from_environment_gives_one_line_not_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "SIPAS_DATABASE_URL": "not a url", "SIPAS_INSTANCE_PATH": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "routes"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("Lỗi cấu hình: SIPAS_DATABASE_URL không hợp lệ")
    assert "Traceback" not in proc.stderr


def test_plain_postgresql_url_uses_psycopg3(tmp_path: Path) -> None:
    app = make(tmp_path, DATABASE_URL="postgresql://postgres@127.0.0.1:5432/test")
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")


def test_connections_are_pinged_before_use_on_postgresql_only(tmp_path: Path) -> None:
    """A PostgreSQL connection the server closed is replaced before use; a SQLite file cannot
    drop one, so its requests skip the ping statement."""
    from survey.extensions import db

    sqlite_app = make(tmp_path)
    pg_app = make(tmp_path, DATABASE_URL="postgresql://postgres@127.0.0.1:5432/test")
    with sqlite_app.app_context():
        assert db.engine.pool._pre_ping is False
    with pg_app.app_context():  # the engine is made without connecting
        assert db.engine.pool._pre_ping is True
    assert Defaults.SQLALCHEMY_ENGINE_OPTIONS == {"pool_pre_ping": True}  # the class default is not changed


def test_prefixed_environment_is_parsed_strictly(tmp_path: Path) -> None:
    app = make(tmp_path)
    load_env(
        app,
        {
            "SIPAS_TARGETS": '{"2026": {"all": 91}}',
            "SIPAS_PUBLIC_BASE_URL": "https://sipas.bacninh.gov.vn",
            "OTHER": "x",
        },
    )
    assert app.config["TARGETS"] == {"2026": {"all": 91}}
    assert app.config["PUBLIC_BASE_URL"] == "https://sipas.bacninh.gov.vn"
    with pytest.raises(ConfigError, match="SIPAS_TARGETS"):
        load_env(app, {"SIPAS_TARGETS": "{not json"})
    with pytest.raises(ConfigError, match="SIPAS_DATABSE_URL: không có thiết lập"):  # a typo is not ignored
        load_env(app, {"SIPAS_DATABSE_URL": "sqlite://"})
    load_env(app, {"SIPAS_SESSION_COOKIE_SECURE": "true", "SIPAS_TEST_ANYTHING": "x"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_a_savepoint_after_reads_commits_nothing_on_sqlite(tmp_path: Path) -> None:
    """pysqlite opens a transaction only before a write, so a SAVEPOINT that came after nothing
    but reads began a transaction of its own and its RELEASE committed it: a savepoint's work
    (a device sync's outcome and response) was visible to other requests, and kept, before the
    request's commit — another request then stored a false conflict. A BEGIN now comes first."""
    from survey.extensions import db

    app = make(tmp_path)
    with app.app_context():
        with db.engine.begin() as setup:
            setup.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        assert db.session.execute(sa.text("SELECT count(*) FROM t")).scalar() == 0  # reads only
        nested = db.session.begin_nested()
        db.session.execute(sa.text("INSERT INTO t VALUES (1)"))
        nested.commit()
        with db.engine.connect() as other:
            assert other.execute(sa.text("SELECT count(*) FROM t")).scalar() == 0  # not yet committed
        db.session.rollback()
        with db.engine.connect() as other:
            assert other.execute(sa.text("SELECT count(*) FROM t")).scalar() == 0  # and rolled back

        nested = db.session.begin_nested()  # first thing in a transaction: the same
        db.session.execute(sa.text("INSERT INTO t VALUES (2)"))
        nested.commit()
        db.session.commit()
        with db.engine.connect() as other:
            assert other.execute(sa.text("SELECT x FROM t")).scalars().all() == [2]


def test_sqlite_pragmas(tmp_path: Path) -> None:
    from survey.extensions import db

    app = make(tmp_path)
    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(sa.text("PRAGMA busy_timeout")).scalar() == 10000


def test_invalid_questionnaire_directory_stops_start_up(tmp_path: Path) -> None:
    qdir = tmp_path / "q"
    (qdir / "x").mkdir(parents=True)
    (qdir / "schema.json").write_text((ROOT / "questionnaires" / "schema.json").read_text("utf-8"), "utf-8")
    (qdir / "x" / "v1.yaml").write_text("slug: x\n", "utf-8")
    with pytest.raises(ConfigError, match="không hợp lệ"):
        make(tmp_path, QUESTIONNAIRES_DIR=str(qdir))


def test_health_endpoint(client) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
