"""Importing the sampling frame: every problem by row and column, nothing half-stored."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from survey.models import FrameRecord
from survey.paper import frames
from tests.survey.paper.conftest import HEADER, frame_csv


def count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(FrameRecord))


def run(db, survey_round, data: bytes, name: str = "khung.csv", *, valid_only: bool = False):
    checked = frames.check(db.session, survey_round, frames.read_table(data, name))
    if not checked.problems or valid_only:
        frames.store(db.session, survey_round, checked, valid_only=valid_only)
        db.session.commit()
    return checked


def test_valid_csv_with_bom_and_vietnamese_headers(db, survey_round) -> None:
    data = ("\ufeff" + frame_csv({("TTPVHCC", "Đất đai"): 30, ("P001", "Xây dựng"): 12, ("X034", "khac"): 5})).encode()
    checked = run(db, survey_round, data)
    assert checked.problems == [] and count(db) == 47
    summary = {row.stratum: row[3] for row in frames.frame_summary(db.session, survey_round.id)}
    assert summary == {"TTPVHCC|dat_dai": 30, "P001|xay_dung": 12, "X034|khac": 5}
    record = db.session.scalars(sa.select(FrameRecord).order_by(FrameRecord.id)).first()
    assert record.applicant_name == "Nguyễn Văn 1" and record.result_date.isoformat() == "2026-02-02"


def test_semicolon_csv_and_place_by_name(db, survey_round) -> None:
    data = "ma_ho_so;nhom_linh_vuc;noi_tiep_nhan;ngay_tra_ket_qua\nA-1;dau_tu;Phường Kinh Bắc;2026-03-31\n".encode()
    assert run(db, survey_round, data).problems == [] and count(db) == 1


def test_field_group_derived_from_procedure_code(db, survey_round) -> None:
    data = (
        "Mã hồ sơ,Mã thủ tục,Nơi tiếp nhận,Ngày trả kết quả\nA-1,XD.01,P001,15/01/2026\nA-2,KHONGCO,P001,15/01/2026\n"
    )
    checked = run(db, survey_round, data.encode())
    assert [(p.row, p.column) for p in checked.problems] == [(3, "Mã thủ tục")]
    assert count(db) == 0


def test_xlsx_with_excel_dates(db, survey_round) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Mã hồ sơ", "Nhóm lĩnh vực", "Nơi tiếp nhận", "Ngày trả kết quả", "Họ tên"])
    sheet.append(["X-1", "Đất đai", "TTPVHCC", datetime(2026, 2, 14), "Trần Thị Bình"])
    sheet.append(
        ["X-2", "Đầu tư", "TTPVHCC", 46070, "Lê Văn C"]
    )  # an Excel serial number: 2026-02-17 (46023 is 1 January 2026)
    buffer = io.BytesIO()
    book.save(buffer)
    checked = run(db, survey_round, buffer.getvalue(), "khung.xlsx")
    assert checked.problems == []
    dates = sorted(r.result_date.isoformat() for r in db.session.scalars(sa.select(FrameRecord)))
    assert dates == ["2026-02-14", "2026-02-17"]


def test_wrong_encoding_is_refused_in_vietnamese(db, survey_round) -> None:
    data = "Mã hồ sơ,Nhóm lĩnh vực,Nơi tiếp nhận,Ngày trả kết quả\nA,Đất đai,P001,01/02/2026\n".encode("utf-16")
    with pytest.raises(frames.FrameError, match="không phải UTF-8"):
        frames.read_table(data, "khung.csv")


def test_missing_column(db, survey_round) -> None:
    table = frames.read_table(b"Ma ho so,Noi tiep nhan\nA,P001\n", "khung.csv")
    with pytest.raises(frames.FrameError, match="Thiếu cột: Ngày trả kết quả, Nhóm lĩnh vực"):
        frames.check(db.session, survey_round, table)


def test_a_broken_file_is_refused_in_vietnamese_with_the_line(db, survey_round) -> None:
    """pandas and openpyxl complain in English ("Expected 4 fields in line 3, saw 5", "File is
    not a zip file"): the analyst is told in Vietnamese, with the line where there is one."""
    ragged = "Mã hồ sơ,Nhóm lĩnh vực,Nơi tiếp nhận,Ngày trả kết quả\nA,Đất đai,P001,01/02/2026\nB,Đất đai,P001,1,2\n"
    with pytest.raises(frames.FrameError) as refused:
        frames.read_table(ragged.encode(), "khung.csv")
    assert str(refused.value).startswith("Tệp CSV sai cấu trúc: dòng 3 có 5 cột, trong khi dòng tiêu đề có 4 cột")
    for broken in (b"not a zip", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)):  # garbage; an old .xls
        with pytest.raises(frames.FrameError) as refused:
            frames.read_table(broken, "khung.xlsx")
        assert str(refused.value).startswith("Không mở được tệp Excel: tệp bị hỏng hoặc không phải định dạng .xlsx")
        assert "zip" not in str(refused.value)


