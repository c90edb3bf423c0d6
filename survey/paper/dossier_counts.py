"""Importing a table of dossier counts exported from the one-stop system: dossiers by place
of receipt × field group (or lĩnh vực) × period. A QR period that no survey round's frame
covers is post-stratified to these counts.

The file (CSV UTF-8 or XLSX) has Vietnamese headers:

* ``Nơi tiếp nhận`` — the place's code or its name (with or without diacritics);
* ``Nhóm lĩnh vực`` (Đất đai, Xây dựng, Đầu tư, Khác) or ``Lĩnh vực`` (the national name,
  mapped by :data:`survey.paper.procedures.LINH_VUC_GROUPS`);
* the period: ``Từ ngày`` and ``Đến ngày``, or ``Kỳ`` (``03/2026``, ``2026-03``, ``Quý 1/2026``,
  ``2026``);
* ``Số hồ sơ`` — a whole number ≥ 0.

Rows of one place, group and period (several lĩnh vực of one group) are added up. The file is
imported whole or not at all: any problem, and the page lists them grouped by kind with the
first rows of each.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from survey.models import DossierCount, DossierCountTable, Place, User
from survey.paper.frames import FrameError, read_table
from survey.paper.procedures import FIELD_GROUP_NAMES, group_of_linh_vuc, plain

COLUMNS = {
    "place": ("nơi tiếp nhận", "mã nơi tiếp nhận", "tên nơi tiếp nhận", "đơn vị", "đơn vị tiếp nhận"),
    "field_group": ("nhóm lĩnh vực",),
    "linh_vuc": ("lĩnh vực", "tên lĩnh vực"),
    "start": ("từ ngày", "ngày bắt đầu"),
    "end": ("đến ngày", "ngày kết thúc"),
    "period": ("kỳ", "kỳ báo cáo", "tháng", "quý", "năm"),
    "dossiers": ("số hồ sơ", "số lượng hồ sơ", "số hồ sơ đã giải quyết", "tổng số hồ sơ"),
}
LABELS = {
    "place": "Nơi tiếp nhận",
    "field_group": "Nhóm lĩnh vực",
    "linh_vuc": "Lĩnh vực",
    "start": "Từ ngày",
    "end": "Đến ngày",
    "period": "Kỳ",
    "dossiers": "Số hồ sơ",
}
_ALIASES = {plain(alias): key for key, aliases in COLUMNS.items() for alias in aliases}


class CountsError(ValueError):
    """The file cannot be imported; ``groups`` lists the problems (kind, count, first rows)."""

    def __init__(self, message: str, groups: list[ProblemGroup] | None = None) -> None:
        super().__init__(message)
        self.groups = groups or []


@dataclass(frozen=True)
class ProblemGroup:
    message: str
    count: int
    first_rows: tuple[int, ...]  # as in a spreadsheet: the header is row 1


@dataclass
class _Problems:
    rows: dict[str, list[int]] = field(default_factory=dict)

    def add(self, message: str, row: int) -> None:
        self.rows.setdefault(message, []).append(row)

    def grouped(self) -> list[ProblemGroup]:
        groups = [ProblemGroup(m, len(r), tuple(r[:8])) for m, r in self.rows.items()]
        return sorted(groups, key=lambda g: (-g.count, g.first_rows[0]))


def _columns(frame: pd.DataFrame) -> dict[str, str]:
    found: dict[str, str] = {}
    for header in frame.columns:
        key = _ALIASES.get(plain(str(header)))
        if key is None:
            continue
        if key in found:
            raise CountsError(f"Hai cột cùng là “{LABELS[key]}”: “{found[key]}” và “{header}”.")
        found[key] = str(header)
    missing = [LABELS[k] for k in ("place", "dossiers") if k not in found]
    if "field_group" not in found and "linh_vuc" not in found:
        missing.append("Nhóm lĩnh vực (hoặc Lĩnh vực)")
    if "period" not in found and not {"start", "end"} <= found.keys():
        missing.append("Từ ngày và Đến ngày (hoặc Kỳ)")
    if missing:
        raise CountsError(
            "Thiếu cột: " + ", ".join(missing) + ". Các cột có trong tệp: " + ", ".join(map(str, frame.columns)) + "."
        )
    return found


def _day(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _month_end(year: int, month: int) -> date:
    after = date(year + month // 12, month % 12 + 1, 1)
    return date.fromordinal(after.toordinal() - 1)


def period_of(text: str) -> tuple[date, date] | None:
    """``03/2026`` or ``2026-03`` (a month), ``Quý 1/2026`` or ``Q1/2026`` (a quarter),
    ``2026`` or ``Năm 2026`` (a year); None when it is none of these."""
    value = plain(text).replace(" ", "")
    try:
        if m := re.fullmatch(r"(?:thang)?(\d{1,2})[/-](\d{4})", value):
            month, year = int(m[1]), int(m[2])
        elif m := re.fullmatch(r"(\d{4})-(\d{1,2})", value):
            year, month = int(m[1]), int(m[2])
        elif m := re.fullmatch(r"(?:quy|q)([1-4])[/-](\d{4})", value):
            quarter, year = int(m[1]), int(m[2])
            return date(year, 3 * quarter - 2, 1), _month_end(year, 3 * quarter)
        elif m := re.fullmatch(r"(?:nam)?(\d{4})", value):
            year = int(m[1])
            return date(year, 1, 1), date(year, 12, 31)
        else:
            return None
        return (date(year, month, 1), _month_end(year, month)) if 1 <= month <= 12 else None
    except ValueError:
        return None


@dataclass(frozen=True)
class CheckedCounts:
    cells: pd.DataFrame  # place_id, field_group, period_start, period_end, dossiers (summed)
    rows: int


def check(session: Session, frame: pd.DataFrame) -> CheckedCounts:
    """Every row checked; the cells summed. Raises `CountsError` with the grouped problems."""
    columns = _columns(frame)
    if frame.empty:
        raise CountsError("Tệp không có dòng số liệu nào.")
    places: dict[str, int] = {}
    for place_id, code, name in session.execute(sa.select(Place.id, Place.code, Place.name)).all():
        places[plain(code)] = place_id
        places.setdefault(plain(name), place_id)
    problems = _Problems()
    out: list[tuple[int, str, date, date, int]] = []
    for i, record in enumerate(frame.to_dict("records")):
        row = i + 2
        place = places.get(plain(str(record[columns["place"]])))
        if place is None:
            problems.add(f"Không có nơi tiếp nhận “{str(record[columns['place']]).strip()[:60]}” trong danh mục.", row)
        group = None
        if "field_group" in columns and str(record[columns["field_group"]]).strip():
            group = FIELD_GROUP_NAMES.get(plain(str(record[columns["field_group"]])))
            if group is None:
                problems.add(
                    f"Nhóm lĩnh vực “{str(record[columns['field_group']]).strip()[:40]}” không hợp lệ "
                    "(Đất đai, Xây dựng, Đầu tư hoặc Khác).",
                    row,
                )
        elif "linh_vuc" in columns and str(record[columns["linh_vuc"]]).strip():
            group = group_of_linh_vuc(str(record[columns["linh_vuc"]]))
        else:
            problems.add("Thiếu nhóm lĩnh vực (hoặc lĩnh vực).", row)
        if "period" in columns and str(record[columns["period"]]).strip():
            bounds = period_of(str(record[columns["period"]]))
            if bounds is None:
                problems.add(
                    "Kỳ không đọc được (ví dụ hợp lệ: 03/2026, 2026-03, Quý 1/2026, 2026).",
                    row,
                )
        elif {"start", "end"} <= columns.keys():
            first, last = _day(record[columns["start"]]), _day(record[columns["end"]])
            bounds = None
            if first is None or last is None:
                problems.add("Ngày không đọc được (dạng 31/03/2026 hoặc 2026-03-31).", row)
            elif last < first:
                problems.add("Đến ngày trước Từ ngày.", row)
            else:
                bounds = (first, last)
        else:
            bounds = None
            problems.add("Thiếu kỳ (Từ ngày và Đến ngày, hoặc Kỳ).", row)
        raw = str(record[columns["dossiers"]]).strip().replace(".", "").replace(",", "").replace(" ", "")
        if not raw.isdigit():
            problems.add("Số hồ sơ phải là số nguyên không âm.", row)
        elif place is not None and group is not None and bounds is not None:
            out.append((place, group, bounds[0], bounds[1], int(raw)))
    if problems.rows:
        groups = problems.grouped()
        total = sum(g.count for g in groups)
        raise CountsError(f"Tệp có {total} lỗi; không dòng nào được nhập.", groups)
    cells = pd.DataFrame(out, columns=["place_id", "field_group", "period_start", "period_end", "dossiers"])
    cells = cells.groupby(["place_id", "field_group", "period_start", "period_end"], as_index=False)["dossiers"].sum()
    _refuse_overlaps(cells)
    return CheckedCounts(cells, len(frame))


def _refuse_overlaps(cells: pd.DataFrame) -> None:
    """Two different periods of one place and group that overlap would count dossiers twice."""
    for (_place, _group), part in cells.groupby(["place_id", "field_group"]):
        spans = sorted(zip(part["period_start"], part["period_end"], strict=True))
        for (a_start, a_end), (b_start, _b_end) in itertools.pairwise(spans):
            if b_start <= a_end:
                raise CountsError(
                    f"Hai kỳ chồng lên nhau cho cùng nơi tiếp nhận và nhóm lĩnh vực: "
                    f"{a_start:%d/%m/%Y}–{a_end:%d/%m/%Y} và từ {b_start:%d/%m/%Y}."
                )


def import_counts(
    session: Session, data: bytes, filename: str, *, name: str | None = None, actor: User | None = None
) -> DossierCountTable:
    """Read, check and store a file of dossier counts as a new table (flushes; the caller
    commits). Raises `CountsError`; nothing is written then."""
    try:
        frame = read_table(data, filename)
    except FrameError as exc:
        raise CountsError(str(exc)) from None
    checked = check(session, frame)
    cells = checked.cells
    table = DossierCountTable(
        name=(name or Path(filename).stem)[:200],
        filename=Path(filename).name[:255],
        period_start=min(cells["period_start"]),
        period_end=max(cells["period_end"]),
        cells=len(cells),
        dossiers=int(cells["dossiers"].sum()),
        created_by_id=None if actor is None else actor.id,
    )
    session.add(table)
    session.flush()
    session.execute(
        sa.insert(DossierCount),
        [
            {
                "table_id": table.id,
                "place_id": int(r.place_id),
                "field_group": str(r.field_group),
                "period_start": r.period_start,
                "period_end": r.period_end,
                "dossiers": int(r.dossiers),
            }
            for r in cells.itertuples(index=False)
        ],
    )
    session.flush()
    return table


def tables_newest_first(session: Session) -> list[DossierCountTable]:
    return list(session.scalars(sa.select(DossierCountTable).order_by(DossierCountTable.id.desc())))
