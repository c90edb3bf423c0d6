"""A citizen submits, sees the thank-you page, presses Back and submits again — in Chromium,
with and without JavaScript: the same receipt (or the "already sent" page with it), one
stored response. Also after reloading the form (a new key) and answering the same again."""

from __future__ import annotations

import sqlalchemy as sa

from survey.models import Counter, Place, Response
from survey.qr.counters import counter_code

ITEMS = ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "D1", "D2", "D3", "E1", "E2", "E3"]


def answer(page) -> None:
    page.check("input[name=nhom_linh_vuc][value=dat_dai]")
    page.check("input[name=loai_nguoi_tra_loi][value=ca_nhan]")
    for code in ITEMS:
        page.check(f"input[name={code}][value='4']")
    page.check("input[name=tuoi][value='25-34']")
    page.fill("textarea[name=y_kien]", "Nhanh gọn.")


def count(db) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Response))


def form_url(app, db, base_url: str) -> str:
    counter = db.session.scalars(sa.select(Counter).join(Place).where(Place.code == "P001")).first()
    return base_url + "/q/" + counter_code(app.config["SECRET_KEY"], counter)


def test_back_then_submit_again_stores_nothing_new(phone, base_url, app, db, demo) -> None:
    url = form_url(app, db, base_url)
    phone.goto(url)
    answer(phone)
    phone.click("button[type=submit]")
    phone.wait_for_url("**/cam-on/*")
    receipt = phone.locator(".receipt").inner_text()

    phone.go_back()
    phone.wait_for_load_state()
    if not phone.locator("input[name=A1]:checked").count():  # fetched anew without the answers
        answer(phone)
    phone.click("button[type=submit]")
    phone.wait_for_url("**/cam-on/*")
    assert phone.locator(".receipt").inner_text() == receipt
    assert count(db) == 1


def test_reloaded_form_with_the_same_answers_shows_already_sent(phone, base_url, app, db, demo) -> None:
    url = form_url(app, db, base_url)
    phone.goto(url)
    answer(phone)
    phone.click("button[type=submit]")
    phone.wait_for_url("**/cam-on/*")
    receipt = phone.locator(".receipt").inner_text()

    phone.goto(url)  # a fresh form: a new key
    answer(phone)
    phone.click("button[type=submit]")
    phone.wait_for_url("**/cam-on/*")
    assert phone.locator(".receipt").inner_text() == receipt
    assert "Phiếu này đã được gửi trước đó" in phone.content()
    assert count(db) == 1
