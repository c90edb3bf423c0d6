"""The paper channel through its pages, as the Sở Nội vụ, a supervisor and surveyors use it."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from survey.models import Discrepancy, PaperForm, PiiAccess, Response, SampledCase, SurveyRound
from survey.paper.operators import operator_stats
from tests.survey.paper.conftest import frame_csv

PASSWORD = "mat-khau-dung-1"
STRATA = {("TTPVHCC", "Đất đai"): 40, ("P001", "Xây dựng"): 30}
ITEMS = ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "D1", "D2", "D3", "E1", "E2", "E3"]


def sign_in(client, user) -> None:
    client.post("/dang-xuat")
    response = client.post("/dang-nhap", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


@pytest.fixture
def people(make_user):
    return {
        "analyst": make_user("analyst"),
        "supervisor": make_user("supervisor"),
        "an": make_user("surveyor", username="an"),
        "binh": make_user("surveyor", username="binh"),
    }


def sampled_round(client, db, people) -> SurveyRound:
    sign_in(client, people["analyst"])
    created = client.post(
        "/phan-tich/dot", data={"name": "Quý I/2026", "period_start": "2026-01-01", "period_end": "2026-03-31"}
    )
    assert created.status_code == 302
    survey_round = db.session.scalars(sa.select(SurveyRound)).one()
    upload = client.post(
        f"/phan-tich/dot/{survey_round.id}/khung",
        data={"file": (io.BytesIO(frame_csv(STRATA).encode()), "khung.csv")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302, upload.get_data(as_text=True)
    drawn = client.post(
        f"/phan-tich/dot/{survey_round.id}/chon-mau",
        data={"method": "fixed", "per_stratum": "4", "minimum": "0", "reserve_rate": "0.5", "seed": "11"},
    )
    assert drawn.status_code == 302, drawn.get_data(as_text=True)
    db.session.refresh(survey_round)
    return survey_round


def test_frame_upload_with_errors_shows_report_then_valid_rows_on_confirmation(client, db, demo, people) -> None:
    sign_in(client, people["analyst"])
    client.post("/phan-tich/dot", data={"name": "Đợt lỗi", "period_start": "2026-01-01", "period_end": "2026-03-31"})
    survey_round = db.session.scalars(sa.select(SurveyRound)).one()
    bad = frame_csv({("P001", "Đất đai"): 3}) + "HS-9,DD.01,Đất đai,Đất đai,P001,45/02/2026,A,1,B\n"
    page = client.post(
        f"/phan-tich/dot/{survey_round.id}/khung",
        data={"file": (io.BytesIO(bad.encode()), "khung.csv")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "Tệp có lỗi: chưa nhập dòng nào" in html and "ngày không hợp lệ" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SampledCase)) == 0
    report_url, confirm_url = (
        re.search(r'href="([^"]+loi\.csv)"', html).group(1),
        re.search(r'action="([^"]+xac-nhan)"', html).group(1),
    )
    report = client.get(report_url)
    assert report.mimetype == "text/csv" and "5,Ngày trả kết quả,ngày không hợp lệ" in report.data.decode("utf-8-sig")
    uploads = Path(client.application.instance_path) / "uploads"
    assert len([p for p in uploads.iterdir() if p.name.startswith(f"{survey_round.id}-")]) == 1  # kept for confirmation
    assert client.get(report_url.replace(f"/dot/{survey_round.id}/", f"/dot/{survey_round.id + 1}/")).status_code == 404
    assert client.post(confirm_url).status_code == 302
    page = client.get(f"/phan-tich/dot/{survey_round.id}").get_data(as_text=True)
    assert "3 hồ sơ ở 1 tầng" in page
    assert not [
        p for p in uploads.iterdir() if p.name.startswith(f"{survey_round.id}-")
    ]  # personal data not left behind
    assert client.get(report_url).status_code == 404


def test_wrong_encoding_upload_gets_a_vietnamese_message(client, db, demo, people) -> None:
    sign_in(client, people["analyst"])
    client.post("/phan-tich/dot", data={"name": "Đợt", "period_start": "2026-01-01", "period_end": "2026-03-31"})
    survey_round = db.session.scalars(sa.select(SurveyRound)).one()
    page = client.post(
        f"/phan-tich/dot/{survey_round.id}/khung",
        data={"file": (io.BytesIO(frame_csv({("P001", "Khác"): 2}).encode("utf-16")), "khung.csv")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 400 and "không phải UTF-8" in page.get_data(as_text=True)


def test_assign_key_twice_adjudicate_and_verify(client, db, demo, people) -> None:
    survey_round = sampled_round(client, db, people)
    cases = db.session.scalars(sa.select(SampledCase).where(SampledCase.active).order_by(SampledCase.id)).all()
    assert len(cases) == 8

    sign_in(client, people["supervisor"])
    page = client.post(
        f"/nhap-phieu/dot/{survey_round.id}/phan-cong",
        data={"surveyor": str(people["an"].id), "cases": [str(c.id) for c in cases[:5]]},
    )
    assert page.status_code == 302
    client.post(
        f"/nhap-phieu/dot/{survey_round.id}/phan-cong",
        data={"surveyor": str(people["binh"].id), "cases": [str(c.id) for c in cases[5:]]},
    )
    sheet = client.get(f"/nhap-phieu/dot/{survey_round.id}/bang-phan-cong/{people['an'].id}").get_data(as_text=True)
    assert all(c.form_serial in sheet and c.record.applicant_name in sheet for c in cases[:5])
    printed = client.get(f"/nhap-phieu/dot/{survey_round.id}/bang-phan-cong/{people['an'].id}/phieu.pdf")
    assert printed.mimetype == "application/pdf"  # read back in test_printed.py
    assert b"<svg" in client.get(f"/nhap-phieu/phieu-qr/{cases[0].form_serial}.svg").data

    # surveyors see only their own cases, with the contact details they need
    sign_in(client, people["an"])
    mine = client.get("/nhap-phieu/").get_data(as_text=True)
    db.session.expire_all()
    own = [c for c in cases if c.surveyor_id == people["an"].id]
    assert all(c.form_serial in mine for c in own) and cases[6].form_serial not in mine
    assert own[0].record.phone in mine
    assert client.get(f"/nhap-phieu/truong-hop/{cases[6].id}").status_code == 403
    assert client.get(f"/nhap-phieu/truong-hop/{own[0].id}").status_code == 200
    assert client.get(f"/nhap-phieu/dot/{survey_round.id}/bang-phan-cong/{people['binh'].id}").status_code == 403
    views = db.session.scalars(sa.select(PiiAccess).where(PiiAccess.user_id == people["an"].id)).all()
    assert {v.purpose for v in views} == {"my_cases", "case"}

    # a batch arrives, first keying by An, blind second keying by Bình with one mismatch
    sign_in(client, people["supervisor"])
    client.post(
        f"/nhap-phieu/dot/{survey_round.id}/lo",
        data={"code": "bn-01", "post_office": "Bưu điện Kinh Bắc", "received": "2"},
    )
    batch_id = db.session.scalar(sa.text("SELECT id FROM batch"))
    serial = own[0].form_serial
    answers = {code: "4" for code in ITEMS} | {"A2": "5", "loai_nguoi_tra_loi": "1", "tuoi": "3", "gioi_tinh": "2"}

    sign_in(client, people["an"])
    opened = client.post(f"/nhap-phieu/lo/{batch_id}", data={"serial": serial})
    assert opened.status_code == 302
    first_url = opened.headers["Location"]
    assert client.post(first_url, data=answers).status_code == 302
    again = client.post(f"/nhap-phieu/lo/{batch_id}", data={"serial": serial})
    assert "cần người khác nhập lần hai" in again.get_data(as_text=True)

    sign_in(client, people["binh"])
    opened = client.post(f"/nhap-phieu/lo/{batch_id}", data={"serial": serial})
    second_url = opened.headers["Location"]
    blank = client.get(second_url).get_data(as_text=True)
    assert 'name="A2" type="text" value="5"' not in blank  # blind: the first keying is not shown
    assert client.get(first_url).status_code == 403
    assert client.post(second_url, data=answers | {"A2": "3"}).status_code == 302
    paper = db.session.scalars(sa.select(PaperForm)).one()
    db.session.refresh(paper)
    assert paper.status == "mismatch" and paper.response_id is None
    [d] = db.session.scalars(sa.select(Discrepancy)).all()
    assert (d.question_code, d.first_value, d.second_value) == ("A2", "5", "3")

    sign_in(client, people["supervisor"])
    batch_page = client.get(f"/nhap-phieu/lo/{batch_id}").get_data(as_text=True)
    assert "Đối chiếu với phiếu giấy" in batch_page
    assert client.post(f"/nhap-phieu/phieu/{paper.id}/doi-chieu", data={"q-A2": "first"}).status_code == 302
    db.session.expire_all()
    assert paper.status == "verified"
    response = db.session.get(Response, paper.response_id)
    assert (response.channel, response.status, response.answers["A2"], response.answers["gioi_tinh"]) == (
        "paper",
        "verified",
        5,
        "nu",
    )
    assert response.field_group == own[0].record.field_group and response.dossier_code == own[0].record.dossier_code
    assert own[0].outcome == "completed"

    stats = {s.user_id: s for s in operator_stats(db.session, round_id=survey_round.id)}
    binh = stats[people["binh"].id]
    assert binh.errors == 1 and stats[people["an"].id].errors == 0
    assert binh.errors_per_1000 == pytest.approx(1000 / binh.fields)
    page = client.get(f"/nhap-phieu/dot/{survey_round.id}/lo").get_data(as_text=True)
    assert "Năng suất và sai sót" in page

    # the verified form is counted in the round's estimates (stratified, N_h / r_h weights)
    sign_in(client, people["analyst"])
    report = client.get(f"/phan-tich/bao-cao?dot={survey_round.id}").get_data(as_text=True)
    assert "Mẫu xác suất phân tầng" in report and "phiếu đã xác minh: 1 người trả lời" in report
    assert "không tính được khoảng tin cậy" in report  # one respondent: df = 0, the interval is left empty


def test_keying_checks_ranges_required_answers_and_straight_lining(client, db, demo, people) -> None:
    survey_round = sampled_round(client, db, people)
    case = db.session.scalars(sa.select(SampledCase).where(SampledCase.active)).first()
    sign_in(client, people["supervisor"])
    client.post(f"/nhap-phieu/dot/{survey_round.id}/lo", data={"code": "L1", "post_office": "BĐ", "received": "1"})
    batch_id = db.session.scalar(sa.text("SELECT id FROM batch"))
    bad_serial = client.post(
        f"/nhap-phieu/lo/{batch_id}", data={"serial": case.form_serial[:-1] + str((int(case.form_serial[-1]) + 1) % 10)}
    )
    assert "sai (kiểm tra lại chữ số cuối)" in bad_serial.get_data(as_text=True)
    serial_box = re.search(r'<input[^>]*name="serial"[^>]*>', bad_serial.get_data(as_text=True)).group(0)
    assert 'value=""' in serial_box and "autofocus" in serial_box  # cleared for the next try
    url = client.post(f"/nhap-phieu/lo/{batch_id}", data={"serial": case.form_serial}).headers["Location"]
    out_of_range = client.post(
        url, data={code: "4" for code in ITEMS} | {"A1": "7", "loai_nguoi_tra_loi": "1", "tuoi": "3"}
    )
    assert out_of_range.status_code == 422 and "Chỉ nhập một trong: 1, 2, 3, 4, 5, 9" in out_of_range.get_data(
        as_text=True
    )
    missing = client.post(url, data={code: "4" for code in ITEMS} | {"loai_nguoi_tra_loi": "1"})
    assert "Câu bắt buộc" in missing.get_data(as_text=True)
    # a typing error and a blank required answer (Tuổi) are said in one round, not one after the other
    both = client.post(url, data={code: "4" for code in ITEMS} | {"A1": "7", "loai_nguoi_tra_loi": "1"})
    both_page = both.get_data(as_text=True)
    assert both.status_code == 422 and "Chỉ nhập một trong: 1, 2, 3, 4, 5, 9" in both_page
    assert "Có 2 ô cần sửa" in both_page and "Câu bắt buộc" in both_page
    draft = client.post(url, data={"A1": "5", "luu-nhap": "1"})
    assert draft.status_code == 302
    assert 'value="5"' in client.get(url).get_data(as_text=True)  # the draft comes back
    straight = client.post(url, data={code: "5" for code in ITEMS} | {"loai_nguoi_tra_loi": "1", "tuoi": "3"})
    assert straight.status_code == 422 and "cùng một mức" in straight.get_data(as_text=True)
    # One keystroke (Enter) confirms: the focused button carries the confirmation.
    assert re.search(r'<button[^>]*name="confirm_straight" value="y" autofocus>', straight.get_data(as_text=True))
    assert "confirm_straight" not in missing.get_data(as_text=True)
    ok = client.post(
        url, data={code: "5" for code in ITEMS} | {"loai_nguoi_tra_loi": "1", "tuoi": "3", "confirm_straight": "y"}
    )
    assert ok.status_code == 302
    assert db.session.scalars(sa.select(PaperForm)).one().status == "awaiting_second"


def test_assign_everything_shown_by_a_place_filter(client, db, demo, people) -> None:
    survey_round = sampled_round(client, db, people)
    from survey.models import Place

    centre = db.session.scalars(sa.select(Place).where(Place.code == "TTPVHCC")).one()
    sign_in(client, people["supervisor"])
    page = client.get(f"/nhap-phieu/dot/{survey_round.id}/phan-cong?noi={centre.id}&chua_giao=1").get_data(as_text=True)
    visible = re.findall(r'name="visible" value="(\d+)"', page)
    assert len(visible) == 4  # the 4 main cases of the centre's stratum
    result = client.post(
        f"/nhap-phieu/dot/{survey_round.id}/phan-cong?noi={centre.id}&chua_giao=1",
        data={"surveyor": str(people["an"].id), "visible": visible, "giao-tat-ca": "1"},
    )
    assert result.status_code == 302
    assigned = db.session.scalars(sa.select(SampledCase).where(SampledCase.surveyor_id == people["an"].id)).all()
    assert sorted(str(c.id) for c in assigned) == sorted(visible)
    assert all(c.record.place_id == centre.id for c in assigned)


def test_assignment_select_has_no_destructive_default_and_says_what_changed(client, db, demo, people) -> None:
    survey_round = sampled_round(client, db, people)
    cases = db.session.scalars(sa.select(SampledCase).where(SampledCase.active).order_by(SampledCase.id)).all()
    url = f"/nhap-phieu/dot/{survey_round.id}/phan-cong"
    sign_in(client, people["supervisor"])
    page = client.get(url).get_data(as_text=True)
    select = re.search(r'<select id="surveyor".*?</select>', page, re.S).group(0)
    assert re.search(r'<option (selected )?value="">', select) and "selected" not in select.replace('value=""', "")
    visible = re.findall(r'name="visible" value="(\d+)"', page)
    assert len(visible) == 8
    client.post(url, data={"surveyor": str(people["an"].id), "cases": [str(c.id) for c in cases[:3]]})
    # "Giao tất cả" with the surveyor left at its default: refused, nothing revoked or assigned.
    refused = client.post(url, data={"visible": visible, "giao-tat-ca": "1"}, follow_redirects=True)
    assert "Vui lòng chọn điều tra viên (hoặc chọn thu hồi)." in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).where(SampledCase.surveyor_id.is_not(None))) == 3
    unknown = client.post(
        url, data={"surveyor": "999999", "visible": visible, "giao-tat-ca": "1"}, follow_redirects=True
    )
    assert "Điều tra viên đã chọn không còn hoạt động." in unknown.get_data(as_text=True)
    done = client.post(
        url, data={"surveyor": str(people["an"].id), "visible": visible, "giao-tat-ca": "1"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Đã giao cho" in done and ": 5 trường hợp chưa giao, 0 chuyển từ điều tra viên khác" in done
    assert "không đổi (đã giao cho" in done and "): 3." in done


def test_bulk_revocation_asks_for_confirmation_with_the_count(client, db, demo, people) -> None:
    survey_round = sampled_round(client, db, people)
    cases = db.session.scalars(sa.select(SampledCase).where(SampledCase.active).order_by(SampledCase.id)).all()
    url = f"/nhap-phieu/dot/{survey_round.id}/phan-cong"
    sign_in(client, people["supervisor"])
    client.post(url, data={"surveyor": str(people["an"].id), "cases": [str(c.id) for c in cases[:5]]})
    visible = [str(c.id) for c in cases]
    assigned = sa.select(sa.func.count()).where(SampledCase.surveyor_id == people["an"].id)
    asked = client.post(url, data={"surveyor": "thu-hoi", "visible": visible, "giao-tat-ca": "1"})
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Tôi xác nhận thu hồi 5 trường hợp" in html
    assert 'name="xac_nhan" value="5" required' in html
    assert db.session.scalar(assigned) == 5  # nothing written before the confirmation
    # A stale or wrong confirmation (another count) asks again.
    again = client.post(url, data={"surveyor": "thu-hoi", "cases": visible, "xac_nhan": "4"})
    assert "Tôi xác nhận thu hồi 5 trường hợp" in again.get_data(as_text=True) and db.session.scalar(assigned) == 5
    confirmed_cases = re.findall(r'name="cases" value="(\d+)"', html)
    done = client.post(
        url, data={"surveyor": "thu-hoi", "cases": confirmed_cases, "xac_nhan": "5"}, follow_redirects=True
    )
    assert "Đã thu hồi 5 trường hợp; không đổi (chưa giao): 3." in done.get_data(as_text=True)
    assert db.session.scalar(assigned) == 0


def test_moving_cases_to_another_surveyor_is_confirmed_and_counted(client, db, demo, people) -> None:
    survey_round = sampled_round(client, db, people)
    cases = db.session.scalars(sa.select(SampledCase).where(SampledCase.active).order_by(SampledCase.id)).all()
    url = f"/nhap-phieu/dot/{survey_round.id}/phan-cong"
    sign_in(client, people["supervisor"])
    client.post(url, data={"surveyor": str(people["an"].id), "cases": [str(c.id) for c in cases[:2]]})
    chosen = [str(c.id) for c in cases[:4]]
    asked = client.post(url, data={"surveyor": str(people["binh"].id), "cases": chosen}).get_data(as_text=True)
    assert "Tôi xác nhận chuyển 2 trường hợp sang" in asked
    done = client.post(
        url, data={"surveyor": str(people["binh"].id), "cases": chosen, "xac_nhan": "2"}, follow_redirects=True
    ).get_data(as_text=True)
    assert ": 2 trường hợp chưa giao, 2 chuyển từ điều tra viên khác" in done
    moved = sa.select(sa.func.count()).where(SampledCase.surveyor_id == people["binh"].id)
    assert db.session.scalar(moved) == 4


def test_undo_a_draw_before_fieldwork_then_the_same_seed_draws_the_same_dossiers(client, db, demo, people) -> None:
    from survey.models import FrameRecord, StratumDesign

    survey_round = sampled_round(client, db, people)
    drawn = sa.select(FrameRecord.dossier_code).join(SampledCase).order_by(FrameRecord.dossier_code)
    first = db.session.scalars(drawn).all()
    assert "Huỷ lần chọn mẫu" in client.get(f"/phan-tich/dot/{survey_round.id}").get_data(as_text=True)
    undone = client.post(f"/phan-tich/dot/{survey_round.id}/huy-chon-mau", follow_redirects=True)
    assert "Đã huỷ lần chọn mẫu (12 hồ sơ); có thể chọn mẫu lại." in undone.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(SurveyRound, survey_round.id).status == "frame"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SampledCase)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StratumDesign)) == 0
    again = client.post(
        f"/phan-tich/dot/{survey_round.id}/chon-mau",
        data={"method": "fixed", "per_stratum": "4", "minimum": "0", "reserve_rate": "0.5", "seed": "11"},
    )
    assert again.status_code == 302
    assert db.session.scalars(drawn).all() == first
    # Once a case is assigned the draw stays.
    case = db.session.scalars(sa.select(SampledCase).where(SampledCase.active)).first()
    sign_in(client, people["supervisor"])
    client.post(
        f"/nhap-phieu/dot/{survey_round.id}/phan-cong", data={"surveyor": str(people["an"].id), "cases": [case.id]}
    )
    sign_in(client, people["analyst"])
    refused = client.post(f"/phan-tich/dot/{survey_round.id}/huy-chon-mau", follow_redirects=True)
    assert "1 trường hợp đã được giao, có kết quả hoặc có phiếu: không huỷ được lần chọn mẫu." in refused.get_data(
        as_text=True
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SampledCase)) == 12


def test_top_up_reserves_through_the_round_page(client, db, demo, people) -> None:
    from survey.models import StratumDesign

    survey_round = sampled_round(client, db, people)
    stratum = db.session.scalars(sa.select(StratumDesign.stratum).order_by(StratumDesign.stratum)).first()
    url = f"/phan-tich/dot/{survey_round.id}/bo-sung-du-phong"
    missing = client.post(url, data={"stratum": stratum, "count": "2"}, follow_redirects=True)
    assert "Phải ghi lý do bổ sung dự phòng." in missing.get_data(as_text=True)
    done = client.post(
        url, data={"stratum": stratum, "count": "2", "reason": "Ba hộ từ chối"}, follow_redirects=True
    ).get_data(as_text=True)
    assert f"Đã bổ sung 2 hồ sơ dự phòng cho tầng {stratum}." in done
    assert "Ba hộ từ chối" in done and "(hạt giống 12)" in done
    unknown = client.post(url, data={"stratum": "X|khac", "count": "1", "reason": "thử"}, follow_redirects=True)
    assert "Tầng X|khac không có trong thiết kế mẫu của đợt này." in unknown.get_data(as_text=True)


def test_draw_preview_shows_the_allocation_and_writes_nothing(client, db, demo, people) -> None:
    from survey.models import Place

    sign_in(client, people["analyst"])
    client.post("/phan-tich/dot", data={"name": "Đợt xem", "period_start": "2026-01-01", "period_end": "2026-03-31"})
    survey_round = db.session.scalars(sa.select(SurveyRound)).one()
    client.post(
        f"/phan-tich/dot/{survey_round.id}/khung",
        data={"file": (io.BytesIO(frame_csv(STRATA).encode()), "khung.csv")},
        content_type="multipart/form-data",
    )
    params = {"method": "fixed", "per_stratum": "4", "minimum": "0", "reserve_rate": "0.5", "assumed_rr": "0.5"}
    page = client.post(f"/phan-tich/dot/{survey_round.id}/chon-mau/xem-truoc", data=params)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    preview = html[html.index('id="xem-truoc"') :]
    centre = db.session.scalars(sa.select(Place.name).where(Place.code == "TTPVHCC")).one()
    assert centre in preview and "Đất đai" in preview and "Xây dựng" in preview
    assert "10.0 %" in preview and "13.3 %" in preview  # 4/40 and 4/30
    total = re.search(r'<tr class="total">(.*?)</tr>', preview).group(1)
    assert re.findall(r'class="num">([^<]+)<', total) == ["70", "8", "4", "11.4 %", "4"]
    assert "tỉ lệ trả lời 50 %" in preview
    db.session.expire_all()
    assert db.session.get(SurveyRound, survey_round.id).status == "frame"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SampledCase)) == 0
    bad = client.post(f"/phan-tich/dot/{survey_round.id}/chon-mau/xem-truoc", data=params | {"per_stratum": ""})
    assert bad.status_code == 400
