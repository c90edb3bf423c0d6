"""Done-when test of the interviewer app (issue 13): the server is killed in the middle of a
sync — after it stored an interview, before the phone heard back — and restarted on the same
port and database. The phone sends the rest and the unanswered one again under its key:
still exactly three interviews. Real gunicorn (the shipped config, CSRF on), real Chromium."""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.browser.device_steps import PASSWORD, fielded_round, interview, open_app, phone_context, sign_in, waiting

ROOT = Path(__file__).resolve().parents[2]


def bench_crash():
    spec = importlib.util.spec_from_file_location("bench_crash", ROOT / "bench" / "crash.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_crash"] = module
    spec.loader.exec_module(module)
    return module


def prepare_database(url: str, secret: str, instance: Path) -> None:
    """Migrate a database of its own, load the demo and a round in the field for `dtv-kill`."""
    from flask_migrate import upgrade

    from survey import create_app
    from survey.demo import load
    from survey.extensions import db
    from survey.users import create_user

    other = create_app({"DATABASE_URL": url, "SECRET_KEY": secret, "TESTING": True}, instance_path=str(instance))
    with other.app_context():
        upgrade()
        load(db.session, other.extensions["sipas_questionnaires"], qr_responses=False)
        surveyor = create_user(
            db.session, username="dtv-kill", full_name="Điều tra viên", role="surveyor", password=PASSWORD
        )
        db.session.commit()
        fielded_round(db.session, surveyor, n=4)
        db.session.remove()
        db.engine.dispose()


def test_the_server_killed_mid_sync_stores_every_interview_once(browser, tmp_path) -> None:
    if not Path(sys.executable).with_name("gunicorn").exists():
        pytest.skip("gunicorn is not installed")
    crash = bench_crash()
    url = f"sqlite:///{tmp_path / 'device.db'}"
    port = crash._free_port()
    base = f"http://127.0.0.1:{port}"
    env = crash._env(tmp_path, url, port)
    prepare_database(url, env["SIPAS_SECRET_KEY"], tmp_path / "instance")
    log = tmp_path / "gunicorn.log"
    server = crash.start(env, log)
    engine = sa.create_engine(url)
    context = phone_context(browser, service_workers="block")  # page.route sees every request
    try:
        crash.wait_ready(base)
        page = context.new_page()
        sign_in(page, base, "dtv-kill")
        open_app(page, base, 4)
        ids = [int(x) for x in page.eval_on_selector_all("#cases article.dcase", "els => els.map(e => e.dataset.case)")]

        context.set_offline(True)
        for case_id in ids[:3]:
            interview(page, case_id)
        assert waiting(page) == 3

        sent: list[str] = []

        def kill_on_the_second(route) -> None:
            sent.append(route.request.post_data_json["key"])
            if len(sent) != 2:
                route.continue_()
                return
            route.fetch()  # the server stores the interview …
            os.killpg(server.pid, signal.SIGKILL)  # … and dies before the phone hears back
            server.wait()
            route.abort("connectionreset")

        page.route("**/nhap-phieu/may/api/gui", kill_on_the_second)
        context.set_offline(False)
        page.wait_for_function("() => document.getElementById('waiting').dataset.count === '2'")
        page.wait_for_timeout(300)
        assert len(sent) == 2
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM response")) == 2  # stored, not acknowledged

        server = crash.start(env, log)  # the same port and database
        crash.wait_ready(base)
        page.unroute("**/nhap-phieu/may/api/gui")
        page.click("#send")
        page.wait_for_function("() => document.getElementById('waiting').dataset.count === '0'", timeout=20000)
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM response")) == 3
            assert conn.scalar(sa.text("SELECT count(*) FROM device_submission")) == 3
            keys = conn.scalars(sa.text("SELECT idempotency_key FROM response")).all()
            completed = conn.scalar(sa.text("SELECT count(*) FROM sampled_case WHERE outcome = 'completed'"))
        assert sent[1] in keys and len(set(keys)) == 3 and completed == 3
    finally:
        context.close()
        engine.dispose()
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)  # past gunicorn.conf.py's graceful_timeout (30 s), as bench/crash.py
