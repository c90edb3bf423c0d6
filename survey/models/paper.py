"""The paper channel (Vietnam Post): survey rounds, the sampling frame, the sample with its
reserves, assignments, batches of paper forms, blind double keying and adjudication."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.models.base import FIELD_GROUPS, Base, BigId, Json, in_list, utcnow
from survey.models.place import Place
from survey.models.user import User

ROUND_STATUSES = ("frame", "sampled", "fieldwork", "closed")
ROUND_STATUS_LABELS = {
    "frame": "Đang lập khung mẫu",
    "sampled": "Đã chọn mẫu",
    "fieldwork": "Đang phỏng vấn",
    "closed": "Đã kết thúc",
}
CASE_ROLES = ("main", "reserve")

#: Interview outcome codes and their AAPOR disposition (RR1 = I / (I + P + R + NC + O + UH + UO)).
OUTCOMES = {
    "completed": ("I", "Hoàn thành phỏng vấn"),
    "partial": ("P", "Phỏng vấn dở dang"),
    "refused": ("R", "Từ chối trả lời"),
    "break_off": ("R", "Bỏ dở giữa chừng"),
    "not_reachable": ("NC", "Không liên lạc được"),
    "not_home": ("NC", "Vắng nhà nhiều lần"),
    "language": ("O", "Không trả lời được (ngôn ngữ, sức khoẻ)"),
    "moved": ("UO", "Đã chuyển đi, không rõ nơi ở"),
    "wrong_contact": ("UH", "Sai địa chỉ, số điện thoại"),
    "ineligible": ("NE", "Không thuộc đối tượng (không trực tiếp làm thủ tục, dưới 18 tuổi…)"),
    "deceased": ("NE", "Đã mất"),
}
#: A team leader's review of an interview: accepted, or returned to its interviewer to re-do.
REVIEW_STATUSES = ("accepted", "returned")
REVIEW_STATUS_LABELS = {"accepted": "Tổ trưởng đã duyệt", "returned": "Trả lại để phỏng vấn lại"}
#: The back-check (phúc tra) form's answers.
BACK_CHECK_INTERVIEWED = ("yes", "no", "unsure")
BACK_CHECK_MODES = ("phone", "face", "unknown")
BACK_CHECK_KEY_ANSWER = ("match", "mismatch", "not_asked")
BACK_CHECK_RESULTS = ("confirmed", "discrepancy", "unreachable")
BACK_CHECK_RESULT_LABELS = {
    "confirmed": "Xác nhận đã được phỏng vấn",
    "discrepancy": "Sai lệch, cần xem lại",
    "unreachable": "Không liên lạc được",
}
FORM_STATUSES = ("keying", "awaiting_second", "mismatch", "verified", "accepted")
FORM_STATUS_LABELS = {
    "keying": "Đang nhập lần một",
    "awaiting_second": "Chờ nhập lần hai",
    "mismatch": "Có sai lệch, chờ đối chiếu",
    "verified": "Đã xác minh",
    "accepted": "Đã nhận (không chọn kiểm tra chéo)",
}


class SurveyRound(Base):
    """A round (đợt khảo sát) of the paper channel: its frame, design and fieldwork."""

    __tablename__ = "survey_round"
    __audited__ = True
    __table_args__ = (
        sa.CheckConstraint(in_list("status", ROUND_STATUSES), name="status"),
        sa.CheckConstraint("verify_every >= 1", name="verify_every"),
        sa.CheckConstraint("period_end >= period_start", name="period"),
        sa.CheckConstraint("backcheck_share > 0 AND backcheck_share <= 1", name="backcheck_share"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    period_start: Mapped[date]
    period_end: Mapped[date]
    questionnaire_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaire.id"))
    status: Mapped[str] = mapped_column(sa.String(12), default="frame")
    seed: Mapped[int | None] = mapped_column(sa.BigInteger)
    #: The allocation rule used to draw the sample (analysis.sampling.AllocationRule fields).
    allocation: Mapped[dict[str, Any] | None] = mapped_column(Json)
    #: Verify (double-key) every form (1) or one in N with a random start.
    verify_every: Mapped[int] = mapped_column(default=1)
    #: Errors per 1,000 keyed fields above which every form of that operator is verified.
    error_threshold: Mapped[float] = mapped_column(sa.Float, default=5.0)
    frame_file: Mapped[str | None] = mapped_column(sa.String(300))
    pii_purged_at: Mapped[datetime | None]
    #: Share of each interviewer's interviews drawn for the back-check (phúc tra), at least one.
    backcheck_share: Mapped[float] = mapped_column(sa.Float, default=0.1, server_default="0.1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    strata: Mapped[list[StratumDesign]] = relationship(cascade="all, delete-orphan", order_by="StratumDesign.stratum")


class FrameRecord(Base):
    """One completed dossier of the round's period (the sampling frame)."""

    __tablename__ = "frame_record"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "dossier_code", name="uq_frame_record_round_dossier"),
        sa.CheckConstraint(in_list("field_group", FIELD_GROUPS), name="field_group"),
        sa.Index("ix_frame_record_round_stratum", "round_id", "stratum"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("survey_round.id", ondelete="CASCADE"))
    dossier_code: Mapped[str] = mapped_column(sa.String(40))
    procedure_code: Mapped[str | None] = mapped_column(sa.String(40))
    linh_vuc: Mapped[str | None] = mapped_column(sa.String(200))
    field_group: Mapped[str] = mapped_column(sa.String(10))
    place_id: Mapped[int] = mapped_column(sa.ForeignKey("place.id"))
    result_date: Mapped[date]
    stratum: Mapped[str] = mapped_column(sa.String(40))
    # Personal data: shown only to the assigned surveyor and supervisors; purged after the round.
    applicant_name: Mapped[str | None] = mapped_column(sa.String(200))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    address: Mapped[str | None] = mapped_column(sa.String(400))

    place: Mapped[Place] = relationship()


