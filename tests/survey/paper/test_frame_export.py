"""A real export imports as it is: 60,000 rows, through the page and the command line, CSV with
and without BOM and XLSX, on SQLite and PostgreSQL; bad cells grouped; control characters refused."""

from __future__ import annotations

import gc
import io
import shutil
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from survey.models import FrameRecord, Procedure, SampledCase
from tests.survey.paper.export import EXPECTED_GROUP, PROCEDURES, export_csv, export_rows, export_xlsx_of, place_names

N = 60_000
# The test client spools a multipart body above 500 kB to a temporary file it leaves to the
# garbage collector (as does a refused body): every big upload here is followed by a collection.
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture(autouse=True)
def _clean_up(app):
    yield
    gc.collect()
    # Files kept for confirmation are named by round id, and ids restart with each test.
    shutil.rmtree(Path(app.instance_path) / "uploads", ignore_errors=True)


def frame_counts(db, round_id: int) -> Counter:
    rows = db.session.execute(
        sa.select(FrameRecord.field_group, sa.func.count())
        .where(FrameRecord.round_id == round_id)
        .group_by(FrameRecord.field_group)
    ).all()
    return Counter(dict(rows))


def expected_counts(n: int) -> Counter:
    counts: Counter = Counter()
    for i in range(1, n + 1):
        counts[EXPECTED_GROUP.get(PROCEDURES[i % len(PROCEDURES)][2], "khac")] += 1
    return counts


def upload(client, round_id: int, data: bytes, name: str):
    response = client.post(
        f"/phan-tich/dot/{round_id}/khung",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    gc.collect()
    return response


def test_sixty_thousand_row_export_through_the_page_then_names_reach_the_assignment_list(
    client, db, survey_round, login_as, make_user
) -> None:
    data = export_csv(export_rows(place_names(db.session), N), bom=True)
    assert len(data) > 5 * 1024 * 1024  # far above the site's 1 MiB limit
    login_as("analyst")
    response = upload(client, survey_round.id, data, "danh-sach-ho-so-quy-1.csv")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã nhập 60.000 hồ sơ" in page
    assert "Hộ tịch → Lĩnh vực khác: 12000" in page and "Các cột không dùng: STT, Tên thủ tục" in page
    assert frame_counts(db, survey_round.id) == expected_counts(N)
    name = db.session.scalar(sa.select(FrameRecord.applicant_name).where(FrameRecord.dossier_code.like("%260000007")))
    assert name == "Nguyễn Thị Hồ Sơ 7"

    drawn = client.post(
        f"/phan-tich/dot/{survey_round.id}/chon-mau",
        data={"method": "proportional", "total_n": "300", "minimum": "1", "reserve_rate": "0.2", "seed": "5"},
    )
    assert drawn.status_code == 302
    supervisor = make_user("supervisor")
    client.post("/dang-xuat")
    client.post("/dang-nhap", data={"username": supervisor.username, "password": "mat-khau-dung-1"})
    sampled = db.session.scalars(
        sa.select(FrameRecord.applicant_name)
        .join(SampledCase, SampledCase.frame_record_id == FrameRecord.id)
        .where(SampledCase.active)
    ).all()
    assert len(sampled) >= 300
    # The list is paged (200 cases a page at most): every name is on one of its pages.
    listing = "".join(
        client.get(f"/nhap-phieu/dot/{survey_round.id}/phan-cong?n=200&trang={page}").get_data(as_text=True)
        for page in range(1, len(sampled) // 200 + 2)
    )
    assert all(f"<td>{n}</td>" in listing for n in sampled)


def test_other_routes_keep_the_small_limit(client, db, survey_round, login_as) -> None:
    login_as("analyst")
    big = {"name": "x" * (2 * 1024 * 1024), "period_start": "2026-01-01", "period_end": "2026-03-31"}
    assert client.post("/phan-tich/dot", data=big).status_code == 413


def test_the_frame_limit_is_configurable(app, client, db, survey_round, login_as) -> None:
    login_as("analyst")
    data = export_csv(export_rows(place_names(db.session), 20_000), bom=False)
    app.config["FRAME_UPLOAD_MAX_BYTES"] = 1024 * 1024
    try:
        response = upload(client, survey_round.id, data, "khung.csv")
    finally:
        app.config["FRAME_UPLOAD_MAX_BYTES"] = 200 * 1024 * 1024
        gc.collect()
    assert response.status_code == 413 and db.session.scalar(sa.select(sa.func.count(FrameRecord.id))) == 0


@pytest.mark.parametrize("kind", ["csv-no-bom", "xlsx"])
def test_sixty_thousand_row_export_through_the_command_line(runner, db, survey_round, tmp_path, kind) -> None:
    places = place_names(db.session)
    path = tmp_path / ("khung.xlsx" if kind == "xlsx" else "khung.csv")
    if kind == "xlsx":
        path.write_bytes(export_xlsx_of(N, tuple(places), 2))
    else:
        path.write_bytes(export_csv(export_rows(places, N, seed=2), bom=False))
    result = runner.invoke(args=["frame", "import", str(path), "--round", str(survey_round.id)])
    assert result.exit_code == 0, result.output
    assert "Đã nhập 60.000 hồ sơ" in result.output and "Các cột không dùng: STT, Tên thủ tục" in result.output
    assert frame_counts(db, survey_round.id) == expected_counts(N)
    gc.collect()  # a temporary file of the XLSX reading is left to the garbage collector


def test_unknown_procedures_are_grouped_by_value_with_their_first_rows(client, db, survey_round, login_as) -> None:
    lines = ["Số hồ sơ,Mã TTHC,Chủ hồ sơ,Đơn vị tiếp nhận,Ngày trả kết quả"]
    lines += [f"H-{i},1.000001,Người {i},P001,02/02/2026" for i in range(1, 3001)]
    lines += [f"K-{i},2.000815,Người {i},P001,02/02/2026" for i in range(1, 41)]
    login_as("analyst")
    response = upload(client, survey_round.id, "\n".join(lines).encode(), "khung.csv")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert '<code>1.000001</code></td><td class="num">3.000</td><td>2, 3, 4, 5, 6 …' in page
    assert '<code>2.000815</code></td><td class="num">40</td><td>3002, 3003' in page
    assert db.session.scalar(sa.select(sa.func.count(FrameRecord.id))) == 0


def test_catalogue_import_then_frame_with_procedure_codes_only(runner, db, survey_round, tmp_path) -> None:
    catalogue = tmp_path / "danh-muc.csv"
    catalogue.write_text(
        "Mã TTHC,Tên TTHC,Lĩnh vực,Cấp thực hiện\n"
        + "".join(f"{c},{n},{lv},Cấp Xã\n" for c, n, lv in PROCEDURES)
        + '1.000002,Chuyển nhượng,Đăng ký biện pháp bảo đảm,"Cấp Tỉnh, Cấp Xã"\n',
        "utf-8-sig",
    )
    done = runner.invoke(args=["procedures", "import", str(catalogue)])
    assert done.exit_code == 0, done.output
    assert "Đã nhập 6 thủ tục mới" in done.output
    assert db.session.scalar(sa.select(Procedure.field_group).where(Procedure.code == "2.001827")) == "dau_tu"
    assert db.session.scalar(sa.select(Procedure.level).where(Procedure.code == "1.000002")) == "tinh"
    again = runner.invoke(args=["procedures", "import", str(catalogue)])
    assert "cập nhật 6" in again.output

    frame = tmp_path / "khung.csv"
    frame.write_text("Số hồ sơ,Mã TTHC,Đơn vị tiếp nhận,Ngày trả kết quả\nA-1,1.004227,P001,02/02/2026\n", "utf-8")
    result = runner.invoke(args=["frame", "import", str(frame), "--round", str(survey_round.id)])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(FrameRecord.field_group)) == "xay_dung"


def test_catalogue_with_a_bad_row_imports_nothing(runner, db, tmp_path) -> None:
    catalogue = tmp_path / "danh-muc.csv"
    before = db.session.scalar(sa.select(sa.func.count(Procedure.id)))
    catalogue.write_text("Mã TTHC,Tên TTHC,Lĩnh vực,Cấp thực hiện\n9.1,A,Đất đai,Cấp Xã\n9.2,B,Đất đai,Cấp Bộ\n")
    result = runner.invoke(args=["procedures", "import", str(catalogue)])
    assert result.exit_code == 1 and "dòng 3: cấp 'Cấp Bộ' không rõ" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Procedure.id))) == before


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b"])
def test_control_characters_refused_with_row_and_column_page_and_cli(
    client, runner, db, survey_round, login_as, tmp_path, character
) -> None:
    text = (
        "Số hồ sơ,Lĩnh vực,Chủ hồ sơ,Đơn vị tiếp nhận,Ngày trả kết quả\n"
        "A-1,Đất đai,Trần Văn A,P001,02/02/2026\n"
        f"A-2,Hộ tịch,Lê{character} Thị B,P001,02/02/2026\n"
    )
    login_as("analyst")
    response = upload(client, survey_round.id, text.encode(), "khung.csv")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Chủ hồ sơ" in page and "có ký tự điều khiển" in page and f"U+{ord(character):04X}" in page
    path = tmp_path / "khung.csv"
    path.write_bytes(text.encode())
    result = runner.invoke(args=["frame", "import", str(path), "--round", str(survey_round.id)])
    assert result.exit_code == 1 and "dòng 3, cột Chủ hồ sơ: có ký tự điều khiển" in result.output
    ok = runner.invoke(args=["frame", "import", str(path), "--round", str(survey_round.id), "--valid-only"])
    assert ok.exit_code == 0, ok.output
    assert db.session.scalars(sa.select(FrameRecord.dossier_code)).all() == ["A-1"]


