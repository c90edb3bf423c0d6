"""Configuration: defaults, then ``instance/config.py`` if present, then ``SIPAS_*``
environment variables. Values are checked strictly; a problem raises `ConfigError` with
one line that says what to fix."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any, ClassVar

from flask import Flask
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PREFIX = "SIPAS_"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """A configuration problem the operator must fix; its message is one line."""


class Defaults:
    # SQLALCHEMY_DATABASE_URI is derived from DATABASE_URL (or the instance folder).
    #: "development" or "production" (production refuses to invent a secret key).
    ENV = "development"
    DATABASE_URL: str | None = None
    SECRET_KEY: str | None = None
    #: ``pool_pre_ping``: a PostgreSQL connection the server closed (restart, idle timeout) is
    #: replaced before use. Not on SQLite (`engine_options`): a file cannot drop a connection,
    #: and the ping was a statement before every request's first.
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {"pool_pre_ping": True}
    QUESTIONNAIRES_DIR = str(PROJECT_ROOT / "questionnaires")
    #: Where QR posters point; required outside development (issue 3).
    PUBLIC_BASE_URL: str | None = None
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")
    PROVINCE_NAME = "Bắc Ninh"
    #: How many reverse proxies stand in front of the app and set ``X-Forwarded-For``,
    #: ``-Proto``, ``-Host`` (werkzeug's ProxyFix). 0: the app faces the clients directly.
    #: Never set it higher than the real number of proxies: clients could forge addresses.
    PROXY_HOPS = 0
    #: This process only serves web requests (set by ``gunicorn.conf.py``): the ``flask``
    #: command groups and Flask-Migrate (alembic, about 0.5 s of start-up) are not loaded.
    WEB_ONLY = False
    #: Time zone of "today" and of every daily window (the Vietnam calendar day).
    TIMEZONE = "Asia/Ho_Chi_Minh"
    #: Where rate-limit counters live: ``memory://`` is per process; with more than one
    #: worker use Redis (``redis://127.0.0.1:6379/0``) so that the limits are shared.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_STRATEGY = "fixed-window"
    #: Sign-in attempts per client address (each account also backs off on its own).
    LOGIN_RATE_LIMIT = "10 per minute;60 per hour"
    #: Submissions of the citizen questionnaire per device (a cookie set with the form;
    #: clients without it count per address).
    QR_RATE_LIMIT = "10 per minute;60 per hour"
    #: Ceiling per client address, over all its devices: a commune centre's Wi-Fi or a
    #: carrier-NAT address carries many citizens.
    QR_ADDRESS_RATE_LIMIT = "120 per minute;1200 per hour"
    #: The questionnaire citizens answer by QR code (its newest published version).
    QR_QUESTIONNAIRE = "sipas-dich-vu"
    #: Flask-Compress: pages are compressed by the app (zstd, brotli or gzip, as the client
    #: accepts); streamed answers (files) are not — compressing them would leave the file open.
    COMPRESS_STREAMS = False
    MAX_CONTENT_LENGTH = 1 * 1024 * 1024  # a questionnaire is a few kB; refuse large bodies
    #: The one exception: a round's frame upload (a quarter's export is 10⁴–10⁵ rows).
    FRAME_UPLOAD_MAX_BYTES = 200 * 1024 * 1024
    #: A questionnaire file uploaded on the admin pages (the shipped one is ~20 kB).
    QUESTIONNAIRE_UPLOAD_MAX_BYTES = 256 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = 8 * 3600  # a surveyor's working day
    #: Satisfaction targets shown beside the estimates (configuration, not code).
    TARGETS: ClassVar[dict[str, dict[str, float]]] = {
        "2026": {"all": 90.0, "dat_dai": 90.0, "xay_dung": 90.0, "dau_tu": 90.0},
        "2030": {"all": 95.0, "dat_dai": 90.0, "xay_dung": 90.0, "dau_tu": 90.0},
    }


#: Environment variables whose value is kept as the raw string (no JSON parsing).
_STRING_KEYS = {"DATABASE_URL", "SECRET_KEY", "PUBLIC_BASE_URL", "QUESTIONNAIRES_DIR", "ENV", "INSTANCE_PATH"}


def load_env(app: Flask, environ: dict[str, str] | None = None) -> None:
    """Copy ``SIPAS_*`` variables into the config. Strings stay strings; other values must
    be valid JSON (``SIPAS_TARGETS='{"2026": {"all": 90}}'``)."""
    environ = os.environ if environ is None else environ
    for name, raw in sorted(environ.items()):
        if not name.startswith(PREFIX):
            continue
        key = name[len(PREFIX) :]
        if key.startswith("TEST_") or key == "INSTANCE_PATH":  # the test suite's own; read by create_app
            continue
        if key not in app.config:
            raise ConfigError(f"{name}: không có thiết lập {key} (xem README.md, mục Configuration)")
        if key in _STRING_KEYS or isinstance(app.config.get(key), str):
            app.config[key] = raw
            continue
        try:
            app.config[key] = json.loads(raw)
        except json.JSONDecodeError:
            raise ConfigError(f"{name}: giá trị không hợp lệ (cần JSON): {raw[:60]!r}") from None


def database_uri(app: Flask) -> str:
    url = app.config.get("DATABASE_URL")
    if not url:
        return "sqlite:///" + str(Path(app.instance_path) / "sipas.db")
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"SIPAS_DATABASE_URL không hợp lệ: {url!r} "
            "(ví dụ: postgresql+psycopg://user@127.0.0.1:5432/sipas hoặc sqlite:////đường/dẫn.db)"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(f"SIPAS_DATABASE_URL: hệ quản trị {backend!r} không được hỗ trợ (chỉ sqlite, postgresql)")
    if backend == "postgresql" and parsed.drivername == "postgresql":
        # psycopg 3 is the driver we install; a plain postgresql:// URL means it.
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def engine_options(uri: str, options: dict[str, Any]) -> dict[str, Any]:
    """The engine options for this database: without ``pool_pre_ping`` on SQLite."""
    if make_url(uri).get_backend_name() == "sqlite":
        return {key: value for key, value in options.items() if key != "pool_pre_ping"}
    return dict(options)


def secret_key(app: Flask) -> str:
    """The configured secret, or one generated once into ``instance/secret_key``. QR codes
    are signed with it, so it must survive restarts."""
    if app.config.get("SECRET_KEY"):
        return str(app.config["SECRET_KEY"])
    path = Path(app.instance_path) / "secret_key"
    if path.exists():
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= 32:
            return key
        raise ConfigError(f"{path}: khoá bí mật quá ngắn; xoá tệp để tạo lại hoặc đặt SIPAS_SECRET_KEY")
    if app.config.get("ENV") == "production":
        raise ConfigError("SIPAS_SECRET_KEY chưa được đặt (bắt buộc khi SIPAS_ENV=production)")
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key


def timezone(app: Flask) -> str:
    """``SIPAS_TIMEZONE`` checked against the IANA database (e.g. Asia/Ho_Chi_Minh)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = str(app.config.get("TIMEZONE") or "")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"SIPAS_TIMEZONE: múi giờ không hợp lệ {name!r} (ví dụ: Asia/Ho_Chi_Minh)") from None
    return name


def proxy_hops(app: Flask) -> int:
    """``SIPAS_PROXY_HOPS`` as a count of trusted reverse proxies (0 to 5)."""
    hops = app.config.get("PROXY_HOPS")
    if isinstance(hops, bool) or not isinstance(hops, int) or not 0 <= hops <= 5:
        raise ConfigError(f"SIPAS_PROXY_HOPS: cần số proxy đứng trước ứng dụng, từ 0 đến 5 (đang là {hops!r})")
    return hops
