"""As an analyst would: sign in, run a weighting on the finished paper round, read the
dashboard and the funnel plot in a real browser; screenshots are kept as test artifacts
(``SIPAS_TEST_SCREENSHOTS`` or ``test-artifacts/`` at the repository root)."""

from __future__ import annotations

import os
from pathlib import Path

from survey.demo import DEMO_PASSWORD, load_paper_round

ARTIFACTS = Path(os.environ.get("SIPAS_TEST_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "test-artifacts")


def test_analyst_runs_a_weighting_and_reads_the_dashboard(browser, base_url, db, demo) -> None:
    survey_round = load_paper_round(db.session, sample_size=130)
    db.session.commit()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page.goto(base_url + "/dang-nhap")
    page.fill("#username", "phantich")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.goto(base_url + "/phan-tich/quyen-so")
    page.select_option("#giay-round_id", str(survey_round.id))
    page.check("#giay-rake")
    page.click("form[action$='/quyen-so/giay'] button[type=submit]")
    page.wait_for_url("**/phan-tich/quyen-so/*")
    assert "Chỉ số hài lòng — lần tính #" in page.inner_text("h1")
    sipas = page.locator('tr[data-key="SIPAS"]')
    assert any(word in sipas.inner_text() for word in ("đạt", "chưa đạt", "chưa kết luận"))
    funnel = page.locator("#noi-tiep-nhan svg")
    assert funnel.count() == 1 and funnel.locator("circle").count() >= 8
    box = funnel.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 150
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    funnel.screenshot(path=str(ARTIFACTS / "funnel.png"))
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 10_000
    assert (ARTIFACTS / "funnel.png").stat().st_size > 2_000


def test_trend_chart_between_two_runs_in_a_browser(browser, base_url, db, demo) -> None:
    from survey.reports import snapshots

    earlier = load_paper_round(db.session, name="Quý I/2025 (dữ liệu mẫu)", year=2025, sample_size=130, seed=2025)
    later = load_paper_round(db.session, sample_size=130)
    a = snapshots.build_paper_snapshot(db.session, earlier)
    b = snapshots.build_paper_snapshot(db.session, later)
    db.session.commit()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page.goto(base_url + "/dang-nhap")
    page.fill("#username", "phantich")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.goto(base_url + f"/phan-tich/quyen-so/{b.id}/xu-huong?so-voi={a.id}")
    chart = page.locator("#bieu-do svg")
    assert chart.count() == 1 and chart.locator("circle").count() >= 6
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 150
    assert page.locator("#bieu-do table tbody tr").count() >= chart.locator("circle").count()
    page.locator("#bieu-do").screenshot(path=str(ARTIFACTS / "trend.png"))
    assert (ARTIFACTS / "trend.png").stat().st_size > 2_000
