"""A frame as the one-stop system exports it: Vietnamese headers in its own order, national
procedure codes, lĩnh vực names, the applicant as "Chủ hồ sơ", place names (with and without
diacritics) — tens of thousands of rows."""

from __future__ import annotations

import csv
import functools
import io
import random

import sqlalchemy as sa

EXPORT_HEADER = [
    "STT",
    "Số hồ sơ",
    "Mã TTHC",
    "Tên thủ tục",
    "Lĩnh vực",
    "Chủ hồ sơ",
    "Số điện thoại",
    "Địa chỉ",
    "Đơn vị tiếp nhận",
    "Ngày tiếp nhận",
    "Ngày hẹn trả",
    "Ngày trả kết quả",
]
#: (mã TTHC, tên, lĩnh vực) as in the national database; the last two are "khac".
PROCEDURES = [
    ("1.000001", "Đăng ký đất đai lần đầu", "Đất đai"),
    ("1.004227", "Cấp giấy phép xây dựng nhà ở riêng lẻ", "Xây dựng"),
    ("2.001827", "Cấp Giấy chứng nhận đăng ký đầu tư", "Đầu tư tại Việt Nam"),
    ("1.001193", "Đăng ký khai sinh", "Hộ tịch"),
    ("2.000815", "Chứng thực bản sao từ bản chính", "Chứng thực"),
]
EXPECTED_GROUP = {"Đất đai": "dat_dai", "Xây dựng": "xay_dung", "Đầu tư tại Việt Nam": "dau_tu"}


def place_names(session, n: int = 12) -> list[str]:
    from survey.models import Place

    return list(session.scalars(sa.select(Place.name).order_by(Place.code).limit(n)))


def export_rows(places: list[str], n: int, *, seed: int = 1) -> list[list[object]]:
    rng = random.Random(seed)
    rows = []
    for i in range(1, n + 1):
        code, name, linh_vuc = PROCEDURES[i % len(PROCEDURES)]
        place = places[i % len(places)]
        if i % 3 == 0:  # some offices export names without diacritics
            from survey.paper.procedures import plain

            place = plain(place).title()
        day = 1 + rng.randrange(28)
        rows.append(
            [
                i,
                f"000.00.{i % 97:02d}.H03-260{i:06d}",
                code,
                name,
                linh_vuc,
                f"Nguyễn Thị Hồ Sơ {i}",
                f"09{i:08d}",
                f"Số {i}, thôn Đông, {place}",
                place,
                f"{day:02d}/01/2026",
                f"{day:02d}/02/2026",
                f"{day:02d}/02/2026",
            ]
        )
    return rows


def export_csv(rows: list[list[object]], *, bom: bool) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


@functools.cache
def export_xlsx_of(n: int, places: tuple[str, ...], seed: int) -> bytes:
    """The XLSX export, written once per test session (openpyxl takes seconds at 60,000 rows)."""
    return export_xlsx(export_rows(list(places), n, seed=seed))


def export_xlsx(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()  # not write_only: that mode leaves temporary files to the garbage collector
    sheet = book.active
    sheet.title = "Danh sách hồ sơ"
    sheet.append(EXPORT_HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
