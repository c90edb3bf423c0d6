"""Importing the sampling frame: the completed dossiers of a period, exported as CSV or XLSX
from the provincial dossier system.

Every problem is reported with its row (the line number a person sees in a spreadsheet,
header = row 1) and column. Nothing is half-imported: either the whole file goes in, or —
only when the caller says so after seeing the report — exactly the valid rows do.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from survey.models import FrameRecord, Place, Procedure, SurveyRound
from survey.paper import procedures

COLUMNS = {
    "dossier_code": ("mã hồ sơ", "số hồ sơ", "mã số hồ sơ", "số biên nhận", "mã biên nhận", "dossier code"),
    "procedure_code": (
        "mã thủ tục",
        "mã tthc",
        "mã thủ tục hành chính",
        "mã thủ tục hc",
        "mã tthc quốc gia",
        "procedure code",
    ),
    "linh_vuc": ("lĩnh vực", "tên lĩnh vực", "lĩnh vực thủ tục", "lĩnh vực tthc"),
    "field_group": ("nhóm lĩnh vực", "field group"),
    "place": (
        "nơi tiếp nhận",
        "mã nơi tiếp nhận",
        "đơn vị tiếp nhận",
        "cơ quan tiếp nhận",
        "nơi nộp hồ sơ",
        "bộ phận một cửa",
        "place",
        "place code",
    ),
    "result_date": (
        "ngày trả kết quả",
        "ngày trả",
        "ngày trả kết quả thực tế",
        "ngày có kết quả",
        "ngày hoàn thành",
        "ngày trả kq",
        "result date",
    ),
    "applicant_name": (
        "họ tên",
        "họ và tên",
        "chủ hồ sơ",
        "tên chủ hồ sơ",
        "họ tên chủ hồ sơ",
        "người nộp",
        "tên người nộp",
        "người nộp hồ sơ",
        "người đứng tên",
        "tổ chức/cá nhân",
        "tên tổ chức, cá nhân",
        "applicant name",
        "applicant",
        "name",
    ),
    "phone": ("số điện thoại", "điện thoại", "sđt", "số điện thoại chủ hồ sơ", "điện thoại liên hệ", "phone"),
    "address": ("địa chỉ", "địa chỉ chủ hồ sơ", "địa chỉ liên hệ", "address"),
}
REQUIRED = ("dossier_code", "place", "result_date")
#: At least one of these gives a row its field group.
GROUP_SOURCES = ("field_group", "procedure_code", "linh_vuc")
COLUMN_LABELS = {
    "dossier_code": "Mã hồ sơ",
    "procedure_code": "Mã thủ tục",
    "linh_vuc": "Lĩnh vực",
    "field_group": "Nhóm lĩnh vực",
    "place": "Nơi tiếp nhận",
    "result_date": "Ngày trả kết quả",
    "applicant_name": "Họ tên",
    "phone": "Số điện thoại",
    "address": "Địa chỉ",
}
MAX_LENGTH = {
    "dossier_code": 40,
    "procedure_code": 40,
    "linh_vuc": 200,
    "applicant_name": 200,
    "phone": 40,
    "address": 400,
}
DOSSIER_RE = re.compile(r"^[A-Za-z0-9./_-]+$")


class FrameError(ValueError):
    """The file cannot be read at all (encoding, format, missing columns)."""


class MappingError(FrameError):
    """A column mapping that cannot be used: every reason, each a sentence in Vietnamese."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(" ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class Problem:
    row: int  # as a person sees it in a spreadsheet: the header is row 1
    column: str
    message: str
    value: str = ""  # the cell as found (control characters shown as U+0000)


@dataclass(frozen=True)
class ProblemGroup:
    """Problems with the same column, message and value: "1.000001: 6.712 dòng"."""

    column: str
    message: str
    value: str
    count: int
    first_rows: tuple[int, ...]


