"""The back-check (phúc tra) of a paper round: a share of each interviewer's interviews,
drawn reproducibly (`analysis.backcheck`, keyed on dossier codes and the round's seed),
re-contacted by phone by the Sở Nội vụ analyst with a short verification form, and the
results per interviewer. Plain functions: they flush, the caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from analysis.backcheck import BackCheckSummary, back_check_size, draw_back_check, summarise
from survey.i18n import local_today
from survey.models import BackCheck, FrameRecord, Questionnaire, Response, SampledCase, SurveyRound, User
from survey.models.base import utcnow
from survey.models.paper import BACK_CHECK_INTERVIEWED, BACK_CHECK_KEY_ANSWER, BACK_CHECK_MODES
from survey.paper.review import INTERVIEW_CODES
from survey.paper.rounds import RoundError
from survey.questionnaires.definition import text_of
from survey.responses.cases import case_responses

#: Factual questions the back-check asks again (their keyed answers are shown when known).
KEY_QUESTIONS = ("hinh_thuc_nop", "loai_nguoi_tra_loi")


class BackCheckError(RoundError):
    """The back-check cannot be drawn or recorded; the message says why."""


def _interviews(round_id: int) -> sa.Select:
    """Every interview of the round (AAPOR I and P, not replaced, not returned) with its
    dossier code and interviewer."""
    return (
        sa.select(SampledCase.id, FrameRecord.dossier_code, User.id.label("user_id"), User.username)
        .join(FrameRecord, FrameRecord.id == SampledCase.frame_record_id)
        .join(User, User.id == SampledCase.surveyor_id)
        .where(
            SampledCase.round_id == round_id,
            SampledCase.active,
            SampledCase.replaced_by_id.is_(None),
            SampledCase.outcome.in_(INTERVIEW_CODES),
        )
    )


def draw(session: Session, survey_round: SurveyRound, actor: User, share: float | None = None) -> int:
    """Draw (or top up) the back-check sample: for every interviewer, ``ceil(share · interviews)``
    of their interviews, at least one, with the smallest permanent random numbers of
    ``(round seed, dossier code)``. Cases drawn before stay and count. Returns how many cases
    were added. The round row is claimed first (an UPDATE), so two draws at once run one after
    the other and the second adds nothing."""
    if survey_round.seed is None:
        raise BackCheckError("Đợt khảo sát chưa chọn mẫu: chưa có phỏng vấn để phúc tra.")
    if share is not None and not 0 < share <= 1:
        raise BackCheckError("Tỉ lệ phúc tra phải lớn hơn 0 và không quá 100 %.")
    share = share if share is not None else survey_round.backcheck_share
    session.execute(
        sa.update(SurveyRound)
        .where(SurveyRound.id == survey_round.id)
        .values(backcheck_share=share)
        .execution_options(synchronize_session=False)
    )
    survey_round.backcheck_share = share  # audited
    rows = session.execute(_interviews(survey_round.id)).all()
    if not rows:
        raise BackCheckError("Chưa có phỏng vấn hoàn thành nào để phúc tra.")
    drawn_cases = set(session.scalars(sa.select(BackCheck.case_id).where(BackCheck.round_id == survey_round.id)))
    interviews: dict[str, list[str]] = {}
    already: dict[str, list[str]] = {}
    by_code: dict[str, Any] = {}
    for row in rows:
        interviews.setdefault(row.username, []).append(row.dossier_code)
        by_code[row.dossier_code] = row
        if row.id in drawn_cases:
            already.setdefault(row.username, []).append(row.dossier_code)
    result = draw_back_check(interviews, share=share, seed=int(survey_round.seed), already=already)
    added = 0
    for codes in result.drawn.values():
        for code in codes:
            row = by_code[code]
            session.add(
                BackCheck(round_id=survey_round.id, case_id=row.id, interviewer_id=row.user_id, drawn_by_id=actor.id)
            )
            added += 1
    session.flush()
    return added


def listing(round_id: int) -> sa.Select:
    """The back-check cases of a round with their case, dossier and interviewer."""
    return (
        sa.select(BackCheck)
        .where(BackCheck.round_id == round_id)
        .options(
            selectinload(BackCheck.case).selectinload(SampledCase.record).selectinload(FrameRecord.place),
            selectinload(BackCheck.interviewer),
        )
        .order_by(BackCheck.checked_at.is_not(None), BackCheck.interviewer_id, BackCheck.id)
    )


def key_answers(session: Session, case_ids: list[int], lang: str = "vi") -> dict[int, dict[str, Any]]:
    """The keyed answers to the `KEY_QUESTIONS` of each case whose paper form was recorded,
    as the questionnaire's option labels in `lang`."""
    if not case_ids:
        return {}
    link = case_responses()
    rows = session.execute(
        sa.select(link.c.case_id, Response.answers, Questionnaire.definition)
        .join(Response, Response.id == link.c.response_id)
        .join(Questionnaire, Questionnaire.id == Response.questionnaire_id)
        .where(link.c.case_id.in_(case_ids))
    ).all()
    return {
        case_id: {q: _option_label(definition, q, (answers or {}).get(q), lang) for q in KEY_QUESTIONS}
        for case_id, answers, definition in rows
    }


