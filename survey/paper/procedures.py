"""The procedure catalogue (danh mục thủ tục hành chính) and the lĩnh vực → field group table.

A frame row gets its field group from, in order:

1. an explicit "Nhóm lĩnh vực" column of the file;
2. the catalogue entry of its procedure code (mã TTHC) — the catalogue overrides the lĩnh vực
   table per procedure;
3. its lĩnh vực through the lĩnh vực table (`linh_vuc_group`, edited by an admin; names matched
   after NFC, without diacritics and case); a lĩnh vực not in the table is "khac".

The table starts as `DEFAULT_LINH_VUC` (the national names, seeded by the migration); while it
is empty the defaults apply, and the first edit copies them in. The catalogue is imported from
the national list (`flask procedures import`): mã TTHC, tên, lĩnh vực, cấp thực hiện, optionally
nhóm lĩnh vực.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from survey.models import LinhVucGroup, Procedure
from survey.models.base import FIELD_GROUP_LABELS, FIELD_GROUPS


def plain(text: str) -> str:
    """Lower case, single spaces, no diacritics ("Đầu tư tại Việt Nam" → "dau tu tai viet nam")."""
    text = unicodedata.normalize("NFC", str(text)).strip().lower().replace("_", " ")
    text = re.sub(r"\s+", " ", text)
    stripped = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    return stripped.replace("đ", "d")


#: National lĩnh vực names (as the one-stop system exports them) of the land, construction and
#: investment groups: the seed of the lĩnh vực table, and what applies while it is empty. Any
#: other lĩnh vực (Hộ tịch, Chứng thực, Tư pháp, …) is "khac".
DEFAULT_LINH_VUC: tuple[tuple[str, str], ...] = (
    ("Đất đai", "dat_dai"),
    ("Đo đạc, bản đồ và thông tin địa lý", "dat_dai"),
    ("Xây dựng", "xay_dung"),
    ("Hoạt động xây dựng", "xay_dung"),
    ("Quy hoạch xây dựng, kiến trúc", "xay_dung"),
    ("Quy hoạch xây dựng", "xay_dung"),
    ("Kiến trúc", "xay_dung"),
    ("Nhà ở", "xay_dung"),
    ("Đầu tư", "dau_tu"),
    ("Đầu tư tại Việt Nam", "dau_tu"),
    ("Đầu tư vào Việt Nam", "dau_tu"),
    ("Đầu tư công", "dau_tu"),
    ("Đầu tư theo phương thức đối tác công tư", "dau_tu"),
    ("Đầu tư ra nước ngoài", "dau_tu"),
)
LINH_VUC_GROUPS: dict[str, str] = {plain(name): group for name, group in DEFAULT_LINH_VUC}

#: An explicit field group as people write it: the code or its label, with or without diacritics.
FIELD_GROUP_NAMES: dict[str, str] = (
    {plain(label): code for code, label in FIELD_GROUP_LABELS.items()}
    | {plain(code): code for code in FIELD_GROUPS}
    | {"khac": "khac", "dat dai": "dat_dai", "xay dung": "xay_dung", "dau tu": "dau_tu"}
)


def group_of_linh_vuc(name: str, table: dict[str, str] | None = None) -> str:
    """The field group of a lĩnh vực name under `table` ({plain name: group}; default: the
    national defaults); "khac" when the name is not in it."""
    return (LINH_VUC_GROUPS if table is None else table).get(plain(name), "khac")


# --- the lĩnh vực table as the admin edits it -------------------------------------------------------
class LinhVucError(ValueError):
    """A rule the admin broke; the message is shown beside the form."""


CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def linh_vuc_groups(session: Session) -> dict[str, str]:
    """{plain name: field group} of the table, or the defaults while the table is empty."""
    rows = session.execute(sa.select(LinhVucGroup.name_key, LinhVucGroup.field_group)).all()
    return dict(rows) if rows else dict(LINH_VUC_GROUPS)


def linh_vuc_rows(session: Session) -> list[LinhVucGroup]:
    """The table's rows by field group and name (unsaved default rows while it is empty)."""
    rows = list(session.scalars(sa.select(LinhVucGroup)))
    if not rows:
        rows = [LinhVucGroup(name=name, name_key=plain(name), field_group=group) for name, group in DEFAULT_LINH_VUC]
    return sorted(rows, key=lambda r: (FIELD_GROUPS.index(r.field_group), r.name_key))


