"""As an admin would: upload a questionnaire file, read the difference, preview it at a
phone's size (360×740) and as a clerk keys it, publish it — in a real browser. Screenshots
are kept as test artifacts (``SIPAS_TEST_SCREENSHOTS`` or ``test-artifacts/``)."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa

from survey.demo import DEMO_PASSWORD
from survey.models import Questionnaire, QuestionnaireDraft, Response
from tests.survey.drafts.questionnaire_files import edited, v2

ARTIFACTS = Path(os.environ.get("SIPAS_TEST_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "test-artifacts")


def test_admin_uploads_previews_on_a_phone_and_publishes(browser, base_url, db, demo, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    upload = tmp_path / "v2.yaml"
    upload.write_bytes(edited(v2))
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = desk.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the "publish?" confirmation
    page.goto(base_url + "/dang-nhap")
    page.fill("#username", "admin")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.goto(base_url + "/admin/")
    page.click("text=Tải lên, xem trước và công bố phiên bản mới")
    page.set_input_files("input[type=file]", str(upload))
    page.click("#tai-len button[type=submit]")
    page.wait_for_url("**/admin/phieu-khao-sat/nhap/*")
    diff = page.locator("#khac-biet table")
    assert "Thêm câu hỏi" in diff.inner_text() and "Đổi mã" in diff.inner_text()
    page.screenshot(path=str(ARTIFACTS / "publish-draft.png"), full_page=True)
    preview_url = page.get_attribute("text=Xem như người dân (điện thoại)", "href")
    keying_url = page.get_attribute("text=Xem như nhân viên nhập liệu", "href")

    # The citizen's view on a phone, signed in as the same admin (the session cookie).
    phone = browser.new_context(
        viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True, locale="vi-VN"
    )
    phone.add_cookies(desk.cookies())
    small = phone.new_page()
    small.goto(base_url + preview_url)
    assert small.locator(".phone-frame h1").inner_text().startswith("Phiếu khảo sát")
    assert small.locator(".phone-frame").get_by_text("Nơi chờ sạch sẽ, thoáng mát").count() == 1
    assert small.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling
    small.screenshot(path=str(ARTIFACTS / "publish-preview-phone.png"), full_page=True)
    small.locator(".phone-frame button[type=submit]").first.click()  # sending a preview records nothing
    assert small.locator("#khong-ghi").count() == 1
    phone.close()

    page.goto(base_url + keying_url)
    assert page.locator("#mau-nhap input[name=A4][readonly]").count() == 1
    page.go_back()
    page.click("#cong-bo")
    page.wait_for_url("**/admin/phieu-khao-sat")
    assert "Đã công bố sipas-dich-vu v2." in page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "publish-done.png"), full_page=True)
    desk.close()
    db.session.expire_all()
    versions = sa.select(Questionnaire.version).where(Questionnaire.slug == "sipas-dich-vu")
    assert db.session.scalars(versions.order_by(Questionnaire.version)).all() == [1, 2]
    assert db.session.scalars(sa.select(QuestionnaireDraft.status)).all() == ["published"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0
    for name in ("publish-draft.png", "publish-preview-phone.png", "publish-done.png"):
        assert (ARTIFACTS / name).stat().st_size > 5_000
