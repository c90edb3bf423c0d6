"""Security headers on every response, no inline script or style in any template, sessions
ended server-side at logout, per-account backoff, and the security log."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest

from survey.auth.services import FREE_ATTEMPTS, lock_minutes

PASSWORD = "mat-khau-dung-1"
TEMPLATES = Path(__file__).resolve().parents[3] / "survey" / "templates"


@pytest.mark.parametrize("path", ["/", "/dang-nhap", "/q", "/healthz", "/khong-co-trang-nay", "/static/css/site.css"])
def test_every_response_has_the_security_headers(client, path: str) -> None:
    response = client.get(path)
    response.close()
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in headers  # development: plain http on a laptop


def test_signed_in_pages_have_them_too(client, login_as) -> None:
    login_as("analyst")
    assert "frame-ancestors 'none'" in client.get("/phan-tich/").headers["Content-Security-Policy"]


def test_production_adds_hsts_and_secure_cookies(tmp_path, database_url) -> None:
    from survey import create_app

    app = create_app(
        {"DATABASE_URL": database_url, "SECRET_KEY": "s" * 40, "ENV": "production", "TESTING": True},
        instance_path=str(tmp_path),
    )
    client = app.test_client()
    response = client.get("/?lang=en")  # sets the session cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with app.app_context():
        from survey.extensions import db

        db.engine.dispose()


def test_templates_have_no_inline_script_style_or_handler() -> None:
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        # a JSON data block (type="application/json") is data, never run
        if re.search(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", text) or "<style" in text:
            offenders.append(f"{path.name}: inline <script>/<style>")
        if re.search(r"\sstyle\s*=", text) or re.search(r"\son[a-z]+\s*=", text):
            offenders.append(f"{path.name}: style= or on…= attribute")
    assert offenders == []


def test_a_session_cookie_copied_before_logout_is_refused_after(app, client, login_as) -> None:
    login_as("analyst")
    assert client.get("/phan-tich/").status_code == 200
    copied = client.get_cookie("session").value
    assert client.post("/dang-xuat").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", copied)
    response = thief.get("/phan-tich/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/dang-nhap")


def test_signing_in_again_after_logout_works(client, make_user) -> None:
    user = make_user("admin")
    data = {"username": user.username, "password": PASSWORD}
    for _ in range(2):
        assert client.post("/dang-nhap", data=data).status_code == 302
        assert client.get("/admin/").status_code == 200
        client.post("/dang-xuat")
        assert client.get("/admin/").status_code == 302


def test_a_password_change_ends_other_sessions(app, client, login_as, db) -> None:
    user = login_as("admin")
    user.set_password("mat-khau-moi-2")
    db.session.commit()
    from flask import g

    g.pop("_login_user", None)  # the test shares one app context (and `g`) across requests
    assert client.get("/admin/").status_code == 302


def test_lock_minutes_double_up_to_an_hour() -> None:
    assert [lock_minutes(n) for n in range(FREE_ATTEMPTS)] == [0] * FREE_ATTEMPTS
    assert [lock_minutes(FREE_ATTEMPTS + i) for i in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_repeated_failures_lock_the_account_even_for_the_right_password(client, make_user, db) -> None:
    user = make_user("admin", username="quantri")
    for _ in range(FREE_ATTEMPTS):
        page = client.post("/dang-nhap", data={"username": "quantri", "password": "sai-roi"}).get_data(as_text=True)
        assert "không đúng" in page or "tạm thời bị khoá" in page
    response = client.post("/dang-nhap", data={"username": "quantri", "password": PASSWORD})
    assert response.status_code == 200
    assert "Tài khoản tạm thời bị khoá" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    # When the lock has run out, the right password works and resets the count.
    db.session.refresh(user)
    user.locked_until = user.locked_until - timedelta(minutes=2)
    db.session.commit()
    assert client.post("/dang-nhap", data={"username": "quantri", "password": PASSWORD}).status_code == 302
    db.session.refresh(user)
    assert (user.failed_logins, user.locked_until) == (0, None)


def test_other_accounts_are_not_locked(client, make_user) -> None:
    make_user("admin", username="quantri")
    make_user("analyst", username="chuyenvien")
    for _ in range(FREE_ATTEMPTS + 1):
        client.post("/dang-nhap", data={"username": "quantri", "password": "sai-roi"})
    assert client.post("/dang-nhap", data={"username": "chuyenvien", "password": PASSWORD}).status_code == 302


def test_failed_sign_ins_and_refusals_are_logged_without_secrets(client, make_user, login_as, caplog) -> None:
    make_user("admin", username="quantri")
    caplog.set_level(logging.WARNING, logger="sipas.security")
    client.post("/dang-nhap", data={"username": "quantri", "password": "bi-mat-sai-1"})
    client.post("/dang-nhap", data={"username": "ai-do-go-nham-mat-khau", "password": "bi-mat-sai-2"})
    login_as("surveyor")
    client.get("/admin/")
    lines = [r.getMessage() for r in caplog.records if r.name == "sipas.security"]
    assert any(line.startswith("event=login_failed reason=bad_password account=quantri ip=127.0.0.1") for line in lines)
    assert any(line.startswith("event=login_failed reason=unknown_user account=-") for line in lines)
    assert any(line.startswith("event=forbidden") and "endpoint=admin.index" in line for line in lines)
    text = "\n".join(lines)
    assert "bi-mat-sai" not in text and "ai-do-go-nham" not in text and PASSWORD not in text


def test_rate_limit_and_csrf_refusals_are_logged(app, client, make_user, caplog, monkeypatch) -> None:
    caplog.set_level(logging.WARNING, logger="sipas.security")
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "1 per minute")
    client.post("/dang-nhap", data={"username": "ai", "password": "x"})
    assert client.post("/dang-nhap", data={"username": "ai", "password": "x"}).status_code == 429
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/q", data={"code": "x"}).status_code == 400
    lines = [r.getMessage() for r in caplog.records if r.name == "sipas.security"]
    assert any(line.startswith("event=refused reason=rate_limit endpoint=auth.login") for line in lines)
    assert any(line.startswith("event=refused reason=csrf endpoint=public.enter_code") for line in lines)