def test_unsupported_file_type(db, survey_round) -> None:
    with pytest.raises(frames.FrameError, match="chỉ nhận CSV hoặc XLSX"):
        frames.read_table(b"x", "khung.pdf")


BAD = "\n".join(
    [
        HEADER,
        "B-1,,,Đất đai,P001,01/02/2026,,,",  # valid
        "B-2,,,Đất đai,P001,31/02/2026,,,",  # impossible date
        "B-3,,,Đất đai,KHONGCO,01/02/2026,,,",  # unknown place
        "B-4,,,Nông nghiệp,P001,01/02/2026,,,",  # unknown field group
        "B-1,,,Xây dựng,P002,01/02/2026,,,",  # duplicate of row 2
        "B-6,,,Đất đai,P001,01/07/2026,,,",  # outside the period
        ",,,Đất đai,P001,01/02/2026,,,",  # no dossier code
        "B-8,,,Đầu tư,X034,2026-03-01,,,",  # valid
    ]
)


def test_every_problem_by_row_and_column_and_nothing_stored(db, survey_round) -> None:
    checked = run(db, survey_round, BAD.encode())
    found = [(p.row, p.column, p.message.split(" (")[0]) for p in checked.problems]
    assert found == [
        (2, "Mã hồ sơ", "mã hồ sơ B-1 bị trùng"),
        (3, "Ngày trả kết quả", "ngày không hợp lệ"),
        (4, "Nơi tiếp nhận", "nơi tiếp nhận không có trong danh mục"),
        (5, "Nhóm lĩnh vực", "nhóm lĩnh vực phải là Đất đai, Xây dựng, Đầu tư hoặc Khác"),
        (6, "Mã hồ sơ", "mã hồ sơ B-1 bị trùng"),
        (7, "Ngày trả kết quả", "ngày trả kết quả ngoài kỳ khảo sát"),
        (8, "Mã hồ sơ", "thiếu mã hồ sơ"),
    ]
    assert "đã có ở dòng 2" in checked.problems[4].message
    assert count(db) == 0
    with pytest.raises(frames.FrameError, match="7 lỗi"):
        frames.store(db.session, survey_round, checked)
    report = checked.problems_csv().decode("utf-8-sig").splitlines()
    assert report[0] == "dòng,cột,lỗi,giá trị" and report[1].startswith("2,Mã hồ sơ,")


def test_valid_only_after_confirmation_stores_exactly_the_valid_rows(db, survey_round) -> None:
    checked = run(db, survey_round, BAD.encode(), valid_only=True)
    assert checked.n_valid == 1  # B-1 twice is refused both times; B-8 valid
    assert sorted(db.session.scalars(sa.select(FrameRecord.dossier_code))) == ["B-8"]


def test_reimport_replaces_the_frame_until_sampled(db, survey_round) -> None:
    run(db, survey_round, frame_csv({("P001", "Đất đai"): 5}).encode())
    run(db, survey_round, frame_csv({("P002", "Đất đai"): 3}).encode())
    assert count(db) == 3
    survey_round.status = "sampled"
    db.session.commit()
    checked = frames.check(
        db.session, survey_round, frames.read_table(frame_csv({("P001", "khac"): 2}).encode(), "k.csv")
    )
    with pytest.raises(frames.FrameError, match="đã chọn mẫu"):
        frames.store(db.session, survey_round, checked)
    db.session.rollback()
    assert count(db) == 3


def test_cli_refuses_a_file_with_errors_and_writes_the_report(runner, db, survey_round, tmp_path: Path) -> None:
    path = tmp_path / "khung.csv"
    path.write_text(BAD, "utf-8")
    report = tmp_path / "loi.csv"
    result = runner.invoke(
        args=["frame", "import", str(path), "--round", str(survey_round.id), "--report", str(report)]
    )
    assert result.exit_code == 1
    assert "dòng 3, cột Ngày trả kết quả: ngày không hợp lệ" in result.output
    assert "chưa nhập dòng nào" in result.output
    assert report.read_text("utf-8-sig").count("\n") == 8
    assert count(db) == 0
    ok = runner.invoke(args=["frame", "import", str(path), "--round", str(survey_round.id), "--valid-only"])
    assert ok.exit_code == 0 and "Đã nhập 1 hồ sơ" in ok.output
