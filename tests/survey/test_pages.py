"""Base pages: Vietnamese by default, English on request, no asset from outside the site."""

from __future__ import annotations

import re
import unicodedata


def test_home_page_is_vietnamese(client) -> None:
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert "Khảo sát sự hài lòng của người dân, tổ chức" in page
    assert unicodedata.normalize("NFC", page) == page


def test_english_on_request_and_remembered(client) -> None:
    page = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Sign in" in page
    assert '<html lang="en">' in client.get("/dang-nhap").get_data(as_text=True)
    assert '<html lang="vi">' in client.get("/?lang=vi").get_data(as_text=True)


def test_no_external_assets(client, login_as) -> None:
    pages = [client.get("/").get_data(as_text=True), client.get("/dang-nhap").get_data(as_text=True)]
    login_as("admin")
    pages.append(client.get("/admin/").get_data(as_text=True))
    for page in pages:
        for attr in re.findall(r'(?:src|href)="([^"]+)"', page):
            assert not attr.startswith(("http:", "https:", "//")), attr


def test_stylesheet_is_served(client) -> None:
    response = client.get("/static/css/site.css")
    assert response.status_code == 200
    assert b"@media print" in response.data
    response.close()


def test_not_found_page_is_friendly(client) -> None:
    response = client.get("/khong-co-trang-nay")
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.get_data(as_text=True)


def test_oversized_body_is_refused(client) -> None:
    response = client.post("/dang-nhap", data={"username": "x" * (2 * 1024 * 1024), "password": "y"})
    assert response.status_code == 413
    assert "Dữ liệu quá lớn" in response.get_data(as_text=True)


def test_admin_home_shows_demo_data(client, demo, db) -> None:
    from survey.demo import DEMO_PASSWORD

    client.post("/dang-nhap", data={"username": "admin", "password": DEMO_PASSWORD})
    page = client.get("/admin/").get_data(as_text=True)
    assert "Nơi tiếp nhận hồ sơ (100)" in page
    assert "Trung tâm Phục vụ hành chính công tỉnh Bắc Ninh" in page
    assert "sipas-dich-vu" in page
