"""Demo data for `make run` and the tests: places, counters, a procedure catalogue covering
all four field groups, and one user per role. Place names are illustrative."""

from __future__ import annotations

import contextlib
import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from survey import questionnaires
from survey.models import FIELD_GROUPS, Counter, CounterFieldGroup, Place, Procedure, SampledCase, SurveyRound, User
from survey.models.base import FIELD_GROUP_LABELS, utcnow
from survey.paper import double_keying, fieldwork, frames
from survey.paper.batches import create_batch
from survey.paper.rounds import create_round
from survey.paper.sample import draw_round
from survey.questionnaires.definition import field_code
from survey.responses.recording import record_response
from survey.users import create_user, set_team_leader

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


#: The demo paper round: interviews run lower than counter ratings (national SIPAS 80–85 %).
DEMO_PAPER_SATISFIED = {"dat_dai": 0.78, "xay_dung": 0.8, "dau_tu": 0.86, "khac": 0.88}
DEMO_PAPER_PLACES = 8  # the provincial centre and the first communes/wards: a compact frame
DEMO_PAPER_OUTCOMES = {"completed": 0.74, "refused": 0.1, "not_reachable": 0.1, "moved": 0.03, "ineligible": 0.03}


def _paper_answers(rng: np.random.Generator, definition: dict[str, Any], group: str) -> dict[str, Any]:
    """One interview's answers as a clerk keys them (every question the paper form asks)."""
    p_satisfied = min(0.99, max(0.4, rng.normal(DEMO_PAPER_SATISFIED[group], 0.08)))
    asked = {q["code"]: q for section in definition["sections"] for q in section["questions"]}
    group_code = field_code(definition, "field_group")
    answers: dict[str, Any] = {group_code: group} if group_code else {}
    if "loai_nguoi_tra_loi" in asked:
        answers["loai_nguoi_tra_loi"] = "ca_nhan"
    for section in definition["sections"]:
        for q in section["questions"]:
            code = q["code"]
            if "element" in q:
                if rng.random() < (0.15 if q["element"] == "E" else 0.02):
                    answers[code] = 9
                elif rng.random() < p_satisfied:
                    answers[code] = int(rng.choice([4, 5], p=[0.6, 0.4]))
                else:
                    answers[code] = int(rng.choice([1, 2, 3], p=[0.1, 0.35, 0.55]))
            elif q.get("share") == "nhan_thuc":
                answers[code] = int(rng.choice([1, 2, 3], p=[0.85, 0.12, 0.03]))
            elif q.get("share") == "mong_doi":
                answers[code] = int(rng.choice([1, 2, 3, 4], p=[0.05, 0.2, 0.4, 0.35]))
            elif q["type"] == "choice" and code not in answers and "paper" in q.get("channels", ("paper",)):
                answers[code] = str(rng.choice([o["code"] for o in q["options"]]))
            elif q["type"] == "text" and rng.random() < 0.2:
                answers[code] = str(rng.choice(DEMO_COMMENTS))
    return answers


DEMO_COMMENTS = (
    "Cán bộ hướng dẫn nhiệt tình, chu đáo.",
    "Thời gian chờ đợi còn lâu, cần thêm quầy vào giờ cao điểm.",
    "Đề nghị niêm yết rõ phí, lệ phí thủ tục đất đai.",
    "Hồ sơ xây dựng phải bổ sung nhiều lần, mong được hướng dẫn một lần.",
    "Nơi để xe chật, thiếu chỗ ngồi chờ.",
    "Trả kết quả đúng hẹn, rất hài lòng.",
)