def seed_linh_vuc(session: Session) -> int:
    """Copy the defaults into an empty table (a no-op otherwise); how many rows were added."""
    if session.scalar(sa.select(sa.func.count(LinhVucGroup.id))):
        return 0
    session.add_all(
        LinhVucGroup(name=name, name_key=plain(name), field_group=group) for name, group in DEFAULT_LINH_VUC
    )
    session.flush()
    return len(DEFAULT_LINH_VUC)


def save_linh_vuc(session: Session, row: LinhVucGroup | None, *, name: str, field_group: str) -> LinhVucGroup:
    """Add (`row` None) or change a row. The name is stored in NFC; a name equal to another
    row's once diacritics and case are set aside is refused. Flushes; the caller commits."""
    name = re.sub(r"\s+", " ", unicodedata.normalize("NFC", name)).strip()
    if CONTROL_RE.search(name):
        raise LinhVucError(_("Tên lĩnh vực có ký tự điều khiển (không in được)."))
    if not name or len(name) > 200:
        raise LinhVucError(_("Tên lĩnh vực phải có từ 1 đến 200 ký tự."))
    if field_group not in FIELD_GROUPS:
        raise LinhVucError(_("Nhóm lĩnh vực không hợp lệ."))
    seed_linh_vuc(session)
    key = plain(name)
    clash = session.scalar(
        sa.select(LinhVucGroup).where(LinhVucGroup.name_key == key, LinhVucGroup.id != (row.id if row else -1))
    )
    if clash is not None:
        raise LinhVucError(
            _(
                "Lĩnh vực “%(name)s” đã có trong bảng (“%(other)s”: không phân biệt dấu, hoa thường); hãy sửa dòng đó.",
                name=name,
                other=clash.name,
            )
        )
    if row is None:
        row = LinhVucGroup(name=name, name_key=key, field_group=field_group)
        session.add(row)
    else:
        row.name, row.name_key, row.field_group = name, key, field_group
    session.flush()
    return row


def delete_linh_vuc(session: Session, row: LinhVucGroup) -> None:
    """Remove a row (its lĩnh vực becomes "khac"). The last row stays: an empty table would
    bring the defaults back, which is not what deleting a row means."""
    if session.scalar(sa.select(sa.func.count(LinhVucGroup.id))) <= 1:
        raise LinhVucError(_("Không xoá được dòng cuối cùng: bảng trống sẽ trở lại danh sách mặc định."))
    session.delete(row)
    session.flush()


# --- importing the national catalogue -------------------------------------------------------------
class CatalogueError(ValueError):
    """The catalogue file cannot be imported; the message says where and why."""


CATALOGUE_COLUMNS = {
    "code": ("mã tthc", "mã thủ tục", "mã thủ tục hành chính", "mã", "code"),
    "name": ("tên tthc", "tên thủ tục", "tên thủ tục hành chính", "thủ tục", "tên", "name"),
    "linh_vuc": ("lĩnh vực", "tên lĩnh vực", "linh vuc"),
    "level": ("cấp", "cấp thực hiện", "cấp giải quyết", "level"),
    "field_group": ("nhóm lĩnh vực", "field group"),
}
_CATALOGUE_LABELS = {"code": "Mã TTHC", "name": "Tên TTHC", "linh_vuc": "Lĩnh vực", "level": "Cấp"}
_CATALOGUE_ALIASES = {plain(a): c for c, aliases in CATALOGUE_COLUMNS.items() for a in (c, *aliases)}


