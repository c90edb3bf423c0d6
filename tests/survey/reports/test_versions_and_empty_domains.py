"""The report reads the right questionnaire versions, and an empty domain is a flagged row."""

from __future__ import annotations

from datetime import date

import pandas as pd
import sqlalchemy as sa

from survey.models import Counter, Place, Response
from survey.reports import estimates, snapshots
from survey.responses.recording import record_response


def _report(db, survey_round=None) -> estimates.Report:
    versions, excluded = estimates.report_questionnaires(db.session, "sipas-dich-vu", survey_round)
    channel = "qr" if survey_round is None else "paper"
    return estimates.build_report(db.session, versions, channel=channel, survey_round=survey_round, excluded=excluded)


def test_publishing_a_v2_leaves_a_v1_rounds_report_unchanged(db, paper_round, publish_v2) -> None:
    before = _report(db, paper_round)
    assert before.respondents > 50 and before.versions == (1,)
    publish_v2(drop=("A3",))
    after = _report(db, paper_round)
    assert after.versions == (1,)
    pd.testing.assert_frame_equal(before.table, after.table)


def test_qr_pools_versions_only_with_identical_index_definitions(db, demo, publish_v2) -> None:
    publish_v2(drop=("A3",))
    report = _report(db)
    assert report.versions == (2,) and report.excluded_versions == (1,)


def test_qr_pools_versions_with_the_same_index(db, paper_round, publish_v2, client, login_as) -> None:
    from survey.demo import _qr_responses

    publish_v2()
    assert _report(db).versions == (1, 2)
    _qr_responses(db.session, seed=4)
    made = snapshots.build_qr_snapshot(
        db.session, slug="sipas-dich-vu", start=date(2000, 1, 1), end=date.today(), frame_round=paper_round
    )
    db.session.commit()
    login_as("analyst")
    page = client.get(f"/phan-tich/quyen-so/{made.id}").get_data(as_text=True)
    assert "Phiếu hỏi sipas-dich-vu, phiên bản: 1, 2." in page


def test_qr_period_without_land_construction_investment_renders(db, paper_round, client, login_as) -> None:
    from survey import questionnaires

    questionnaire = questionnaires.get(db.session, "sipas-dich-vu")
    counter = db.session.scalars(sa.select(Counter).join(Place).where(Place.kind == "tinh")).first()
    answers = {"nhom_linh_vuc": "khac", "loai_nguoi_tra_loi": "ca_nhan"} | {
        f"{e}{i}": 4 + (i % 2) for e, k in zip("ABCDE", (3, 4, 3, 3, 3), strict=True) for i in range(1, k + 1)
    }
    for _ in range(5):
        record_response(
            db.session,
            questionnaire,
            answers,
            channel="qr",
            place_id=counter.place_id,
            counter_id=counter.id,
            field_group="khac",
        )
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response).where(Response.channel == "qr")) == 5
    report = _report(db)
    ldx = report.table[(report.table["domain_var"] == "ldx") & (report.table["indicator"] == "SIPAS")]
    assert len(ldx) == 1 and ldx["n"].iloc[0] == 0 and "no_data" in ldx["flag"].iloc[0]
    land = report.table[(report.table["domain"] == "dat_dai") & (report.table["indicator"] == "SIPAS")]
    assert land["estimate"].isna().all()
    # the QR weighting run of the period and its dashboard, PDF included
    made = snapshots.build_qr_snapshot(
        db.session, slug="sipas-dich-vu", start=date(2000, 1, 1), end=date.today(), frame_round=paper_round
    )
    db.session.commit()
    login_as("analyst")
    page = client.get(f"/phan-tich/quyen-so/{made.id}")
    assert page.status_code == 200
    assert "không có dữ liệu" in page.get_data(as_text=True)
    assert client.get(f"/phan-tich/quyen-so/{made.id}/bao-cao-nam.pdf").status_code == 200
