"""Files of a weighting snapshot: the estimates (CSV with the columns of
``sipas-analysis estimate``, XLSX with Vietnamese headers and numeric cells), the microdata
(one row per response with the final weight ``trong_so`` and the design columns, every answer
under its questionnaire code: CSV, XLSX, SPSS ``.sav``, Stata ``.dta`` with variable and value
labels) and its codebook. The pages and ``flask report build`` write the same bytes."""

from __future__ import annotations

import io
import os
import tempfile
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from analysis.output import OUTPUT_COLUMNS
from survey.models import Place, Questionnaire, Response, WeightingSnapshot
from survey.models.base import FIELD_GROUP_LABELS
from survey.reports.snapshots import estimates_frame, snapshot_weights

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: Vietnamese headers of the estimates workbook, by column of analysis.output.OUTPUT_COLUMNS.
ESTIMATE_HEADERS = {
    "domain_var": "Biến miền",
    "domain": "Miền",
    "indicator": "Chỉ tiêu",
    "estimate": "Ước lượng (%)",
    "se": "Sai số chuẩn (điểm %)",
    "ci_low": "KTC 95% - cận dưới",
    "ci_high": "KTC 95% - cận trên",
    "df": "Bậc tự do",
    "n": "Số người trả lời",
    "n_eff": "Cỡ mẫu hiệu dụng",
    "deff": "Hiệu ứng thiết kế",
    "flag": "Cảnh báo",
}

#: Design columns of the microdata, with their Vietnamese variable labels.
DESIGN_LABELS = {
    "ma_phieu": "Mã phiếu (mã số trong hệ thống)",
    "trong_so": "Trọng số cuối cùng (quyền số)",
    "trong_so_co_so": "Trọng số trước hiệu chỉnh (N_h/r_h; QR: 1)",
    "tang": "Tầng (nơi tiếp nhận|nhóm lĩnh vực)",
    "psu": "Đơn vị mẫu bậc một (phỏng vấn: mỗi phiếu; QR: quầy|tuần)",
    "fpc": "Số hồ sơ của tầng trong khung mẫu (N_h)",
    "o_hau_phan_tang": "Ô hậu phân tầng (nơi tiếp nhận|nhóm lĩnh vực)",
    "noi_tiep_nhan": "Mã nơi tiếp nhận",
    "ten_noi_tiep_nhan": "Tên nơi tiếp nhận",
    "nhom_linh_vuc_hs": "Nhóm lĩnh vực của hồ sơ",
    "ky": "Kỳ / đợt",
    "kenh": "Kênh (qr: mã QR tại quầy, paper: phỏng vấn)",
    "ngay_gui": "Ngày gửi phiếu",
    "phieu_hoi_phien_ban": "Phiên bản phiếu hỏi",
}


class UnknownExport(LookupError):
    """No such file for a snapshot."""


def _base_name(snapshot: WeightingSnapshot) -> str:
    return f"sipas-quyen-so-{snapshot.id}"


# --- estimates ---------------------------------------------------------------------------------
def estimates_table(snapshot: WeightingSnapshot) -> pd.DataFrame:
    rates = estimates_frame(snapshot, "rates")
    shares = estimates_frame(snapshot, "shares")
    frames = [f for f in (rates, shares) if not f.empty]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=OUTPUT_COLUMNS)
    return table[OUTPUT_COLUMNS]


def estimates_csv(snapshot: WeightingSnapshot) -> bytes:
    """UTF-8 with a BOM (Excel opens it right), the columns and number format of
    ``sipas-analysis estimate``: machine-readable, decimal point, 10 significant digits."""
    text = estimates_table(snapshot).to_csv(index=False, float_format="%.10g", lineterminator="\n")
    return ("\ufeff" + text).encode("utf-8")


def estimates_xlsx(snapshot: WeightingSnapshot) -> bytes:
    table = estimates_table(snapshot).rename(columns=ESTIMATE_HEADERS)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        table.to_excel(writer, index=False, sheet_name="Ước lượng")
        _snapshot_sheet(snapshot).to_excel(writer, index=False, sheet_name="Lần tính")
    return buffer.getvalue()