def load_paper_round(
    session: Session,
    *,
    name: str = "Quý I/2026 (dữ liệu mẫu)",
    year: int = 2026,
    sample_size: int = 400,
    seed: int = 2026,
    slug: str = "sipas-dich-vu",
) -> SurveyRound:
    """A finished paper round for the demo and the tests: a frame of completed dossiers at the
    provincial centre and a few communes, a proportional sample (at least 4 per stratum),
    interview outcomes, every completed form keyed twice by two clerks and verified — on the
    newest published version of `slug` (version 1 of ``sipas-dich-vu``, the default). Flushes."""
    rng = np.random.default_rng(seed)
    questionnaire = questionnaires.get(session, slug, 1 if slug == "sipas-dich-vu" else None)
    if questionnaire is None:
        raise ValueError(f"questionnaire {slug} is not published")
    survey_round = create_round(
        session, name=name, period_start=date(year, 1, 1), period_end=date(year, 3, 31), questionnaire=questionnaire
    )
    codes = [PROVINCE_CENTRE[0]] + [f"P{i:03d}" for i in range(1, DEMO_PAPER_PLACES)]
    buffer = io.StringIO()
    write_frame_file(buffer, rows=3000, year=year, seed=seed, place_codes=codes)
    checked = frames.check(session, survey_round, frames.read_table(buffer.getvalue().encode("utf-8"), "khung.csv"))
    frames.store(session, survey_round, checked, valid_only=True)
    survey_round.frame_file = "khung-mau-du-lieu-mau.csv"
    draw_round(session, survey_round, method="proportional", total_n=sample_size, minimum=4, seed=seed)
    # the demo's two surveyors key the forms (blind double keying by two different people)
    clerks = list(session.scalars(sa.select(User).where(User.username.in_(("dieutravien", "dieutravien2")))))
    if len(clerks) != 2:
        raise ValueError("load the demo users before the demo paper round")
    batch = create_batch(
        session, survey_round.id, code=f"L{survey_round.id:03d}-01", post_office="Bưu điện tỉnh", received=0
    )
    cases = session.scalars(
        sa.select(SampledCase)
        .where(SampledCase.round_id == survey_round.id, SampledCase.active)
        .order_by(SampledCase.id)
    ).all()
    outcomes = list(DEMO_PAPER_OUTCOMES)
    shares = np.array(list(DEMO_PAPER_OUTCOMES.values()))
    keyed = 0
    for case in cases:
        outcome = outcomes[int(rng.choice(len(outcomes), p=shares / shares.sum()))]
        fieldwork.record_outcome(session, case, outcome)
        if outcome != "completed":
            continue
        group = case.stratum.split("|")[1]
        answers = _paper_answers(rng, questionnaire.definition, group)
        for clerk in clerks:  # blind double keying, both clerks read the same paper
            keying = double_keying.start_keying(session, batch, case.form_serial, clerk)
            double_keying.finish_keying(session, keying, dict(answers), questionnaire)
        keyed += 1
    batch.received = keyed
    survey_round.status = "closed"
    session.flush()
    return survey_round


def load_fieldwork_round(
    session: Session, *, name: str = "Quý II/2026 (đang phỏng vấn)", per_surveyor: int = 8, seed: int = 2027
) -> SurveyRound:
    """A round still in the field for the interviewer app: a small frame, a draw, and
    `per_surveyor` cases given to each demo interviewer (`dieutravien`, `dieutravien2`), so
    `make run` lets them try the app (/nhap-phieu/may/) offline. Flushes."""
    questionnaire = questionnaires.get(session, "sipas-dich-vu", 1)
    assert questionnaire is not None
    survey_round = create_round(
        session, name=name, period_start=date(2026, 4, 1), period_end=date(2026, 6, 30), questionnaire=questionnaire
    )
    codes = [PROVINCE_CENTRE[0]] + [f"P{i:03d}" for i in range(1, 4)]
    buffer = io.StringIO()
    write_frame_file(buffer, rows=400, year=2026, quarter=2, seed=seed, place_codes=codes)
    checked = frames.check(session, survey_round, frames.read_table(buffer.getvalue().encode("utf-8"), "khung.csv"))
    frames.store(session, survey_round, checked, valid_only=True)
    survey_round.frame_file = "khung-mau-quy-2.csv"
    draw_round(session, survey_round, method="proportional", total_n=4 * per_surveyor, minimum=2, seed=seed)
    cases = session.scalars(
        sa.select(SampledCase)
        .where(SampledCase.round_id == survey_round.id, SampledCase.active)
        .order_by(SampledCase.form_serial)
    ).all()
    for k, username in enumerate(("dieutravien", "dieutravien2")):
        surveyor = session.scalars(sa.select(User).where(User.username == username)).one()
        chosen = [c.id for c in cases[k * per_surveyor : (k + 1) * per_surveyor]]
        if chosen:
            fieldwork.assign(session, survey_round, chosen, surveyor)
    session.flush()
    return survey_round


