"""`next` after signing in follows only same-site paths; no `next` and no NUL byte gives a 500
(on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from survey.security import safe_next

PASSWORD = "mat-khau-dung-1"

#: Known open-redirect payloads (OWASP cheat sheet, PayloadsAllTheThings "Open Redirect"),
#: as they arrive in the query string (still percent-encoded).
BYPASSES = [
    "//evil.example",
    "//evil.example/%2F..",
    "///evil.example",
    "////evil.example",
    "/%09/evil.example",
    "/%0A/x",
    "/%0D/evil.example",
    "/%0d%0aLocation:%20https://evil.example",
    "/%00/evil.example",
    "/%2F%2Fevil.example",
    "/%2f%2fevil.example",
    "/%252F%252Fevil.example",
    "/%25252F%25252Fevil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "%5C%5Cevil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "https://evil.example",
    "http:evil.example",
    "https:/evil.example",
    "//https://evil.example",
    "javascript:alert(1)",
    "%6A%61%76%61%73%63%72%69%70%74:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "@evil.example",
    " //evil.example",
    "%20//evil.example",
    "/%20/evil.example",
    "/ /evil.example",
    "/．/evil.example",
    "/／evil.example",
    "/%EF%BC%8Fevil.example",
    "/%E3%80%82evil.example",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/\t/evil.example",
    "/" + "a" * 600,
    "",
]


@pytest.mark.parametrize("payload", BYPASSES)
def test_bypass_payloads_are_refused_by_the_check(payload: str) -> None:
    from urllib.parse import unquote

    assert safe_next(unquote(payload)) is None
    assert safe_next(payload) is None


@pytest.mark.parametrize("path", ["/phan-tich/", "/admin/", "/nhap-phieu/?trang=2", "/phan-tich/bao-cao?kenh=qr#x"])
def test_site_paths_are_kept(path: str) -> None:
    assert safe_next(path) == path


@pytest.fixture
def admin(make_user):
    return make_user("admin", username="quantri")


@pytest.mark.parametrize("payload", BYPASSES)
def test_login_never_redirects_off_site_nor_fails(client, admin, payload: str) -> None:
    response = client.post(f"/dang-nhap?next={payload}", data={"username": "quantri", "password": PASSWORD})
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 302:
        assert response.headers["Location"] == "/admin/"


def test_login_follows_a_site_path(client, admin) -> None:
    response = client.post("/dang-nhap?next=/phan-tich/", data={"username": "quantri", "password": PASSWORD})
    assert response.headers["Location"] == "/phan-tich/"


@pytest.mark.parametrize("path", ["/cam-on/%00", "/cam-on/AB%00CD", "/q/%00", "/dang-nhap?next=%00", "/?lang=%00"])
def test_nul_in_the_address_is_a_400(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert "Yêu cầu không hợp lệ" in response.get_data(as_text=True)


@pytest.mark.parametrize("field", ["username", "password"])
def test_nul_in_the_sign_in_form_is_a_400(client, admin, field: str) -> None:
    data = {"username": "quantri", "password": PASSWORD}
    data[field] = data[field][:3] + "\x00" + data[field][3:]
    response = client.post("/dang-nhap", data=data)
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302  # not signed in


def test_nul_in_a_citizen_answer_is_a_400_and_nothing_stored(app, client, db, demo) -> None:
    import sqlalchemy as sa

    from survey.models import Counter, Response
    from survey.qr.counters import counter_code

    counter = db.session.scalars(sa.select(Counter).order_by(Counter.id)).first()
    url = "/q/" + counter_code(app.config["SECRET_KEY"], counter)
    response = client.post(url, data={"y_kien": "a\x00b", "A1": "5"})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0
