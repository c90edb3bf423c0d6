"""The SIPAS web application."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask
from flask_login import current_user
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix

from survey import audit, questionnaires, security
from survey.admin import bp as admin_bp
from survey.analyst import bp as analyst_bp
from survey.auth import bp as auth_bp
from survey.auth.services import load_session_user
from survey.config import (
    ConfigError,
    Defaults,
    database_uri,
    engine_options,
    load_env,
    proxy_hops,
    secret_key,
    timezone,
)
from survey.entry import bp as entry_bp
from survey.errors import register_errorhandlers
from survey.extensions import babel, compress, csrf, db, limiter, login_manager
from survey.i18n import remember_language, select_locale
from survey.models import User
from survey.models.base import FIELD_GROUP_LABELS
from survey.models.paper import (
    BACK_CHECK_RESULT_LABELS,
    FORM_STATUS_LABELS,
    OUTCOMES,
    REVIEW_STATUS_LABELS,
    ROUND_STATUS_LABELS,
)
from survey.models.response import STATUS_LABELS as RESPONSE_STATUS_LABELS
from survey.models.user import ROLE_LABELS
from survey.public import bp as public_bp

__all__ = ["ConfigError", "create_app"]


def create_app(overrides: dict[str, Any] | None = None, instance_path: str | None = None) -> Flask:
    """Build the application. Configuration comes from the defaults, then
    ``instance/config.py``, then ``SIPAS_*`` environment variables, then `overrides`."""
    instance_path = instance_path or os.environ.get("SIPAS_INSTANCE_PATH") or None
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    load_env(app)
    if overrides:
        app.config.update(overrides)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(app)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    )
    app.config["SECRET_KEY"] = secret_key(app)
    app.config["BABEL_DEFAULT_TIMEZONE"] = timezone(app)
    hops = proxy_hops(app)
    if hops:  # X-Forwarded-For/-Proto/-Host/-Port/-Prefix set by that many proxies are trusted
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)  # type: ignore[method-assign]

    register_extensions(app)
    register_questionnaires(app)
    register_blueprints(app)
    register_hooks(app)
    register_errorhandlers(app)
    security.install(app)
    if not app.config["WEB_ONLY"]:  # `flask db …` and the other commands; not in gunicorn's workers
        register_commands(app)
    register_template_helpers(app)
    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@event.listens_for(Engine, "savepoint")
def _sqlite_begin_before_savepoint(connection: Any, name: str) -> None:
    """pysqlite begins a transaction only before a write, so a SAVEPOINT after nothing but
    reads would begin one of its own and its RELEASE would commit it: the savepoint's work
    visible to other requests, and kept, before the request's commit. Begin it first."""
    dbapi_connection = connection.connection.dbapi_connection
    if isinstance(dbapi_connection, sqlite3.Connection) and not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN")


def register_extensions(app: Flask) -> None:
    try:
        db.init_app(app)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise ConfigError(f"SIPAS_DATABASE_URL không dùng được: {exc}") from None
    audit.install(db.session)
    if not app.config["WEB_ONLY"]:
        from flask_migrate import Migrate  # imports alembic: only where a command may need it

        Migrate(
            app, db, directory=str(Path(app.root_path).parent / "migrations"), render_as_batch=True, compare_type=True
        )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    compress.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."
    login_manager.login_message_category = "warning"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return load_session_user(db.session, user_id)


def register_questionnaires(app: Flask) -> None:
    """Validate every questionnaire file at start-up and refuse to start if a published
    version's file was changed (responses must never mix two wordings)."""
    try:
        definitions = questionnaires.load_directory(Path(app.config["QUESTIONNAIRES_DIR"]))
    except questionnaires.QuestionnaireError as exc:
        raise ConfigError(f"Tệp phiếu khảo sát không hợp lệ:\n{exc}") from None
    app.extensions["sipas_questionnaires"] = definitions
    with app.app_context():
        try:
            if inspect(db.engine).has_table("questionnaire"):
                questionnaires.check_published(db.session, definitions)
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise ConfigError(f"Không kết nối được cơ sở dữ liệu: {reason}") from None
        except questionnaires.PublishedQuestionnaireChanged as exc:
            raise ConfigError(str(exc)) from None
        finally:
            db.session.remove()
            db.engine.dispose()  # no connection outlives start-up (gunicorn forks after it)


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(entry_bp, url_prefix="/nhap-phieu")
    app.register_blueprint(analyst_bp, url_prefix="/phan-tich")


def register_hooks(app: Flask) -> None:
    app.before_request(remember_language)

    @app.before_request
    def remember_actor() -> None:
        audit.set_actor(db.session(), current_user.id if current_user.is_authenticated else None)


def register_commands(app: Flask) -> None:
    from survey.cli import COMMAND_GROUPS

    for group in COMMAND_GROUPS:
        app.cli.add_command(group)


def register_template_helpers(app: Flask) -> None:
    @app.context_processor
    def inject_globals() -> dict[str, Any]:
        return {
            "province_name": app.config["PROVINCE_NAME"],
            "role_labels": ROLE_LABELS,
            "field_group_labels": FIELD_GROUP_LABELS,
            "outcome_labels": {code: label for code, (_, label) in OUTCOMES.items()},
            "round_status": ROUND_STATUS_LABELS,
            "form_status": FORM_STATUS_LABELS,
            "response_status": RESPONSE_STATUS_LABELS,
            "review_labels": REVIEW_STATUS_LABELS,
            "backcheck_results": BACK_CHECK_RESULT_LABELS,
            "current_lang": select_locale(),
        }
