"""Double keying of paper forms: the first keying, the blind second keying, and the
adjudication of the mismatches against the paper.

A form enters the analysis only as a verified `Response` (channel ``paper``): after two
keyings that agree (or whose mismatches a supervisor settled from the paper), or — when
the round verifies one form in N — after a first keying not drawn for verification.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from survey.models import Batch, Discrepancy, Keying, PaperForm, Questionnaire, SampledCase, SurveyRound, User
from survey.models.base import utcnow
from survey.models.paper import OUTCOMES
from survey.paper.keying_form import CONTROL, normalised_text, required_missing, straight_lined
from survey.paper.operators import needs_verification
from survey.paper.serials import normalise_serial, serial_is_valid
from survey.questionnaires.definition import field_code
from survey.responses.recording import DuplicateDossier, dossier_taken, record_response


class KeyingError(ValueError):
    """A keying rule was broken; the message is shown to the operator."""


def case_for_serial(session: Session, survey_round: SurveyRound, serial: str) -> SampledCase:
    serial = normalise_serial(serial)
    if not serial_is_valid(serial):
        raise KeyingError(f"Số phiếu {serial or '(trống)'} sai (kiểm tra lại chữ số cuối).")
    case = session.scalars(
        sa.select(SampledCase).where(SampledCase.form_serial == serial, SampledCase.round_id == survey_round.id)
    ).first()
    if case is None:
        raise KeyingError(f"Số phiếu {serial} không thuộc mẫu của đợt này.")
    if not case.active:
        raise KeyingError(f"Phiếu {serial} là phiếu dự phòng chưa được dùng.")
    return case


def open_keying(session: Session, batch: Batch, serial: str, user: User) -> Keying:
    """The keying `user` should do for this serial: the first keying of a new form, their own
    draft, or the blind second keying. Flushes."""
    survey_round = session.get(SurveyRound, batch.round_id)
    assert survey_round is not None
    case = case_for_serial(session, survey_round, serial)
    form = session.scalars(sa.select(PaperForm).where(PaperForm.case_id == case.id)).first()
    if form is None:
        if case.review_status == "returned":
            raise KeyingError(
                f"Phiếu {case.form_serial} bị tổ trưởng trả lại để phỏng vấn lại: chưa nhập được, "
                "chờ điều tra viên ghi lại kết quả."
            )
        if case.outcome not in (None, "completed"):
            label = OUTCOMES[case.outcome][1]
            raise KeyingError(f"Phiếu {case.form_serial} đã ghi kết quả “{label}”, không phải phỏng vấn xong.")
        form = PaperForm(batch_id=batch.id, case_id=case.id, serial=case.form_serial)
        session.add(form)
        session.flush()
    elif form.batch_id != batch.id:
        raise KeyingError(f"Phiếu {form.serial} đã được nhận trong lô khác (lô {form.batch.code}).")
    keyings = {k.pass_no: k for k in form.keyings}
    first, second = keyings.get(1), keyings.get(2)
    if first is None:
        keying = Keying(form_id=form.id, pass_no=1, keyer_id=user.id, answers={})
    elif first.draft:
        if first.keyer_id != user.id:
            raise KeyingError(f"Phiếu {form.serial} đang được {first.keyer.full_name} nhập dở.")
        return first
    elif not form.needs_verification or form.status in ("verified", "accepted"):
        raise KeyingError(f"Phiếu {form.serial} đã nhập xong.")
    elif first.keyer_id == user.id:
        raise KeyingError(f"Phiếu {form.serial} cần người khác nhập lần hai (kiểm tra chéo).")
    elif second is None:
        keying = Keying(form_id=form.id, pass_no=2, keyer_id=user.id, answers={})
    elif second.draft and second.keyer_id == user.id:
        return second
    else:
        raise KeyingError(f"Phiếu {form.serial} đã được nhập hai lần.")
    session.add(keying)
    session.flush()
    return keying


def save_draft(session: Session, keying: Keying, answers: dict[str, Any]) -> None:
    keying.answers = answers
    keying.fields_keyed = len(answers)
    session.flush()


def _value(v: Any) -> str | None:
    """A keyed value as compared and stored in a discrepancy: text normalised (NFC, spaces),
    so the same words typed on two keyboards are the same value."""
    if v is None or v == "":
        return None
    return normalised_text(v) or None if isinstance(v, str) else str(v)


def _settled(questionnaire: Questionnaire, code: str, value: str | None) -> str | None:
    """The adjudicated value normalised by the question's type: a date as ISO (typed
    15/03/2026, 15032026 or 2026-03-15), text in NFC without control characters."""
    value = _value(value)
    if value is None:
        return None
    if CONTROL.search(value):
        raise KeyingError(f"{code}: nội dung có ký tự không hợp lệ.")
    if _question_type(questionnaire, code) == "date":
        for fmt in ("%d/%m/%Y", "%d%m%Y", "%Y-%m-%d"):
            try:
                return datetime.strptime(value, fmt).date().isoformat()
            except ValueError:
                continue
        raise KeyingError(f"{code}: ngày {value} không hợp lệ (dạng ngày/tháng/năm).")
    return value


def _question_type(questionnaire: Questionnaire, code: str) -> str | None:
    for section in questionnaire.definition["sections"]:
        for q in section["questions"]:
            if q["code"] == code:
                return str(q["type"])
    return None


def _charged(value: str | None, first: str | None, second: str | None) -> str | None:
    """Who keyed something else than the paper (None: both keyings agree with it once
    normalised, nobody is charged)."""
    wrong_first, wrong_second = _value(first) != value, _value(second) != value
    if wrong_first and wrong_second:
        return "both"
    return "first" if wrong_first else "second" if wrong_second else None


def finish_keying(session: Session, keying: Keying, answers: dict[str, Any], questionnaire: Questionnaire) -> PaperForm:
    """Complete a keying. After the first: decide whether the form is verified by a second
    keying; after the second: compare field by field. Flushes."""
    form = keying.form
    survey_round = session.get(SurveyRound, form.case.round_id)
    assert survey_round is not None
    # Claim the keying (only one transaction can turn the draft into a finished keying): a
    # double click on "Hoàn tất" finishes it once and the second request is told so.
    claimed = session.execute(
        sa.update(Keying)
        .where(Keying.id == keying.id, Keying.draft.is_(True))
        .values(draft=False)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:
        raise KeyingError(f"Phiếu {form.serial} (lần nhập {keying.pass_no}) đã nhập xong.")
    keying.answers = answers
    keying.fields_keyed = len(answers)
    keying.draft = False
    keying.finished_at = utcnow()
    if form.case.outcome is None:
        form.case.outcome = "completed"
        form.case.outcome_at = utcnow()
    if keying.pass_no == 1:
        form.needs_verification = needs_verification(session, survey_round, keying.keyer_id)
        if form.needs_verification:
            form.status = "awaiting_second"
        else:
            _accept(session, form, answers, questionnaire, status="submitted")
            form.status = "accepted"
    else:
        first = next(k for k in form.keyings if k.pass_no == 1)
        codes = sorted(set(first.answers) | set(answers))
        mismatches = [c for c in codes if _value(first.answers.get(c)) != _value(answers.get(c))]
        for code in mismatches:
            session.add(
                Discrepancy(
                    form_id=form.id,
                    question_code=code,
                    first_value=_value(first.answers.get(code)),
                    second_value=_value(answers.get(code)),
                )
            )
        if mismatches:
            form.status = "mismatch"
        else:
            _accept(session, form, answers, questionnaire, status="verified")
            form.status = "verified"
    session.flush()
    return form


def adjudicate(
    session: Session, form: PaperForm, resolved: dict[str, str | None], adjudicator: User, questionnaire: Questionnaire
) -> None:
    """Settle every mismatch from the paper (values normalised by the question's type) and
    charge each error to the keyer(s) whose normalised value differs from it; then the form
    is verified."""
    if form.status != "mismatch":
        raise KeyingError(f"Phiếu {form.serial} không có sai lệch cần đối chiếu.")
    discrepancies = session.scalars(sa.select(Discrepancy).where(Discrepancy.form_id == form.id)).all()
    missing = [d.question_code for d in discrepancies if d.question_code not in resolved]
    if missing:
        raise KeyingError("Chưa chọn giá trị đúng cho: " + ", ".join(missing))
    second = next(k for k in form.keyings if k.pass_no == 2)
    answers = dict(second.answers)
    now = utcnow()
    for d in discrepancies:
        value = _settled(questionnaire, d.question_code, resolved[d.question_code])
        d.resolved_value = value
        d.attributed_to = _charged(value, d.first_value, d.second_value)
        d.adjudicator_id = adjudicator.id
        d.resolved_at = now
        if value is None:
            answers.pop(d.question_code, None)
        else:
            answers[d.question_code] = _typed(questionnaire, d.question_code, value)
    _accept(session, form, answers, questionnaire, status="verified")
    form.status = "verified"
    session.flush()


def _typed(questionnaire: Questionnaire, code: str, value: str) -> Any:
    return int(value) if _question_type(questionnaire, code) == "scale" else value


def _accept(
    session: Session, form: PaperForm, answers: dict[str, Any], questionnaire: Questionnaire, *, status: str
) -> None:
    case = form.case
    record = case.record
    first = next(k for k in form.keyings if k.pass_no == 1)
    known = {"field_group": record.field_group, "dossier_code": record.dossier_code}
    from_case = {code: known[f] for f in known if (code := field_code(questionnaire.definition, f))}
    try:
        response, _ = record_response(
            session,
            questionnaire,
            {**answers, **from_case},
            channel="paper",
            place_id=record.place_id,
            field_group=record.field_group,
            interviewer_id=case.surveyor_id,
            status=status,
            started_at=first.started_at,
            mode="paper",
        )
    except DuplicateDossier as exc:
        raise KeyingError(
            f"Hồ sơ {exc.args[0]} đã có phiếu trả lời giấy (có thể ở một đợt khác): "
            f"phiếu {form.serial} chưa được ghi; chuyển phiếu giấy cho tổ trưởng."
        ) from None
    form.response_id = response.id


def start_keying(session: Session, batch: Batch, serial: str, user: User) -> Keying:
    """`open_keying`, looking once more if another clerk opened the same new form at the same
    moment (the loser's insert fails on the unique form; the session is rolled back)."""
    try:
        return open_keying(session, batch, serial, user)
    except IntegrityError:
        session.rollback()
        return open_keying(session, batch, serial, user)


@dataclass(frozen=True)
class KeyingCheck:
    """Why a keying was not finished: required answers missing, or every rated item with
    one and the same code (straight-lining) not yet confirmed against the paper."""

    missing: tuple[str, ...] = ()
    straight_lined: bool = False
    #: The dossier already has a paper response (another round): kept as a draft instead.
    answered_dossier: str | None = None

    @property
    def finished(self) -> bool:
        return not self.missing and not self.straight_lined and self.answered_dossier is None


def submit_keying(
    session: Session,
    keying: Keying,
    answers: dict[str, Any],
    questionnaire: Questionnaire,
    *,
    confirmed_straight: bool,
) -> KeyingCheck:
    """Finish a keying unless a required answer is missing, an unconfirmed straight line
    needs a second look at the paper, or the dossier already has a paper response (a dossier
    sampled in two overlapping rounds: the answers are saved as a draft and the clerk told).
    A keying finished meanwhile (double click) raises `KeyingError`. Flushes."""
    definition = questionnaire.definition
    missing = tuple(required_missing(definition, answers))
    if missing:
        return KeyingCheck(missing=missing)
    if straight_lined(definition, answers) and not confirmed_straight:
        return KeyingCheck(straight_lined=True)
    dossier = keying.form.case.record.dossier_code
    if dossier_taken(session, dossier.upper(), "paper"):
        save_draft(session, keying, answers)  # the clerk's work is kept for the team leader
        return KeyingCheck(answered_dossier=dossier)
    finish_keying(session, keying, answers, questionnaire)
    return KeyingCheck()
