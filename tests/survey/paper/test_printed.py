"""Printed material of a paper round: the pre-printed questionnaires and the assignment sheet,
read back from the PDF (text with pdfium, QR codes with zbar, an independent decoder)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from survey.models import PiiAccess, Procedure, SampledCase
from survey.models.paper import OUTCOMES
from tests.survey.paper.test_paper_pages import sampled_round, sign_in

#: Internal names that must never reach paper: question codes, column and field names, outcome keys.
INTERNAL = re.compile(
    r"\b(ma_tthc|hinh_thuc_nop|ngay_tra_ket_qua|loai_nguoi_tra_loi|nhom_linh_vuc|ma_ho_so|gioi_tinh|dan_toc|"
    r"hoc_van|nghe_nghiep|y_kien|dossier_code|procedure_code|field_group|dat_dai|xay_dung|applicant_name|"
    + "|".join(OUTCOMES)
    + r")\b"
)


@pytest.fixture
def people(make_user):
    return {
        "analyst": make_user("analyst"),
        "supervisor": make_user("supervisor"),
        "an": make_user("surveyor", username="an"),
        "binh": make_user("surveyor", username="binh"),
    }


def pdf_pages(pdf: bytes) -> list[str]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(io.BytesIO(pdf))
    try:
        texts = []
        for i in range(len(document)):
            page = document[i]
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range().replace("\r\n", "\n"))
            textpage.close()
            page.close()
        return texts
    finally:
        document.close()


def decode_pages(pdf: bytes, tmp_path: Path) -> list[str]:
    import pypdfium2 as pdfium

    found = []
    document = pdfium.PdfDocument(io.BytesIO(pdf))
    try:
        for i in range(len(document)):
            page = document[i]
            path = tmp_path / f"page{i}.png"
            page.render(scale=2).to_pil().save(path)
            page.close()
            out = subprocess.run(["zbarimg", "--raw", "-q", str(path)], capture_output=True, text=True, check=False)
            found.append(out.stdout.strip())
    finally:
        document.close()
    return found


def assigned(client, db, people):
    survey_round = sampled_round(client, db, people)
    cases = db.session.scalars(sa.select(SampledCase).where(SampledCase.active).order_by(SampledCase.id)).all()
    sign_in(client, people["supervisor"])
    client.post(
        f"/nhap-phieu/dot/{survey_round.id}/phan-cong",
        data={"surveyor": str(people["an"].id), "cases": [str(c.id) for c in cases[:3]]},
    )
    return survey_round, cases[:3]


def test_printed_forms_carry_the_serial_on_every_page_and_no_internal_names(
    client, db, demo, people, tmp_path: Path
) -> None:
    survey_round, cases = assigned(client, db, people)
    sign_in(client, people["an"])
    response = client.get(f"/nhap-phieu/dot/{survey_round.id}/bang-phan-cong/{people['an'].id}/phieu.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pages = pdf_pages(response.data)
    serials = [c.form_serial for c in sorted(cases, key=lambda c: (c.stratum, c.draw_order))]
    on_page = [next(s for s in serials if s in text) for text in pages]
    assert len(pages) > len(cases)  # a questionnaire runs over more than one page
    assert all(sum(s in text for s in serials) == 1 for text in pages)  # one serial per page, never two
    assert sorted(set(on_page), key=on_page.index) == serials  # each form's pages together, in sheet order
    text = "\n".join(pages)
    assert not INTERNAL.search(text), INTERNAL.search(text)
    first = pages[on_page.index(serials[0])]
    case = next(c for c in cases if c.form_serial == serials[0])
    record = case.record
    for value in (
        record.dossier_code,
        record.place.name,
        record.result_date.strftime("%d/%m/%Y"),
        db.session.scalars(sa.select(Procedure.name).where(Procedure.code == "DD.01")).one(),
        record.applicant_name,
        people["an"].full_name,
    ):
        assert value in first, value
    for label in ("Điều tra viên", "Ngày phỏng vấn", "Mã kết quả liên hệ", "Từ chối trả lời", "AAPOR NC"):
        assert label in first, label
    assert (
        "Biển hiệu, chỉ dẫn nơi tiếp nhận hồ sơ rõ ràng, dễ thấy" in text
        and "Ông/Bà nộp hồ sơ theo hình thức nào?" in text
    )
    views = db.session.scalars(sa.select(PiiAccess).where(PiiAccess.purpose == "print_forms")).all()
    assert len(views) == 1 and sorted(views[0].case_ids) == sorted(c.id for c in cases)
    if shutil.which("zbarimg") is None:
        pytest.skip("zbarimg (Debian zbar-tools) not installed: the QR codes were not decoded")
    assert decode_pages(response.data, tmp_path) == on_page


def test_assignment_sheet_pdf_lists_the_cases_and_the_outcome_codes(client, db, demo, people) -> None:
    survey_round, cases = assigned(client, db, people)
    response = client.get(f"/nhap-phieu/dot/{survey_round.id}/bang-phan-cong/{people['an'].id}.pdf")  # the supervisor
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(" ".join(pdf_pages(response.data)).split())  # lines wrapped in narrow columns joined
    for case in cases:
        for value in (case.form_serial, case.record.dossier_code, case.record.place.name, case.record.phone):
            assert value in text, value
        assert case.record.result_date.strftime("%d/%m/%Y") in text
    procedure = db.session.scalars(sa.select(Procedure.name).where(Procedure.code == "DD.01")).one()
    assert procedure[:30] in text and "Bảng phân công phỏng vấn" in text
    for _d, label in OUTCOMES.values():
        assert label in text, label
    assert not INTERNAL.search(text)


def test_printed_material_is_only_for_the_interviewer_and_supervisors(client, db, demo, people) -> None:
    survey_round, _cases = assigned(client, db, people)
    sign_in(client, people["binh"])
    base = f"/nhap-phieu/dot/{survey_round.id}/bang-phan-cong/{people['an'].id}"
    assert client.get(base + ".pdf").status_code == 403
    assert client.get(base + "/phieu.pdf").status_code == 403
    # Bình has no case: the forms page says so instead of an empty PDF
    empty = client.get(f"/nhap-phieu/dot/{survey_round.id}/bang-phan-cong/{people['binh'].id}/phieu.pdf")
    assert empty.status_code == 302
    assert "chưa có trường hợp nào để in phiếu" in client.get(empty.headers["Location"]).get_data(as_text=True)
    # the old address of the HTML forms leads to the PDF
    sign_in(client, people["an"])
    old = client.get(base + "?phieu=1")
    assert old.status_code == 302 and old.headers["Location"].endswith(base + "/phieu.pdf")


def test_forms_without_personal_data_print_no_name() -> None:
    from datetime import date

    from survey.paper.printed import PrintedCase, forms_pdf
    from survey.questionnaires.loader import load_file

    definition = load_file(Path("questionnaires/sipas-dich-vu/v1.yaml")).data
    case = PrintedCase(
        case_id=1,
        round_id=1,
        serial="10000017",
        dossier_code="HS-1",
        procedure=None,
        linh_vuc="Hộ tịch",
        field_group="Lĩnh vực khác",
        place="Phường Kinh Bắc",
        result_date=date(2026, 2, 3),
        interviewer=None,
    )
    text = "\n".join(pdf_pages(forms_pdf([case], definition, round_name="Quý I/2026")))
    assert "Người làm thủ tục" not in text and "Lĩnh vực Hộ tịch" in text and "03/02/2026" in text


def test_printed_material_comes_in_parts(client, db, demo, people, monkeypatch) -> None:
    from survey.paper import printed

    survey_round, cases = assigned(client, db, people)
    monkeypatch.setattr(printed, "SHEET_PART", 2)
    monkeypatch.setattr(printed, "FORMS_PART", 2)
    base = f"/nhap-phieu/dot/{survey_round.id}/bang-phan-cong/{people['an'].id}"
    sheet = client.get(base).get_data(as_text=True)
    assert f"{base}/phieu.pdf?phan=2" in sheet and "dòng 3–3" in sheet and "phan=3" not in sheet
    serials = [c.form_serial for c in sorted(cases, key=lambda c: (c.stratum, c.draw_order))]
    first = " ".join(pdf_pages(client.get(f"{base}.pdf?phan=1").data))
    second = " ".join(pdf_pages(client.get(f"{base}/phieu.pdf?phan=2").data))
    assert serials[0] in first and serials[1] in first and serials[2] not in first
    assert serials[2] in second and serials[0] not in second
