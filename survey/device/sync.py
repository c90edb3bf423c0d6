"""What the server does for the interviewer app: the download of an interviewer's open cases
(only what the interview needs) with the round's questionnaire, and the receipt of one item
of a device's queue — a finished interview or the outcome of a contact — under its
idempotency key. Plain functions: they flush, the caller commits.

An interview is stored through the same recording service as a keyed paper form (a response
of channel ``paper`` with its mode and paradata; the case's outcome ``completed``), so it goes
through the team leader's review, the back-check sample and the round's estimates. A case
that changed while the device was offline (reassigned, replaced, closed, already answered) is
not dropped: the item is kept as a *conflict* for the team leader's decision."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session, selectinload

from survey.device.rules import CONTROL, clean_answers, device_questions, normalised_text, validate
from survey.i18n import local_day_start, local_today
from survey.models import DeviceSubmission, FrameRecord, Questionnaire, SampledCase, SurveyRound, User
from survey.models.base import utcnow
from survey.models.device import INTERVIEW_MODES
from survey.models.paper import OUTCOMES
from survey.paper.fieldwork import log_pii_view, record_outcome, replace_case
from survey.paper.rounds import RoundError
from survey.questionnaires.definition import field_code
from survey.responses.recording import DuplicateDossier, dossier_taken, record_response

TOKEN_SALT = "sipas-device-case"
KEY = re.compile(r"^[A-Za-z0-9-]{16,64}$")
#: Why an item could not be recorded on its case (stored as the code, shown in words).
CONFLICTS = {
    "closed": _l("Đợt khảo sát đã kết thúc."),
    "replaced": _l("Trường hợp đã được thay bằng hồ sơ dự phòng."),
    "reassigned": _l("Trường hợp đã được giao cho điều tra viên khác."),
    "revoked": _l("Trường hợp đã bị thu hồi."),
    "has_outcome": _l("Trường hợp đã có kết quả do người khác ghi."),
    "answered": _l("Hồ sơ này đã có phiếu trả lời."),
}
STATUS_LABELS = {
    "recorded": _l("Đã gửi"),
    "conflict": _l("Chờ tổ trưởng quyết định"),
    "accepted": _l("Tổ trưởng đã nhận phỏng vấn"),
    "set_aside": _l("Tổ trưởng đã để riêng, không tính"),
}


class SyncRefused(Exception):
    """The item is refused as sent (HTTP `status`); nothing was stored."""

    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors or {}


def case_token(secret: str, case_id: int, surveyor_id: int) -> str:
    """Signed (case, interviewer) pair handed out with a downloaded case: an item sent later
    proves the case was this interviewer's when it was downloaded, even if it is not now."""
    return str(URLSafeSerializer(secret, salt=TOKEN_SALT).dumps([case_id, surveyor_id]))


