"""Submit limits that fit a commune centre: per device (a cookie handed out with the form),
a generous ceiling per address, a friendly page that keeps the answers, and client
addresses read from the reverse proxy's X-Forwarded-For when SIPAS_PROXY_HOPS says so."""

from __future__ import annotations

import itertools
import re
import uuid

import pytest
import sqlalchemy as sa

from survey.extensions import limiter
from survey.models import Counter, Place, Response
from survey.public.limits import DEVICE_COOKIE
from survey.qr.counters import counter_code

ITEMS = ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "D1", "D2", "D3", "E1", "E2", "E3"]


def answers(**overrides: str) -> dict[str, str]:
    data = dict.fromkeys(ITEMS, "4")
    data.update(loai_nguoi_tra_loi="ca_nhan", tuoi="35-49", nhom_linh_vuc="dat_dai", y_kien="Rất nhanh.")
    data.update(overrides)
    return data


@pytest.fixture
def url(app, db, demo) -> str:
    counter = db.session.scalars(sa.select(Counter).join(Place).where(Place.code == "P001")).one()
    return "/q/" + counter_code(app.config["SECRET_KEY"], counter)


def stored(db) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Response))


_citizen = itertools.count(1)


def submit(client, url: str, **headers: str):
    """One citizen's submit (each with a comment of their own: not a resubmission)."""
    page = client.get(url, headers=headers).get_data(as_text=True)
    idem = re.search(r'name="idem" type="hidden" value="([^"]+)"', page).group(1)
    data = {**answers(y_kien=f"Ý kiến số {next(_citizen)}."), "idem": idem}
    return client.post(url, data=data, headers=headers)


def test_the_form_hands_out_a_device_cookie_once(client, url) -> None:
    first = client.get(url)
    cookie = first.headers["Set-Cookie"]
    assert cookie.startswith(DEVICE_COOKIE + "=") and "HttpOnly" in cookie and "Path=/q/" in cookie
    assert DEVICE_COOKIE not in client.get(url).headers.get("Set-Cookie", "")


def test_a_limited_citizen_keeps_the_answers_and_sees_when_to_retry(app, client, db, url, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "QR_RATE_LIMIT", "1 per minute")
    assert submit(client, url).status_code == 302
    page = client.get(url).get_data(as_text=True)
    idem = re.search(r'name="idem" type="hidden" value="([^"]+)"', page).group(1)
    limited = client.post(url, data={**answers(A1="2", y_kien="Cần thêm ghế chờ."), "idem": idem})
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    html = limited.get_data(as_text=True)
    assert "Câu trả lời của Ông/Bà vẫn còn trên trang" in html
    assert re.search(r"vui lòng đợi \d+ giây rồi bấm Gửi phiếu lần nữa", html)
    assert 'name="A1" value="2" checked' in html and "Cần thêm ghế chờ." in html
    assert f'value="{idem}"' in html  # the same form: a later retry is still stored once
    assert stored(db) == 1
    limiter.reset()
    assert client.post(url, data={**answers(A1="2"), "idem": idem}).status_code == 302
    assert stored(db) == 2


def test_one_device_cannot_flood_but_its_neighbours_are_served(app, db, url, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "QR_RATE_LIMIT", "3 per minute")
    phone = app.test_client()
    assert [submit(phone, url).status_code for _ in range(4)] == [302, 302, 302, 429]
    neighbour = app.test_client()  # same address (the commune centre's Wi-Fi), another phone
    assert submit(neighbour, url).status_code == 302
    assert stored(db) == 4


def test_clients_without_the_cookie_share_their_address_budget(app, db, url, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "QR_RATE_LIMIT", "2 per minute")
    statuses = []
    for _ in range(3):
        client = app.test_client(use_cookies=False)
        statuses.append(submit(client, url).status_code)
    assert statuses == [302, 302, 429]


