"""Weighting snapshots and their dashboard: numbers from `analysis`, targets, immutability,
QR labelled self-selected, only analysts and admins."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from numpy.testing import assert_allclose

from analysis.design import make_design
from analysis.questionnaire import index_spec
from analysis.rates import estimate_rates
from analysis.targets import target_status
from survey.models import PaperForm, Response, SampledCase, StratumDesign, WeightingSnapshot
from survey.models.snapshot import SnapshotImmutable
from survey.reports import snapshots
from survey.reports.dashboard import vn_number

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def _run_paper(client, survey_round, **extra) -> str:
    data = {"giay-round_id": survey_round.id} | extra
    response = client.post("/phan-tich/quyen-so/giay", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def _independent_estimates(db, survey_round) -> pd.DataFrame:
    """The round's estimates computed here from the stored rows: strata with fpc = N_h, so
    that `analysis` weights every respondent N_h / r_h itself."""
    rows = db.session.execute(
        sa.select(Response.coded, Response.field_group, SampledCase.stratum, StratumDesign.population)
        .join(PaperForm, PaperForm.response_id == Response.id)
        .join(SampledCase, SampledCase.id == PaperForm.case_id)
        .join(
            StratumDesign,
            sa.and_(StratumDesign.round_id == SampledCase.round_id, StratumDesign.stratum == SampledCase.stratum),
        )
        .where(SampledCase.round_id == survey_round.id)
        .order_by(Response.id)
    ).all()
    questionnaire = survey_round_questionnaire(db, survey_round)
    layout = questionnaire.coded_layout
    answers = pd.DataFrame([[np.nan if ch == "." else float(ch) for ch in r.coded] for r in rows], columns=layout)
    spec = index_spec(questionnaire.definition)
    design = make_design(strata=[r.stratum for r in rows], fpc=[r.population for r in rows])
    return estimate_rates(
        answers[list(spec.items)],
        design,
        valid_codes=spec.valid_codes,
        success_codes=spec.satisfied_codes,
        composites=spec.composites(),
        by={"field_group": np.array([r.field_group for r in rows], dtype=object)},
    )


def survey_round_questionnaire(db, survey_round):
    from survey.models import Questionnaire

    return db.session.get(Questionnaire, survey_round.questionnaire_id)


def _row(page: str, key: str) -> str:
    found = re.search(rf'<tr data-key="{re.escape(key)}">(.*?)</tr>', page, re.S)
    assert found is not None, key
    return found.group(1)


def test_paper_dashboard_shows_what_analysis_returns(app, client, db, paper_round, login_as) -> None:
    login_as("analyst")
    location = _run_paper(client, paper_round)
    page = client.get(location).get_data(as_text=True)
    expected = _independent_estimates(db, paper_round)
    overall = expected[expected["domain_var"] == "all"].set_index("indicator")
    for indicator in ["SIPAS", *"ABCDE", "A1", "B4", "E3"]:
        cells = _row(page, indicator)
        est = overall.loc[indicator]
        assert f"<strong>{vn_number(est['estimate'])}</strong>" in cells
        assert f"{vn_number(est['ci_low'])}–{vn_number(est['ci_high'])}" in cells
        assert f">{vn_number(est['se'], 2)}<" in cells
    sipas = overall.loc["SIPAS"]
    for year, targets in app.config["TARGETS"].items():
        state = target_status(sipas["ci_low"], sipas["ci_high"], targets["all"])
        word = {"met": "đạt", "not_met": "chưa đạt", "inconclusive": "chưa kết luận"}[state]
        assert f"≥ {vn_number(targets['all'], 0)} % <span" in _row(page, "SIPAS")
        assert word in _row(page, "SIPAS"), year
    groups = expected[(expected["domain_var"] == "field_group") & (expected["indicator"] == "SIPAS")]
    for record in groups.to_dict("records"):
        assert f"<strong>{vn_number(record['estimate'])}</strong>" in _row(page, record["domain"])
    # stored numbers equal analysis to the last digit, not only as printed
    snapshot = db.session.scalars(sa.select(WeightingSnapshot)).one()
    stored = snapshots.estimates_frame(snapshot)
    stored = stored[stored["domain_var"] == "all"].set_index("indicator")
    assert_allclose(stored.loc[overall.index, "estimate"], overall["estimate"], rtol=1e-12)
    assert_allclose(stored.loc[overall.index, "se"], overall["se"], rtol=1e-9)
    # and the land + construction + investment row is there
    assert "Đất đai + Xây dựng + Đầu tư" in page
    assert "<svg" in page  # the charts, with their numbers in the tables beside them


def test_same_inputs_same_numbers_and_snapshots_are_never_overwritten(db, paper_round) -> None:
    first = snapshots.build_paper_snapshot(db.session, paper_round, rake=True, trim=3.0)
    second = snapshots.build_paper_snapshot(db.session, paper_round, rake=True, trim=3.0)
    db.session.commit()
    assert second.id == first.id + 1
    assert first.inputs_hash == second.inputs_hash
    assert first.estimates == second.estimates
    assert_allclose(snapshots.snapshot_weights(first)["weight"], snapshots.snapshot_weights(second)["weight"], rtol=0)
    plain = snapshots.build_paper_snapshot(db.session, paper_round)
    assert plain.inputs_hash != first.inputs_hash  # other parameters, another run
    first.label = "sửa"
    with pytest.raises(SnapshotImmutable):
        db.session.flush()
    db.session.rollback()


def test_raking_reproduces_frame_totals_and_trimming_caps(db, paper_round) -> None:
    plain = snapshots.snapshot_weights(snapshots.build_paper_snapshot(db.session, paper_round))["weight"]
    k = (1 + plain.max() / plain.median()) / 2  # a cap that some weights exceed
    raked = snapshots.build_paper_snapshot(db.session, paper_round, rake=True)
    weights = snapshots.snapshot_weights(raked)
    frame = db.session.execute(
        sa.select(StratumDesign.stratum, StratumDesign.population).where(StratumDesign.round_id == paper_round.id)
    ).all()
    groups = pd.Series({s: n for s, n in frame}).groupby(lambda s: s.split("|")[1]).sum()
    got = weights.groupby(weights["stratum"].str.split("|").str[1])["weight"].sum()
    assert_allclose(got.sort_index(), groups.loc[got.index].sort_index(), rtol=1e-8)
    trimmed = snapshots.build_paper_snapshot(db.session, paper_round, trim=k)
    capped = snapshots.snapshot_weights(trimmed)["weight"]
    assert capped.max() <= k * plain.median() * (1 + 1e-9)
    assert_allclose(capped.sum(), plain.sum(), rtol=1e-12)  # trimWeights keeps the total
    assert trimmed.report["trimmed"] == int((plain > k * plain.median()).sum()) > 0
    assert trimmed.report["kish_n_eff"] <= trimmed.respondents


def test_qr_snapshot_is_post_stratified_and_never_gets_a_target_badge(client, db, paper_round, login_as) -> None:
    from survey.demo import _qr_responses

    _qr_responses(db.session, seed=7)
    db.session.commit()
    login_as("analyst")
    today = date.today()
    response = client.post(
        "/phan-tich/quyen-so/qr",
        data={
            "qr-period_kind": "dates",
            "qr-period_start": f"{today.year - 1}-01-01",
            "qr-period_end": today.isoformat(),
            "qr-frame_round": paper_round.id,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "không phải mẫu xác suất" in page
    assert "không đánh giá (mẫu tự chọn)" in page
    assert '<span class="ok">đạt' not in page and "chưa kết luận" not in page
    snapshot = db.session.get(WeightingSnapshot, int(response.headers["Location"].rsplit("/", 1)[1]))
    weights = snapshots.snapshot_weights(snapshot)
    counts = {
        f"{place}|{group}": n
        for place, group, n in db.session.execute(snapshots.queries.frame_cell_counts(paper_round.id)).all()
    }
    got = weights.groupby("cell")["weight"].sum()
    assert_allclose(got.to_numpy(), [counts[c] for c in got.index], rtol=1e-10)
    assert snapshot.report["respondents_without_dossier_count"] > 0
    # what the run left out is said, in numbers, wherever its rate is shown
    left_out = snapshot.report["respondents_without_dossier_count"]
    said = (
        f"{vn_number(left_out, 0)} trong {vn_number(left_out + snapshot.respondents, 0)} phiếu QR của kỳ "
        f"({vn_number(100 * left_out / (left_out + snapshot.respondents), 1)} %) không được tính"
    )
    assert page.count(said) == 1  # the run's page, right after the run
    assert said in client.get(f"/phan-tich/quyen-so/{snapshot.id}/bao-cao-nam").get_data(as_text=True)
    assert said in _pdf_text(client.get(f"/phan-tich/quyen-so/{snapshot.id}/bao-cao-nam.pdf").data)
    # its time is Vietnam's wherever it is shown (it is stored in UTC)
    created = snapshot.created_at.replace(tzinfo=snapshot.created_at.tzinfo or UTC)
    local, utc = (created.astimezone(zone).strftime("%d/%m/%Y %H:%M") for zone in (VIETNAM, UTC))
    for shown in (
        client.get("/phan-tich/quyen-so").get_data(as_text=True),
        client.get(f"/phan-tich/quyen-so/{snapshot.id}/bao-cao-nam").get_data(as_text=True),
        _pdf_text(client.get(f"/phan-tich/quyen-so/{snapshot.id}/bao-cao-nam.pdf").data),
    ):
        assert local in shown and utc not in shown
    empty = snapshot.report["cells_without_respondents"]
    if empty:
        assert f"{vn_number(empty, 0)} ô nơi tiếp nhận × nhóm lĩnh vực có số hồ sơ nhưng không có phiếu nào" in page
    # a whole year chosen on the page: the run covers 1 January to 31 December
    response = client.post(
        "/phan-tich/quyen-so/qr",
        data={"qr-period_kind": "year", "qr-year": str(today.year), "qr-frame_round": paper_round.id},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    year_run = db.session.get(WeightingSnapshot, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert (year_run.period_start, year_run.period_end) == (date(today.year, 1, 1), date(today.year, 12, 31))


def test_bad_runs_get_a_clear_message(client, db, paper_round, login_as) -> None:
    login_as("analyst")
    response = client.post("/phan-tich/quyen-so/giay", data={"giay-round_id": paper_round.id, "giay-trim": "1"})
    assert response.status_code == 400 and "Hệ số cắt phải lớn hơn 1." in response.get_data(as_text=True)
    response = client.post(
        "/phan-tich/quyen-so/qr",
        data={"qr-period_kind": "month", "qr-year": "2020", "qr-number": "1", "qr-frame_round": paper_round.id},
    )
    assert response.status_code == 400
    assert "Không có phiếu QR nào trong kỳ đã chọn" in response.get_data(as_text=True)
    for data, message in (
        ({"qr-period_kind": "quarter", "qr-year": "2026", "qr-number": "5"}, "Quý phải từ 1 đến 4."),
        ({"qr-period_kind": "month"}, "Vui lòng nhập năm."),
        ({"qr-period_kind": "dates", "qr-period_start": "2026-02-01"}, "Vui lòng chọn ngày."),
        (
            {"qr-period_kind": "dates", "qr-period_start": "2026-02-01", "qr-period_end": "2026-01-01"},
            "Ngày kết thúc phải sau ngày bắt đầu.",
        ),
    ):
        response = client.post("/phan-tich/quyen-so/qr", data=data | {"qr-frame_round": paper_round.id})
        assert response.status_code == 400 and message in response.get_data(as_text=True), data
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WeightingSnapshot)) == 0


def test_trend_between_two_rounds(client, db, paper_round, login_as) -> None:
    login_as("analyst")
    first = _run_paper(client, paper_round)
    second = _run_paper(client, paper_round, **{"giay-trim": "1.3"})
    a, b = (int(url.rsplit("/", 1)[1]) for url in (first, second))
    page = client.get(f"/phan-tich/quyen-so/{b}/xu-huong?so-voi={a}").get_data(as_text=True)
    assert "Thay đổi từ #" in page and "SIPAS" in page


@pytest.mark.parametrize("role", ["surveyor", "supervisor"])
def test_only_analysts_and_admins(client, db, paper_round, login_as, role) -> None:
    snapshot = snapshots.build_paper_snapshot(db.session, paper_round)
    db.session.commit()
    login_as(role)
    for url in (
        "/phan-tich/quyen-so",
        f"/phan-tich/quyen-so/{snapshot.id}",
        f"/phan-tich/quyen-so/{snapshot.id}/vi-mo.csv",
        f"/phan-tich/quyen-so/{snapshot.id}/xu-huong?so-voi={snapshot.id}",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post("/phan-tich/quyen-so/giay", data={"giay-round_id": paper_round.id}).status_code == 403


def test_admin_reaches_the_dashboard(client, db, paper_round, login_as) -> None:
    snapshot = snapshots.build_paper_snapshot(db.session, paper_round)
    db.session.commit()
    login_as("admin")
    assert client.get(f"/phan-tich/quyen-so/{snapshot.id}").status_code == 200
    assert client.get("/phan-tich/quyen-so").status_code == 200


def test_shares_are_labelled_and_equal_what_analysis_stored(client, db, paper_round, login_as) -> None:
    snapshot = snapshots.build_paper_snapshot(db.session, paper_round)
    db.session.commit()
    login_as("analyst")
    page = client.get(f"/phan-tich/quyen-so/{snapshot.id}").get_data(as_text=True)
    assert "P1. Công chức có gây phiền hà" in page
    shares = snapshots.estimates_frame(snapshot, "shares")
    shares = shares[shares["domain_var"] == "all"].set_index("indicator")
    for key, label in (("P1:1", "Không"), ("P2:3", "Nhiều"), ("M01:rat_mong_muon", "Rất mong muốn")):
        cells = _row(page, key)
        assert f"<td>{label}</td>" in cells
        assert f"<strong>{vn_number(shares.loc[key, 'estimate'])}</strong>" in cells


def test_annual_report_with_outcomes_change_and_comments(client, db, paper_round, login_as) -> None:
    from survey.demo import load_paper_round

    earlier = load_paper_round(db.session, name="Quý I/2025 (dữ liệu mẫu)", year=2025, sample_size=130, seed=2025)
    before = snapshots.build_paper_snapshot(db.session, earlier)
    now = snapshots.build_paper_snapshot(db.session, paper_round)
    db.session.commit()
    outcomes = now.report["outcomes"]
    eligible = now.report["cases_in_field"] - outcomes.get("ineligible", 0) - outcomes.get("deceased", 0)
    assert now.report["aapor"]["rr1"] == pytest.approx(outcomes["completed"] / eligible)  # RR1: NE left out
    login_as("analyst")
    page = client.get(f"/phan-tich/quyen-so/{now.id}/bao-cao-nam").get_data(as_text=True)
    for heading in (
        "1. Mục đích và phương pháp",
        "2. Mẫu và kết quả phỏng vấn",
        "3. Quyền số",
        "7. Theo đặc điểm người trả lời",
        "9. Thay đổi so với kỳ trước",
        "10. Ý kiến của người dân",
        "Phụ lục",
    ):
        assert heading in page
    assert f"So với lần tính #{before.id}" in page
    assert vn_number(now.report["aapor"]["rr1"] * 100) in page
    assert now.inputs_hash in page
    assert "<svg" in page
    # the counts in the method come from the questionnaire's index definition
    assert "theo 5 yếu tố và 16 tiêu chí" in page and "là trung bình 16 tiêu chí" in page

    # the same report as a PDF: its sections, and the dashboard's numbers in its text
    pdf = client.get(f"/phan-tich/quyen-so/{now.id}/bao-cao-nam.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    text = _pdf_text(pdf.data)
    for heading in (
        "1. Mục đích và phương pháp",
        "2. Mẫu và kết quả phỏng vấn",
        "3. Quyền số",
        "4. Kết quả chung và so với mục tiêu",
        "5. Theo nhóm lĩnh vực",
        "6. Theo yếu tố và tiêu chí",
        "7. Theo đặc điểm người trả lời",
        "8. Các nơi tiếp nhận",
        "9. Thay đổi so với kỳ trước",
        "10. Ý kiến của người dân",
        "Phụ lục: công thức và lần tính",
    ):
        assert heading in text, heading
    assert "theo 5 yếu tố và 16 tiêu chí" in text
    dashboard = client.get(f"/phan-tich/quyen-so/{now.id}").get_data(as_text=True)
    sipas = re.search(r"<strong>([0-9.,]+)</strong>", _row(dashboard, "SIPAS")).group(1)
    interval = re.search(r"([0-9.,]+–[0-9.,]+)", _row(dashboard, "SIPAS")).group(1)
    assert f"SIPAS {sipas} {interval}" in text  # the first row of the overall table
    assert f"RR1: {vn_number(now.report['aapor']['rr1'] * 100)} %" in text
    assert f"So với lần tính #{before.id}" in text
    assert f"Lần tính quyền số số {now.id}," in text


def _pdf_text(data: bytes) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        text = " ".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()
    return re.sub(r"\s+", " ", text)


def test_a_qr_run_is_for_the_questionnaire_chosen(client, db, paper_round, login_as) -> None:
    """The QR run's page offers every published questionnaire (the site's first) and weights the
    responses of the one chosen only: the health form has none, the services form has some."""
    from survey.demo import _qr_responses

    _qr_responses(db.session, seed=3)  # sipas-dich-vu answers
    db.session.commit()
    login_as("analyst")
    page = client.get("/phan-tich/quyen-so").get_data(as_text=True)
    assert page.index("sipas-dich-vu — ") < page.index("hai-long-y-te — ")
    today = date.today()
    period = {
        "qr-period_kind": "dates",
        "qr-period_start": f"{today.year - 1}-01-01",
        "qr-period_end": today.isoformat(),
    }
    refused = client.post(
        "/phan-tich/quyen-so/qr", data={**period, "qr-frame_round": paper_round.id, "qr-questionnaire": "hai-long-y-te"}
    )
    assert refused.status_code == 400 and "Không có phiếu QR nào trong kỳ đã chọn" in refused.get_data(as_text=True)
    made = client.post(
        "/phan-tich/quyen-so/qr", data={**period, "qr-frame_round": paper_round.id, "qr-questionnaire": "sipas-dich-vu"}
    )
    assert made.status_code == 302
    run = db.session.get(WeightingSnapshot, int(made.headers["Location"].rsplit("/", 1)[1]))
    assert run.questionnaire_slug == "sipas-dich-vu" and run.respondents > 0


def test_a_qr_period_is_made_of_vietnam_days(db, paper_round) -> None:
    """March in Bắc Ninh begins at 17:00 UTC on 28 February and ends at 17:00 UTC on 31 March:
    a response sent at 00:30 on 1 March (local) is March's, one sent at 23:30 on 28 February
    is not, nor one at 00:30 on 1 April."""
    from survey.demo import _qr_responses

    _qr_responses(db.session, seed=5)
    db.session.flush()
    first, second, third = db.session.scalars(
        sa.select(Response).where(Response.channel == "qr").order_by(Response.id).limit(3)
    ).all()
    db.session.execute(sa.update(Response).where(Response.channel == "qr").values(submitted_at=datetime(2025, 6, 1)))
    first.submitted_at = datetime(2026, 2, 28, 17, 30, tzinfo=UTC)  # 1 March, 00:30 in Vietnam
    second.submitted_at = datetime(2026, 2, 28, 16, 30, tzinfo=UTC)  # 28 February, 23:30
    third.submitted_at = datetime(2026, 3, 31, 17, 30, tzinfo=UTC)  # 1 April, 00:30
    db.session.commit()
    inputs = snapshots.qr_inputs(
        db.session, "sipas-dich-vu", date(2026, 3, 1), date(2026, 3, 31), snapshots.CountSource(frame_round=paper_round)
    )
    assert inputs.wide["id"].tolist() == [first.id]
