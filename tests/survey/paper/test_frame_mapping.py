"""The column-mapping step of a frame upload, saved mapping profiles (page and command line) and
the lĩnh vực → field group table an admin edits — on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from survey.models import AuditLog, FrameMappingProfile, FrameRecord, LinhVucGroup, Procedure

#: An export whose headers the importer does not know (a district's own system).
ODD_HEADER = [
    "STT",
    "Số HS",
    "Mã TT quốc gia",
    "Tên LV",
    "Công dân",
    "SĐT liên lạc",
    "Nơi cư trú",
    "Cơ sở",
    "Ngày có KQ",
]
LINH_VUC = ["Đất đai", "Xây dựng", "Hộ tịch", "Đầu tư tại Việt Nam"]
GROUPS = {"Đất đai": "dat_dai", "Xây dựng": "xay_dung", "Hộ tịch": "khac", "Đầu tư tại Việt Nam": "dau_tu"}
MAPPING = {
    "dossier_code": "Số HS",
    "procedure_code": "Mã TT quốc gia",
    "linh_vuc": "Tên LV",
    "place": "Cơ sở",
    "result_date": "Ngày có KQ",
    "applicant_name": "Công dân",
    "phone": "SĐT liên lạc",
    "address": "Nơi cư trú",
}


def odd_rows(n: int, *, start: int = 1, header: list[str] = ODD_HEADER) -> list[list[object]]:
    rows: list[list[object]] = [header]
    for i in range(start, start + n):
        rows.append(
            [
                i,
                f"HS-{i:06d}",
                f"9.{i:06d}",
                LINH_VUC[i % 4],
                f"Phạm Thị {i}",
                f"09{i:08d}",
                f"Thôn {i}",
                "P001",
                "03/02/2026",
            ]
        )
    return rows


def as_csv(rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


def as_xlsx(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def encode(rows: list[list[object]], kind: str) -> tuple[bytes, str]:
    return (as_xlsx(rows), "xuat.xlsx") if kind == "xlsx" else (as_csv(rows), "xuat.csv")


@pytest.fixture(autouse=True)
def _clean_uploads(app):
    yield
    shutil.rmtree(Path(app.instance_path) / "uploads", ignore_errors=True)


def upload(client, round_id: int, data: bytes, name: str, **extra):
    return client.post(
        f"/phan-tich/dot/{round_id}/khung",
        data={"file": (io.BytesIO(data), name), **extra},
        content_type="multipart/form-data",
    )


def mapping_form(mapping: dict[str, str], **extra: str) -> dict[str, str]:
    return {f"col_{field}": header for field, header in mapping.items()} | extra


def frame_groups(db) -> dict[str, str]:
    return dict(db.session.execute(sa.select(FrameRecord.dossier_code, FrameRecord.field_group)).all())


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- the mapping step ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_unfamiliar_headers_import_through_the_mapping_step_and_the_profile_is_saved(
    client, db, survey_round, login_as, kind
) -> None:
    analyst = login_as("analyst")
    data, name = encode(odd_rows(40), kind)
    response = upload(client, survey_round.id, data, name)
    assert response.status_code == 302 and "/anh-xa" in response.headers["Location"]
    assert count(db, FrameRecord) == 0  # nothing imported before the user confirms

    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Chưa nhận ra cột" in html and "“Công dân”" in html
    for label in ("Mã hồ sơ", "Nơi tiếp nhận", "Ngày trả kết quả", "Mã thủ tục", "Lĩnh vực", "Họ tên", "Số điện thoại"):
        assert f">{label}</label>" in html
    assert '<option value="Số HS">Số HS</option>' in html
    assert "Phạm Thị 1 · Phạm Thị 2 · Phạm Thị 3" in html  # sample values of the column
    assert "HS-000001 · HS-000002" in html

    done = client.post(response.headers["Location"], data=mapping_form(MAPPING, save_as="  Xuất từ Một cửa Bắc Ninh "))
    assert done.status_code == 302, done.get_data(as_text=True)[:3000]
    final = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Đã nhập 40 hồ sơ" in final and "Đã lưu hồ sơ ánh xạ “Xuất từ Một cửa Bắc Ninh”" in final
    assert "Các cột không dùng: STT" in final
    groups = frame_groups(db)
    assert len(groups) == 40 and groups["HS-000001"] == "xay_dung" and groups["HS-000002"] == "khac"
    assert db.session.scalar(sa.select(FrameRecord.applicant_name).where(FrameRecord.dossier_code == "HS-000007")) == (
        "Phạm Thị 7"
    )
    profile = db.session.scalars(sa.select(FrameMappingProfile)).one()
    assert profile.name == "Xuất từ Một cửa Bắc Ninh" and profile.columns == MAPPING
    assert profile.headers == ODD_HEADER and profile.created_by_id == analyst.id
    audit = db.session.scalars(sa.select(AuditLog).where(AuditLog.entity == "frame_mapping_profile")).one()
    assert audit.action == "create" and audit.user_id == analyst.id
    kept = [p for p in (Path(client.application.instance_path) / "uploads").rglob("*") if p.is_file()]
    assert kept == []  # personal data not left behind, nor the mapping kept with it


def test_a_saved_profile_imports_the_next_file_without_a_mapping_step(
    client, db, survey_round, login_as, make_user
) -> None:
    login_as("analyst")
    first = upload(client, survey_round.id, as_csv(odd_rows(10)), "quy-1.csv")
    client.post(first.headers["Location"], data=mapping_form(MAPPING, save_as="Một cửa Bắc Ninh"))
    assert count(db, FrameRecord) == 10

    # The next quarter: same export, other rows, headers typed without diacritics and in another case.
    header = [
        "stt",
        "SO HS",
        "Ma TT quoc gia",
        "Ten LV",
        "Cong dan",
        "SDT lien lac",
        "Noi cu tru",
        "Co so",
        "Ngay co KQ",
    ]
    again = upload(client, survey_round.id, as_xlsx(odd_rows(25, start=100, header=header)), "quy-2.xlsx")
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/dot/{survey_round.id}")
    html = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Đã nhập 25 hồ sơ" in html and "Cột đọc theo hồ sơ ánh xạ “Một cửa Bắc Ninh”" in html
    assert sorted(frame_groups(db))[0] == "HS-000100"

    # Chosen on the form for a file it does not fit: the mapping step says what is missing.
    profile_id = db.session.scalar(sa.select(FrameMappingProfile.id))
    other = "Mã hồ sơ,Lĩnh vực,Nơi tiếp nhận,Ngày trả kết quả\nZ-1,Đất đai,P001,02/02/2026\n".encode()
    step = upload(client, survey_round.id, other, "khac.csv", profile=str(profile_id))
    assert step.status_code == 302 and "/anh-xa" in step.headers["Location"]
    html = client.get(step.headers["Location"]).get_data(as_text=True)
    assert "Hồ sơ ánh xạ “Một cửa Bắc Ninh” cần cột" in html and "“Số HS”" in html

    # A file the importer recognises goes through the step when the user asks to see it.
    asked = upload(client, survey_round.id, other, "khac.csv", review="y")
    assert "/anh-xa" in asked.headers["Location"]
    html = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert '<option selected value="Mã hồ sơ">' in html or '<option value="Mã hồ sơ" selected>' in html


def test_the_command_line_with_a_profile(runner, db, survey_round, tmp_path, make_user) -> None:
    from survey.paper import mapping

    user = make_user("analyst")
    mapping.save_profile(db.session, "Một cửa huyện", MAPPING, ODD_HEADER, actor_id=user.id)
    mapping.save_profile(db.session, "Khác", {"dossier_code": "Mã HS riêng"}, ["Mã HS riêng"], actor_id=None)
    db.session.commit()
    path = tmp_path / "xuat.csv"
    path.write_bytes(as_csv(odd_rows(30)))
    args = ["frame", "import", str(path), "--round", str(survey_round.id)]

    unknown = runner.invoke(args=[*args, "--profile", "Không có"])
    assert unknown.exit_code == 1 and "Không có hồ sơ ánh xạ “Không có” (có: Khác, Một cửa huyện)" in unknown.output
    misfit = runner.invoke(args=[*args, "--profile", "Khác"])
    assert misfit.exit_code == 1 and "Hồ sơ ánh xạ “Khác” cần cột “Mã HS riêng” mà tệp không có" in misfit.output
    assert count(db, FrameRecord) == 0

    done = runner.invoke(args=[*args, "--profile", "Một cửa huyện"])
    assert done.exit_code == 0, done.output
    assert "Đọc cột theo hồ sơ ánh xạ “Một cửa huyện”" in done.output and "Đã nhập 30 hồ sơ" in done.output
    assert frame_groups(db)["HS-000003"] == "dau_tu"

    auto = runner.invoke(args=args)  # no --profile: the profile whose headers match
    assert auto.exit_code == 0 and "Đọc cột theo hồ sơ ánh xạ “Một cửa huyện”" in auto.output
    listing = runner.invoke(args=["frame", "profiles"])
    assert "Một cửa huyện: Mã hồ sơ ← Số HS" in listing.output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"procedure_code": "Số HS"}, "Cột “Số HS” được chọn cho nhiều trường (Mã hồ sơ, Mã thủ tục)"),
        ({"dossier_code": ""}, "Chưa chọn cột cho trường bắt buộc: Mã hồ sơ."),
        ({"result_date": "", "place": ""}, "Chưa chọn cột cho trường bắt buộc: Nơi tiếp nhận, Ngày trả kết quả."),
        (
            {"procedure_code": "", "linh_vuc": ""},
            "Cần chọn cột cho ít nhất một trong: Nhóm lĩnh vực, Mã thủ tục, Lĩnh vực",
        ),
        ({"phone": "Không có cột này"}, "Cột “Không có cột này” không có trong tệp."),
    ],
)
def test_a_bad_mapping_is_refused_in_vietnamese_and_writes_nothing(
    client, db, survey_round, login_as, change, message
) -> None:
    login_as("analyst")
    step = upload(client, survey_round.id, as_csv(odd_rows(5)), "xuat.csv").headers["Location"]
    refused = client.post(step, data=mapping_form(MAPPING | change, save_as="Không được lưu"))
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Chưa nhập: ánh xạ cột chưa dùng được." in html and message in html
    assert count(db, FrameRecord) == 0 and count(db, FrameMappingProfile) == 0 and count(db, AuditLog) == 0
    assert client.post(step, data=mapping_form(MAPPING)).status_code == 302  # the file is still there
    assert count(db, FrameRecord) == 5


def test_a_profile_name_with_a_control_character_is_refused_and_nothing_is_written(
    client, db, survey_round, login_as
) -> None:
    login_as("analyst")
    step = upload(client, survey_round.id, as_csv(odd_rows(3)), "xuat.csv").headers["Location"]
    refused = client.post(step, data=mapping_form(MAPPING, save_as="Một cửa\x07"))
    assert refused.status_code == 400
    assert "Tên hồ sơ ánh xạ có ký tự điều khiển (không in được)." in refused.get_data(as_text=True)
    assert count(db, FrameRecord) == 0 and count(db, FrameMappingProfile) == 0


def test_mapped_file_with_bad_rows_shows_the_report_and_confirms_with_the_mapping(
    client, db, survey_round, login_as
) -> None:
    login_as("analyst")
    rows = odd_rows(6)
    rows[3][8] = "31/02/2026"
    step = upload(client, survey_round.id, as_csv(rows), "xuat.csv").headers["Location"]
    report = client.post(step, data=mapping_form(MAPPING))
    assert report.status_code == 422
    html = report.get_data(as_text=True)
    assert "ngày không hợp lệ" in html and "Ngày có KQ" in html and "Sửa ánh xạ cột" in html
    confirm_url = re.search(r'action="([^"]+xac-nhan)"', html).group(1)
    assert client.post(confirm_url).status_code == 302
    assert len(frame_groups(db)) == 5


def test_two_recognised_columns_for_one_field_ask_which(db, demo) -> None:
    from survey.paper import mapping

    plan = mapping.plan_columns(
        db.session, ["Mã hồ sơ", "Lĩnh vực", "Nơi tiếp nhận", "Ngày trả", "Ngày trả kết quả", "Họ tên", "Địa chỉ"]
    )
    assert plan.reasons == ["Các cột “Ngày trả”, “Ngày trả kết quả” cùng có thể là “Ngày trả kết quả”: chọn một."]
    clear = mapping.plan_columns(db.session, ["Mã hồ sơ", "Lĩnh vực", "Nơi tiếp nhận", "Ngày trả kết quả", "STT"])
    assert clear.reasons == []  # unknown STT, but other fields without a column are optional: no step


def test_profiles_page_lists_and_deletes_with_an_audit_row(client, db, login_as) -> None:
    from survey.paper import mapping

    analyst = login_as("analyst")
    mapping.save_profile(db.session, "Một cửa Bắc Ninh", MAPPING, ODD_HEADER, actor_id=analyst.id)
    db.session.commit()
    page = client.get("/phan-tich/anh-xa-cot").get_data(as_text=True)
    assert "Một cửa Bắc Ninh" in page and "Mã hồ sơ ← “Số HS”" in page and analyst.full_name in page
    profile_id = db.session.scalar(sa.select(FrameMappingProfile.id))
    assert client.post(f"/phan-tich/anh-xa-cot/{profile_id}/xoa").status_code == 302
    assert count(db, FrameMappingProfile) == 0
    audit = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "delete")).one()
    assert audit.entity == "frame_mapping_profile" and audit.user_id == analyst.id


# --- the lĩnh vực table ----------------------------------------------------------------------------
def import_frame(runner, tmp_path, survey_round, lines: list[str]) -> None:
    path = tmp_path / "khung.csv"
    path.write_text("Số hồ sơ,Mã TTHC,Lĩnh vực,Đơn vị tiếp nhận,Ngày trả kết quả\n" + "\n".join(lines) + "\n")
    result = runner.invoke(args=["frame", "import", str(path), "--round", str(survey_round.id)])
    assert result.exit_code == 0, result.output


def test_a_linh_vuc_added_on_the_admin_page_changes_how_a_row_is_classified(
    client, runner, db, survey_round, login_as, tmp_path
) -> None:
    lines = [
        "A-1,,TÀI NGUYÊN NƯỚC,P001,02/02/2026",
        "A-2,,Nha o,P001,02/02/2026",
        "A-3,XD.01,Tài nguyên nước,P001,02/02/2026",  # XD.01 is in the demo catalogue as xay_dung
        "A-4,,Đất đai,P001,02/02/2026",
    ]
    import_frame(runner, tmp_path, survey_round, lines)
    assert frame_groups(db) == {"A-1": "khac", "A-2": "xay_dung", "A-3": "xay_dung", "A-4": "dat_dai"}
    assert db.session.scalar(sa.select(Procedure.field_group).where(Procedure.code == "XD.01")) == "xay_dung"

    admin = login_as("admin")
    page = client.get("/admin/linh-vuc").get_data(as_text=True)
    assert "Bảng đang trống: đang dùng danh sách mặc định" in page and "Đầu tư tại Việt Nam" in page
    added = client.post("/admin/linh-vuc", data={"name": "Tài nguyên  nước", "field_group": "dat_dai"})
    assert added.status_code == 302
    assert count(db, LinhVucGroup) == 15  # the 14 defaults copied in, and the new row
    nha_o = db.session.scalars(sa.select(LinhVucGroup).where(LinhVucGroup.name_key == "nha o")).one()
    assert client.post(f"/admin/linh-vuc/{nha_o.id}", data={"name": "Nhà ở", "field_group": "khac"}).status_code == 302
    dat_dai = db.session.scalars(sa.select(LinhVucGroup).where(LinhVucGroup.name_key == "dat dai")).one()
    assert client.post(f"/admin/linh-vuc/{dat_dai.id}/xoa").status_code == 302

    import_frame(runner, tmp_path, survey_round, lines)
    # accent- and case-insensitive; the catalogue still wins for a code it knows
    assert frame_groups(db) == {"A-1": "dat_dai", "A-2": "khac", "A-3": "xay_dung", "A-4": "khac"}
    audit = db.session.execute(
        sa.select(AuditLog.action, sa.func.count())
        .where(AuditLog.entity == "linh_vuc_group", AuditLog.user_id == admin.id)
        .group_by(AuditLog.action)
    ).all()
    assert dict(audit) == {"create": 15, "update": 1, "delete": 1}
    row = db.session.scalars(sa.select(LinhVucGroup).where(LinhVucGroup.name_key == "tai nguyen nuoc")).one()
    assert row.name == "Tài nguyên nước"


def test_linh_vuc_clash_and_bad_input_are_refused_in_vietnamese(client, db, login_as) -> None:
    login_as("admin")
    clash = client.post("/admin/linh-vuc", data={"name": "DAT DAI", "field_group": "khac"})
    assert clash.status_code == 400
    assert "Lĩnh vực “DAT DAI” đã có trong bảng (“Đất đai”" in clash.get_data(as_text=True)
    empty = client.post("/admin/linh-vuc", data={"name": "  ", "field_group": "khac"})
    assert empty.status_code == 400 and "Vui lòng nhập tên lĩnh vực." in empty.get_data(as_text=True)
    bad_group = client.post("/admin/linh-vuc", data={"name": "Thuế", "field_group": "thue"})
    assert bad_group.status_code == 400 and "Thuế" not in [r.name for r in db.session.scalars(sa.select(LinhVucGroup))]
    assert count(db, LinhVucGroup) == 0  # nothing was written: the defaults still apply


def test_the_last_linh_vuc_row_cannot_be_deleted(client, db, login_as) -> None:
    from survey.paper import procedures

    login_as("admin")
    procedures.seed_linh_vuc(db.session)
    db.session.commit()
    ids = db.session.scalars(sa.select(LinhVucGroup.id)).all()
    for row_id in ids[:-1]:
        assert client.post(f"/admin/linh-vuc/{row_id}/xoa").status_code == 302
    last = client.post(f"/admin/linh-vuc/{ids[-1]}/xoa", follow_redirects=True)
    assert "Không xoá được dòng cuối cùng" in last.get_data(as_text=True)
    assert count(db, LinhVucGroup) == 1


def test_the_usual_export_headers_need_no_mapping_step(db) -> None:
    """The one-stop export of test_frame_export.py (recognised headers, some unused) imports
    straight away; with one of its headers renamed, the step comes first."""
    from survey.paper import mapping
    from tests.survey.paper.export import EXPORT_HEADER

    assert mapping.plan_columns(db.session, EXPORT_HEADER).reasons == []
    renamed = ["Người dân" if h == "Chủ hồ sơ" else h for h in EXPORT_HEADER]
    assert "Họ tên" in mapping.plan_columns(db.session, renamed).reasons[0]