@dataclass
class FrameCheck:
    """The result of checking a file: the valid rows ready to insert and every problem."""

    rows: pd.DataFrame
    valid: np.ndarray
    problems: list[Problem] = field(default_factory=list)
    #: Headers of the file that map to nothing (listed so the user sees what was ignored).
    unused: list[str] = field(default_factory=list)
    #: {header in the file: what it was read as}, for the report.
    mapped: dict[str, str] = field(default_factory=dict)
    #: Rows whose field group came from their lĩnh vực, per (lĩnh vực, group).
    from_linh_vuc: dict[tuple[str, str], int] = field(default_factory=dict)

    def grouped(self, first: int = 5) -> list[ProblemGroup]:
        """The problems grouped by column, message and value, largest group first."""
        groups: dict[tuple[str, str, str], list[int]] = {}
        for p in self.problems:
            groups.setdefault((p.column, p.message, p.value), []).append(p.row)
        out = [ProblemGroup(c, m, v, len(rows), tuple(rows[:first])) for (c, m, v), rows in groups.items()]
        return sorted(out, key=lambda g: (-g.count, g.first_rows[0]))

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    @property
    def n_valid(self) -> int:
        return int(self.valid.sum())

    def problems_csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["dòng", "cột", "lỗi", "giá trị"])
        for p in self.problems:
            writer.writerow([p.row, p.column, p.message, p.value])
        return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8


def _key(text: str) -> str:
    text = unicodedata.normalize("NFC", str(text)).strip().lower().replace("_", " ")
    return re.sub(r"\s+", " ", text)


def _ascii(text: str) -> str:
    stripped = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    return stripped.replace("đ", "d").replace("Đ", "D")


def header_key(header: object) -> str:
    """A header as compared: NFC, lower case, single spaces, no diacritics ("Số hồ sơ" → "so ho so")."""
    return _ascii(_key(str(header)))


_ALIASES = {}
for canonical, aliases in COLUMNS.items():
    for alias in (canonical, *aliases):
        _ALIASES[header_key(alias)] = canonical


def read_table(data: bytes, filename: str, *, limit: int | None = None) -> pd.DataFrame:
    """Read a CSV (UTF-8, with or without BOM; comma, semicolon or tab) or XLSX file into a
    DataFrame of strings (dates from Excel stay dates); only the first `limit` rows if given
    (the headers and a few sample values). Raises `FrameError`."""
    suffix = Path(filename).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(data, limit)
    if suffix not in (".csv", ".txt"):
        raise FrameError(f"Không đọc được tệp {filename}: chỉ nhận CSV hoặc XLSX.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FrameError(
            f"Tệp không phải UTF-8 (byte {exc.start}). Trong Excel, hãy lưu bằng 'CSV UTF-8 (Comma delimited)'."
        ) from None
    if not text.strip():
        raise FrameError("Tệp rỗng.")
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    try:
        return pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            engine="c",
            nrows=limit,
        )
    except pd.errors.ParserError as exc:
        raise FrameError(_csv_structure_message(str(exc), delimiter)) from None


def _csv_structure_message(detail: str, delimiter: str) -> str:
    """The parser's complaint in Vietnamese, with the line it names (pandas says it in English)."""
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", detail)
    if found is None:
        return "Tệp CSV sai cấu trúc: không đọc được các cột. Hãy mở tệp bằng Excel và lưu lại dạng 'CSV UTF-8'."
    expected, line, saw = found.groups()
    shown = "Tab" if delimiter == "\t" else delimiter
    return (
        f"Tệp CSV sai cấu trúc: dòng {line} có {saw} cột, trong khi dòng tiêu đề có {expected} cột "
        f"(có thể một ô chứa dấu phân cách “{shown}” mà không nằm trong dấu ngoặc kép)."
    )


