"""As a person would: an admin downloads a poster, its QR code decodes to the counter's
address, and a citizen answers on a phone-sized screen, with and without JavaScript."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import sqlalchemy as sa

from survey.demo import DEMO_PASSWORD
from survey.models import Counter, Place, Response

ITEMS = ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "D1", "D2", "D3", "E1", "E2", "E3"]
SHOTS = os.environ.get("SIPAS_TEST_SCREENSHOTS")  # a folder: save screenshots there to look at


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def poster_url(browser, base_url: str, place_name: str, tmp_path: Path) -> str:
    """Sign in as the admin, download the place's A4 posters, decode the first QR code."""
    import pypdfium2 as pdfium

    context = browser.new_context(accept_downloads=True, locale="vi-VN")
    page = context.new_page()
    page.goto(base_url + "/dang-nhap")
    page.fill("#username", "admin")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.click(f"text={place_name}")
    with page.expect_download() as download:
        page.click("text=Tải PDF khổ A4")
    pdf = Path(download.value.path()).read_bytes()
    context.close()
    document = pdfium.PdfDocument(io.BytesIO(pdf))
    image = document[0].render(scale=2).to_pil()
    document.close()
    png = tmp_path / "poster.png"
    image.save(png)
    return subprocess.run(
        ["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_poster_to_receipt_on_a_phone(browser, phone, base_url, app, db, demo, tmp_path: Path) -> None:
    url = poster_url(browser, base_url, "Phường Kinh Bắc", tmp_path)
    assert url.startswith(base_url + "/q/")

    phone.goto(url)
    assert phone.locator("h1").first.inner_text().startswith("Phiếu khảo sát")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling
    shot(phone, "01-form")

    # Submit without answering: messages beside the fields, nothing stored.
    phone.click("button[type=submit]")
    assert phone.locator(".error-summary").is_visible()
    assert phone.locator("#q-A1 .error").inner_text() == "Vui lòng chọn hoặc nhập câu trả lời."
    shot(phone, "02-errors")

    phone.check("input[name=nhom_linh_vuc][value=xay_dung]")
    phone.check("input[name=loai_nguoi_tra_loi][value=ca_nhan]")
    for i, code in enumerate(ITEMS):
        phone.check(f"input[name={code}][value='{5 if i % 3 else 4}']")
    phone.check("input[name=tuoi][value='25-34']")
    phone.fill("textarea[name=y_kien]", "Cán bộ hướng dẫn tận tình.")
    phone.click("button[type=submit]")

    phone.wait_for_url("**/cam-on/*")
    assert "Cảm ơn Ông/Bà đã đánh giá!" in phone.content()
    receipt = phone.locator(".receipt").inner_text()
    shot(phone, "03-thanks")

    # Back and submit again: still one response, same receipt.
    phone.go_back()
    if phone.locator("button[type=submit]").is_enabled():
        phone.click("button[type=submit]")
        phone.wait_for_url("**/cam-on/*")
        assert phone.locator(".receipt").inner_text() == receipt

    db.session.expire_all()
    [stored] = db.session.scalars(sa.select(Response)).all()
    counter = db.session.scalars(sa.select(Counter).join(Place).where(Place.name == "Phường Kinh Bắc")).one()
    assert stored.receipt_code == receipt
    assert (stored.counter_id, stored.place_id, stored.field_group, stored.channel) == (
        counter.id,
        counter.place_id,
        "xay_dung",
        "qr",
    )
    assert stored.answers["A1"] == 4 and stored.answers["A2"] == 5
    assert stored.answers["y_kien"] == "Cán bộ hướng dẫn tận tình."
