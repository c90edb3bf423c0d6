"""Signing in and out, role checks, CSRF and the login rate limit."""

from __future__ import annotations

import pytest

PASSWORD = "mat-khau-dung-1"


def test_login_with_right_password_lands_on_role_home(client, make_user) -> None:
    make_user("analyst", username="chuyenvien")
    response = client.post("/dang-nhap", data={"username": "chuyenvien", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/phan-tich/"
    page = client.get("/phan-tich/").get_data(as_text=True)
    assert "Phân tích kết quả khảo sát" in page
    assert "Xin chào" in page


def test_username_is_case_insensitive(client, make_user) -> None:
    make_user("admin", username="quantri")
    assert client.post("/dang-nhap", data={"username": " QuanTri ", "password": PASSWORD}).status_code == 302


@pytest.mark.parametrize(
    "username, password", [("chuyenvien", "sai-mat-khau"), ("khongco", PASSWORD), ("chuyenvien", "")]
)
def test_wrong_credentials_are_refused_in_vietnamese(client, make_user, username: str, password: str) -> None:
    make_user("analyst", username="chuyenvien")
    response = client.post("/dang-nhap", data={"username": username, "password": password})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert ("Tên đăng nhập hoặc mật khẩu không đúng." in page) or ("Vui lòng nhập mật khẩu." in page)
    assert client.get("/phan-tich/").status_code == 302  # still anonymous


def test_inactive_user_cannot_sign_in(client, make_user) -> None:
    make_user("admin", username="dakhoa", active=False)
    response = client.post("/dang-nhap", data={"username": "dakhoa", "password": PASSWORD})
    assert "không đúng" in response.get_data(as_text=True)


def test_login_records_last_login(client, make_user, db) -> None:
    user = make_user("analyst")
    assert user.last_login_at is None
    client.post("/dang-nhap", data={"username": user.username, "password": PASSWORD})
    db.session.refresh(user)
    assert user.last_login_at is not None


def test_next_parameter_only_follows_local_paths(client, make_user) -> None:
    make_user("admin", username="quantri")
    data = {"username": "quantri", "password": PASSWORD}
    assert client.post("/dang-nhap?next=//evil.example/x", data=data).headers["Location"] == "/admin/"
    client.post("/dang-xuat")
    assert client.post("/dang-nhap?next=/phan-tich/", data=data).headers["Location"] == "/phan-tich/"


def test_logout_needs_post(client, login_as) -> None:
    login_as("admin")
    assert client.get("/dang-xuat").status_code == 405
    assert client.post("/dang-xuat").status_code == 302
    assert client.get("/admin/").status_code == 302


def test_password_is_hashed_with_scrypt(make_user) -> None:
    user = make_user("admin")
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash


def test_csrf_is_required_on_login(app, client, make_user, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    make_user("admin", username="quantri")
    response = client.post("/dang-nhap", data={"username": "quantri", "password": PASSWORD})
    assert response.status_code == 400
    assert "Yêu cầu không hợp lệ" in response.get_data(as_text=True)
    page = client.get("/dang-nhap").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    ok = client.post("/dang-nhap", data={"username": "quantri", "password": PASSWORD, "csrf_token": token})
    assert ok.status_code == 302


def test_login_is_rate_limited(app, client, make_user) -> None:
    make_user("admin", username="quantri")
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    for _ in range(limit):
        assert client.post("/dang-nhap", data={"username": "quantri", "password": "sai"}).status_code == 200
    response = client.post("/dang-nhap", data={"username": "quantri", "password": PASSWORD})
    assert response.status_code == 429
    assert "Quá nhiều yêu cầu" in response.get_data(as_text=True)


# --- role checks -----------------------------------------------------------------------------
PAGES = {"/admin/": {"admin"}, "/nhap-phieu/": {"supervisor", "surveyor"}, "/phan-tich/": {"analyst", "admin"}}


@pytest.mark.parametrize("role", ["admin", "supervisor", "surveyor", "analyst"])
def test_each_role_sees_only_its_pages(client, login_as, role: str) -> None:
    login_as(role)
    for path, allowed in PAGES.items():
        status = client.get(path).status_code
        assert status == (200 if role in allowed else 403), (role, path, status)


@pytest.mark.parametrize("path", sorted(PAGES))
def test_anonymous_users_are_sent_to_login(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/dang-nhap?next=")


def test_forbidden_page_is_in_vietnamese(client, login_as) -> None:
    login_as("surveyor")
    page = client.get("/admin/").get_data(as_text=True)
    assert "Không có quyền truy cập" in page