def test_the_address_ceiling_stops_a_device_farm(app, db, url, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "QR_ADDRESS_RATE_LIMIT", "5 per minute")
    statuses = [submit(app.test_client(), url).status_code for _ in range(6)]
    assert statuses == [302] * 5 + [429]


def test_sixty_citizens_behind_one_address_in_an_hour_are_served(app, db, url) -> None:
    # The shipped limits, sixty phones on one commune Wi-Fi address (the test client's).
    statuses = [submit(app.test_client(), url).status_code for _ in range(60)]
    assert statuses == [302] * 60
    assert stored(db) == 60


def test_without_proxy_hops_forwarded_addresses_are_not_trusted(app, db, url, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "QR_RATE_LIMIT", "1 per minute")
    first = app.test_client(use_cookies=False)
    second = app.test_client(use_cookies=False)
    assert submit(first, url, **{"X-Forwarded-For": "203.0.113.7"}).status_code == 302
    assert submit(second, url, **{"X-Forwarded-For": "198.51.100.9"}).status_code == 429


@pytest.fixture
def proxied_app(app, tmp_path):
    """The app as production runs it: one proxy in front, limits in Redis (a key prefix of
    its own, removed afterwards). The limiter is one object: its storage is put back."""
    redis = pytest.importorskip("redis")
    from survey import create_app
    from tests.conftest import TEST_SECRET

    server = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        server.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis not reachable on 127.0.0.1:6379")
    prefix = f"sipas-test-{uuid.uuid4().hex[:8]}"
    saved = (limiter._storage, limiter._limiter, dict(limiter._storage_options), limiter._key_prefix)
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]  # the migrated database of this run
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": TEST_SECRET,
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "PROXY_HOPS": 1,
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
            "RATELIMIT_KEY_PREFIX": prefix,
            "QR_RATE_LIMIT": "1 per minute",
        },
        instance_path=str(tmp_path),
    )
    app.config["TEST_REDIS_KEYS"] = lambda: list(server.scan_iter(f"*{prefix}*"))
    try:
        yield app
    finally:
        limiter._storage, limiter._limiter, limiter._storage_options, limiter._key_prefix = saved
        for key in server.scan_iter(f"*{prefix}*"):
            server.delete(key)
        with app.app_context():
            from survey.extensions import db

            db.engine.dispose()


def test_behind_the_proxy_two_addresses_get_separate_limits_in_redis(proxied_app, db, demo) -> None:
    counter = db.session.scalars(sa.select(Counter).join(Place).where(Place.code == "P001")).one()
    url = "/q/" + counter_code(proxied_app.config["SECRET_KEY"], counter)
    alice, bob = (proxied_app.test_client(use_cookies=False) for _ in range(2))
    assert submit(alice, url, **{"X-Forwarded-For": "203.0.113.7"}).status_code == 302
    assert submit(bob, url, **{"X-Forwarded-For": "198.51.100.9"}).status_code == 302
    assert submit(alice, url, **{"X-Forwarded-For": "203.0.113.7"}).status_code == 429
    # A client cannot escape by forging a first hop: the proxy appends the real address.
    forged = {"X-Forwarded-For": "192.0.2.1, 203.0.113.7"}
    assert submit(proxied_app.test_client(use_cookies=False), url, **forged).status_code == 429
    assert stored(db) == 2
    assert proxied_app.config["TEST_REDIS_KEYS"]()  # the counters live in Redis, shared by workers


def test_a_limited_post_to_an_unknown_code_gets_the_plain_429_page(app, client, db, monkeypatch) -> None:
    # found by tests/survey/security/test_fuzz.py: the handler must not abort(404) itself
    monkeypatch.setitem(app.config, "QR_RATE_LIMIT", "1 per minute")
    client.post("/q/AAAAAAAAAAAAAAAAAAAAAAAA", data={"A1": "5"})
    response = client.post("/q/AAAAAAAAAAAAAAAAAAAAAAAA", data={"A1": "5"})
    assert response.status_code == 429
    assert "Quá nhiều yêu cầu" in response.get_data(as_text=True)
