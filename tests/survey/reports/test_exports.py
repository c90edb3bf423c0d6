"""Every export of a snapshot read back, and the dashboard's numbers reproduced from the
exported microdata alone through `sipas-analysis`."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
import sqlalchemy as sa
from numpy.testing import assert_allclose

from analysis.cli import main as sipas_analysis
from analysis.output import OUTPUT_COLUMNS
from survey.models import Response, WeightingSnapshot
from survey.reports import snapshots
from survey.reports.exports import ESTIMATE_HEADERS

QUESTIONNAIRE = Path(__file__).resolve().parents[3] / "questionnaires" / "sipas-dich-vu" / "v1.yaml"
ITEMS = [f"{e}{i}" for e, k in zip("ABCDE", (3, 4, 3, 3, 3), strict=True) for i in range(1, k + 1)]


@pytest.fixture
def snapshot(db, paper_round):
    made = snapshots.build_paper_snapshot(db.session, paper_round)
    db.session.commit()
    return made


def _get(client, snapshot, name: str) -> bytes:
    response = client.get(f"/phan-tich/quyen-so/{snapshot.id}/{name}")
    assert response.status_code == 200, name
    assert "attachment" in response.headers["Content-Disposition"]
    return response.data


def test_estimates_csv_and_xlsx(client, db, snapshot, login_as) -> None:
    login_as("analyst")
    body = _get(client, snapshot, "uoc-luong.csv")
    assert body.startswith("\ufeff".encode())
    table = pd.read_csv(io.BytesIO(body), encoding="utf-8-sig")
    assert list(table.columns) == OUTPUT_COLUMNS
    stored = snapshots.estimates_frame(snapshot)
    sipas = table[(table["domain_var"] == "all") & (table["indicator"] == "SIPAS")].iloc[0]
    expected = stored[(stored["domain_var"] == "all") & (stored["indicator"] == "SIPAS")].iloc[0]
    assert_allclose([sipas["estimate"], sipas["se"]], [expected["estimate"], expected["se"]], rtol=1e-9)
    assert {"M01:rat_mong_muon", "P1:1", "P2:3"} <= set(table["indicator"])

    book = pd.read_excel(io.BytesIO(_get(client, snapshot, "uoc-luong.xlsx")), sheet_name=None)
    sheet = book["Ước lượng"]
    assert list(sheet.columns) == [ESTIMATE_HEADERS[c] for c in OUTPUT_COLUMNS]
    assert pd.api.types.is_float_dtype(sheet["Ước lượng (%)"]) and pd.api.types.is_integer_dtype(
        sheet["Số người trả lời"]
    )
    assert len(sheet) == len(table)
    assert snapshot.inputs_hash in set(book["Lần tính"]["Giá trị"])


def test_microdata_in_every_format_with_labels(client, db, snapshot, login_as, tmp_path) -> None:
    login_as("analyst")
    csv = pd.read_csv(io.BytesIO(_get(client, snapshot, "vi-mo.csv")), encoding="utf-8-sig")
    assert len(csv) == snapshot.respondents
    for column in (
        "trong_so",
        "tang",
        "psu",
        "fpc",
        "noi_tiep_nhan",
        "nhom_linh_vuc_hs",
        "ky",
        "kenh",
        *ITEMS,
        "P1",
        "M10",
        "gioi_tinh",
        "y_kien",
    ):
        assert column in csv.columns, column
    assert set(csv["kenh"]) == {"paper"}
    assert_allclose(csv["trong_so"].sum(), snapshot.report["weight_total"], rtol=1e-9)
    xlsx = pd.read_excel(io.BytesIO(_get(client, snapshot, "vi-mo.xlsx")), sheet_name=None)
    assert pd.api.types.is_float_dtype(xlsx["Vi mô"]["trong_so"]) and len(xlsx["Vi mô"]) == len(csv)
    assert "A1" in set(xlsx["Sổ tay biến"]["bien"])
    for ext, reader in (("sav", pyreadstat.read_sav), ("dta", pyreadstat.read_dta)):
        path = tmp_path / f"vi-mo.{ext}"
        path.write_bytes(_get(client, snapshot, f"vi-mo.{ext}"))
        frame, meta = reader(str(path))
        assert len(frame) == len(csv)
        labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
        assert labels["trong_so"].startswith("Trọng số cuối cùng")
        assert labels["A1"].startswith("Biển hiệu")
        assert meta.variable_value_labels["A1"][5.0 if ext == "sav" else 5] == "Rất hài lòng"
        assert meta.variable_value_labels["gioi_tinh"][1] == "Nam"
        assert_allclose(frame["trong_so"].to_numpy(), csv["trong_so"].to_numpy(), rtol=1e-12)
    codebook = pd.read_csv(io.BytesIO(_get(client, snapshot, "so-tay-bien.csv")), encoding="utf-8-sig")
    assert "9 = Không áp dụng / không trả lời" in codebook.set_index("bien").loc["A1", "ma_gia_tri"]


def test_exported_microdata_reproduce_the_dashboard_through_sipas_analysis(
    client, db, snapshot, login_as, tmp_path
) -> None:
    login_as("analyst")
    (tmp_path / "vi-mo.csv").write_bytes(_get(client, snapshot, "vi-mo.csv"))
    out = tmp_path / "uoc-luong.csv"
    status = sipas_analysis(
        [
            "estimate",
            str(tmp_path / "vi-mo.csv"),
            "--questionnaire",
            str(QUESTIONNAIRE),
            "--strata",
            "tang",
            "--fpc",
            "fpc",
            "--weight",
            "trong_so",
            "--by",
            "nhom_linh_vuc_hs",
            "--out",
            str(out),
        ]
    )
    assert status == 0
    again = pd.read_csv(out)
    stored = snapshots.estimates_frame(snapshot)
    overall = stored[stored["domain_var"] == "all"].set_index("indicator")
    mine = again[again["domain_var"] == "all"].set_index("indicator").loc[overall.index]
    for column in ("estimate", "se", "ci_low", "ci_high"):
        assert_allclose(mine[column].to_numpy(), overall[column].to_numpy(), rtol=1e-6, err_msg=column)
    groups = stored[(stored["domain_var"] == "field_group") & (stored["n"] > 0)].set_index(["domain", "indicator"])
    theirs = again[again["domain_var"] == "nhom_linh_vuc_hs"].set_index(["domain", "indicator"]).loc[groups.index]
    assert_allclose(theirs["estimate"].to_numpy(), groups["estimate"].to_numpy(), rtol=1e-6)
    assert_allclose(theirs["se"].to_numpy(), groups["se"].to_numpy(), rtol=1e-6)


def test_unknown_export_is_a_404(client, db, snapshot, login_as) -> None:
    login_as("analyst")
    assert client.get(f"/phan-tich/quyen-so/{snapshot.id}/vi-mo.exe").status_code == 404
    assert client.get("/phan-tich/quyen-so/999/vi-mo.csv").status_code == 404


def test_flask_report_build_writes_the_files_of_the_pages(runner, db, paper_round, tmp_path, client, login_as) -> None:
    result = runner.invoke(args=["report", "build", "--round", str(paper_round.id), "--out", str(tmp_path / "ra")])
    assert result.exit_code == 0, result.output
    made = db.session.scalars(sa.select(WeightingSnapshot)).one()
    files = sorted(p.name for p in (tmp_path / "ra").iterdir())
    assert len(files) == 8 and f"sipas-quyen-so-{made.id}-vi-mo.sav" in files
    login_as("analyst")
    page_csv = client.get(f"/phan-tich/quyen-so/{made.id}/uoc-luong.csv").data
    assert (tmp_path / "ra" / f"sipas-quyen-so-{made.id}-uoc-luong.csv").read_bytes() == page_csv
    page_pdf = client.get(f"/phan-tich/quyen-so/{made.id}/bao-cao-nam.pdf").data
    assert page_pdf.startswith(b"%PDF")
    assert (tmp_path / "ra" / f"sipas-quyen-so-{made.id}-bao-cao-nam.pdf").read_bytes() == page_pdf


def test_flask_report_build_refuses_bad_input_with_one_line(runner, db, paper_round, tmp_path) -> None:
    for args, message in (
        (["--round", "999"], "không có đợt khảo sát số 999"),
        (["--from", "2026-13-01", "--to", "2026-12-31", "--channel", "qr"], "không phải ngày"),
        (["--round", str(paper_round.id), "--channel", "qr"], "không dùng cả hai"),
        (
            ["--from", "2020-01-01", "--to", "2020-01-31", "--channel", "qr", "--frame-round", str(paper_round.id)],
            "Không có phiếu QR",
        ),
        (["--round", str(paper_round.id), "--trim", "0.5"], "lớn hơn 1"),
    ):
        result = runner.invoke(args=["report", "build", *args, "--out", str(tmp_path / "x")])
        assert result.exit_code == 1, args
        assert message in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WeightingSnapshot)) == 0


def test_qr_microdata_reproduce_the_qr_snapshot(client, db, paper_round, login_as, tmp_path) -> None:
    from datetime import date

    from survey.demo import _qr_responses

    _qr_responses(db.session, seed=11)
    made = snapshots.build_qr_snapshot(
        db.session, slug="sipas-dich-vu", start=date(2000, 1, 1), end=date.today(), frame_round=paper_round
    )
    db.session.commit()
    login_as("analyst")
    (tmp_path / "qr.csv").write_bytes(_get(client, made, "vi-mo.csv"))
    out = tmp_path / "out.csv"
    args = ["estimate", str(tmp_path / "qr.csv"), "--questionnaire", str(QUESTIONNAIRE), "--out", str(out)]
    assert sipas_analysis([*args, "--strata", "o_hau_phan_tang", "--psu", "psu", "--weight", "trong_so"]) == 0
    again = pd.read_csv(out).set_index("indicator")
    stored = snapshots.estimates_frame(made)
    overall = stored[stored["domain_var"] == "all"].set_index("indicator")
    assert_allclose(again.loc[overall.index, "estimate"], overall["estimate"], rtol=1e-6)
    assert_allclose(again.loc[overall.index, "se"], overall["se"], rtol=1e-6)


def test_period_bounds() -> None:
    from datetime import date

    assert snapshots.period_bounds("quarter", 2026, 1) == (date(2026, 1, 1), date(2026, 3, 31))
    assert snapshots.period_bounds("quarter", 2026, 4) == (date(2026, 10, 1), date(2026, 12, 31))
    assert snapshots.period_bounds("month", 2028, 2) == (date(2028, 2, 1), date(2028, 2, 29))
    assert snapshots.period_bounds("year", 2026) == (date(2026, 1, 1), date(2026, 12, 31))
    with pytest.raises(snapshots.SnapshotError):
        snapshots.period_bounds("quarter", 2026, 5)


def test_flask_report_build_for_a_qr_quarter(runner, db, paper_round, tmp_path) -> None:
    from survey.demo import _qr_responses

    _qr_responses(db.session, seed=3)
    db.session.commit()
    year = db.session.scalar(sa.select(sa.func.max(Response.submitted_at))).year
    quarter = (db.session.scalar(sa.select(sa.func.max(Response.submitted_at))).month - 1) // 3 + 1
    args = [
        "report",
        "build",
        "--quarter",
        f"{year}-{quarter}",
        "--channel",
        "qr",
        "--frame-round",
        str(paper_round.id),
    ]
    result = runner.invoke(args=[*args, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    made = db.session.scalars(sa.select(WeightingSnapshot)).one()
    assert made.kind == "qr" and made.period_start.month == 3 * quarter - 2
    bad = runner.invoke(args=["report", "build", "--quarter", "2026-5", "--channel", "qr", "--out", str(tmp_path)])
    assert bad.exit_code == 1 and "Quý phải từ 1 đến 4." in bad.output