def _level(text: str) -> str | None:
    """ "Cấp Tỉnh", "Cấp tỉnh, Cấp xã" → tinh; "Cấp Xã", "Cấp Huyện" → xa (provincial first)."""
    key = plain(text)
    if "tinh" in key or "so" in key.split():
        return "tinh"
    if "xa" in key.split() or "huyen" in key or "phuong" in key or "dac khu" in key:
        return "xa"
    return None


@dataclass
class CatalogueImport:
    added: int = 0
    updated: int = 0
    groups: dict[str, int] = field(default_factory=dict)


def import_catalogue(session: Session, table: pd.DataFrame) -> CatalogueImport:
    """Insert or update procedures by mã TTHC. Every bad row is reported (row numbers as in a
    spreadsheet) and nothing is written if any row is bad. Flushes; the caller commits."""
    columns: dict[str, str] = {}
    for header in table.columns:
        canonical = _CATALOGUE_ALIASES.get(plain(str(header)))
        if canonical is not None and canonical not in columns:
            columns[canonical] = str(header)
    missing = [c for c in ("code", "name", "linh_vuc", "level") if c not in columns]
    if missing:
        raise CatalogueError(
            "Thiếu cột: "
            + ", ".join(_CATALOGUE_LABELS[c] for c in missing)
            + ". Các cột có trong tệp: "
            + ", ".join(map(str, table.columns))
        )
    errors: list[str] = []
    rows: dict[str, dict[str, str]] = {}
    linh_vuc_table = linh_vuc_groups(session)
    for number, record in enumerate(table.to_dict("records"), start=2):
        values = {c: unicodedata.normalize("NFC", str(record[h]).strip()) for c, h in columns.items()}
        if any(re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", v) for v in values.values()):
            errors.append(f"dòng {number}: có ký tự điều khiển")
            continue
        code = values["code"]
        if not code:
            errors.append(f"dòng {number}: thiếu mã TTHC")
            continue
        if len(code) > 40 or len(values["name"]) > 500 or len(values["linh_vuc"]) > 200:
            errors.append(f"dòng {number}: quá dài")
            continue
        level = _level(values["level"])
        if level is None:
            errors.append(f"dòng {number}: cấp {values['level']!r} không rõ (cần Cấp tỉnh hoặc Cấp xã)")
            continue
        explicit = values.get("field_group", "")
        group = (
            FIELD_GROUP_NAMES.get(plain(explicit))
            if explicit
            else group_of_linh_vuc(values["linh_vuc"], linh_vuc_table)
        )
        if group is None:
            errors.append(f"dòng {number}: nhóm lĩnh vực {explicit!r} không hợp lệ")
            continue
        if code in rows:
            errors.append(f"dòng {number}: mã TTHC {code} bị trùng")
            continue
        rows[code] = {"name": values["name"] or code, "linh_vuc": values["linh_vuc"], "level": level, "group": group}
    if errors:
        more = f" … và {len(errors) - 5} lỗi khác" if len(errors) > 5 else ""
        raise CatalogueError(f"{len(errors)} lỗi, chưa nhập gì: " + "; ".join(errors[:5]) + more)
    if not rows:
        raise CatalogueError("Tệp không có thủ tục nào.")
    existing = {p.code: p for p in session.scalars(sa.select(Procedure))}
    done = CatalogueImport()
    for code, row in rows.items():
        procedure = existing.get(code)
        if procedure is None:
            session.add(
                Procedure(
                    code=code, name=row["name"], linh_vuc=row["linh_vuc"], field_group=row["group"], level=row["level"]
                )
            )
            done.added += 1
        else:
            procedure.name, procedure.linh_vuc = row["name"], row["linh_vuc"]
            procedure.field_group, procedure.level, procedure.active = row["group"], row["level"], True
            done.updated += 1
        done.groups[row["group"]] = done.groups.get(row["group"], 0) + 1
    session.flush()
    return done