def _read_xlsx(data: bytes, limit: int | None = None) -> pd.DataFrame:
    from openpyxl import load_workbook  # only when an Excel file comes: keeps it out of every worker's start-up

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a damaged file
        raise FrameError(
            "Không mở được tệp Excel: tệp bị hỏng hoặc không phải định dạng .xlsx (tệp .xls cũ cũng vậy). "
            "Hãy mở tệp bằng Excel và lưu lại dạng 'Excel Workbook (.xlsx)'."
        ) from None
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise FrameError("Tệp Excel rỗng.")
        names = _unique_names(["" if h is None else str(h).strip() for h in header])
        records = [tuple("" if v is None else v for v in row) for row in itertools.islice(rows, limit)]
    finally:
        workbook.close()
    frame = pd.DataFrame.from_records(records, columns=names) if records else pd.DataFrame(columns=names)
    for column in frame.columns:
        frame[column] = frame[column].map(lambda v: v if isinstance(v, datetime | date) else str(v).strip())
    return frame


def _unique_names(names: list[str]) -> list[str]:
    """Blank and repeated headers made distinct as pandas does for a CSV ("Cột 3", "Ngày.1")."""
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names, start=1):
        name = name or f"Cột {i}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        seen.setdefault(name, 0)
        out.append(name)
    return out


def guess_columns(headers: list[str]) -> dict[str, str]:
    """{field: header} for the headers the importer recognises (the first of two that mean
    the same field)."""
    found: dict[str, str] = {}
    for header in headers:
        canonical = _ALIASES.get(header_key(header))
        if canonical is not None and canonical not in found:
            found[canonical] = header
    return found


def validate_columns(columns: dict[str, str | None], headers: list[str]) -> dict[str, str]:
    """A mapping the user chose ({field: header or None}) checked against the file's headers;
    the mapping without its unused fields. Raises `MappingError` with every reason."""
    chosen = {c: h for c, h in columns.items() if h}
    reasons = [_("Trường lạ: %(f)s.", f=c) for c in chosen if c not in COLUMNS]
    reasons += [_("Cột “%(h)s” không có trong tệp.", h=h) for h in chosen.values() if h not in headers]
    by_header: dict[str, list[str]] = {}
    for canonical, header in chosen.items():
        by_header.setdefault(header, []).append(COLUMN_LABELS.get(canonical, canonical))
    for header, fields in by_header.items():
        if len(fields) > 1:
            reasons.append(
                _(
                    "Cột “%(h)s” được chọn cho nhiều trường (%(fields)s): mỗi cột chỉ dùng cho một trường.",
                    h=header,
                    fields=", ".join(fields),
                )
            )
    missing = [COLUMN_LABELS[c] for c in REQUIRED if c not in chosen]
    if missing:
        reasons.append(_("Chưa chọn cột cho trường bắt buộc: %(fields)s.", fields=", ".join(missing)))
    if not set(GROUP_SOURCES) & chosen.keys():
        reasons.append(
            _("Cần chọn cột cho ít nhất một trong: Nhóm lĩnh vực, Mã thủ tục, Lĩnh vực (để xác định nhóm lĩnh vực).")
        )
    if reasons:
        raise MappingError(reasons)
    return {c: h for c, h in chosen.items() if c in COLUMNS}


def map_columns(frame: pd.DataFrame) -> dict[str, str]:
    """{canonical: header in the file}. Raises `FrameError` for missing or doubled columns."""
    found: dict[str, str] = {}
    for header in frame.columns:
        canonical = _ALIASES.get(header_key(header))
        if canonical is None:
            continue
        if canonical in found:
            raise FrameError(f"Hai cột cùng là '{COLUMN_LABELS[canonical]}': '{found[canonical]}' và '{header}'.")
        found[canonical] = header
    missing = [COLUMN_LABELS[c] for c in REQUIRED if c not in found]
    if not {"field_group", "procedure_code", "linh_vuc"} & found.keys():
        missing.append("Nhóm lĩnh vực (hoặc Lĩnh vực, Mã thủ tục để suy ra)")
    if missing:
        raise FrameError(
            "Thiếu cột: " + ", ".join(missing) + ". Các cột có trong tệp: " + ", ".join(map(str, frame.columns))
        )
    return found