def _snapshot_sheet(snapshot: WeightingSnapshot) -> pd.DataFrame:
    rows: list[tuple[str, Any]] = [
        ("Lần tính quyền số số", snapshot.id),
        ("Kênh", snapshot.kind),
        ("Nhãn", snapshot.label),
        ("Từ ngày", snapshot.period_start.isoformat()),
        ("Đến ngày", snapshot.period_end.isoformat()),
        ("Phiếu hỏi", f"{snapshot.questionnaire_slug} v{', v'.join(map(str, snapshot.versions))}"),
        ("Mã băm dữ liệu vào", snapshot.inputs_hash),
        ("Tham số", str(snapshot.parameters)),
        ("Phần mềm", str(snapshot.software)),
    ]
    rows += [
        (f"Báo cáo quyền số: {k}", v if isinstance(v, int | float | str) else str(v))
        for k, v in snapshot.report.items()
    ]
    return pd.DataFrame(rows, columns=["Mục", "Giá trị"]).astype({"Giá trị": str})


# --- microdata ---------------------------------------------------------------------------------
def _questions(definition: dict[str, Any]) -> list[dict[str, Any]]:
    return [q for section in definition.get("sections", []) for q in section.get("questions", [])]


def _value_labels(definition: dict[str, Any], question: dict[str, Any]) -> dict[Any, str]:
    if question["type"] == "scale":
        scale = definition["scales"][question["scale"]]
        return {int(o["code"]): o["label"]["vi"] for o in scale["options"]}
    if question["type"] == "choice":
        return {str(o["code"]): o["label"]["vi"] for o in question.get("options", [])}
    return {}


def microdata(
    session: Session, snapshot: WeightingSnapshot
) -> tuple[pd.DataFrame, dict[str, str], dict[str, dict[Any, str]]]:
    """One row per weighted response: design columns, then every answer under its code.

    Returns the table, variable labels and value labels (by variable)."""
    weights = snapshot_weights(snapshot)
    questionnaire = session.scalars(
        sa.select(Questionnaire).where(
            Questionnaire.slug == snapshot.questionnaire_slug, Questionnaire.version == max(snapshot.versions)
        )
    ).one()
    definition = questionnaire.definition
    rows = session.execute(
        sa.select(
            Response.id,
            Response.place_id,
            Place.code,
            Place.name,
            Response.field_group,
            Response.channel,
            Response.submitted_at,
            Response.answers,
            Questionnaire.version,
        )
        .join(Place, Place.id == Response.place_id)
        .join(Questionnaire, Questionnaire.id == Response.questionnaire_id)
        .where(Response.id.in_(weights["id"].tolist()))
        .order_by(Response.id)
    ).all()
    by_id = {row.id: row for row in rows}
    questions = [q for q in _questions(definition) if q["type"] in ("scale", "choice", "string", "text", "date")]
    data: dict[str, list[Any]] = {name: [] for name in DESIGN_LABELS}
    answers: dict[str, list[Any]] = {q["code"]: [] for q in questions}
    has_strata = "stratum" in weights
    has_cells = "cell" in weights
    has_psu = "psu" in weights
    for i, rid in enumerate(weights["id"].tolist()):
        row = by_id[rid]
        data["ma_phieu"].append(rid)
        data["trong_so"].append(float(weights["weight"].iat[i]))
        data["trong_so_co_so"].append(float(weights["base_weight"].iat[i]))
        data["tang"].append(weights["stratum"].iat[i] if has_strata else "")
        data["psu"].append(weights["psu"].iat[i] if has_psu else str(rid))
        data["fpc"].append(float(weights["fpc"].iat[i]) if has_strata else np.nan)
        data["o_hau_phan_tang"].append(weights["cell"].iat[i] if has_cells else "")
        data["noi_tiep_nhan"].append(row.code)
        data["ten_noi_tiep_nhan"].append(row.name)
        data["nhom_linh_vuc_hs"].append(row.field_group)
        data["ky"].append(snapshot.label)
        data["kenh"].append(row.channel)
        data["ngay_gui"].append(row.submitted_at.date().isoformat() if row.submitted_at else "")
        data["phieu_hoi_phien_ban"].append(row.version)
        for q in questions:
            value = row.answers.get(q["code"])
            answers[q["code"]].append(value if value is not None else (np.nan if q["type"] == "scale" else ""))
    table = pd.DataFrame(data)
    for q in questions:
        column = pd.Series(answers[q["code"]])
        table[q["code"]] = pd.to_numeric(column, errors="coerce") if q["type"] == "scale" else column.astype(str)
    if not has_strata:
        table = table.drop(columns=["fpc"])
    variable_labels = dict(DESIGN_LABELS)
    value_labels: dict[str, dict[Any, str]] = {"nhom_linh_vuc_hs": dict(FIELD_GROUP_LABELS)}
    for q in questions:
        variable_labels[q["code"]] = q.get("text", {}).get("vi", q["code"])[:250]
        labels = _value_labels(definition, q)
        if labels:
            value_labels[q["code"]] = labels
    return table, {k: v for k, v in variable_labels.items() if k in table}, value_labels


