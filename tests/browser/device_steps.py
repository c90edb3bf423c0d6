"""Steps of the interviewer-app browser tests: a round in the field, a phone signed in, an
interview or an outcome completed on the device."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from analysis.sampling import AllocationRule
from survey import questionnaires
from survey.models import SampledCase, SurveyRound
from survey.paper import frames
from survey.paper.fieldwork import assign
from survey.paper.rounds import create_round
from survey.paper.sample import draw_sample
from tests.survey.paper.conftest import frame_csv

PASSWORD = "mat-khau-dung-1"


def fielded_round(session, surveyor, n: int = 6) -> tuple[SurveyRound, list[SampledCase]]:
    """A round in the field with `n` main cases assigned to `surveyor`. Commits."""
    survey_round = create_round(
        session,
        name="Quý I/2026 (máy)",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
        questionnaire=questionnaires.get(session, "sipas-dich-vu"),
    )
    checked = frames.check(
        session, survey_round, frames.read_table(frame_csv({("P001", "Đất đai"): 30}).encode(), "k.csv")
    )
    frames.store(session, survey_round, checked)
    draw_sample(session, survey_round, AllocationRule("fixed", per_stratum=n, reserve_rate=0.5), seed=5)
    cases = list(
        session.scalars(
            sa.select(SampledCase)
            .where(SampledCase.round_id == survey_round.id, SampledCase.active)
            .order_by(SampledCase.form_serial)
        ).all()
    )
    assign(session, survey_round, [c.id for c in cases], surveyor)
    session.commit()
    return survey_round, cases


def phone_context(browser, **extra):
    return browser.new_context(
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="vi-VN",
        **extra,
    )


def sign_in(page, base_url: str, username: str, next_path: str = "/nhap-phieu/may/") -> None:
    page.goto(f"{base_url}/dang-nhap?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{next_path}")


def open_app(page, base_url: str, cases: int) -> None:
    """The app is ready with `cases` cases downloaded to the device."""
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_function(
        f"() => document.querySelectorAll('#cases article.dcase:not(.dcase-sent)').length === {cases}"
    )


def waiting(page) -> int:
    return int(page.get_attribute("#waiting", "data-count") or "-1")


def interview(page, case_id: int, mode: str = "face") -> None:
    """Answer every question of the interview on the device (one option each) and save."""
    page.click(f"button[data-act=interview][data-case='{case_id}']")
    page.click(f"#work-form input[name=mode][value={mode}]")
    page.evaluate(
        """() => document.querySelectorAll('#work-form fieldset.dq').forEach((box) => {
             const radios = box.querySelectorAll('input[type=radio]');
             if (radios.length && box.dataset.code !== 'mode') radios[Math.min(3, radios.length - 1)].checked = true;
           })"""
    )
    page.fill("#work-form textarea[name=y_kien]", "Cán bộ hướng dẫn tận tình")
    page.click("#save")
    page.wait_for_selector("#message:has-text('Đã lưu trên máy')")
    page.wait_for_selector("#list:not([hidden])")


def outcome(page, case_id: int, code: str) -> None:
    page.click(f"button[data-act=outcome][data-case='{case_id}']")
    page.select_option("#work-form select[name=outcome]", code)
    page.click("#work-form input[name=mode][value=phone]")
    page.click("#save")
    page.wait_for_selector("#message:has-text('Đã lưu trên máy')")
    page.wait_for_selector("#list:not([hidden])")


def case_state(page, case_id: int) -> str:
    return page.inner_text(f"#cases article[data-case='{case_id}'] .dstate")