def load(
    session: Session, definitions: dict, *, qr_responses: bool = True, paper_round: bool | None = None
) -> DemoReport:
    """Publish the questionnaires and, if the database has no places and no users yet, load
    the demo data (with ``paper_round``, default as ``qr_responses``: a finished paper round).
    Flushes; the caller commits."""
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
    accounts = {
        username: create_user(session, username=username, full_name=full_name, role=role, password=DEMO_PASSWORD)
        for username, role, full_name in DEMO_USERS
    }
    for member in ("dieutravien", "dieutravien2"):  # one team, led by the demo team leader
        set_team_leader(session, accounts[member], accounts["totruong"])
    session.flush()
    n_responses = _qr_responses(session, seed=2026) if qr_responses else 0
    finished = load_paper_round(session) if (qr_responses if paper_round is None else paper_round) else None
    paper_note = f", đợt phỏng vấn “{finished.name}” đã nhập và xác minh" if finished is not None else ""
    if finished is not None:
        running = load_fieldwork_round(session)
        paper_note += f", đợt “{running.name}” đang phỏng vấn (điều tra viên dùng ứng dụng /nhap-phieu/may/)"
    return DemoReport(
        loaded=True,
        logins=logins,
        summary=(
            f"Đã nạp dữ liệu mẫu: {1 + len(units)} nơi tiếp nhận, {len(PROVINCE_COUNTERS) + len(units)} quầy, "
            f"{len(PROCEDURES)} thủ tục, {len(DEMO_USERS)} tài khoản, "
            f"{n_responses} phiếu trả lời qua mã QR{paper_note}."
        ),
    )


def write_frame_file(
    path: str | io.StringIO,
    *,
    rows: int = 2000,
    year: int | None = None,
    quarter: int = 1,
    seed: int = 2026,
    place_codes: list[str] | None = None,
) -> None:
    """A demo export of completed dossiers (the sampling frame) for the demo places, with
    made-up names, phones and addresses — to try `flask frame import` or the upload page."""
    rng = np.random.default_rng(seed)
    year = year or utcnow().year
    codes = [PROVINCE_CENTRE[0]] + [f"P{i:03d}" for i in range(1, len(WARDS) + 1)]
    codes += [f"X{i:03d}" for i in range(len(WARDS) + 1, len(WARDS) + len(COMMUNES) + 1)]
    codes = place_codes or codes
    place_weights = np.array([20.0 if len(codes) > 20 else 3.0] + [1.0] * (len(codes) - 1))
    procedures = list(PROCEDURES)
    family = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Ngô", "Đỗ", "Vũ", "Bùi", "Đặng"]
    middle = ["Văn", "Thị", "Đức", "Thu", "Minh", "Ngọc", "Quang", "Thanh"]
    given = ["An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hùng", "Lan", "Mai", "Nam", "Phương", "Sơn", "Tâm", "Vinh"]
    with (
        open(path, "w", encoding="utf-8-sig", newline="") if isinstance(path, str) else contextlib.nullcontext(path)
    ) as fh:
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
                    f"{quarter - 1:03d}.{year % 100:02d}.{i + 1:06d}",  # quarter I: 000.yy.n
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