def codebook(session: Session, snapshot: WeightingSnapshot) -> pd.DataFrame:
    table, variable_labels, value_labels = microdata(session, snapshot)
    rows = []
    for name in table.columns:
        codes = value_labels.get(name, {})
        rows.append(
            {
                "bien": name,
                "nhan": variable_labels.get(name, ""),
                "kieu": "số" if pd.api.types.is_numeric_dtype(table[name]) else "chữ",
                "ma_gia_tri": "; ".join(f"{code} = {label}" for code, label in codes.items()),
            }
        )
    return pd.DataFrame(rows)


def _readstat(
    table: pd.DataFrame, variable_labels: dict[str, str], value_labels: dict[str, dict[Any, str]], ext: str
) -> bytes:
    import pyreadstat  # optional heavy import, only for .sav/.dta

    numeric_labels = {k: v for k, v in value_labels.items() if k in table and pd.api.types.is_numeric_dtype(table[k])}
    frame = table.copy()
    # string variables with value labels: Stata and SPSS label numbers, so code them 1..k
    for name, labels in value_labels.items():
        if name in frame and not pd.api.types.is_numeric_dtype(frame[name]):
            codes = {code: i for i, code in enumerate(labels, start=1)}
            frame[name] = frame[name].map(codes).astype("float64")
            numeric_labels[name] = {i: labels[code] for code, i in codes.items()}
    fd, path = tempfile.mkstemp(suffix=f".{ext}")
    os.close(fd)
    try:
        labels = [variable_labels.get(c, "") for c in frame.columns]
        if ext == "sav":
            pyreadstat.write_sav(frame, path, column_labels=labels, variable_value_labels=numeric_labels)
        else:
            stata_labels = {k: {int(c): v[:80] for c, v in lab.items()} for k, lab in numeric_labels.items()}
            pyreadstat.write_dta(
                frame,
                path,
                column_labels=[label[:80] for label in labels],
                variable_value_labels=stata_labels,
                version=15,
            )
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)


def export(session: Session, snapshot: WeightingSnapshot, name: str, ext: str) -> tuple[bytes, str, str]:
    """``(body, mimetype, file name)`` of one export: ``uoc-luong.csv|xlsx``,
    ``vi-mo.csv|xlsx|sav|dta``, ``so-tay-bien.csv``."""
    base = _base_name(snapshot)
    if name == "uoc-luong" and ext == "csv":
        return estimates_csv(snapshot), "text/csv", f"{base}-uoc-luong.csv"
    if name == "uoc-luong" and ext == "xlsx":
        return estimates_xlsx(snapshot), XLSX, f"{base}-uoc-luong.xlsx"
    if name == "so-tay-bien" and ext == "csv":
        body = ("\ufeff" + codebook(session, snapshot).to_csv(index=False, lineterminator="\n")).encode("utf-8")
        return body, "text/csv", f"{base}-so-tay-bien.csv"
    if name != "vi-mo" or ext not in ("csv", "xlsx", "sav", "dta"):
        raise UnknownExport(f"{name}.{ext}")
    table, variable_labels, value_labels = microdata(session, snapshot)
    if ext == "csv":
        text = table.to_csv(index=False, lineterminator="\n")  # shortest exact form of every weight
        return ("\ufeff" + text).encode("utf-8"), "text/csv", f"{base}-vi-mo.csv"
    if ext == "xlsx":
        buffer = io.BytesIO()
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            table.to_excel(writer, index=False, sheet_name="Vi mô")
            codebook(session, snapshot).to_excel(writer, index=False, sheet_name="Sổ tay biến")
        return buffer.getvalue(), XLSX, f"{base}-vi-mo.xlsx"
    mimetype = "application/x-spss-sav" if ext == "sav" else "application/x-stata-dta"
    return _readstat(table, variable_labels, value_labels, ext), mimetype, f"{base}-vi-mo.{ext}"


#: Every file of a snapshot, as `flask report build` writes them.
ALL_EXPORTS = (
    ("uoc-luong", "csv"),
    ("uoc-luong", "xlsx"),
    ("vi-mo", "csv"),
    ("vi-mo", "xlsx"),
    ("vi-mo", "sav"),
    ("vi-mo", "dta"),
    ("so-tay-bien", "csv"),
)
