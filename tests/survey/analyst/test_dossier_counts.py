"""Dossier counts imported from the one-stop system: the upload page and the command (all or
nothing, grouped errors), and a QR run post-stratified to an imported table."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import sqlalchemy as sa
from numpy.testing import assert_allclose

from survey.models import DossierCount, DossierCountTable, Place, WeightingSnapshot
from survey.reports import queries, snapshots


def _frame_counts(db, survey_round) -> pd.DataFrame:
    counts = db.session.execute(queries.frame_cell_counts(survey_round.id)).all()
    codes = dict(db.session.execute(sa.select(Place.id, Place.code)).all())
    return pd.DataFrame(
        [(codes[place], group, n) for place, group, n in counts], columns=["place", "group", "dossiers"]
    )


def _counts_csv(frame: pd.DataFrame, period: str) -> bytes:
    """The frame's counts as the one-stop system would export them: Vietnamese headers, land
    dossiers split over two lĩnh vực (added up again on import)."""
    lines = ["Nơi tiếp nhận,Lĩnh vực,Kỳ,Số hồ sơ"]
    names = {"dat_dai": "Đất đai", "xay_dung": "Xây dựng", "dau_tu": "Đầu tư tại Việt Nam", "khac": "Hộ tịch"}
    for r in frame.itertuples():
        if r.group == "dat_dai" and r.dossiers > 1:
            lines.append(f"{r.place},Đất đai,{period},{r.dossiers - 1}")
            lines.append(f'{r.place},"Đo đạc, bản đồ và thông tin địa lý",{period},1')
        else:
            lines.append(f"{r.place},{names[r.group]},{period},{r.dossiers}")
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


def _upload(client, body: bytes, filename: str = "so-ho-so.csv", name: str = ""):
    return client.post(
        "/phan-tich/so-ho-so",
        data={"file": (io.BytesIO(body), filename), "name": name},
        content_type="multipart/form-data",
    )


def test_a_qr_run_on_an_imported_table_equals_the_run_on_the_same_frame_counts(
    client, db, paper_round, login_as
) -> None:
    from survey.demo import _qr_responses

    _qr_responses(db.session, seed=7)
    db.session.commit()
    login_as("analyst")
    year = date.today().year
    frame = _frame_counts(db, paper_round)
    response = _upload(client, _counts_csv(frame, str(year)), name="Một cửa năm nay")
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get("/phan-tich/so-ho-so").get_data(as_text=True)
    assert "Đã nhập bảng số hồ sơ “Một cửa năm nay”" in page
    table = db.session.scalars(sa.select(DossierCountTable)).one()
    assert table.dossiers == int(frame["dossiers"].sum()) and table.cells == len(frame)
    assert (table.period_start, table.period_end) == (date(year, 1, 1), date(year, 12, 31))

    made = []
    for source in ({"qr-counts_table": table.id, "qr-background": "y"}, {"qr-frame_round": paper_round.id}):
        response = client.post(
            "/phan-tich/quyen-so/qr",
            data={"qr-period_kind": "year", "qr-year": str(year)} | source,
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        made.append(db.session.get(WeightingSnapshot, int(response.headers["Location"].rsplit("/", 1)[1])))
    on_table, on_frame = made
    assert on_table.round_id is None and on_table.parameters["counts_table_id"] == table.id
    weights = snapshots.snapshot_weights(on_table).groupby("cell")["weight"].sum()
    expected = {f"{pid}|{g}": n for pid, g, n in db.session.execute(queries.frame_cell_counts(paper_round.id))}
    assert_allclose(weights.to_numpy(), [expected[c] for c in weights.index], rtol=1e-10)
    a, b = snapshots.estimates_frame(on_table), snapshots.estimates_frame(on_frame)
    assert_allclose(a["estimate"], b["estimate"], rtol=1e-12)
    dashboard = client.get(f"/phan-tich/quyen-so/{on_table.id}").get_data(as_text=True)
    assert "bảng số hồ sơ đã nhập “Một cửa năm nay”" in dashboard
    # background breakdowns of a QR run only when asked (they read every JSON answer)
    assert '<table data-question="gioi_tinh">' in dashboard and on_table.parameters["background"] is True
    other = client.get(f"/phan-tich/quyen-so/{on_frame.id}").get_data(as_text=True)
    assert "data-question=" not in other and "lần tính QR không chọn mục này" in other
    # a period the table does not cover is refused with the table's own period
    response = client.post(
        "/phan-tich/quyen-so/qr",
        data={"qr-period_kind": "month", "qr-year": str(year), "qr-number": "1", "qr-counts_table": table.id},
    )
    assert response.status_code == 400
    assert "không có kỳ nào nằm trọn trong" in response.get_data(as_text=True)
    # both sources, or none, is refused
    response = client.post("/phan-tich/quyen-so/qr", data={"qr-period_kind": "year", "qr-year": str(year)})
    assert response.status_code == 400 and "Chọn một nguồn số hồ sơ" in response.get_data(as_text=True)


def test_a_bad_file_is_refused_whole_with_grouped_errors(client, db, demo, login_as) -> None:
    login_as("analyst")
    body = "\n".join(
        [
            "Nơi tiếp nhận,Nhóm lĩnh vực,Từ ngày,Đến ngày,Số hồ sơ",
            f"{demo_place(db)},Đất đai,01/01/2026,31/03/2026,12",
            "KHONG-CO,Đất đai,01/01/2026,31/03/2026,3",
            "KHONG-CO,Xây dựng,01/01/2026,31/03/2026,3",
            f"{demo_place(db)},Thuỷ lợi,01/01/2026,31/03/2026,4",
            f"{demo_place(db)},Khác,31/03/2026,01/01/2026,4",
            f"{demo_place(db)},Đầu tư,01/01/2026,31/03/2026,-2",
        ]
    ).encode("utf-8")
    response = _upload(client, body)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Tệp có 5 lỗi; không dòng nào được nhập." in page
    assert "Không có nơi tiếp nhận “KHONG-CO” trong danh mục." in page and "3, 4" in page
    assert "Nhóm lĩnh vực “Thuỷ lợi” không hợp lệ" in page
    assert "Đến ngày trước Từ ngày." in page
    assert "Số hồ sơ phải là số nguyên không âm." in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DossierCount)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DossierCountTable)) == 0
    missing = _upload(client, "Nơi tiếp nhận,Số hồ sơ\nX,1\n".encode())
    assert missing.status_code == 400
    assert "Thiếu cột: Nhóm lĩnh vực (hoặc Lĩnh vực), Từ ngày và Đến ngày (hoặc Kỳ)" in missing.get_data(as_text=True)
    overlap = "\n".join(
        [
            "Nơi tiếp nhận,Nhóm lĩnh vực,Kỳ,Số hồ sơ",
            f"{demo_place(db)},Đất đai,Quý 1/2026,12",
            f"{demo_place(db)},Đất đai,03/2026,3",
        ]
    ).encode("utf-8")
    response = _upload(client, overlap)
    assert response.status_code == 400 and "Hai kỳ chồng lên nhau" in response.get_data(as_text=True)
    wrong_type = _upload(client, b"x", filename="so-ho-so.pdf")
    assert wrong_type.status_code == 400 and "Chỉ nhận tệp CSV hoặc XLSX." in wrong_type.get_data(as_text=True)


def test_an_excel_file_with_dates_and_the_command(client, db, demo, login_as, runner, tmp_path) -> None:
    place = demo_place(db)
    frame = pd.DataFrame(
        {
            "Nơi tiếp nhận": [place, place],
            "Nhóm lĩnh vực": ["Đất đai", "Xây dựng"],
            "Từ ngày": [date(2026, 4, 1)] * 2,
            "Đến ngày": [date(2026, 6, 30)] * 2,
            "Số hồ sơ": [40, 7],
        }
    )
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    login_as("analyst")
    assert _upload(client, buffer.getvalue(), filename="mot-cua.xlsx").status_code == 302
    stored = db.session.scalars(sa.select(DossierCount).order_by(DossierCount.field_group)).all()
    assert [(c.field_group, c.dossiers, c.period_start) for c in stored] == [
        ("dat_dai", 40, date(2026, 4, 1)),
        ("xay_dung", 7, date(2026, 4, 1)),
    ]
    good = tmp_path / "q3.csv"
    good.write_text(f"Nơi tiếp nhận;Nhóm lĩnh vực;Kỳ;Số hồ sơ\n{place};Khác;Quý 3/2026;1.234\n", "utf-8")
    result = runner.invoke(args=["report", "counts", "import", str(good), "--name", "Quý 3"])
    assert result.exit_code == 0, result.output
    assert "Quý 3" in result.output and "1234 hồ sơ" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(f"Nơi tiếp nhận,Nhóm lĩnh vực,Kỳ,Số hồ sơ\n{place},Khác,Quý 5/2026,1\n", "utf-8")
    result = runner.invoke(args=["report", "counts", "import", str(bad)])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert "Kỳ không đọc được" in result.output and "dòng 2" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DossierCountTable)) == 2


def test_only_analysts_and_admins_import_counts(client, db, demo, login_as) -> None:
    login_as("supervisor")
    assert client.get("/phan-tich/so-ho-so").status_code == 403
    assert _upload(client, b"x").status_code == 403


def demo_place(db) -> str:
    return db.session.scalar(sa.select(Place.code).where(Place.kind == "tinh"))
