"""Sample draw, reserves, outcomes, response rates and the purge of personal data."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from analysis.sampling import AllocationRule
from survey.models import FrameRecord, PiiAccess, SampledCase, StratumDesign
from survey.paper import frames
from survey.paper.fieldwork import (
    assign,
    close_fieldwork,
    interviewer_progress,
    log_pii_view,
    record_outcome,
    replace_case,
    response_rates,
)
from survey.paper.purge import purge_pii
from survey.paper.rounds import RoundError
from survey.paper.sample import draw_sample
from survey.paper.serials import form_serial, serial_is_valid
from tests.survey.paper.conftest import frame_csv

STRATA = {("TTPVHCC", "Đất đai"): 120, ("TTPVHCC", "Đầu tư"): 15, ("P001", "Xây dựng"): 60, ("X034", "Khác"): 40}


@pytest.fixture
def framed(db, survey_round):
    checked = frames.check(db.session, survey_round, frames.read_table(frame_csv(STRATA).encode(), "k.csv"))
    frames.store(db.session, survey_round, checked)
    db.session.commit()
    return survey_round


def drawn(db) -> list[tuple[str, str, int]]:
    rows = db.session.execute(
        sa.select(FrameRecord.dossier_code, SampledCase.role, SampledCase.draw_order)
        .join(FrameRecord, FrameRecord.id == SampledCase.frame_record_id)
        .order_by(FrameRecord.dossier_code)
    ).all()
    return [tuple(r) for r in rows]


def test_draw_keeps_the_design_and_exact_sizes(db, framed) -> None:
    design = draw_sample(
        db.session, framed, AllocationRule("proportional", total_n=60, minimum=10, reserve_rate=0.5), seed=42
    )
    db.session.commit()
    stored = {
        d.stratum: (d.population, d.sample_size, d.reserve_size) for d in db.session.scalars(sa.select(StratumDesign))
    }
    assert {k: v[0] for k, v in stored.items()} == {
        "TTPVHCC|dat_dai": 120,
        "TTPVHCC|dau_tu": 15,
        "P001|xay_dung": 60,
        "X034|khac": 40,
    }
    assert sum(v[1] for v in stored.values()) == 60
    assert all(v[1] >= 10 for v in stored.values())
    for stratum, (_N, n, reserve) in stored.items():
        roles = dict(
            db.session.execute(
                sa.select(SampledCase.role, sa.func.count())
                .where(SampledCase.stratum == stratum)
                .group_by(SampledCase.role)
            ).all()
        )
        assert roles.get("main", 0) == n and roles.get("reserve", 0) == reserve
    assert int(design["n_h"].sum()) == 60
    assert framed.seed == 42 and framed.status == "sampled" and framed.allocation["minimum"] == 10
    serials = list(db.session.scalars(sa.select(SampledCase.form_serial)))
    assert len(set(serials)) == len(serials) and all(serial_is_valid(s) for s in serials)


def test_same_frame_and_seed_give_the_same_sample(db, survey_round, framed) -> None:
    rule = AllocationRule("fixed", per_stratum=8, reserve_rate=0.5)
    draw_sample(db.session, framed, rule, seed=2026)
    first = drawn(db)
    db.session.rollback()
    db.session.execute(sa.delete(SampledCase))
    db.session.execute(sa.delete(StratumDesign))
    framed.status = "frame"
    db.session.commit()
    draw_sample(db.session, framed, rule, seed=2026)
    assert drawn(db) == first
    db.session.rollback()
    db.session.execute(sa.delete(SampledCase))
    db.session.execute(sa.delete(StratumDesign))
    framed.status = "frame"
    db.session.commit()
    draw_sample(db.session, framed, rule, seed=2027)
    assert drawn(db) != first


def test_draw_twice_or_without_frame_is_refused(db, survey_round) -> None:
    with pytest.raises(RoundError, match="chưa có khung mẫu"):
        draw_sample(db.session, survey_round, AllocationRule("fixed", per_stratum=5))
    survey_round.status = "sampled"
    with pytest.raises(RoundError, match="đã chọn mẫu"):
        draw_sample(db.session, survey_round, AllocationRule("fixed", per_stratum=5))


def test_replacement_takes_the_next_reserve_of_the_same_stratum(db, framed, make_user) -> None:
    draw_sample(db.session, framed, AllocationRule("fixed", per_stratum=3, reserve_rate=0.5), seed=1)
    surveyor = make_user("surveyor")
    mains = db.session.scalars(
        sa.select(SampledCase).where(SampledCase.stratum == "P001|xay_dung", SampledCase.role == "main")
    ).all()
    assign(db.session, framed, [c.id for c in mains], surveyor)
    record_outcome(db.session, mains[0], "refused")
    reserve_orders = sorted(
        db.session.scalars(
            sa.select(SampledCase.draw_order).where(
                SampledCase.stratum == "P001|xay_dung", SampledCase.role == "reserve"
            )
        )
    )
    assert len(reserve_orders) == 2
    with pytest.raises(RoundError, match="chưa có kết quả liên hệ"):
        replace_case(db.session, mains[1], "Không nghe máy")
    first = replace_case(db.session, mains[0], "Từ chối trả lời qua điện thoại")
    assert (first.stratum, first.role, first.draw_order, first.active) == (
        "P001|xay_dung",
        "reserve",
        reserve_orders[0],
        True,
    )
    assert first.surveyor_id == surveyor.id and mains[0].replaced_by_id == first.id
    assert mains[0].replacement_reason == "Từ chối trả lời qua điện thoại"
    record_outcome(db.session, mains[1], "wrong_contact")
    second = replace_case(db.session, mains[1], "Sai số điện thoại")
    assert second.draw_order == reserve_orders[1]
    record_outcome(db.session, mains[2], "completed")
    with pytest.raises(RoundError, match="đã phỏng vấn"):
        replace_case(db.session, mains[2], "Chuyển đi")
    record_outcome(db.session, mains[2], "partial")
    with pytest.raises(RoundError, match="đã phỏng vấn"):
        replace_case(db.session, mains[2], "Chuyển đi")
    record_outcome(db.session, mains[2], "moved")
    with pytest.raises(RoundError, match="hết phiếu dự phòng"):
        replace_case(db.session, mains[2], "Chuyển đi")
    with pytest.raises(RoundError, match="lý do"):
        replace_case(db.session, mains[2], "  ")
    with pytest.raises(RoundError, match="không thể thay thế"):
        replace_case(db.session, mains[0], "lần nữa")


def test_response_rate_rr1(db, framed, make_user) -> None:
    draw_sample(db.session, framed, AllocationRule("fixed", per_stratum=5, reserve_rate=0), seed=3)
    cases = db.session.scalars(sa.select(SampledCase).order_by(SampledCase.id)).all()
    outcomes = ["completed"] * 8 + ["refused"] * 3 + ["not_reachable"] * 2 + ["ineligible"] * 2 + ["moved"]
    for case, outcome in zip(cases, outcomes, strict=False):
        record_outcome(db.session, case, outcome)
    rates = response_rates(db.session, framed.id)
    # Counted by hand: 4 strata x 5 = 20 cases in the field, 16 with an outcome, 4 pending.
    # Interim RR1 = I / (I + P + R + NC + O + UH + UO) with the 4 pending as UH:
    # 8 / (8 + 3 + 2 + (0 + 4) + 1) = 8 / 18; the 2 ineligible cases are out.
    assert len(cases) == 20 and rates.pending == 4 and rates.active == 20
    assert rates.rr1 == pytest.approx(8 / 18) and rates.interim
    assert rates.dispositions == {"I": 8, "R": 3, "NC": 2, "NE": 2, "UO": 1}
    # Closing the fieldwork makes the rates final; the pending cases stay in the denominator.
    close_fieldwork(db.session, framed)
    final = response_rates(db.session, framed.id)
    assert not final.interim and final.rr1 == pytest.approx(8 / 18)
    with pytest.raises(RoundError, match="đã kết thúc"):
        close_fieldwork(db.session, framed)
    with pytest.raises(RoundError, match="không hợp lệ"):
        record_outcome(db.session, cases[-1], "busy")


def test_assign_only_to_surveyors_and_only_active_cases(db, framed, make_user) -> None:
    draw_sample(db.session, framed, AllocationRule("fixed", per_stratum=2, reserve_rate=0.5), seed=5)
    reserve = db.session.scalars(sa.select(SampledCase).where(SampledCase.role == "reserve")).first()
    main = db.session.scalars(sa.select(SampledCase).where(SampledCase.role == "main")).first()
    with pytest.raises(RoundError, match="điều tra viên"):
        assign(db.session, framed, [main.id], make_user("analyst"))
    with pytest.raises(RoundError, match="dự phòng"):
        assign(db.session, framed, [reserve.id], make_user("surveyor"))


def test_purge_removes_personal_data_and_keeps_the_design(app, db, framed, make_user) -> None:
    draw_sample(db.session, framed, AllocationRule("fixed", per_stratum=2), seed=9)
    shown = db.session.scalars(sa.select(SampledCase).where(SampledCase.round_id == framed.id).limit(2)).all()
    log_pii_view(db.session, make_user("supervisor"), shown, "assignment")
    db.session.commit()
    with pytest.raises(RoundError, match="Chưa kết thúc thực địa"):
        purge_pii(db.session, framed, instance_path=app.instance_path)
    close_fieldwork(db.session, framed)
    cleared = purge_pii(db.session, framed, instance_path=app.instance_path)
    db.session.commit()
    assert cleared == sum(STRATA.values())
    leftovers = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(FrameRecord)
        .where(
            sa.or_(
                FrameRecord.applicant_name.is_not(None),
                FrameRecord.phone.is_not(None),
                FrameRecord.address.is_not(None),
            )
        )
    )
    assert leftovers == 0 and framed.pii_purged_at is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SampledCase)) > 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StratumDesign)) == 4
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PiiAccess)) == 1


def test_form_serial_check_digit() -> None:
    serial = form_serial(3, 41)
    assert serial == "3000041" + serial[-1] and serial_is_valid(serial)
    for i in range(len(serial)):
        for d in "0123456789":
            if d != serial[i]:
                typo = serial[:i] + d + serial[i + 1 :]
                assert not serial_is_valid(typo)  # every single-digit typo is caught


def test_cli_round_frame_sample_purge(runner, db, demo, tmp_path) -> None:
    result = runner.invoke(
        args=["round", "create", "--name", "Quý II/2026", "--from", "2026-01-01", "--to", "31/03/2026"]
    )
    assert result.exit_code == 0, result.output
    round_id = int(result.output.split("số ")[1].split(":")[0])
    path = tmp_path / "khung.csv"
    path.write_text(frame_csv(STRATA), "utf-8")
    assert runner.invoke(args=["frame", "import", str(path), "--round", str(round_id)]).exit_code == 0
    bad = runner.invoke(args=["sample", "draw", "--round", str(round_id), "--method", "fixed"])
    assert bad.exit_code == 1 and "Lỗi:" in bad.output and "Traceback" not in bad.output
    ok = runner.invoke(
        args=[
            "sample",
            "draw",
            "--round",
            str(round_id),
            "--total",
            "80",
            "--minimum",
            "10",
            "--oversample",
            "dat_dai=1.5",
            "--seed",
            "7",
        ]
    )
    assert ok.exit_code == 0, ok.output
    assert "Đã chọn 80 hồ sơ chính" in ok.output and "hạt giống 7" in ok.output
    again = runner.invoke(args=["sample", "draw", "--round", str(round_id), "--total", "80"])
    assert again.exit_code == 1 and "đã chọn mẫu" in again.output
    early = runner.invoke(args=["round", "purge-pii", "--round", str(round_id), "--yes"])
    assert early.exit_code == 1 and "Chưa kết thúc thực địa" in early.output
    closed = runner.invoke(args=["round", "close", "--round", str(round_id)])
    assert closed.exit_code == 0 and "Đã kết thúc thực địa" in closed.output
    refused = runner.invoke(args=["round", "purge-pii", "--round", str(round_id)], input="n\n")
    assert refused.exit_code == 1
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(FrameRecord).where(FrameRecord.phone.is_not(None))) > 0
    )
    purged = runner.invoke(args=["round", "purge-pii", "--round", str(round_id)], input="y\n")
    assert purged.exit_code == 0 and "Đã xoá thông tin cá nhân của 235 hồ sơ" in purged.output
    db.session.expire_all()
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(FrameRecord).where(FrameRecord.phone.is_not(None)))
        == 0
    )


def test_interviewer_progress_counts_by_interviewer_and_place(db, framed, make_user) -> None:
    draw_sample(db.session, framed, AllocationRule("fixed", per_stratum=3, reserve_rate=0.5), seed=4)
    an, binh = make_user("surveyor"), make_user("surveyor")
    cases = db.session.scalars(
        sa.select(SampledCase).where(SampledCase.active).order_by(SampledCase.stratum, SampledCase.draw_order)
    ).all()
    p001 = [c for c in cases if c.stratum == "P001|xay_dung"]
    assign(db.session, framed, [c.id for c in p001], an)
    other = next(c for c in cases if c.stratum != "P001|xay_dung")
    assign(db.session, framed, [other.id], binh)
    record_outcome(db.session, p001[0], "completed")
    record_outcome(db.session, p001[1], "refused")
    replace_case(db.session, p001[1], "Từ chối")
    rows = {(r.interviewer, r.place): r for r in interviewer_progress(db.session, framed.id)}
    mine = [r for (who, _place), r in rows.items() if who == an.full_name]
    assert len(mine) == 1
    # an: 3 main cases + the reserve that replaced one = 4; 2 attempted, 1 interview, 1 refusal.
    assert (mine[0].assigned, mine[0].attempted, mine[0].completed, mine[0].non_interview) == (4, 2, 1, 1)
    assert (mine[0].pending, mine[0].replaced) == (2, 1)
    assert sum(r.assigned for r in rows.values()) == len(cases) + 1
    assert [r.assigned for (who, _p), r in rows.items() if who == binh.full_name] == [1]


def test_reserve_top_up_is_reproducible_recorded_and_new(db, survey_round, make_user) -> None:
    """Three non-responses in a stratum of four use up its reserves; a top-up releases more
    from the rest of the frame, the same in a second round from the same file and seed."""
    from survey.models import SurveyRound
    from survey.paper.rounds import create_round
    from survey.paper.sample import top_up_reserves

    csv = frame_csv({("P001", "Đất đai"): 12}).encode()
    from survey import questionnaires

    copy = create_round(
        db.session,
        name="Bản sao",
        period_start=survey_round.period_start,
        period_end=survey_round.period_end,
        questionnaire=questionnaires.get(db.session, "sipas-dich-vu"),
    )
    rounds = [survey_round, copy]
    tops = []
    for r in rounds:
        frames.store(db.session, r, frames.check(db.session, r, frames.read_table(csv, "k.csv")))
        draw_sample(db.session, r, AllocationRule("fixed", per_stratum=4, reserve_rate=0.25), seed=5)
        stratum = db.session.scalars(sa.select(StratumDesign.stratum).where(StratumDesign.round_id == r.id)).one()
        with pytest.raises(RoundError, match="Phải ghi lý do"):
            top_up_reserves(db.session, r, stratum, 2, " ")
        assert top_up_reserves(db.session, r, stratum, 3, "Hết dự phòng sau 3 từ chối") == 3
        db.session.commit()
        added = db.session.scalars(
            sa.select(FrameRecord.dossier_code)
            .join(SampledCase)
            .where(SampledCase.round_id == r.id, SampledCase.role == "reserve")
            .order_by(SampledCase.draw_order)
        ).all()
        tops.append(added)
        codes = db.session.scalars(
            sa.select(FrameRecord.dossier_code).join(SampledCase).where(SampledCase.round_id == r.id)
        ).all()
        assert len(codes) == len(set(codes)) == 4 + 1 + 3  # never a dossier drawn twice
        design = db.session.get(StratumDesign, (r.id, stratum))
        assert design.reserve_size == 4
        record = db.session.get(SurveyRound, r.id).allocation["top_ups"]
        assert [(t["stratum"], t["added"], t["reason"], t["seed"]) for t in record] == [
            (stratum, 3, "Hết dự phòng sau 3 từ chối", 6)
        ]
        # The frame runs out: what is left is added, then a clear refusal.
        assert top_up_reserves(db.session, r, stratum, 50, "Bổ sung tiếp") == 12 - 8
        db.session.commit()
        with pytest.raises(RoundError, match="không còn hồ sơ nào"):
            top_up_reserves(db.session, r, stratum, 1, "Thêm")
        db.session.rollback()
    assert tops[0] == tops[1] and len(tops[0]) == 4
    serials = db.session.scalars(sa.select(SampledCase.form_serial)).all()
    assert len(serials) == len(set(serials))