class StratumDesign(Base):
    """N_h, n_h and the reserve size of one stratum, kept with the round."""

    __tablename__ = "stratum_design"

    round_id: Mapped[int] = mapped_column(sa.ForeignKey("survey_round.id", ondelete="CASCADE"), primary_key=True)
    stratum: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    place_id: Mapped[int] = mapped_column(sa.ForeignKey("place.id"))
    field_group: Mapped[str] = mapped_column(sa.String(10))
    population: Mapped[int]  # N_h
    sample_size: Mapped[int]  # n_h
    reserve_size: Mapped[int]


class SampledCase(Base):
    """A dossier drawn into the sample (main or reserve) and what became of it."""

    __tablename__ = "sampled_case"
    __audited__ = True
    __table_args__ = (
        sa.CheckConstraint(in_list("role", CASE_ROLES), name="role"),
        sa.CheckConstraint(in_list("outcome", tuple(OUTCOMES)), name="outcome"),
        sa.CheckConstraint(in_list("review_status", REVIEW_STATUSES), name="review_status"),
        sa.UniqueConstraint("round_id", "stratum", "role", "draw_order", name="uq_sampled_case_order"),
        sa.Index("ix_sampled_case_round_surveyor", "round_id", "surveyor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("survey_round.id", ondelete="CASCADE"))
    frame_record_id: Mapped[int] = mapped_column(sa.ForeignKey("frame_record.id", ondelete="CASCADE"), unique=True)
    stratum: Mapped[str] = mapped_column(sa.String(40))
    role: Mapped[str] = mapped_column(sa.String(8))
    draw_order: Mapped[int]
    #: In the field: main cases from the start, a reserve once it replaces a case.
    active: Mapped[bool] = mapped_column(default=False)
    surveyor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    assigned_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(sa.String(16))
    outcome_at: Mapped[datetime | None]
    replaced_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sampled_case.id"))
    replacement_reason: Mapped[str | None] = mapped_column(sa.String(300))
    #: Serial pre-printed on the case's questionnaire (text and QR code).
    form_serial: Mapped[str] = mapped_column(sa.String(20), unique=True)
    #: The team leader's review of the interview (NULL: not reviewed yet); a returned case has
    #: its outcome cleared until the interviewer re-does it (`survey.paper.review`).
    review_status: Mapped[str | None] = mapped_column(sa.String(10))

    record: Mapped[FrameRecord] = relationship()
    surveyor: Mapped[User | None] = relationship(foreign_keys=[surveyor_id])


class InterviewReview(Base):
    """One review of an interview by a team leader: accepted, or returned with a note."""

    __tablename__ = "interview_review"
    __audited__ = True
    __table_args__ = (
        sa.CheckConstraint(in_list("decision", REVIEW_STATUSES), name="decision"),
        sa.CheckConstraint("decision = 'accepted' OR note IS NOT NULL", name="returned_has_note"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("sampled_case.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    decision: Mapped[str] = mapped_column(sa.String(10))
    #: The outcome the interviewer had recorded when it was reviewed.
    outcome: Mapped[str] = mapped_column(sa.String(16))
    note: Mapped[str | None] = mapped_column(sa.String(500))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    reviewer: Mapped[User] = relationship()


class BackCheck(Base):
    """A completed interview drawn for the back-check (phúc tra), and what the re-contact found."""

    __tablename__ = "back_check"
    __audited__ = True
    __table_args__ = (
        sa.CheckConstraint(in_list("interviewed", BACK_CHECK_INTERVIEWED), name="interviewed"),
        sa.CheckConstraint(in_list("mode", BACK_CHECK_MODES), name="mode"),
        sa.CheckConstraint(in_list("key_answer", BACK_CHECK_KEY_ANSWER), name="key_answer"),
        sa.CheckConstraint(in_list("result", BACK_CHECK_RESULTS), name="result"),
        sa.CheckConstraint("(result IS NULL) = (checked_at IS NULL)", name="result_when_checked"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("survey_round.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("sampled_case.id", ondelete="CASCADE"), unique=True)
    #: The interviewer whose interview is checked (at the draw).
    interviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    drawn_at: Mapped[datetime] = mapped_column(default=utcnow)
    drawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    checked_at: Mapped[datetime | None]
    checked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    reached: Mapped[bool | None]
    interviewed: Mapped[str | None] = mapped_column(sa.String(8))
    mode: Mapped[str | None] = mapped_column(sa.String(8))
    approx_date: Mapped[date | None]
    key_answer: Mapped[str | None] = mapped_column(sa.String(10))
    note: Mapped[str | None] = mapped_column(sa.String(500))
    result: Mapped[str | None] = mapped_column(sa.String(12))

    case: Mapped[SampledCase] = relationship()
    interviewer: Mapped[User] = relationship(foreign_keys=[interviewer_id])


class PiiAccess(Base):
    """Every view of a sampled citizen's name, phone or address."""

    __tablename__ = "pii_access"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("survey_round.id", ondelete="CASCADE"))
    #: The cases whose personal data were shown (one view of a list = one row).
    case_ids: Mapped[list[int]] = mapped_column(Json)
    purpose: Mapped[str] = mapped_column(sa.String(40))


class Batch(Base):
    """A batch of paper forms handed in by one post office, with its control totals."""

    __tablename__ = "batch"
    __audited__ = True
    __table_args__ = (
        sa.UniqueConstraint("round_id", "code", name="uq_batch_round_code"),
        sa.CheckConstraint("received >= 0", name="received"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("survey_round.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.String(20))
    post_office: Mapped[str] = mapped_column(sa.String(200))
    #: Forms physically received, counted by hand when the batch arrives.
    received: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]


class PaperForm(Base):
    """One paper questionnaire, identified by its pre-printed serial, through keying."""

    __tablename__ = "paper_form"
    __table_args__ = (sa.CheckConstraint(in_list("status", FORM_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batch.id"), index=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("sampled_case.id"), unique=True)
    serial: Mapped[str] = mapped_column(sa.String(20), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="keying")
    #: Chosen for a second, blind keying (every form, 1 in N, or every form of an operator
    #: whose error rate passed the threshold).
    needs_verification: Mapped[bool] = mapped_column(default=True)
    response_id: Mapped[int | None] = mapped_column(sa.ForeignKey("response.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[SampledCase] = relationship()
    batch: Mapped[Batch] = relationship()
    keyings: Mapped[list[Keying]] = relationship(order_by="Keying.pass_no", back_populates="form")


class Keying(Base):
    """One keying of a paper form: the first, or the blind second."""

    __tablename__ = "keying"
    __table_args__ = (
        sa.UniqueConstraint("form_id", "pass_no", name="uq_keying_form_pass"),
        sa.CheckConstraint("pass_no IN (1, 2)", name="pass_no"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(sa.ForeignKey("paper_form.id", ondelete="CASCADE"))
    pass_no: Mapped[int]
    keyer_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    answers: Mapped[dict[str, Any]] = mapped_column(Json)
    fields_keyed: Mapped[int] = mapped_column(default=0)
    draft: Mapped[bool] = mapped_column(default=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    form: Mapped[PaperForm] = relationship(back_populates="keyings")
    keyer: Mapped[User] = relationship()


class Discrepancy(Base):
    """A field the two keyings disagree on, and how a supervisor settled it from the paper."""

    __tablename__ = "discrepancy"
    __table_args__ = (
        sa.UniqueConstraint("form_id", "question_code", name="uq_discrepancy_form_question"),
        sa.CheckConstraint(in_list("attributed_to", ("first", "second", "both")), name="attributed_to"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(sa.ForeignKey("paper_form.id", ondelete="CASCADE"), index=True)
    question_code: Mapped[str] = mapped_column(sa.String(40))
    first_value: Mapped[str | None] = mapped_column(sa.String(2000))
    second_value: Mapped[str | None] = mapped_column(sa.String(2000))
    resolved_value: Mapped[str | None] = mapped_column(sa.String(2000))
    attributed_to: Mapped[str | None] = mapped_column(sa.String(8))
    adjudicator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    resolved_at: Mapped[datetime | None]
