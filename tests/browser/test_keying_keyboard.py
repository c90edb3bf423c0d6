"""A clerk keys a complete paper form with the keyboard only (no mouse)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from analysis.sampling import AllocationRule
from survey import questionnaires
from survey.models import Batch, Keying, PaperForm, SampledCase
from survey.paper import frames
from survey.paper.rounds import create_round
from survey.paper.sample import draw_sample
from tests.survey.paper.conftest import frame_csv

ITEMS = ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "D1", "D2", "D3", "E1", "E2", "E3"]


def test_key_a_complete_form_with_the_keyboard_only(browser, base_url, db, demo, make_user) -> None:
    survey_round = create_round(
        db.session,
        name="Quý I/2026",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
        questionnaire=questionnaires.get(db.session, "sipas-dich-vu"),
    )
    checked = frames.check(
        db.session, survey_round, frames.read_table(frame_csv({("P001", "Đất đai"): 10}).encode(), "k.csv")
    )
    frames.store(db.session, survey_round, checked)
    draw_sample(db.session, survey_round, AllocationRule("fixed", per_stratum=2, reserve_rate=0), seed=1)
    batch = Batch(round_id=survey_round.id, code="L1", post_office="Bưu điện Kinh Bắc", received=1)
    db.session.add(batch)
    clerk = make_user("supervisor", username="thuky")  # commits
    serial = db.session.scalars(sa.select(SampledCase.form_serial).order_by(SampledCase.id)).first()

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    kb = page.keyboard
    page.goto(base_url + "/dang-nhap")
    page.focus("#username")
    kb.type("thuky")
    kb.press("Tab")
    kb.type("mat-khau-dung-1")
    kb.press("Enter")
    page.wait_for_url("**/nhap-phieu/")
    page.goto(f"{base_url}/nhap-phieu/lo/{batch.id}")
    # the serial box takes the focus by itself (autofocus): type the serial and press Enter
    page.wait_for_function("document.activeElement && document.activeElement.id === 'serial'")
    kb.type(serial)
    kb.press("Enter")
    page.wait_for_url("**/nhap-phieu/nhap/*")
    # keying.js puts the cursor in the first box once the page is ready
    page.wait_for_function("document.activeElement && document.activeElement.name === 'ma_tthc'")

    kb.type("DD.01")
    kb.press("Enter")
    kb.type("1")  # hình thức nộp: one key, moves on by itself
    kb.type("15/02/2026")
    kb.press("Enter")
    kb.type("1")  # cá nhân
    for i, _code in enumerate(ITEMS):
        kb.type("4" if i % 4 else "5")
    kb.type("11")  # P1, P2
    kb.type("3334443344")  # M01–M10
    kb.type("21354")  # giới tính, dân tộc, tuổi, học vấn, nghề nghiệp
    kb.type("Cán bộ nhiệt tình")
    kb.press("Tab")  # from the comment box to "Hoàn tất phiếu"
    assert page.evaluate("document.activeElement.name") == "hoan-tat"
    kb.press("Enter")
    page.wait_for_url(f"**/nhap-phieu/lo/{batch.id}")
    assert "Xong phiếu" in page.content()
    page.close()

    db.session.expire_all()
    form = db.session.scalars(sa.select(PaperForm)).one()
    keying = db.session.scalars(sa.select(Keying)).one()
    assert form.serial == serial and form.status == "awaiting_second"
    assert keying.keyer_id == clerk.id and not keying.draft
    answers = keying.answers
    assert answers["ma_tthc"] == "DD.01" and answers["hinh_thuc_nop"] == "truc_tiep"
    assert answers["ngay_tra_ket_qua"] == "2026-02-15" and answers["loai_nguoi_tra_loi"] == "ca_nhan"
    assert [answers[c] for c in ITEMS] == [5 if i % 4 == 0 else 4 for i in range(16)]
    assert (answers["P1"], answers["M01"], answers["M10"]) == (1, 3, 4)
    assert (answers["gioi_tinh"], answers["tuoi"], answers["hoc_van"], answers["nghe_nghiep"]) == (
        "nu",
        "35-49",
        "dai_hoc",
        "kinh_doanh",
    )
    assert answers["y_kien"] == "Cán bộ nhiệt tình"