def _parse_dates(values: pd.Series) -> pd.Series:
    """Dates as ISO (2026-03-31), Vietnamese (31/03/2026), Excel dates or Excel serial numbers."""
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    is_date = values.map(lambda v: isinstance(v, datetime | date))
    if is_date.any():
        out[is_date] = pd.to_datetime(values[is_date].map(lambda v: v.date() if isinstance(v, datetime) else v))
    text = values[~is_date].astype(str).str.strip()
    iso = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    vn = pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")
    serial = pd.to_numeric(text.where(text.str.fullmatch(r"\d{5}(\.0+)?")), errors="coerce")
    excel = pd.to_datetime("1899-12-30") + pd.to_timedelta(serial, unit="D")
    out[~is_date] = iso.fillna(vn).fillna(excel)
    return out


CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _shown(text: str) -> str:
    """A cell value for the report: control characters written as U+0000, at most 60 characters."""
    text = CONTROL_RE.sub(lambda m: f"U+{ord(m.group()):04X}", text)
    return text if len(text) <= 60 else text[:57] + "…"


def check(
    session: Session, survey_round: SurveyRound, table: pd.DataFrame, columns: dict[str, str] | None = None
) -> FrameCheck:
    """Validate every row against the places, procedures and the round's period. `columns`
    ({field: header}, e.g. from the mapping step or a profile) replaces the recognition of the
    headers."""
    headers = [str(c) for c in table.columns]
    columns = map_columns(table) if columns is None else validate_columns(dict(columns), headers)
    n = len(table)
    rows = pd.DataFrame(index=table.index)
    problems: list[Problem] = []
    valid = np.ones(n, dtype=bool)
    row_numbers = np.arange(2, n + 2)

    def flag(mask: np.ndarray | pd.Series, canonical: str, message: str, values: pd.Series | None = None) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        valid[mask] = False
        header = columns.get(canonical, COLUMN_LABELS[canonical])
        shown = [""] * int(mask.sum()) if values is None else [_shown(str(v)) for v in values[mask]]
        problems.extend(Problem(int(r), header, message, v) for r, v in zip(row_numbers[mask], shown, strict=True))

    for canonical, header in columns.items():
        raw = table[header]
        text = raw.map(lambda v: v.isoformat() if isinstance(v, datetime | date) else str(v))
        # NUL and other control characters: PostgreSQL refuses NUL, and none belongs in a frame.
        flag(text.str.contains(CONTROL_RE.pattern, regex=True), canonical, "có ký tự điều khiển (không in được)", text)
        if canonical != "result_date":
            rows[canonical] = text.str.strip().map(lambda s: unicodedata.normalize("NFC", s))
    for canonical, limit in MAX_LENGTH.items():
        if canonical in rows:
            flag(rows[canonical].str.len() > limit, canonical, f"dài quá {limit} ký tự", rows[canonical])

    code = rows["dossier_code"].str.upper()
    clean = valid.copy()
    flag(code == "", "dossier_code", "thiếu mã hồ sơ")
    flag(
        clean & (code != "") & ~code.str.fullmatch(DOSSIER_RE.pattern),
        "dossier_code",
        "mã hồ sơ có ký tự không hợp lệ",
        code,
    )
    duplicated = ((code != "") & code.duplicated(keep=False)).to_numpy()
    if duplicated.any():
        first_row = pd.Series(row_numbers[duplicated]).groupby(code[duplicated].to_numpy()).transform("min").to_numpy()
        for idx, first in zip(np.flatnonzero(duplicated), first_row, strict=True):
            valid[idx] = False
            where = "" if first == row_numbers[idx] else f" (đã có ở dòng {first})"
            problems.append(
                Problem(
                    int(row_numbers[idx]),
                    columns["dossier_code"],
                    f"mã hồ sơ {code.iloc[idx]} bị trùng{where}",
                    _shown(code.iloc[idx]),
                )
            )
    rows["dossier_code"] = code

    places = {p.code.upper(): p.id for p in session.scalars(sa.select(Place))}
    names = {_ascii(_key(p.name)): p.id for p in session.scalars(sa.select(Place))}
    place_key = rows["place"]
    cache: dict[str, int | None] = {}

    def resolve(text: str) -> float:
        if text not in cache:
            cache[text] = places.get(text.upper(), names.get(_ascii(_key(text))))
        found = cache[text]
        return np.nan if found is None else float(found)

    place_id = pd.Series([resolve(t) for t in place_key], index=rows.index, dtype="float64")
    flag(
        place_id.isna() & (place_key != ""),
        "place",
        "nơi tiếp nhận không có trong danh mục (nhập mã hoặc đúng tên)",
        place_key,
    )
    flag(place_key == "", "place", "thiếu nơi tiếp nhận")
    rows["place_id"] = place_id

    # The field group: an explicit column, else the procedure catalogue, else the lĩnh vực table.
    group = pd.Series(None, index=rows.index, dtype=object)
    if "field_group" in rows:
        group = rows["field_group"].map(lambda s: procedures.FIELD_GROUP_NAMES.get(procedures.plain(s)))
    if "procedure_code" in rows:
        catalogue = dict(
            session.execute(sa.select(Procedure.code, Procedure.field_group).where(Procedure.active)).all()
        )
        group = group.fillna(rows["procedure_code"].map(catalogue))
    from_linh_vuc: dict[tuple[str, str], int] = {}
    if "linh_vuc" in rows:
        named = group.isna() & (rows["linh_vuc"] != "")
        if "field_group" in rows:
            named &= rows["field_group"] == ""
        linh_vuc_table = procedures.linh_vuc_groups(session)
        derived = rows["linh_vuc"][named].map(lambda name: procedures.group_of_linh_vuc(name, linh_vuc_table))
        group = group.fillna(derived)
        for (name, value), count in pd.DataFrame({"l": rows["linh_vuc"][named], "g": derived}).value_counts().items():
            from_linh_vuc[(str(name), str(value))] = int(count)
    bad_group = group.isna()
    if "field_group" in rows:
        flag(
            bad_group & (rows["field_group"] != ""),
            "field_group",
            "nhóm lĩnh vực phải là Đất đai, Xây dựng, Đầu tư hoặc Khác",
            rows["field_group"],
        )
        bad_group &= rows["field_group"] == ""
    if "procedure_code" in rows:
        flag(
            bad_group & (rows["procedure_code"] != ""),
            "procedure_code",
            "mã thủ tục không có trong danh mục, không suy ra được nhóm lĩnh vực "
            "(nhập danh mục bằng 'flask procedures import' hoặc thêm cột Lĩnh vực)",
            rows["procedure_code"],
        )
        bad_group &= rows["procedure_code"] == ""
    flag(bad_group, "field_group" if "field_group" in rows else "linh_vuc", "thiếu nhóm lĩnh vực (hoặc lĩnh vực)")
    rows["field_group"] = group

    dates = _parse_dates(table[columns["result_date"]])
    raw_dates = table[columns["result_date"]].astype(str).str.strip()
    flag(
        dates.isna() & (raw_dates != ""),
        "result_date",
        "ngày không hợp lệ (dùng 31/12/2026 hoặc 2026-12-31)",
        raw_dates,
    )
    flag(raw_dates == "", "result_date", "thiếu ngày trả kết quả")
    start, end = pd.Timestamp(survey_round.period_start), pd.Timestamp(survey_round.period_end)
    outside = dates.notna() & ((dates < start) | (dates > end))
    flag(
        outside,
        "result_date",
        f"ngày trả kết quả ngoài kỳ khảo sát ({survey_round.period_start:%d/%m/%Y}–{survey_round.period_end:%d/%m/%Y})",
        dates.dt.strftime("%d/%m/%Y"),
    )
    rows["result_date"] = dates

    problems.sort(key=lambda p: (p.row, p.column))
    return FrameCheck(
        rows=rows,
        valid=valid,
        problems=problems,
        unused=[str(c) for c in table.columns if c not in columns.values()],
        mapped={header: COLUMN_LABELS[canonical] for canonical, header in columns.items()},
        from_linh_vuc=from_linh_vuc,
    )


