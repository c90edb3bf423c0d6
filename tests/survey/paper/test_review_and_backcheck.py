"""The team leader's review (accept, return with a note, re-do), the back-check (phúc tra)
sample and its verification form, and outcomes claimed by a conditional update. Runs on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from analysis.sampling import AllocationRule
from survey.audit import set_actor
from survey.models import (
    AuditLog,
    BackCheck,
    Batch,
    FrameRecord,
    InterviewReview,
    PaperForm,
    PiiAccess,
    Response,
    SampledCase,
)
from survey.paper import backcheck, double_keying, frames, review
from survey.paper.backcheck import Verification
from survey.paper.batches import create_batch
from survey.paper.fieldwork import assign, record_outcome, response_rates
from survey.paper.rounds import RoundError
from survey.paper.sample import draw_sample
from tests.survey.paper.conftest import frame_csv

PASSWORD = "mat-khau-dung-1"
STRATA = {("P001", "Đất đai"): 40, ("TTPVHCC", "Xây dựng"): 40}


def fielded_round(db, survey_round, make_user, *, seed: int = 11, csv: str | None = None):
    """A drawn round (10 main cases per stratum), two surveyors with 10 cases each."""
    text = csv or frame_csv(STRATA)
    checked = frames.check(db.session, survey_round, frames.read_table(text.encode(), "k.csv"))
    frames.store(db.session, survey_round, checked)
    draw_sample(db.session, survey_round, AllocationRule("fixed", per_stratum=10, reserve_rate=0.2), seed=seed)
    surveyors = [make_user("surveyor", username=f"dtv-{k}-{survey_round.id}") for k in (1, 2)]
    cases = db.session.scalars(
        sa.select(SampledCase)
        .where(SampledCase.round_id == survey_round.id, SampledCase.active)
        .order_by(SampledCase.stratum, SampledCase.draw_order)
    ).all()
    assign(db.session, survey_round, [c.id for c in cases[:10]], surveyors[0])
    assign(db.session, survey_round, [c.id for c in cases[10:]], surveyors[1])
    db.session.commit()
    return cases, surveyors


@pytest.fixture
def fielded(db, survey_round, make_user):
    cases, surveyors = fielded_round(db, survey_round, make_user)
    return survey_round, cases, surveyors


def test_return_clears_the_outcome_and_the_redo_comes_back_for_review(db, fielded, make_user) -> None:
    survey_round, cases, _surveyors = fielded
    leader = make_user("supervisor")
    set_actor(db.session, leader.id)
    for case in cases[:6]:
        record_outcome(db.session, case, "completed")
    record_outcome(db.session, cases[6], "refused")
    db.session.commit()
    before = response_rates(db.session, survey_round.id)
    assert before.counts["completed"] == 6 and before.pending == 13

    review.review(db.session, cases[0], leader, "accepted", None)
    row = review.review(db.session, cases[1], leader, "returned", "  Phiếu thiếu chữ ký người trả lời  ")
    db.session.commit()
    assert row.note == "Phiếu thiếu chữ ký người trả lời" and row.outcome == "completed"
    db.session.refresh(cases[1])
    assert cases[1].outcome is None and cases[1].review_status == "returned"
    # AAPOR: the returned interview is no longer an interview, it is pending (unknown eligibility).
    after = response_rates(db.session, survey_round.id)
    assert after.counts["completed"] == 5 and after.pending == 14
    assert after.rr1 == pytest.approx(5 / (5 + 1 + 14))
    queue = {c.id for c in db.session.scalars(review.awaiting_review(survey_round.id))}
    assert queue == {c.id for c in cases[2:6]}
    assert review.returned_notes(db.session, [cases[1].id]) == {cases[1].id: "Phiếu thiếu chữ ký người trả lời"}
    changes = db.session.scalars(
        sa.select(AuditLog.changes).where(AuditLog.entity == "sampled_case", AuditLog.entity_id == str(cases[1].id))
    ).all()
    assert {"review_status": [None, "returned"], "outcome": ["completed", None]}.items() <= {
        k: v for change in changes for k, v in change.items()
    }.items()
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.entity == "interview_review"))
        == 2
    )

    # The interviewer re-does it: back in the queue, the note kept in the history.
    record_outcome(db.session, cases[1], "completed")
    db.session.commit()
    assert cases[1].review_status is None
    assert cases[1].id in {c.id for c in db.session.scalars(review.awaiting_review(survey_round.id))}
    review.review(db.session, cases[1], leader, "accepted", None)
    db.session.commit()
    decisions = db.session.scalars(
        sa.select(InterviewReview.decision).where(InterviewReview.case_id == cases[1].id).order_by(InterviewReview.id)
    ).all()
    assert decisions == ["returned", "accepted"]


def test_review_rules(db, fielded, make_user) -> None:
    survey_round, cases, surveyors = fielded
    leader = make_user("supervisor")
    for case in cases[:3]:
        record_outcome(db.session, case, "completed")
    db.session.commit()
    with pytest.raises(RoundError, match="Phải ghi lý do"):
        review.review(db.session, cases[0], leader, "returned", "   ")
    with pytest.raises(RoundError, match="Chỉ tổ trưởng"):
        review.review(db.session, cases[0], surveyors[0], "accepted", None)
    with pytest.raises(RoundError, match="không có kết quả phỏng vấn"):
        review.review(db.session, cases[5], leader, "accepted", None)
    review.review(db.session, cases[0], leader, "accepted", None)
    db.session.commit()
    with pytest.raises(RoundError, match="vừa được duyệt"):
        review.review(db.session, cases[0], leader, "returned", "Sai")
    db.session.rollback()
    # Once its paper form is in a keying batch, an interview can no longer be returned.
    batch = create_batch(db.session, survey_round.id, code="L1", post_office="Bưu điện tỉnh", received=5)
    keyer = make_user("surveyor")
    double_keying.start_keying(db.session, batch, cases[1].form_serial, keyer)
    db.session.commit()
    with pytest.raises(RoundError, match="đã vào lô nhập liệu"):
        review.review(db.session, cases[1], leader, "returned", "Sai mã hồ sơ")
    db.session.rollback()
    # A returned case cannot be keyed until it is re-done.
    review.review(db.session, cases[2], leader, "returned", "Phỏng vấn lại")
    db.session.commit()
    with pytest.raises(double_keying.KeyingError, match="trả lại"):
        double_keying.start_keying(db.session, batch, cases[2].form_serial, keyer)


def test_outcome_is_claimed_on_what_the_user_saw(db, fielded) -> None:
    _round, cases, _surveyors = fielded
    case = cases[0]
    assert record_outcome(db.session, case, "not_home", expected=None)
    db.session.commit()
    # Someone who saw the case without an outcome records another one: refused, nothing written.
    with pytest.raises(RoundError, match=r"vừa được người khác ghi kết quả .*Vắng nhà"):
        record_outcome(db.session, case, "refused", expected=None)
    db.session.rollback()
    assert db.session.get(SampledCase, case.id).outcome == "not_home"
    # The same outcome again is not an error, and writes nothing.
    assert record_outcome(db.session, case, "not_home", expected=None) is False
    # A later contact, by someone who saw the current outcome, is written.
    assert record_outcome(db.session, case, "completed", expected="not_home")
    db.session.commit()
    assert db.session.get(SampledCase, case.id).outcome == "completed"


def _backcheck_sample(db, survey_round) -> list[tuple[str, str]]:
    return sorted(
        db.session.execute(
            sa.select(FrameRecord.dossier_code, SampledCase.form_serial)
            .join(SampledCase, SampledCase.frame_record_id == FrameRecord.id)
            .join(BackCheck, BackCheck.case_id == SampledCase.id)
            .where(BackCheck.round_id == survey_round.id)
        ).all()
    )


def _complete_first(db, cases, per_surveyor: int) -> None:
    for block in (cases[:10], cases[10:]):
        for case in block[:per_surveyor]:
            record_outcome(db.session, case, "completed")


def test_same_file_and_seed_give_the_same_back_check_sample(db, survey_round, make_user) -> None:
    from survey import questionnaires
    from survey.paper.rounds import create_round

    analyst = make_user("analyst")
    cases, _ = fielded_round(db, survey_round, make_user)
    _complete_first(db, cases, 8)
    survey_round.backcheck_share = 0.25
    assert backcheck.draw(db.session, survey_round, analyst) == 4  # ceil(0.25 · 8) = 2 per interviewer
    db.session.commit()
    first = [code for code, _serial in _backcheck_sample(db, survey_round)]

    # The same file in the reverse row order, into a second round with the same seed.
    lines = frame_csv(STRATA).rstrip("\n").split("\n")
    reordered = "\n".join([lines[0], *reversed(lines[1:])]) + "\n"
    second_round = create_round(
        db.session,
        name="Quý I/2026 (nhập lại)",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
        questionnaire=questionnaires.get(db.session, "sipas-dich-vu"),
    )
    second_round.backcheck_share = 0.25
    db.session.commit()
    cases2, _ = fielded_round(db, second_round, make_user, csv=reordered)
    by_code = {c.record.dossier_code: c for c in cases2}
    for case in cases:  # the same interviews completed, found by dossier code
        if case.outcome == "completed":
            record_outcome(db.session, by_code[case.record.dossier_code], "completed")
    assert backcheck.draw(db.session, second_round, analyst) == 4
    db.session.commit()
    assert [code for code, _serial in _backcheck_sample(db, second_round)] == first
    # A second draw with nothing new adds nothing.
    assert backcheck.draw(db.session, second_round, analyst) == 0


def test_back_check_record_results_and_double_submission(db, fielded, make_user) -> None:
    survey_round, cases, _surveyors = fielded
    analyst = make_user("analyst")
    _complete_first(db, cases, 5)
    assert backcheck.draw(db.session, survey_round, analyst) == 2  # 10 % of 5, at least 1
    db.session.commit()
    checks = db.session.scalars(sa.select(BackCheck).order_by(BackCheck.id)).all()
    found = Verification(
        reached=True, interviewed="yes", mode="phone", approx_date=date(2026, 2, 10), key_answer="match"
    )
    assert backcheck.record(db.session, checks[0], analyst, found) == "confirmed"
    db.session.commit()
    with pytest.raises(RoundError, match="đã được ghi kết quả phúc tra"):
        backcheck.record(db.session, checks[0], analyst, Verification(reached=False))
    db.session.rollback()
    with pytest.raises(RoundError, match="có được phỏng vấn"):
        backcheck.record(db.session, checks[1], analyst, Verification(reached=True))
    db.session.rollback()
    assert (
        backcheck.record(db.session, checks[1], analyst, Verification(reached=True, interviewed="no")) == "discrepancy"
    )
    db.session.commit()
    rows = {r.interviewer: r for r in backcheck.results(db.session, survey_round)}
    assert {r.interviews for r in rows.values()} == {5}
    assert sorted((r.summary.confirmed, r.summary.discrepancies) for r in rows.values()) == [(0, 1), (1, 0)]
    assert all(r.target == 1 and r.summary.drawn == 1 and r.share_drawn == pytest.approx(0.2) for r in rows.values())
    assert Verification(reached=True, interviewed="yes", key_answer="mismatch").result() == "discrepancy"
    assert Verification(reached=False).result() == "unreachable"


# --- pages ---------------------------------------------------------------------------------
def _sign_in(client, user) -> None:
    client.post("/dang-xuat")
    reply = client.post("/dang-nhap", data={"username": user.username, "password": PASSWORD})
    assert reply.status_code == 302


def test_review_pages_return_with_a_note_and_the_interviewer_sees_it(client, db, fielded, make_user) -> None:
    survey_round, cases, surveyors = fielded
    leader = make_user("supervisor")
    record_outcome(db.session, cases[0], "completed")
    db.session.commit()
    _sign_in(client, leader)
    page = client.get(f"/nhap-phieu/dot/{survey_round.id}/duyet").get_data(as_text=True)
    assert cases[0].form_serial in page and "Chờ duyệt (1)" in page
    reply = client.post(
        f"/nhap-phieu/truong-hop/{cases[0].id}/duyet", data={"decision": "returned", "note": ""}, follow_redirects=True
    )
    assert "Phải ghi lý do khi trả lại phỏng vấn." in reply.get_data(as_text=True)
    assert db.session.get(SampledCase, cases[0].id).outcome == "completed"
    data = {"decision": "returned", "note": "Người trả lời không phải chủ hồ sơ"}
    reply = client.post(f"/nhap-phieu/truong-hop/{cases[0].id}/duyet", data=data, follow_redirects=True)
    assert f"Đã trả lại phiếu {cases[0].form_serial}." in reply.get_data(as_text=True)
    again = client.post(f"/nhap-phieu/truong-hop/{cases[0].id}/duyet", data=data, follow_redirects=True)
    assert again.status_code == 200 and "vừa được trả lại cho điều tra viên" in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InterviewReview)) == 1
    _sign_in(client, surveyors[0])
    mine = client.get("/nhap-phieu/").get_data(as_text=True)
    assert "Bị trả lại — phỏng vấn lại" in mine and "Người trả lời không phải chủ hồ sơ" in mine
    case_page = client.get(f"/nhap-phieu/truong-hop/{cases[0].id}").get_data(as_text=True)
    assert "Trả lại để phỏng vấn lại: Người trả lời không phải chủ hồ sơ" in case_page


def test_outcome_page_with_a_stale_form_says_so(client, db, fielded, make_user) -> None:
    _round, cases, _surveyors = fielded
    leader = make_user("supervisor")
    _sign_in(client, leader)
    url = f"/nhap-phieu/truong-hop/{cases[0].id}"
    assert 'name="kq-truoc"' in client.get(url).get_data(as_text=True)
    first = client.post(url, data={"kq-outcome": "not_home", "kq-truoc": ""}, follow_redirects=True)
    assert "Đã ghi kết quả liên hệ." in first.get_data(as_text=True)
    stale = client.post(url, data={"kq-outcome": "refused", "kq-truoc": ""}, follow_redirects=True)
    assert stale.status_code == 200 and "vừa được người khác ghi kết quả" in stale.get_data(as_text=True)
    assert db.session.get(SampledCase, cases[0].id).outcome == "not_home"


def test_back_check_pages_log_personal_data(client, db, fielded, make_user) -> None:
    survey_round, cases, _surveyors = fielded
    _complete_first(db, cases, 3)
    db.session.commit()
    analyst = make_user("analyst")
    _sign_in(client, analyst)
    reply = client.post(f"/phan-tich/dot/{survey_round.id}/phuc-tra/chon", data={"share": "150"}, follow_redirects=True)
    assert "Tỉ lệ từ 0,1 đến 100 %." in reply.get_data(as_text=True)
    reply = client.post(f"/phan-tich/dot/{survey_round.id}/phuc-tra/chon", data={"share": "10"}, follow_redirects=True)
    page = reply.get_data(as_text=True)
    assert "Đã chọn thêm 2 phỏng vấn để phúc tra." in page
    check = db.session.scalars(sa.select(BackCheck).order_by(BackCheck.id)).first()
    assert check.case.record.phone in page
    form_page = client.get(f"/phan-tich/phuc-tra/{check.id}").get_data(as_text=True)
    assert check.case.record.applicant_name in form_page
    purposes = db.session.scalars(sa.select(PiiAccess.purpose).where(PiiAccess.user_id == analyst.id)).all()
    assert purposes.count("back_check") >= 2
    missing = client.post(f"/phan-tich/phuc-tra/{check.id}", data={"reached": "1"}, follow_redirects=True)
    assert "Vui lòng chọn người dân có được phỏng vấn hay không." in missing.get_data(as_text=True)
    data = {"reached": "1", "interviewed": "yes", "mode": "phone", "key_answer": "match", "approx_date": "2026-02-12"}
    done = client.post(f"/phan-tich/phuc-tra/{check.id}", data=data, follow_redirects=True)
    assert "Đã ghi kết quả phúc tra." in done.get_data(as_text=True)
    twice = client.post(f"/phan-tich/phuc-tra/{check.id}", data=data, follow_redirects=True)
    assert twice.status_code == 200 and "đã được ghi kết quả phúc tra" in twice.get_data(as_text=True)
    db.session.refresh(check)
    assert check.result == "confirmed" and check.checked_by_id == analyst.id and check.approx_date == date(2026, 2, 12)


def test_back_check_shows_the_keyed_answers_as_the_questionnaire_words_them(db, fielded) -> None:
    survey_round, cases, _surveyors = fielded
    case = cases[0]
    batch = Batch(round_id=survey_round.id, code="L1", post_office="Bưu điện Bắc Ninh", received=1)
    response = Response(
        questionnaire_id=survey_round.questionnaire_id,
        channel="paper",
        place_id=case.record.place_id,
        field_group=case.record.field_group,
        dossier_code=case.record.dossier_code,
        receipt_code="KT-NHAN-1",
        answers={"hinh_thuc_nop": "truc_tuyen"},
        coded="",
    )
    db.session.add_all([batch, response])
    db.session.flush()
    db.session.add(PaperForm(batch_id=batch.id, case_id=case.id, serial=case.form_serial, response_id=response.id))
    db.session.flush()
    assert backcheck.key_answers(db.session, [case.id]) == {
        case.id: {"hinh_thuc_nop": "Trực tuyến", "loai_nguoi_tra_loi": None}
    }
    assert backcheck.key_answers(db.session, [case.id], "en")[case.id]["hinh_thuc_nop"] == "Online"
