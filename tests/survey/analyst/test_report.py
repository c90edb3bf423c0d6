"""The analyst's satisfaction page shows what `analysis` computes, labelled by channel."""

from __future__ import annotations

import re

from survey.demo import _qr_responses
from survey.reports import estimates


def test_the_old_qr_page_sends_the_analyst_to_the_weighting_runs(client, db, demo, login_as) -> None:
    # the QR channel is estimated only in a weighting run (post-stratified, counter-week
    # clusters); the unweighted page that took each response as its own cluster is gone
    _qr_responses(db.session, seed=5)
    db.session.commit()
    login_as("analyst")
    for url in ("/phan-tich/bao-cao", "/phan-tich/bao-cao.csv"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].endswith("/phan-tich/quyen-so#qr")
    page = client.get("/phan-tich/bao-cao", follow_redirects=True).get_data(as_text=True)
    assert "Ước lượng kênh QR được tính trong một lần tính quyền số" in page
    assert "Tính quyền số cho phiếu QR của một kỳ" in page


def test_paper_round_report_matches_the_analysis_package(client, db, paper_round, login_as) -> None:
    login_as("analyst")
    page = client.get(f"/phan-tich/bao-cao?dot={paper_round.id}").get_data(as_text=True)
    report = estimates.build_report(
        db.session,
        *estimates.report_questionnaires(db.session, "sipas-dich-vu", paper_round)[:1],
        channel="paper",
        survey_round=paper_round,
    )
    sipas = report.table[(report.table["indicator"] == "SIPAS") & (report.table["domain_var"] == "all")].iloc[0]
    shown = re.search(
        r"Chỉ số SIPAS</td><td class=\"num\"><strong>([0-9.]+)</strong></td><td class=\"num\">([0-9.]+)–([0-9.]+)", page
    )
    assert shown is not None
    assert float(shown.group(1)) == round(sipas["estimate"], 1)
    assert "Chỉ số chung và 5 yếu tố" in page  # counted from the questionnaire's index


def test_report_is_for_analysts_and_admins_only(client, db, demo, login_as) -> None:
    login_as("surveyor")
    assert client.get("/phan-tich/bao-cao").status_code == 403