def _option_label(definition: dict[str, Any], question: str, code: Any, lang: str) -> Any:
    """The label of a keyed choice, as the questionnaire words it (the code if it has none)."""
    for section in definition.get("sections", []):
        for q in section.get("questions", []):
            if q.get("code") == question:
                for option in q.get("options", []):
                    if option.get("code") == code:
                        return text_of(option.get("label"), lang) or code
    return code


@dataclass(frozen=True)
class Verification:
    """What the phone re-contact found."""

    reached: bool
    interviewed: str | None = None
    mode: str | None = None
    approx_date: date | None = None
    key_answer: str | None = None
    note: str | None = None

    def result(self) -> str:
        """``unreachable`` (not reached), ``confirmed`` (interviewed, and the key answers do not
        contradict the form), else ``discrepancy`` (not interviewed, not sure, or a key answer
        that differs) — to be followed up with the team leader."""
        if not self.reached:
            return "unreachable"
        if self.interviewed == "yes" and self.key_answer != "mismatch":
            return "confirmed"
        return "discrepancy"


def record(session: Session, check: BackCheck, actor: User, found: Verification) -> str:
    """Record the re-contact's result once: the row is claimed by a conditional UPDATE, so a
    double submission (or two analysts) is refused with a message. Returns the result."""
    if found.reached:
        if found.interviewed not in BACK_CHECK_INTERVIEWED:
            raise BackCheckError("Chọn người được hỏi có được phỏng vấn hay không.")
        if found.mode is not None and found.mode not in BACK_CHECK_MODES:
            raise BackCheckError(f"Hình thức {found.mode!r} không hợp lệ.")
        if found.key_answer is not None and found.key_answer not in BACK_CHECK_KEY_ANSWER:
            raise BackCheckError(f"Giá trị {found.key_answer!r} không hợp lệ.")
    note = (found.note or "").strip() or None
    if note is not None and len(note) > 500:
        raise BackCheckError("Ghi chú dài quá 500 ký tự.")
    if found.approx_date is not None and found.approx_date > local_today():
        raise BackCheckError("Ngày phỏng vấn không thể ở tương lai.")
    result = found.result()
    reached = found.reached
    values: dict[str, Any] = {
        "checked_at": utcnow(),
        "checked_by_id": actor.id,
        "reached": reached,
        "interviewed": found.interviewed if reached else None,
        "mode": found.mode if reached else None,
        "approx_date": found.approx_date if reached else None,
        "key_answer": found.key_answer if reached else None,
        "note": note,
        "result": result,
    }
    claimed = session.execute(
        sa.update(BackCheck)
        .where(BackCheck.id == check.id, BackCheck.checked_at.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:
        raise BackCheckError(f"Phiếu {check.case.form_serial} đã được ghi kết quả phúc tra (có thể do bấm hai lần).")
    for key, value in values.items():  # the same values on the object, for the audit log
        setattr(check, key, value)
    session.flush()
    return result


@dataclass(frozen=True)
class InterviewerBackCheck:
    interviewer: str
    interviews: int
    target: int
    summary: BackCheckSummary

    @property
    def share_drawn(self) -> float | None:
        return self.summary.drawn / self.interviews if self.interviews else None


def results(session: Session, survey_round: SurveyRound) -> list[InterviewerBackCheck]:
    """Per interviewer: interviews, the back-check target, drawn, checked, reached, confirmed,
    discrepancies (counted by the database, summarised by `analysis.backcheck`)."""
    interviews = _interviews(survey_round.id).subquery()
    counts = {
        (user_id, name): int(n)
        for user_id, name, n in session.execute(
            sa.select(User.id, User.full_name, sa.func.count())
            .join(interviews, interviews.c.user_id == User.id)
            .group_by(User.id, User.full_name)
        ).all()
    }
    by_user: dict[tuple[int, str], list[str | None]] = {}
    for user_id, name, result, n in session.execute(
        sa.select(User.id, User.full_name, BackCheck.result, sa.func.count())
        .join(User, User.id == BackCheck.interviewer_id)
        .where(BackCheck.round_id == survey_round.id)
        .group_by(User.id, User.full_name, BackCheck.result)
    ).all():
        by_user.setdefault((user_id, name), []).extend([result] * int(n))
    out = []
    for key in sorted(set(counts) | set(by_user), key=lambda k: (k[1], k[0])):
        values = by_user.get(key, [])
        count = counts.get(key, 0)
        target = back_check_size(count, survey_round.backcheck_share)
        out.append(InterviewerBackCheck(key[1], count, target, summarise(len(values), values)))
    return out