def store(session: Session, survey_round: SurveyRound, checked: FrameCheck, *, valid_only: bool = False) -> int:
    """Insert the frame in the current transaction (the caller commits once). Refuses a file
    with problems unless `valid_only` — then exactly the valid rows go in. Replaces the
    round's previous frame while it has not been sampled."""
    if checked.problems and not valid_only:
        raise FrameError(f"Tệp có {len(checked.problems)} lỗi; sửa tệp hoặc xác nhận chỉ nhập các dòng hợp lệ.")
    if survey_round.status != "frame":
        raise FrameError("Đợt khảo sát đã chọn mẫu: không thay khung mẫu được nữa.")
    session.execute(sa.delete(FrameRecord).where(FrameRecord.round_id == survey_round.id))
    rows = checked.rows[checked.valid]
    if rows.empty:
        raise FrameError("Không có dòng hợp lệ nào để nhập.")
    place_codes = dict(session.execute(sa.select(Place.id, Place.code)).all())
    place_id = rows["place_id"].astype(int)
    data = pd.DataFrame(
        {
            "round_id": survey_round.id,
            "dossier_code": rows["dossier_code"],
            "procedure_code": rows.get("procedure_code"),
            "linh_vuc": rows.get("linh_vuc"),
            "field_group": rows["field_group"],
            "place_id": place_id,
            "result_date": rows["result_date"].dt.date,
            "stratum": place_id.map(place_codes) + "|" + rows["field_group"],
            "applicant_name": rows.get("applicant_name"),
            "phone": rows.get("phone"),
            "address": rows.get("address"),
        }
    )
    for column in ("procedure_code", "linh_vuc", "applicant_name", "phone", "address"):
        data[column] = data[column].replace("", None) if data[column].notna().any() else None
    _bulk_insert(session, data)
    return len(data)


