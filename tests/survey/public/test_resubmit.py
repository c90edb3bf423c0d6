"""Back after the thank-you page, then submit again: the same receipt, nothing new stored —
also when the browser fetched the form anew (a new key) and restored the answers."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from survey.models import Counter, Place, Response
from survey.public.limits import DEVICE_COOKIE
from survey.qr.counters import counter_code

ITEMS = ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "D1", "D2", "D3", "E1", "E2", "E3"]


def answers(**overrides: str) -> dict[str, str]:
    data = dict.fromkeys(ITEMS, "5")
    data.update(loai_nguoi_tra_loi="ca_nhan", tuoi="25-34", nhom_linh_vuc="dat_dai")
    data.update(overrides)
    return data


@pytest.fixture
def urls(app, db, demo) -> tuple[str, str]:
    rows = db.session.scalars(sa.select(Counter).join(Place).where(Place.code == "P001").order_by(Counter.id)).all()
    other = db.session.scalars(sa.select(Counter).join(Place).where(Place.kind == "tinh").order_by(Counter.id)).first()
    return tuple("/q/" + counter_code(app.config["SECRET_KEY"], c) for c in (rows[0], other))


def fresh_idem(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="idem" type="hidden" value="([^"]+)"', page).group(1)


def count(db) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Response))


def test_same_answers_on_a_fresh_form_show_the_same_receipt(client, db, urls) -> None:
    url, _ = urls
    first = client.post(url, data={**answers(), "idem": fresh_idem(client, url)})
    assert first.status_code == 302 and "Set-Cookie" not in first.headers  # Back keeps working
    again = client.post(url, data={**answers(), "idem": fresh_idem(client, url)})
    assert again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"] + "?lai=1"
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Phiếu này đã được gửi trước đó" in page
    assert first.headers["Location"].rsplit("/", 1)[1] in page
    assert count(db) == 1


def test_the_same_form_sent_twice_is_stored_once(client, db, urls) -> None:
    url, _ = urls
    idem = fresh_idem(client, url)
    first = client.post(url, data={**answers(), "idem": idem})
    second = client.post(url, data={**answers(), "idem": idem})
    assert first.headers["Location"] == second.headers["Location"]
    assert count(db) == 1


def test_different_answers_are_a_new_response(client, db, urls) -> None:
    url, _ = urls
    client.post(url, data={**answers(), "idem": fresh_idem(client, url)})
    other = client.post(url, data={**answers(A1="3"), "idem": fresh_idem(client, url)})
    assert other.status_code == 302 and "lai=1" not in other.headers["Location"]
    assert count(db) == 2


def test_the_marker_is_per_counter_and_per_device(app, client, db, urls) -> None:
    url, other_url = urls
    client.post(url, data={**answers(), "idem": fresh_idem(client, url)})
    elsewhere = client.post(other_url, data={**answers(nhom_linh_vuc="dat_dai"), "idem": fresh_idem(client, other_url)})
    assert "lai=1" not in elsewhere.headers["Location"]
    neighbour = app.test_client()
    assert (
        "lai=1" not in neighbour.post(url, data={**answers(), "idem": fresh_idem(neighbour, url)}).headers["Location"]
    )
    assert count(db) == 3


def test_without_the_device_cookie_only_the_form_key_counts(app, db, urls) -> None:
    url, _ = urls
    client = app.test_client()
    first = client.post(url, data={**answers(), "idem": fresh_idem(client, url)})
    client.delete_cookie(DEVICE_COOKIE, path="/q/")
    again = client.post(url, data={**answers(), "idem": fresh_idem(client, url)})
    assert "lai=1" not in again.headers["Location"] and again.headers["Location"] != first.headers["Location"]
    assert count(db) == 2


def test_the_window_is_thirty_minutes(app, client, db, urls) -> None:
    from datetime import timedelta

    url, _ = urls
    client.post(url, data={**answers(), "idem": fresh_idem(client, url)})
    stored = db.session.scalars(sa.select(Response)).one()
    stored.created_at = stored.created_at - timedelta(minutes=31)
    db.session.commit()
    later = client.post(url, data={**answers(), "idem": fresh_idem(client, url)})
    assert "lai=1" not in later.headers["Location"]
    assert count(db) == 2
