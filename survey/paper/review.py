"""The team leader's review of interviews: accept one, or return it to its interviewer with a
note. A returned case has its outcome cleared (it counts as not yet resolved in the AAPOR
rates, never as an interview) until the interviewer records it again; then it comes back for
review. Every decision is a row of `InterviewReview` (and audited). Plain functions: they
flush, the caller commits."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from survey.models import FrameRecord, InterviewReview, PaperForm, SampledCase, User
from survey.models.paper import OUTCOMES
from survey.paper.rounds import RoundError

#: Outcome codes of an interview (AAPOR I and P): what a team leader reviews.
INTERVIEW_CODES = tuple(sorted(code for code, (disposition, _label) in OUTCOMES.items() if disposition in ("I", "P")))
DECISIONS = ("accepted", "returned")


class ReviewError(RoundError):
    """The review cannot be made; the message says why."""


def awaiting_review(round_id: int) -> sa.Select:
    """Interviews of a round not reviewed yet (not replaced), oldest outcome first."""
    return (
        sa.select(SampledCase)
        .where(
            SampledCase.round_id == round_id,
            SampledCase.active,
            SampledCase.replaced_by_id.is_(None),
            SampledCase.outcome.in_(INTERVIEW_CODES),
            SampledCase.review_status.is_(None),
        )
        .options(selectinload(SampledCase.record).selectinload(FrameRecord.place), selectinload(SampledCase.surveyor))
        .order_by(SampledCase.outcome_at, SampledCase.form_serial)
    )


def returned_notes(session: Session, case_ids: list[int]) -> dict[int, str]:
    """The note of the latest return of each returned case among `case_ids`."""
    if not case_ids:
        return {}
    rows = session.execute(
        sa.select(InterviewReview.case_id, InterviewReview.note)
        .where(InterviewReview.case_id.in_(case_ids), InterviewReview.decision == "returned")
        .order_by(InterviewReview.case_id, InterviewReview.at, InterviewReview.id)
    ).all()
    return {case_id: note or "" for case_id, note in rows}  # later rows overwrite earlier ones


def review(session: Session, case: SampledCase, reviewer: User, decision: str, note: str | None) -> InterviewReview:
    """Accept or return (with a note) the interview of `case`. The case is claimed by a
    conditional UPDATE, so a second review of the same interview (a double click, two team
    leaders) is refused with a message instead of being written twice. A case whose paper form
    has entered keying can be accepted but no longer returned."""
    if reviewer.role != "supervisor":
        raise ReviewError("Chỉ tổ trưởng điều tra duyệt phỏng vấn.")
    if decision not in DECISIONS:
        raise ReviewError(f"Quyết định {decision!r} không hợp lệ.")
    note = (note or "").strip() or None
    if decision == "returned" and note is None:
        raise ReviewError("Phải ghi lý do khi trả lại phỏng vấn.")
    if note is not None and len(note) > 500:
        raise ReviewError("Ghi chú dài quá 500 ký tự.")
    outcome = case.outcome
    conditions = [
        SampledCase.id == case.id,
        SampledCase.active,
        SampledCase.replaced_by_id.is_(None),
        SampledCase.outcome.in_(INTERVIEW_CODES),
        SampledCase.review_status.is_(None),
    ]
    values: dict[str, object] = {"review_status": decision}
    if decision == "returned":
        conditions.append(~sa.exists().where(PaperForm.case_id == case.id))
        values |= {"outcome": None, "outcome_at": None}
    claimed = session.execute(
        sa.update(SampledCase).where(*conditions).values(**values).execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:
        raise ReviewError(_why_not(session, case, decision))
    # The UPDATE above bypassed the ORM: set the same values on the object so the audit log
    # records the change (old → new) and the object matches the row.
    case.review_status = decision
    if decision == "returned":
        case.outcome, case.outcome_at = None, None
    row = InterviewReview(case_id=case.id, reviewer_id=reviewer.id, decision=decision, outcome=outcome, note=note)
    session.add(row)
    session.flush()
    return row


def _why_not(session: Session, case: SampledCase, decision: str) -> str:
    state = session.execute(
        sa.select(SampledCase.outcome, SampledCase.review_status, SampledCase.replaced_by_id).where(
            SampledCase.id == case.id
        )
    ).one()
    serial = case.form_serial
    if state.review_status == "accepted":
        return f"Phiếu {serial} vừa được duyệt (có thể do người khác hoặc bấm hai lần)."
    if state.review_status == "returned":
        return f"Phiếu {serial} vừa được trả lại cho điều tra viên (có thể do người khác hoặc bấm hai lần)."
    if state.replaced_by_id is not None or not case.active:
        return f"Phiếu {serial} đã được thay bằng hồ sơ dự phòng."
    if state.outcome not in INTERVIEW_CODES:
        return f"Phiếu {serial} không có kết quả phỏng vấn để duyệt."
    if decision == "returned":
        return f"Phiếu {serial} đã vào lô nhập liệu: không trả lại được nữa; hãy đối chiếu phiếu giấy."
    return f"Phiếu {serial} không duyệt được."
