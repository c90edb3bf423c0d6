"""Fieldwork progress of a paper round per team (a team leader and the surveyors they lead),
per interviewer and per place: cases assigned, attempted, interviews, outcomes by AAPOR
disposition, pending, returned by the team leader, replaced — counted by the database at the
finest level (team × interviewer × place) and summed up here; exported as CSV or XLSX."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, aliased

from survey.i18n import local_day_start, local_today
from survey.models import DeviceSubmission, FrameRecord, Place, SampledCase, SurveyRound, User
from survey.models.paper import OUTCOMES

#: AAPOR dispositions in the order of the method document (interviews, non-interviews of
#: eligible cases, unknown eligibility, not eligible).
DISPOSITIONS = ("I", "P", "R", "NC", "O", "UH", "UO", "NE")
COUNTS = ("assigned", "attempted", "completed", *DISPOSITIONS, "pending", "returned", "replaced", "device_today")
HEADERS = {
    "team": _l("Tổ (tổ trưởng)"),
    "interviewer": _l("Điều tra viên"),
    "place": _l("Nơi tiếp nhận"),
    "assigned": _l("Đã giao"),
    "attempted": _l("Đã liên hệ"),
    "completed": _l("Phỏng vấn hoàn thành"),
    "I": _l("I – hoàn thành"),
    "P": _l("P – dở dang"),
    "R": _l("R – từ chối"),
    "NC": _l("NC – không liên lạc được"),
    "O": _l("O – lý do khác"),
    "UH": _l("UH – chưa rõ (sai địa chỉ, số điện thoại)"),
    "UO": _l("UO – chưa rõ (khác)"),
    "NE": _l("NE – không thuộc đối tượng"),
    "pending": _l("Chưa có kết quả"),
    "returned": _l("Bị trả lại, chờ làm lại"),
    "replaced": _l("Đã thay bằng dự phòng"),
    "device_today": _l("Phỏng vấn nhận từ máy hôm nay"),
}
#: Shown in the page's language; the export files are always in Vietnamese (`force_locale`).
NO_TEAM = _l("(chưa có tổ)")
NOT_ASSIGNED = _l("(chưa giao)")
TOTAL = _l("Tổng")
LEVELS = ("team", "interviewer", "place")


def progress_rows(round_id: int) -> sa.Select:
    """Per team leader, interviewer and place: the counts of `COUNTS` over the cases put in
    the field (a returned case has no outcome: it is pending, never an interview), and the
    interviews received from the interviewer app today (the Vietnam calendar day)."""
    leader = aliased(User)
    from_device_today = sa.select(DeviceSubmission.case_id).where(
        DeviceSubmission.round_id == round_id,
        DeviceSubmission.kind == "interview",
        DeviceSubmission.status.in_(("recorded", "accepted")),
        DeviceSubmission.received_at >= local_day_start(local_today()),
    )
    outcome = SampledCase.outcome

    def count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    def codes(disposition: str) -> list[str]:
        return [code for code, (d, _label) in OUTCOMES.items() if d == disposition]

    return (
        sa.select(
            leader.full_name.label("team"),
            User.full_name.label("interviewer"),
            Place.name.label("place"),
            sa.func.count().label("assigned"),
            count_if(outcome.is_not(None)).label("attempted"),
            count_if(outcome.in_(codes("I"))).label("completed"),
            *(count_if(outcome.in_(codes(d))).label(d) for d in DISPOSITIONS),
            count_if(outcome.is_(None)).label("pending"),
            count_if(SampledCase.review_status == "returned").label("returned"),
            count_if(SampledCase.replaced_by_id.is_not(None)).label("replaced"),
            count_if(SampledCase.id.in_(from_device_today)).label("device_today"),
        )
        .select_from(SampledCase)
        .join(FrameRecord, FrameRecord.id == SampledCase.frame_record_id)
        .join(Place, Place.id == FrameRecord.place_id)
        .outerjoin(User, User.id == SampledCase.surveyor_id)
        .outerjoin(leader, leader.id == User.team_leader_id)
        .where(SampledCase.round_id == round_id, SampledCase.active)
        .group_by(leader.full_name, User.full_name, Place.name)
    )


@dataclass(frozen=True)
class Progress:
    """The progress tables of a round: by team, by interviewer (with their team), by place
    (team × interviewer × place), each with a total row last."""

    by_team: pd.DataFrame
    by_interviewer: pd.DataFrame
    detail: pd.DataFrame


def _with_total(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    total = pd.DataFrame([{**dict.fromkeys(keys, ""), keys[0]: str(TOTAL), **table[list(COUNTS)].sum().to_dict()}])
    return pd.concat([table, total], ignore_index=True)


def progress(session: Session, round_id: int) -> Progress:
    rows = session.execute(progress_rows(round_id)).all()
    detail = pd.DataFrame(rows, columns=[*LEVELS, *COUNTS]) if rows else pd.DataFrame(columns=[*LEVELS, *COUNTS])
    assigned = detail["interviewer"].notna()
    detail["interviewer"] = detail["interviewer"].fillna(str(NOT_ASSIGNED))
    detail["team"] = [
        (t if isinstance(t, str) else (str(NO_TEAM) if a else ""))
        for t, a in zip(detail["team"], assigned, strict=True)
    ]
    detail[list(COUNTS)] = detail[list(COUNTS)].astype("int64")
    detail = detail.sort_values(list(LEVELS), kind="stable", ignore_index=True)

    def by(keys: list[str]) -> pd.DataFrame:
        grouped = detail.groupby(keys, sort=True, as_index=False)[list(COUNTS)].sum()
        return _with_total(grouped, keys)

    return Progress(by(["team"]), by(["team", "interviewer"]), _with_total(detail, list(LEVELS)))


def _vietnamese(table: pd.DataFrame) -> pd.DataFrame:
    return table.rename(columns={k: str(v) for k, v in HEADERS.items()})


def export_table(result: Progress) -> pd.DataFrame:
    """One table for the export: every team × interviewer × place row, Vietnamese headers."""
    return _vietnamese(result.detail)


def export_csv(result: Progress) -> bytes:
    """UTF-8 with a BOM, so Excel shows the Vietnamese headers right."""
    return ("\ufeff" + export_table(result).to_csv(index=False, lineterminator="\n")).encode("utf-8")


def export_xlsx(result: Progress, survey_round: SurveyRound) -> bytes:
    """Three sheets (by team, by interviewer, by place), numbers as numeric cells."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        _vietnamese(result.by_team).to_excel(writer, index=False, sheet_name="Theo tổ")
        _vietnamese(result.by_interviewer).to_excel(writer, index=False, sheet_name="Theo điều tra viên")
        export_table(result).to_excel(writer, index=False, sheet_name="Theo nơi tiếp nhận")
        status = "tạm tính (đang ở thực địa)" if survey_round.status != "closed" else "chính thức"
        pd.DataFrame([("Đợt khảo sát", survey_round.name), ("Số liệu", status)], columns=["Mục", "Giá trị"]).to_excel(
            writer, index=False, sheet_name="Đợt"
        )
    return buffer.getvalue()


MIMETYPES = {
    "csv": "text/csv",  # Flask adds "; charset=utf-8" to a text type
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export(session: Session, survey_round: SurveyRound, ext: str) -> tuple[bytes, str, str]:
    """The progress file of a round, in Vietnamese: its bytes, media type and file name."""
    with force_locale("vi"):
        result = progress(session, survey_round.id)
        data = export_csv(result) if ext == "csv" else export_xlsx(result, survey_round)
    return data, MIMETYPES[ext], f"tien-do-dot-{survey_round.id}.{ext}"