def read_case_token(secret: str, token: object) -> tuple[int, int] | None:
    if not isinstance(token, str):
        return None
    try:
        case_id, surveyor_id = URLSafeSerializer(secret, salt=TOKEN_SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    return int(case_id), int(surveyor_id)


def open_cases(surveyor_id: int) -> sa.Select:
    """A surveyor's cases still to do: in the field, not replaced, no outcome yet (a case the
    team leader returned has none), in a round in fieldwork whose personal data is kept."""
    return (
        sa.select(SampledCase)
        .join(SurveyRound, SurveyRound.id == SampledCase.round_id)
        .where(
            SampledCase.surveyor_id == surveyor_id,
            SampledCase.active,
            SampledCase.replaced_by_id.is_(None),
            SampledCase.replacement_reason.is_(None),
            SampledCase.outcome.is_(None),
            SurveyRound.status.in_(("sampled", "fieldwork")),
            SurveyRound.pii_purged_at.is_(None),
        )
        .options(selectinload(SampledCase.record).selectinload(FrameRecord.place))
        .order_by(SampledCase.round_id, SampledCase.form_serial)
    )


def my_submissions(surveyor_id: int) -> sa.Select:
    """What the server holds from a surveyor's devices that needs saying: conflicts and the
    team leader's decisions on them, newest first."""
    return (
        sa.select(DeviceSubmission)
        .where(DeviceSubmission.interviewer_id == surveyor_id, DeviceSubmission.status != "recorded")
        .options(selectinload(DeviceSubmission.case))
        .order_by(DeviceSubmission.received_at.desc())
        .limit(100)
    )


def download(session: Session, user: User, secret: str, lang: str = "vi") -> dict[str, Any]:
    """The interviewer's open cases (dossier, procedure, place, the applicant's name and
    phone only — never the address) and each round's questionnaire with its rules. The view
    of the personal data is logged."""
    cases = session.scalars(open_cases(user.id)).all()
    log_pii_view(session, user, cases, "device_download")
    rounds: dict[int, dict[str, Any]] = {}
    for round_id in sorted({c.round_id for c in cases}):
        survey_round = session.get(SurveyRound, round_id)
        assert survey_round is not None
        questionnaire = session.get(Questionnaire, survey_round.questionnaire_id)
        assert questionnaire is not None
        rounds[round_id] = {
            "id": round_id,
            "name": survey_round.name,
            "questionnaire": {"slug": questionnaire.slug, "version": questionnaire.version},
            "questions": device_questions(questionnaire.definition, lang),
        }
    return {
        "user_id": user.id,
        "today": local_today().isoformat(),
        "outcomes": [{"code": code, "label": str(_l(label))} for code, (_d, label) in OUTCOMES.items()],
        "rounds": list(rounds.values()),
        "cases": [
            {
                "id": c.id,
                "round_id": c.round_id,
                "token": case_token(secret, c.id, user.id),
                "serial": c.form_serial,
                "dossier": c.record.dossier_code,
                "procedure": c.record.procedure_code,
                "place": c.record.place.name,
                "name": c.record.applicant_name,
                "phone": c.record.phone,
                "returned": c.review_status == "returned",
            }
            for c in cases
        ],
        "notices": [notice(s) for s in session.scalars(my_submissions(user.id)).all()],
    }


def notice(submission: DeviceSubmission) -> dict[str, Any]:
    """What the interviewer is told about an item (no personal data: the form serial only)."""
    return {
        "key": submission.idempotency_key,
        "case_id": submission.case_id,
        "serial": submission.case.form_serial,
        "status": submission.status,
        "label": str(STATUS_LABELS[submission.status]),
        "message": str(CONFLICTS[submission.conflict]) if submission.conflict in CONFLICTS else "",
        "replaced": submission.status == "recorded" and submission.case.replaced_by_id is not None,
    }


@dataclass(frozen=True)
class Item:
    """One item of a device's queue, checked."""

    key: str
    case_id: int
    kind: str
    outcome: str
    answers: dict[str, Any] | None
    mode: str | None
    replacement_reason: str | None
    started_at: datetime | None
    ended_at: datetime | None


def _time(value: object, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise SyncRefused(400, f"{name}: thời điểm không hợp lệ.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_item(payload: object, user: User, secret: str) -> Item:
    """The item as sent, checked for form (not yet against the case). Refuses what no app of
    ours sends, and a case token that is not this interviewer's."""
    if not isinstance(payload, dict):
        raise SyncRefused(400, "Dữ liệu gửi không hợp lệ.")
    key = payload.get("key")
    if not isinstance(key, str) or not KEY.match(key):
        raise SyncRefused(400, "Thiếu mã gửi (idempotency key).")
    pair = read_case_token(secret, payload.get("case_token"))
    if pair is None or pair[1] != user.id:
        raise SyncRefused(403, "Trường hợp này không được giao cho bạn.")
    kind = payload.get("kind")
    if kind == "interview":
        outcome = "completed"
        answers = payload.get("answers")
        if not isinstance(answers, dict):
            raise SyncRefused(400, "Thiếu câu trả lời.")
        mode = payload.get("mode")
        if mode not in INTERVIEW_MODES:
            raise SyncRefused(400, "Thiếu hình thức phỏng vấn (trực tiếp / qua điện thoại).")
    elif kind == "outcome":
        outcome, answers, mode = str(payload.get("outcome")), None, payload.get("mode") or None
        if outcome not in OUTCOMES or OUTCOMES[outcome][0] in ("I",) or mode not in (None, *INTERVIEW_MODES):
            raise SyncRefused(400, "Mã kết quả không hợp lệ.")
    else:
        raise SyncRefused(400, "Loại dữ liệu không hợp lệ.")
    reason = payload.get("replacement_reason")
    if reason is not None and (not isinstance(reason, str) or kind != "outcome" or CONTROL.search(reason)):
        raise SyncRefused(400, "Lý do thay thế không hợp lệ.")
    reason = normalised_text(reason)[:300] if reason else None
    return Item(
        key=key,
        case_id=pair[0],
        kind=kind,
        outcome=outcome,
        answers=answers,
        mode=mode if isinstance(mode, str) else None,
        replacement_reason=reason or None,
        started_at=_time(payload.get("started_at"), "started_at"),
        ended_at=_time(payload.get("ended_at"), "ended_at"),
    )


def find(session: Session, key: str) -> DeviceSubmission | None:
    return session.scalars(sa.select(DeviceSubmission).where(DeviceSubmission.idempotency_key == key)).first()


def receive(session: Session, user: User, secret: str, payload: object, today: date | None = None) -> dict[str, Any]:
    """Store one item of `user`'s device queue and say what became of it. A key already
    received returns what was stored then (nothing is stored twice). The case row is locked,
    so two items for one case (two devices) are taken one after the other. Flushes."""
    item = parse_item(payload, user, secret)
    known = find(session, item.key)
    if known is not None:
        return _answer(known, known.interviewer_id == user.id)
    case = session.scalars(sa.select(SampledCase).where(SampledCase.id == item.case_id).with_for_update()).first()
    if case is None:
        raise SyncRefused(410, "Trường hợp không còn trên máy chủ.")
    known = find(session, item.key)  # a retry that waited on the lock behind its first try
    if known is not None:
        return _answer(known, known.interviewer_id == user.id)
    survey_round = session.get(SurveyRound, case.round_id)
    assert survey_round is not None
    questionnaire = session.get(Questionnaire, survey_round.questionnaire_id)
    assert questionnaire is not None
    answers = None
    if item.answers is not None:
        questions = device_questions(questionnaire.definition)
        errors = validate(questions, item.answers, today or local_today())
        if errors:
            raise SyncRefused(422, "Câu trả lời chưa hợp lệ.", errors)
        answers = clean_answers(questions, item.answers)
    duration = None
    if item.started_at and item.ended_at and item.ended_at >= item.started_at:
        duration = int((item.ended_at - item.started_at).total_seconds())
    submission = DeviceSubmission(
        idempotency_key=item.key,
        round_id=case.round_id,
        case_id=case.id,
        interviewer_id=user.id,
        kind=item.kind,
        outcome=item.outcome,
        answers=answers,
        mode=item.mode,
        replacement_reason=item.replacement_reason,
        started_at=item.started_at,
        ended_at=item.ended_at,
        duration_s=duration,
        status="recorded",
        received_at=utcnow(),
    )
    submission.conflict = conflict_of(session, case, survey_round, user.id, questionnaire)
    if submission.conflict is None:
        submission.conflict = _record(session, submission, case, questionnaire)
    if submission.conflict is not None:
        submission.status = "conflict"
    session.add(submission)
    session.flush()
    return _answer(submission, True)


def _answer(submission: DeviceSubmission, own: bool) -> dict[str, Any]:
    if not own:
        raise SyncRefused(403, "Mã gửi đã được dùng.")
    return notice(submission)


def conflict_of(
    session: Session, case: SampledCase, survey_round: SurveyRound, surveyor_id: int, questionnaire: Questionnaire
) -> str | None:
    """Why the case can no longer take an item from this interviewer (None: it can)."""
    if survey_round.status not in ("sampled", "fieldwork"):
        return "closed"
    if case.replaced_by_id is not None or case.replacement_reason is not None or not case.active:
        return "replaced"
    if case.surveyor_id is None:
        return "revoked"
    if case.surveyor_id != surveyor_id:
        return "reassigned"
    if case.outcome is not None:
        return "has_outcome"
    if field_code(questionnaire.definition, "dossier_code") and dossier_taken(
        session, case.record.dossier_code.upper(), "paper"
    ):
        return "answered"
    return None


def _record(
    session: Session, submission: DeviceSubmission, case: SampledCase, questionnaire: Questionnaire
) -> str | None:
    """Write the outcome (and, for an interview, the response) on the case, inside a
    savepoint: when the case was taken meanwhile nothing of it stays and the conflict is said."""
    nested = session.begin_nested()
    try:
        record_outcome(session, case, submission.outcome, expected=None)
        if submission.kind == "interview":
            submission.response_id = store_response(session, submission, case, questionnaire)
    except RoundError:
        nested.rollback()
        session.refresh(case)
        return "has_outcome"
    except DuplicateDossier:
        nested.rollback()
        session.refresh(case)
        return "answered"
    nested.commit()
    if submission.replacement_reason:
        _replace(session, case, submission.replacement_reason)
    return None


def _replace(session: Session, case: SampledCase, reason: str) -> None:
    """The interviewer asked to replace the case (as the case page lets them): the next
    reserve of the stratum, given to them. When it cannot be done (no reserve left, an
    interview) the outcome stays and the team leader replaces it by hand."""
    nested = session.begin_nested()
    try:
        replace_case(session, case, reason)
    except RoundError:
        nested.rollback()
        session.refresh(case)
    else:
        nested.commit()


def store_response(
    session: Session, submission: DeviceSubmission, case: SampledCase, questionnaire: Questionnaire
) -> int:
    """The interview as a response of the round, through the recording service of keyed forms
    (the dossier code and field group come from the case, as for a keyed form)."""
    record = case.record
    known = {"field_group": record.field_group, "dossier_code": record.dossier_code}
    from_case = {code: known[f] for f in known if (code := field_code(questionnaire.definition, f))}
    response, _created = record_response(
        session,
        questionnaire,
        {**(submission.answers or {}), **from_case},
        channel="paper",
        place_id=record.place_id,
        field_group=record.field_group,
        interviewer_id=submission.interviewer_id,
        idempotency_key=submission.idempotency_key,
        started_at=submission.started_at,
        submitted_at=submission.ended_at,
        mode=submission.mode,
        ended_at=submission.ended_at,
        duration_s=submission.duration_s,
    )
    return response.id


# --- the team leader's decision on a conflict -------------------------------------------------
def conflicts(round_id: int) -> sa.Select:
    """A round's items kept for the team leader: undecided first, then decided, newest first."""
    return (
        sa.select(DeviceSubmission)
        .where(DeviceSubmission.round_id == round_id, DeviceSubmission.status != "recorded")
        .options(
            selectinload(DeviceSubmission.case).selectinload(SampledCase.surveyor),
            selectinload(DeviceSubmission.interviewer),
        )
        .order_by((DeviceSubmission.status == "conflict").desc(), DeviceSubmission.received_at.desc())
    )


def decide(session: Session, submission: DeviceSubmission, leader: User, decision: str, note: str | None) -> None:
    """Accept the item on its case (recorded as if it had arrived in time: the case goes back
    to the interviewer who made it) or set it aside with a note. Claimed by a conditional
    UPDATE, so a double click decides once."""
    if leader.role != "supervisor":
        raise RoundError("Chỉ tổ trưởng quyết định.")
    if decision not in ("accepted", "set_aside"):
        raise RoundError(f"Quyết định {decision!r} không hợp lệ.")
    note = (note or "").strip()[:500] or None
    if decision == "set_aside" and note is None:
        raise RoundError("Phải ghi lý do khi để riêng.")
    claimed = session.execute(
        sa.update(DeviceSubmission)
        .where(DeviceSubmission.id == submission.id, DeviceSubmission.status == "conflict")
        .values(status=decision, decided_by_id=leader.id, decided_at=utcnow(), decision_note=note)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:
        raise RoundError("Mục này đã được quyết định.")
    if decision == "accepted":
        case = session.scalars(
            sa.select(SampledCase).where(SampledCase.id == submission.case_id).with_for_update()
        ).one()
        survey_round = session.get(SurveyRound, case.round_id)
        questionnaire = session.get(Questionnaire, survey_round.questionnaire_id) if survey_round else None
        assert survey_round is not None and questionnaire is not None
        if case.surveyor_id != submission.interviewer_id and case.outcome is None:
            case.surveyor_id = submission.interviewer_id  # it is their interview now
        why = conflict_of(session, case, survey_round, submission.interviewer_id, questionnaire)
        if why is not None or _record(session, submission, case, questionnaire) is not None:
            raise RoundError(
                "Không nhận được: "
                + str(CONFLICTS[why or "has_outcome"])
                + " Hãy để riêng, hoặc thu hồi kết quả kia trước."
            )
    session.refresh(submission)


def device_interviews_today(session: Session, round_id: int) -> dict[int, int]:
    """Per interviewer: interviews received from devices today (the Vietnam calendar day)."""
    start = local_day_start(local_today())
    rows = session.execute(
        sa.select(DeviceSubmission.interviewer_id, sa.func.count())
        .where(
            DeviceSubmission.round_id == round_id,
            DeviceSubmission.kind == "interview",
            DeviceSubmission.status.in_(("recorded", "accepted")),
            DeviceSubmission.received_at >= start,
        )
        .group_by(DeviceSubmission.interviewer_id)
    ).all()
    return {int(i): int(n) for i, n in rows}
