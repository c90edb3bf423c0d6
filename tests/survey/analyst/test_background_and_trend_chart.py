"""The dashboard's breakdowns by the questionnaire's background questions, and the trend chart:
numbers equal what `analysis` returns, small cells flagged rather than hidden."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analysis.design import make_design
from analysis.questionnaire import index_spec
from analysis.rates import estimate_rates
from analysis.trend import independent_change
from survey.models import PaperForm, Questionnaire, Response, SampledCase, StratumDesign
from survey.reports import snapshots
from survey.reports.background import background_questions
from survey.reports.dashboard import vn_number


def _paper_rows(db, survey_round):
    return db.session.execute(
        sa.select(Response.coded, Response.answers, SampledCase.stratum, StratumDesign.population)
        .join(PaperForm, PaperForm.response_id == Response.id)
        .join(SampledCase, SampledCase.id == PaperForm.case_id)
        .join(
            StratumDesign,
            sa.and_(StratumDesign.round_id == SampledCase.round_id, StratumDesign.stratum == SampledCase.stratum),
        )
        .where(SampledCase.round_id == survey_round.id)
        .order_by(Response.id)
    ).all()


def test_background_questions_come_from_the_questionnaire(db, paper_round) -> None:
    definition = db.session.get(Questionnaire, paper_round.questionnaire_id).definition
    codes = [q.code for q in background_questions(definition)]
    choice = [q["code"] for s in definition["sections"] for q in s["questions"] if q["type"] == "choice"]
    # every choice question but the field group (a design column with its own table)
    assert codes == [c for c in choice if c != "nhom_linh_vuc"]
    assert {"gioi_tinh", "tuoi", "hoc_van", "nghe_nghiep"} <= set(codes)


def test_background_breakdowns_equal_analysis_and_flag_small_cells(client, db, paper_round, login_as) -> None:
    login_as("analyst")
    response = client.post("/phan-tich/quyen-so/giay", data={"giay-round_id": paper_round.id})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Theo đặc điểm người trả lời" in page

    # the same estimates computed here from the stored rows (strata with fpc: N_h / r_h)
    rows = _paper_rows(db, paper_round)
    questionnaire = db.session.get(Questionnaire, paper_round.questionnaire_id)
    spec = index_spec(questionnaire.definition)
    layout = questionnaire.coded_layout
    answers = pd.DataFrame([[np.nan if ch == "." else float(ch) for ch in r.coded] for r in rows], columns=layout)
    questions = background_questions(questionnaire.definition)
    expected = estimate_rates(
        answers[list(spec.items)],
        make_design(strata=[r.stratum for r in rows], fpc=[r.population for r in rows]),
        valid_codes=spec.valid_codes,
        success_codes=spec.satisfied_codes,
        composites=spec.composites(),
        by={q.code: np.array([r.answers.get(q.code) for r in rows], dtype=object) for q in questions},
        levels={q.code: [c for c, _label in q.options] for q in questions},
        include_overall=False,
    )
    checked = 0
    for question in questions:
        table = re.search(rf'<table data-question="{question.code}">(.*?)</table>', page, re.S)
        assert table is not None, question.code
        for code, label in question.options:
            hit = expected[
                (expected["domain_var"] == question.code)
                & (expected["domain"] == code)
                & (expected["indicator"] == spec.code)
            ]
            if hit.empty:
                continue
            est = hit.iloc[0]
            row = re.search(rf'<tr data-key="{spec.code}\|{re.escape(label)}">(.*?)</tr>', table.group(1), re.S)
            assert row is not None, (question.code, label)
            assert f"<strong>{vn_number(est['estimate'])}</strong>" in row.group(1)
            assert f"{vn_number(est['ci_low'])}–{vn_number(est['ci_high'])}" in row.group(1)
            element = expected[
                (expected["domain_var"] == question.code)
                & (expected["domain"] == code)
                & (expected["indicator"] == "B")
            ].iloc[0]
            assert vn_number(element["estimate"]) in row.group(1)
            if "n<30" in str(est["flag"]):  # shown, with its warning
                assert "dưới 30 người trả lời" in row.group(1)
            checked += 1
    assert checked >= 10
    # 130 interviews split seven ways: some cells are small, and they are flagged, not hidden
    assert "dưới 30 người trả lời" in re.search(r'id="dac-diem">(.*?)</section>', page, re.S).group(1)


def test_trend_page_has_a_chart_with_its_numbers_beside_it(client, db, paper_round, login_as) -> None:
    a = snapshots.build_paper_snapshot(db.session, paper_round)
    b = snapshots.build_paper_snapshot(db.session, paper_round, trim=1.5)
    db.session.commit()
    login_as("analyst")
    page = client.get(f"/phan-tich/quyen-so/{b.id}/xu-huong?so-voi={a.id}").get_data(as_text=True)
    chart = re.search(r'id="bieu-do">(.*?)</section>', page, re.S)
    assert chart is not None
    assert "<svg" in chart.group(1) and "<circle" in chart.group(1)
    change = independent_change(snapshots.estimates_frame(a), snapshots.estimates_frame(b))
    sipas = change[(change["domain_var"] == "all") & (change["indicator"] == "SIPAS")].iloc[0]
    # the table beside the chart: both estimates, the change and its interval, Vietnamese format
    assert vn_number(sipas["estimate_a"]) in chart.group(1)
    assert f"{vn_number(sipas['ci_low'])}–{vn_number(sipas['ci_high'])}" in chart.group(1)
    assert f"{vn_number(sipas['difference'])}</text>" in chart.group(1)  # the value printed on the chart
    assert "Đất đai + Xây dựng + Đầu tư" in chart.group(1)
