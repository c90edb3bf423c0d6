"""Demo data for `make run` and the tests: places, counters, a procedure catalogue covering
all four field groups, and one user per role. Place names are illustrative."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from survey import questionnaires
from survey.models import FIELD_GROUPS, Counter, CounterFieldGroup, Place, Procedure, User
from survey.models.base import FIELD_GROUP_LABELS, utcnow
from survey.responses.recording import record_response
from survey.users import create_user

DEMO_PASSWORD = "sipas-demo-2026"

DEMO_USERS = (
    ("admin", "admin", "Quản trị viên"),
    ("totruong", "supervisor", "Nguyễn Thị Lan"),
    ("dieutravien", "surveyor", "Trần Văn Hùng"),
    ("dieutravien2", "surveyor", "Phạm Thu Hà"),
    ("phantich", "analyst", "Lê Minh Anh"),
)

PROVINCE_CENTRE = ("TTPVHCC", "Trung tâm Phục vụ hành chính công tỉnh Bắc Ninh")

# 33 wards and 66 communes: 99 commune-level units, as in Bắc Ninh since 1 July 2025.
WARDS = (
    "Kinh Bắc",
    "Võ Cường",
    "Vũ Ninh",
    "Hạp Lĩnh",
    "Nam Sơn",
    "Từ Sơn",
    "Tam Sơn",
    "Đồng Nguyên",
    "Phù Khê",
    "Thuận Thành",
    "Mão Điền",
    "Trạm Lộ",
    "Trí Quả",
    "Song Liễu",
    "Ninh Xá",
    "Quế Võ",
    "Phương Liễu",
    "Nhân Hòa",
    "Đào Viên",
    "Bồng Lai",
    "Chũ",
    "Phượng Sơn",
    "Bắc Giang",
    "Đa Mai",
    "Tiền Phong",
    "Tân An",
    "Yên Dũng",
    "Tân Tiến",
    "Cảnh Thụy",
    "Việt Yên",
    "Nếnh",
    "Vân Hà",
    "Tự Lạn",
)
COMMUNES = (
    "Chi Lăng",
    "Phù Lãng",
    "Yên Phong",
    "Văn Môn",
    "Tam Giang",
    "Yên Trung",
    "Tam Đa",
    "Tiên Du",
    "Liên Bão",
    "Tân Chi",
    "Đại Đồng",
    "Phật Tích",
    "Gia Bình",
    "Nhân Thắng",
    "Đại Lai",
    "Cao Đức",
    "Đông Cứu",
    "Lương Tài",
    "Lâm Thao",
    "Trung Chính",
    "Trung Kênh",
    "Hợp Thịnh",
    "Hiệp Hòa",
    "Hoàng Vân",
    "Xuân Cẩm",
    "Lạng Giang",
    "Mỹ Thái",
    "Kép",
    "Tân Dĩnh",
    "Tiên Lục",
    "Yên Thế",
    "Bố Hạ",
    "Đồng Kỳ",
    "Xuân Lương",
    "Tam Tiến",
    "Tân Yên",
    "Ngọc Thiện",
    "Nhã Nam",
    "Phúc Hòa",
    "Quang Trung",
    "Lục Nam",
    "Đông Phú",
    "Bảo Đài",
    "Nghĩa Phương",
    "Lục Sơn",
    "Bắc Lũng",
    "Cẩm Lý",
    "Lục Ngạn",
    "Đèo Gia",
    "Nam Dương",
    "Kiên Lao",
    "Biển Động",
    "Sa Lý",
    "Sơn Động",
    "Tây Yên Tử",
    "Dương Hưu",
    "Yên Định",
    "An Lạc",
    "Vân Sơn",
    "Tuấn Đạo",
    "Biên Sơn",
    "Tân Sơn",
    "Sơn Hải",
    "Xuân Phú",
    "Đồng Việt",
    "Kiên Thành",
)

PROCEDURES = (
    # code, name, lĩnh vực, field group, level
    ("DD.01", "Đăng ký đất đai, tài sản gắn liền với đất lần đầu", "Đất đai", "dat_dai", "xa"),
    (
        "DD.02",
        "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
        "Đất đai",
        "dat_dai",
        "tinh",
    ),
    ("DD.03", "Cấp đổi Giấy chứng nhận quyền sử dụng đất", "Đất đai", "dat_dai", "tinh"),
    ("DD.04", "Chuyển mục đích sử dụng đất phải được phép", "Đất đai", "dat_dai", "xa"),
    ("DD.05", "Đính chính Giấy chứng nhận đã cấp", "Đất đai", "dat_dai", "tinh"),
    ("DD.06", "Xoá đăng ký thế chấp quyền sử dụng đất", "Đăng ký biện pháp bảo đảm", "dat_dai", "tinh"),
    ("XD.01", "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ", "Hoạt động xây dựng", "xay_dung", "xa"),
    ("XD.02", "Cấp giấy phép sửa chữa, cải tạo công trình", "Hoạt động xây dựng", "xay_dung", "tinh"),
    ("XD.03", "Điều chỉnh giấy phép xây dựng", "Hoạt động xây dựng", "xay_dung", "tinh"),
    ("XD.04", "Thẩm định báo cáo nghiên cứu khả thi đầu tư xây dựng", "Hoạt động xây dựng", "xay_dung", "tinh"),
    ("XD.05", "Cấp chứng chỉ hành nghề hoạt động xây dựng", "Hoạt động xây dựng", "xay_dung", "tinh"),
    ("DT.01", "Cấp Giấy chứng nhận đăng ký đầu tư", "Đầu tư tại Việt Nam", "dau_tu", "tinh"),
    ("DT.02", "Điều chỉnh Giấy chứng nhận đăng ký đầu tư", "Đầu tư tại Việt Nam", "dau_tu", "tinh"),
    ("DT.03", "Chấp thuận chủ trương đầu tư của Ủy ban nhân dân cấp tỉnh", "Đầu tư tại Việt Nam", "dau_tu", "tinh"),
    ("DT.04", "Giãn tiến độ đầu tư", "Đầu tư tại Việt Nam", "dau_tu", "tinh"),
    ("DT.05", "Chấm dứt hoạt động dự án đầu tư", "Đầu tư tại Việt Nam", "dau_tu", "tinh"),
    ("KH.01", "Đăng ký khai sinh", "Hộ tịch", "khac", "xa"),
    ("KH.02", "Đăng ký kết hôn", "Hộ tịch", "khac", "xa"),
    ("KH.03", "Chứng thực bản sao từ bản chính", "Chứng thực", "khac", "xa"),
    ("KH.04", "Cấp Phiếu lý lịch tư pháp", "Lý lịch tư pháp", "khac", "tinh"),
    ("KH.05", "Đăng ký thành lập hộ kinh doanh", "Thành lập và hoạt động của hộ kinh doanh", "khac", "xa"),
    ("KH.06", "Đăng ký thường trú", "Đăng ký, quản lý cư trú", "khac", "xa"),
)

PROVINCE_COUNTERS = (
    ("Q01", "Quầy Đất đai", ("dat_dai",)),
    ("Q02", "Quầy Xây dựng", ("xay_dung",)),
    ("Q03", "Quầy Đầu tư", ("dau_tu",)),
    ("Q04", "Quầy Tư pháp – Hộ tịch", ("khac",)),
    ("Q05", "Quầy tổng hợp", FIELD_GROUPS),
)


@dataclass
class DemoReport:
    loaded: bool
    logins: list[tuple[str, str]] = field(default_factory=list)
    summary: str = ""


def _counter(place: Place, code: str, name: str, groups: tuple[str, ...]) -> Counter:
    return Counter(
        place=place,
        code=code,
        name=name,
        field_group_rows=[CounterFieldGroup(field_group=g) for g in groups],
    )


#: Share of satisfied answers (codes 4–5) in the demo QR responses by field group: ratings
#: at the counter run high (95–99 %), land and construction a few points lower.
DEMO_SATISFIED = {"dat_dai": 0.93, "xay_dung": 0.945, "dau_tu": 0.965, "khac": 0.975}
DEMO_QR_PER_COUNTER = (12, 30)


def _qr_responses(session: Session, *, seed: int) -> int:
    """Plausible QR responses for every demo counter over the last 60 days."""
    rng = np.random.default_rng(seed)
    questionnaire = questionnaires.get(session, "sipas-dich-vu")
    assert questionnaire is not None
    definition = questionnaire.definition
    questions = [q for section in definition["sections"] for q in section["questions"]]
    counters = session.scalars(sa.select(Counter).order_by(Counter.id)).all()
    now = utcnow()
    count = 0
    for counter in counters:
        groups = counter.field_groups
        for _ in range(int(rng.integers(*DEMO_QR_PER_COUNTER))):
            group = groups[int(rng.integers(len(groups)))]
            # a respondent's general mood, then item answers around it
            p_satisfied = min(0.995, max(0.5, rng.normal(DEMO_SATISFIED[group], 0.03)))
            answers: dict[str, object] = {"nhom_linh_vuc": group}
            for q in questions:
                code = q["code"]
                if "element" in q:
                    if rng.random() < (0.12 if q["element"] == "E" else 0.01):
                        answers[code] = 9
                    elif rng.random() < p_satisfied:
                        answers[code] = int(rng.choice([4, 5], p=[0.45, 0.55]))
                    else:
                        answers[code] = int(rng.choice([1, 2, 3], p=[0.1, 0.3, 0.6]))
                elif q.get("share") == "nhan_thuc":
                    answers[code] = int(rng.choice([1, 2, 3], p=[0.93, 0.06, 0.01]))
                elif q.get("share") == "mong_doi":
                    answers[code] = int(rng.choice([1, 2, 3, 4], p=[0.1, 0.25, 0.35, 0.3]))
                elif (
                    q["type"] == "choice"
                    and code not in answers
                    and "qr" in q.get("channels", ("qr",))
                    and (q.get("required") or rng.random() < 0.8)
                ):
                    answers[code] = str(rng.choice([o["code"] for o in q["options"]]))
            submitted = now - timedelta(days=float(rng.uniform(0, 60)))
            record_response(
                session,
                questionnaire,
                answers,
                channel="qr",
                place_id=counter.place_id,
                counter_id=counter.id,
                field_group=group,
                started_at=submitted - timedelta(seconds=float(rng.uniform(70, 240))),
                submitted_at=submitted,
            )
            count += 1
    return count


def load(session: Session, definitions: dict, *, qr_responses: bool = True) -> DemoReport:
    """Publish the questionnaires and, if the database has no places and no users yet, load
    the demo data. Flushes; the caller commits."""
    questionnaires.publish(session, definitions)
    logins = [(u, r) for u, r, _ in DEMO_USERS]
    has_data = session.scalar(sa.select(sa.func.count()).select_from(Place)) or session.scalar(
        sa.select(sa.func.count()).select_from(User)
    )
    if has_data:
        return DemoReport(loaded=False, logins=logins)

    centre = Place(code=PROVINCE_CENTRE[0], name=PROVINCE_CENTRE[1], kind="tinh")
    session.add(centre)
    for code, name, groups in PROVINCE_COUNTERS:
        session.add(_counter(centre, code, name, groups))
    units = [("P", "Phường", n) for n in WARDS] + [("X", "Xã", n) for n in COMMUNES]
    for i, (prefix, kind_label, name) in enumerate(units, start=1):
        place = Place(code=f"{prefix}{i:03d}", name=f"{kind_label} {name}", kind="xa")
        session.add(place)
        session.add(_counter(place, "Q01", "Bộ phận Một cửa", FIELD_GROUPS))
    for code, name, linh_vuc, group, level in PROCEDURES:
        session.add(Procedure(code=code, name=name, linh_vuc=linh_vuc, field_group=group, level=level))
    for username, role, full_name in DEMO_USERS:
        create_user(session, username=username, full_name=full_name, role=role, password=DEMO_PASSWORD)
    session.flush()
    n_responses = _qr_responses(session, seed=2026) if qr_responses else 0
    return DemoReport(
        loaded=True,
        logins=logins,
        summary=(
            f"Đã nạp dữ liệu mẫu: {1 + len(units)} nơi tiếp nhận, {len(PROVINCE_COUNTERS) + len(units)} quầy, "
            f"{len(PROCEDURES)} thủ tục, {len(DEMO_USERS)} tài khoản, {n_responses} phiếu trả lời qua mã QR."
        ),
    )


def write_frame_file(
    path: str, *, rows: int = 2000, year: int | None = None, quarter: int = 1, seed: int = 2026
) -> None:
    """A demo export of completed dossiers (the sampling frame) for the demo places, with
    made-up names, phones and addresses — to try `flask frame import` or the upload page."""
    rng = np.random.default_rng(seed)
    year = year or utcnow().year
    codes = [PROVINCE_CENTRE[0]] + [f"P{i:03d}" for i in range(1, len(WARDS) + 1)]
    codes += [f"X{i:03d}" for i in range(len(WARDS) + 1, len(WARDS) + len(COMMUNES) + 1)]
    place_weights = np.array([20.0] + [1.0] * (len(codes) - 1))
    procedures = list(PROCEDURES)
    family = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Ngô", "Đỗ", "Vũ", "Bùi", "Đặng"]
    middle = ["Văn", "Thị", "Đức", "Thu", "Minh", "Ngọc", "Quang", "Thanh"]
    given = ["An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hùng", "Lan", "Mai", "Nam", "Phương", "Sơn", "Tâm", "Vinh"]
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "Mã hồ sơ",
                "Mã TTHC",
                "Lĩnh vực",
                "Nhóm lĩnh vực",
                "Nơi tiếp nhận",
                "Ngày trả kết quả",
                "Họ tên",
                "Số điện thoại",
                "Địa chỉ",
            ]
        )
        for i in range(rows):
            code, _name, linh_vuc, group, _level = procedures[int(rng.integers(len(procedures)))]
            place = codes[int(rng.choice(len(codes), p=place_weights / place_weights.sum()))]
            month = 3 * (quarter - 1) + int(rng.integers(1, 4))
            day = int(rng.integers(1, 29))
            name = f"{rng.choice(family)} {rng.choice(middle)} {rng.choice(given)}"
            writer.writerow(
                [
                    f"000.{year % 100:02d}.{i + 1:06d}",
                    code,
                    linh_vuc,
                    FIELD_GROUP_LABELS[group],
                    place,
                    f"{day:02d}/{month:02d}/{year}",
                    name,
                    f"09{int(rng.integers(10_000_000, 99_999_999))}",
                    f"Số {int(rng.integers(1, 300))}, thôn {int(rng.integers(1, 12))}",
                ]
            )
