"""Shared fixtures. Web tests run once on SQLite and once on PostgreSQL.

PostgreSQL: ``SIPAS_TEST_POSTGRES_URL`` (default: the local server, database ``test``) is
used to create a throw-away database per test session. When the server cannot be reached
the PostgreSQL half is skipped — except when ``SIPAS_TEST_REQUIRE_POSTGRES=1`` (CI), where any
skipped PostgreSQL test fails the run. ``SIPAS_TEST_REQUIRE_BROWSER=1`` does the same for the
browser tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

PG_URL = os.environ.get("SIPAS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TEST_SECRET = "test-secret-key-" + "x" * 32


def _required(name: str) -> bool:
    return os.environ.get(name, "") in ("1", "true", "yes")


# --- fail the run when a required group of tests was skipped -------------------------------
_REQUIRED_MARKERS = {"postgres": "SIPAS_TEST_REQUIRE_POSTGRES", "browser": "SIPAS_TEST_REQUIRE_BROWSER"}
_ran: dict[str, int] = {m: 0 for m in _REQUIRED_MARKERS}
_skipped: dict[str, list[str]] = {m: [] for m in _REQUIRED_MARKERS}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for marker in _REQUIRED_MARKERS:
        if marker not in report.keywords:
            continue
        if report.skipped:
            _skipped[marker].append(report.nodeid)
        elif report.when == "call":
            _ran[marker] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):
        return  # a pytest-xdist worker: the controller receives every report and decides
    problems = []
    for marker, env in _REQUIRED_MARKERS.items():
        if not _required(env):
            continue
        if _skipped[marker]:
            problems.append(f"{len(_skipped[marker])} '{marker}' tests were skipped but {env}=1")
        elif _ran[marker] == 0 and session.testscollected and not session.config.option.markexpr:
            problems.append(f"no '{marker}' test ran but {env}=1")
    if problems:
        for p in problems:
            print(f"\nERROR: {p}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    terminalreporter.write_line(
        "required-groups: " + ", ".join(f"{m} ran={_ran[m]} skipped={len(_skipped[m])}" for m in _REQUIRED_MARKERS)
    )


# --- databases -------------------------------------------------------------------------------
def postgres_admin_engine() -> sa.Engine | None:
    url = sa.make_url(PG_URL)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return engine
    except sa.exc.OperationalError:
        engine.dispose()
        return None


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database, dropped at the end of the session."""
    engine = postgres_admin_engine()
    if engine is None:
        message = f"PostgreSQL not reachable at {PG_URL}"
        if _required("SIPAS_TEST_REQUIRE_POSTGRES"):
            pytest.fail(message)
        pytest.skip(message)
    # Named after the database of SIPAS_TEST_POSTGRES_URL (runs sharing a server keep to a
    # prefix of their own) and the pytest-xdist worker (each worker has its own session).
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1… under pytest-xdist
    name = "_".join(filter(None, [engine.url.database or "test", worker, uuid.uuid4().hex[:10]]))
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = engine.url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return "sqlite:///" + str(tmp_path_factory.mktemp("sqlite") / "test.db")
    return request.getfixturevalue("postgres_database")


@pytest.fixture(scope="session")
def _apps() -> Iterator[dict[str, object]]:
    """The applications of this session, by database URL."""
    apps: dict[str, object] = {}
    yield apps
    from survey.extensions import db

    for app in apps.values():
        with app.app_context():  # type: ignore[attr-defined]
            db.engine.dispose()