def test_same_file_in_another_row_order_and_same_seed_draws_the_same_dossiers(db, demo, survey_round) -> None:
    import random

    from survey import questionnaires
    from survey.paper import frames
    from survey.paper.rounds import create_round
    from survey.paper.sample import draw_round

    rows = export_rows(place_names(db.session, 4), 3_000, seed=3)
    shuffled = rows[:]
    random.Random(99).shuffle(shuffled)
    second = create_round(
        db.session,
        name="Quý I/2026 (nhập lại)",
        period_start=survey_round.period_start,
        period_end=survey_round.period_end,
        questionnaire=questionnaires.get(db.session, "sipas-dich-vu"),
    )
    drawn = []
    for target, data in ((survey_round, export_csv(rows, bom=True)), (second, export_csv(shuffled, bom=False))):
        checked = frames.check(db.session, target, frames.read_table(data, "khung.csv"))
        assert not checked.problems
        frames.store(db.session, target, checked)
        draw_round(db.session, target, method="proportional", total_n=120, minimum=2, reserve_rate=0.5, seed=2026)
        db.session.commit()
        drawn.append(
            set(
                db.session.execute(
                    sa.select(FrameRecord.dossier_code, SampledCase.role, SampledCase.draw_order)
                    .join(SampledCase, SampledCase.frame_record_id == FrameRecord.id)
                    .where(SampledCase.round_id == target.id)
                ).all()
            )
        )
    assert len(drawn[0]) > 120 and drawn[0] == drawn[1]