def _bulk_insert(session: Session, data: pd.DataFrame) -> None:
    connection = session.connection()
    columns = list(data.columns)
    if connection.dialect.name == "postgresql":
        dbapi = connection.connection.dbapi_connection
        # pandas writes the CSV in C; an empty unquoted field is NULL in COPY's CSV format.
        text = data.to_csv(header=False, index=False, date_format="%Y-%m-%d")
        statement = f"COPY frame_record ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
        with dbapi.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(text.encode("utf-8"))
        return
    # SQLite: the DB-API's executemany on plain tuples, inside the session's transaction
    # (SQLAlchemy's per-row parameter processing is most of the cost at a million rows).
    data = data.assign(result_date=data["result_date"].map(lambda d: d.isoformat()))
    data = data.astype(object).where(data.notna(), None)
    placeholders = ", ".join("?" for _ in columns)
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.executemany(
            f"INSERT INTO frame_record ({', '.join(columns)}) VALUES ({placeholders})",
            data.itertuples(index=False, name=None),
        )
    finally:
        cursor.close()


def frame_summary(session: Session, round_id: int) -> list[sa.Row]:
    """Dossiers per stratum of a round's frame."""
    return session.execute(
        sa.select(FrameRecord.stratum, FrameRecord.place_id, FrameRecord.field_group, sa.func.count())
        .where(FrameRecord.round_id == round_id)
        .group_by(FrameRecord.stratum, FrameRecord.place_id, FrameRecord.field_group)
        .order_by(FrameRecord.stratum)
    ).all()


__all__ = [
    "FrameCheck",
    "FrameError",
    "MappingError",
    "Problem",
    "check",
    "frame_summary",
    "guess_columns",
    "header_key",
    "read_table",
    "store",
    "validate_columns",
]