@pytest.fixture
def app(database_url: str, _apps: dict, tmp_path_factory: pytest.TempPathFactory):
    """The application on a migrated database, built and migrated once per database URL.

    (Not a session-scoped fixture of ``database_url``: pytest keeps such a fixture under one
    key whatever the URL, so after the browser tests, which have a ``database_url`` of their
    own, the web tests of both backends ran on the browser tests' SQLite database.)"""
    if database_url not in _apps:
        from flask_migrate import upgrade

        from survey import create_app

        app = create_app(
            {"DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET, "TESTING": True, "WTF_CSRF_ENABLED": False},
            instance_path=str(tmp_path_factory.mktemp("instance")),
        )
        with app.app_context():
            upgrade()
        _apps[database_url] = app
    return _apps[database_url]


def _clear(engine: sa.Engine) -> None:
    from survey.models import Base

    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(sa.text(f'DELETE FROM "{table}"'))


@pytest.fixture
def db(app):
    """The database session inside an app context; every table is emptied after the test."""
    from survey.extensions import db as _db
    from survey.extensions import limiter

    limiter.reset()
    with app.app_context():
        yield _db
        _db.session.remove()
        _clear(_db.engine)


# --- data fixtures built once per database, then copied ---------------------------------------
# The demo data set and the demo's paper round take seconds to build (five scrypt password
# hashes, thousands of ORM rows) and are used by hundreds of tests. The first test to ask for
# one on a database builds it; the rows of every table are kept, and later tests that ask for it
# on the same database *in the same state* (compared row by row) get exactly those rows copied
# back — the same ids, hashes and answers — instead of a rebuild.
_Rows = dict[str, list[dict[str, object]]]
_built: dict[tuple[str, str], list[tuple[_Rows, _Rows, object]]] = {}


def _rows(session) -> _Rows:
    from survey.models import Base

    return {
        t.name: [dict(r) for r in session.execute(sa.select(t).order_by(*t.primary_key.columns)).mappings()]
        for t in Base.metadata.sorted_tables
    }


def _copy_back(session, rows: _Rows) -> None:
    from survey.models import Base

    tables = Base.metadata.sorted_tables
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(sa.text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    else:
        for t in reversed(tables):
            session.execute(sa.delete(t))
    for t in tables:
        if rows[t.name]:
            session.execute(sa.insert(t), rows[t.name])
    if postgres:  # the next id after the copied rows, as after building them
        for t in tables:
            for column in t.primary_key.columns:
                sequence = session.scalar(
                    sa.text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": t.name, "c": column.name}
                )
                if sequence and rows[t.name]:
                    session.execute(sa.select(sa.func.setval(sequence, max(r[column.name] for r in rows[t.name]))))
    session.commit()


def built_once(db, name: str, build: Callable[[], object]) -> object:
    """``build()`` (which commits) on this database, or a copy of the rows it wrote when it
    last ran from the same rows; returns what ``build`` returned (keep it to plain values)."""
    kept = _built.setdefault((str(db.engine.url), name), [])
    before = _rows(db.session)
    for rows_before, rows_after, result in kept:
        if rows_before == before:
            _copy_back(db.session, rows_after)
            return result
    result = build()
    kept[:] = [(before, _rows(db.session), result), *kept[:3]]
    return result


@pytest.fixture
def published(app, db):
    """The shipped questionnaires, published."""
    from survey import questionnaires

    rows = questionnaires.publish(db.session, app.extensions["sipas_questionnaires"])
    db.session.commit()
    return rows


@pytest.fixture
def demo(app, db):
    """The demo data set (places, counters, procedures, one user per role), without the
    demo QR responses (tests/survey/test_cli.py loads those)."""
    from survey.demo import load

    def build():
        report = load(db.session, app.extensions["sipas_questionnaires"], qr_responses=False)
        db.session.commit()
        return report

    return built_once(db, "demo", build)


@pytest.fixture
def paper_round(db, demo):
    """The demo's finished paper round: sampled, interviewed, keyed twice, verified."""
    from survey.demo import load_paper_round
    from survey.models import SurveyRound

    def build() -> int:
        created = load_paper_round(db.session, sample_size=130)
        db.session.commit()
        return created.id

    return db.session.get(SurveyRound, built_once(db, "paper_round", build))


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def make_user(db) -> Callable[..., object]:
    """Factory: ``make_user("surveyor")`` creates and commits an active user."""
    from survey.users import create_user

    counter = iter(range(1, 10_000))

    def make(role: str, *, username: str | None = None, password: str = "mat-khau-dung-1", active: bool = True):
        username = username or f"{role}{next(counter)}"
        user = create_user(
            db.session,
            username=username,
            full_name=f"Người dùng {username}",
            role=role,
            password=password,
        )
        user.active = active
        db.session.commit()
        return user

    return make


@pytest.fixture
def login_as(client, make_user) -> Callable[[str], object]:
    """``login_as("analyst")`` creates a user with that role and signs the client in."""

    def login(role: str):
        user = make_user(role)
        response = client.post("/dang-nhap", data={"username": user.username, "password": "mat-khau-dung-1"})
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return login


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def live_server(app, db):
    """The app served by a real threaded WSGI server on 127.0.0.1; yields (host, port)."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
