"""The analyst's satisfaction page shows what `analysis` computes, labelled by channel."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analysis.design import make_design
from analysis.rates import estimate_rates
from survey import questionnaires
from survey.demo import _qr_responses
from survey.models import Response


def test_qr_report_matches_the_analysis_package_and_is_labelled(client, db, demo, login_as) -> None:
    _qr_responses(db.session, seed=5)
    db.session.commit()
    login_as("analyst")
    page = client.get("/phan-tich/bao-cao").get_data(as_text=True)
    assert "không phải mẫu xác suất" in page

    rows = db.session.scalars(sa.select(Response).order_by(Response.id)).all()
    items = ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "D1", "D2", "D3", "E1", "E2", "E3"]
    answers = pd.DataFrame([[r.answers.get(c, np.nan) for c in items] for r in rows], columns=items, dtype=float)
    from analysis.questionnaire import index_spec

    spec = index_spec(questionnaires.get(db.session, "sipas-dich-vu").definition)
    expected = estimate_rates(
        answers,
        make_design(n=len(rows)),
        valid_codes=spec.valid_codes,
        success_codes=spec.satisfied_codes,
        composites=spec.composites(),
    )
    sipas = expected[expected["indicator"] == "SIPAS"].iloc[0]
    shown = re.search(
        r"Chỉ số SIPAS</td><td class=\"num\"><strong>([0-9.]+)</strong></td><td class=\"num\">([0-9.]+)–([0-9.]+)", page
    )
    assert shown is not None
    assert float(shown.group(1)) == round(sipas["estimate"], 1)
    assert (float(shown.group(2)), float(shown.group(3))) == (round(sipas["ci_low"], 1), round(sipas["ci_high"], 1))
    assert f">{len(rows)}<" in page

    csv = client.get("/phan-tich/bao-cao.csv")
    table = pd.read_csv(pd.io.common.BytesIO(csv.data), encoding="utf-8-sig")
    assert set(table["domain_var"]) == {"all", "field_group", "ldx", "place"}
    assert "Phường Kinh Bắc" in set(table["domain"])


def test_empty_report(client, db, demo, login_as) -> None:
    login_as("analyst")
    assert "Chưa có phiếu trả lời nào." in client.get("/phan-tich/bao-cao").get_data(as_text=True)


def test_report_is_for_analysts_and_admins_only(client, db, demo, login_as) -> None:
    login_as("surveyor")
    assert client.get("/phan-tich/bao-cao").status_code == 403
