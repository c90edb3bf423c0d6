"""Fieldwork of a paper round: assignments, outcomes, replacements by reserves, response
rates, and the log of every view of personal data. Plain functions: they flush, the caller
commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from analysis.response_rates import AaporRates, aapor_rates, disposition_counts
from survey.models import SampledCase, SurveyRound, User
from survey.models.base import utcnow
from survey.models.paper import OUTCOMES, PiiAccess
from survey.paper import queries
from survey.paper.rounds import RoundError


@dataclass(frozen=True)
class AssignResult:
    """What a (bulk) assignment changed: cases newly given to the surveyor, taken over from
    another surveyor, taken back (revoked), and left as they were."""

    assigned: int = 0
    moved: int = 0
    revoked: int = 0
    unchanged: int = 0

    @property
    def taken_away(self) -> int:
        """Cases an interviewer loses: they must be confirmed before anything is written."""
        return self.moved + self.revoked


class ConfirmationNeeded(RoundError):
    """The assignment would take cases away from an interviewer: nothing was written; ask the
    user to confirm `plan.taken_away` cases and submit again."""

    def __init__(self, plan: AssignResult) -> None:
        super().__init__(f"Cần xác nhận: {plan.taken_away} trường hợp sẽ bị thu hồi hoặc chuyển người.")
        self.plan = plan


def assign(
    session: Session,
    survey_round: SurveyRound,
    case_ids: list[int],
    surveyor: User | None,
    confirmed: int | None = None,
) -> AssignResult:
    """Give active cases to a surveyor (None: take them back). When the change would take
    cases away from an interviewer (revoked, or moved to another one) it is written only if
    `confirmed` equals that count; otherwise `ConfirmationNeeded` is raised before any write,
    so a stale confirmation (the list changed meanwhile) asks again."""
    if surveyor is not None and surveyor.role != "surveyor":
        raise RoundError("Chỉ giao phiếu cho điều tra viên.")
    if not case_ids:
        raise RoundError("Chưa chọn trường hợp nào.")
    cases = session.scalars(
        sa.select(SampledCase)
        .where(SampledCase.round_id == survey_round.id, SampledCase.id.in_(case_ids))
        .order_by(SampledCase.id)
        .with_for_update()
    ).all()
    if len(cases) != len(set(case_ids)):
        raise RoundError("Có trường hợp không thuộc đợt khảo sát này.")
    target = surveyor.id if surveyor else None
    for case in cases:
        if not case.active:
            raise RoundError(f"Phiếu {case.form_serial} là phiếu dự phòng chưa được dùng.")
        if case.outcome is not None:
            raise RoundError(f"Phiếu {case.form_serial} đã có kết quả phỏng vấn.")
    plan = AssignResult(
        assigned=sum(1 for c in cases if target is not None and c.surveyor_id is None),
        moved=sum(1 for c in cases if target is not None and c.surveyor_id not in (None, target)),
        revoked=sum(1 for c in cases if target is None and c.surveyor_id is not None),
        unchanged=sum(1 for c in cases if c.surveyor_id == target),
    )
    if plan.taken_away and confirmed != plan.taken_away:
        raise ConfirmationNeeded(plan)
    for case in cases:
        if case.surveyor_id != target:
            case.surveyor_id = target
            case.assigned_at = utcnow() if surveyor else None
    if survey_round.status == "sampled" and surveyor is not None:
        survey_round.status = "fieldwork"
    session.flush()
    return plan


#: `record_outcome`'s `expected` when the caller does not say what it saw.
AS_LOADED = object()


def record_outcome(session: Session, case: SampledCase, outcome: str, expected: object = AS_LOADED) -> bool:
    """Record the outcome of a contact with `case`. `expected` is the outcome the user saw
    (None: none yet; by default the one loaded with `case`): the row is claimed by a conditional
    UPDATE on it, so when someone else recorded an outcome meanwhile (two interviewers, a team
    leader, a double click with another choice) nothing is written and the message says what is
    there now. The same outcome again is not an error (returns False: nothing changed). A new
    outcome puts the case back in the team leader's review queue (review status cleared).
    Returns True when the outcome was written."""
    if outcome not in OUTCOMES:
        raise RoundError(f"Mã kết quả {outcome!r} không hợp lệ.")
    if not case.active:
        raise RoundError("Phiếu dự phòng chưa được dùng: không ghi kết quả.")
    if case.replaced_by_id is not None or case.replacement_reason is not None:
        raise RoundError(f"Phiếu {case.form_serial} đã được thay bằng hồ sơ dự phòng: không ghi kết quả nữa.")
    seen = case.outcome if expected is AS_LOADED else expected
    if seen is not None and seen not in OUTCOMES:
        raise RoundError(f"Mã kết quả {seen!r} không hợp lệ.")
    now = utcnow()
    claimed = session.execute(
        sa.update(SampledCase)
        .where(
            SampledCase.id == case.id,
            SampledCase.outcome.is_(None) if seen is None else SampledCase.outcome == seen,
            SampledCase.replacement_reason.is_(None),
        )
        .values(outcome=outcome, outcome_at=now, review_status=None)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:
        current = session.scalar(sa.select(SampledCase.outcome).where(SampledCase.id == case.id))
        if current == outcome:
            session.refresh(case)
            return False
        shown = OUTCOMES[current][1] if current else "chưa có kết quả"
        raise RoundError(
            f"Phiếu {case.form_serial} vừa được người khác ghi kết quả (hiện là “{shown}”): "
            "xem lại rồi ghi lại nếu cần."
        )
    # Same values on the object (the UPDATE bypassed the ORM), so the audit log records them.
    case.outcome, case.outcome_at, case.review_status = outcome, now, None
    session.flush()
    return True


def replace_case(session: Session, case: SampledCase, reason: str) -> SampledCase:
    """Take the next unused reserve of the same stratum in place of `case`, recording why."""
    if not reason.strip():
        raise RoundError("Phải ghi lý do thay thế.")
    if not case.active or case.replaced_by_id is not None:
        raise RoundError(f"Phiếu {case.form_serial} không thể thay thế.")
    if case.outcome is None:
        raise RoundError(
            f"Phiếu {case.form_serial} chưa có kết quả liên hệ: ghi kết quả (từ chối, không liên lạc được…) "
            "trước khi thay bằng hồ sơ dự phòng."
        )
    if OUTCOMES[case.outcome][0] in INTERVIEWS:
        raise RoundError(f"Phiếu {case.form_serial} đã phỏng vấn: không thay thế.")
    # Claim the case first (a conditional UPDATE only one transaction can make): a second
    # team leader replacing it at the same moment waits, then finds it being replaced.
    claimed = session.execute(
        sa.update(SampledCase)
        .where(
            SampledCase.id == case.id,
            SampledCase.active,
            SampledCase.replaced_by_id.is_(None),
            SampledCase.replacement_reason.is_(None),
        )
        .values(replacement_reason=reason.strip())
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:
        raise RoundError(f"Phiếu {case.form_serial} vừa được người khác thay thế.")
    reserve = _claim_reserve(session, case)
    if reserve is None:
        raise RoundError(f"Tầng {case.stratum} đã hết phiếu dự phòng.")
    reserve.active = True
    reserve.surveyor_id = case.surveyor_id
    reserve.assigned_at = utcnow() if case.surveyor_id else None
    case.replaced_by_id = reserve.id
    case.replacement_reason = reason.strip()
    session.flush()
    return reserve


def _claim_reserve(session: Session, case: SampledCase) -> SampledCase | None:
    """The next unused reserve of the case's stratum, claimed by a conditional UPDATE: when
    another replacement took it meanwhile, the next one is tried."""
    candidates = session.scalars(
        sa.select(SampledCase.id)
        .where(
            SampledCase.round_id == case.round_id,
            SampledCase.stratum == case.stratum,
            SampledCase.role == "reserve",
            SampledCase.active.is_(False),
        )
        .order_by(SampledCase.draw_order)
    ).all()
    for reserve_id in candidates:
        taken = session.execute(
            sa.update(SampledCase)
            .where(SampledCase.id == reserve_id, SampledCase.active.is_(False))
            .values(active=True)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount:
            reserve = session.get(SampledCase, reserve_id)
            assert reserve is not None
            session.refresh(reserve)
            return reserve
    return None


#: AAPOR dispositions that are interviews: such a case is never replaced.
INTERVIEWS = ("I", "P")


@dataclass(frozen=True)
class ResponseRates:
    counts: dict[str, int]
    dispositions: dict[str, int]
    rr1: float | None
    active: int
    pending: int
    aapor: AaporRates
    #: Fieldwork still runs: cases without an outcome count as unknown eligibility.
    interim: bool


def response_rates(session: Session, round_id: int) -> ResponseRates:
    """AAPOR rates (`analysis.response_rates`) over every case put in the field, from the
    outcome counts the database aggregated. A replaced case keeps its own outcome (it stays in
    the denominator) and its reserve is one more case. Cases without an outcome yet count as
    unknown eligibility (``pending``), so the rate never leaves out the cases not yet
    attempted; the rates are interim until the round is closed."""
    rows = session.execute(
        sa.select(SampledCase.outcome, sa.func.count())
        .where(SampledCase.round_id == round_id, SampledCase.active)
        .group_by(SampledCase.outcome)
    ).all()
    counts = {str(outcome): int(n) for outcome, n in rows if outcome}
    pending = sum(int(n) for outcome, n in rows if not outcome)
    dispositions = disposition_counts(counts, {code: d for code, (d, _label) in OUTCOMES.items()})
    rates = aapor_rates(dispositions, pending=pending)
    by_code = {code: n for code, n in dispositions.as_dict().items() if n}
    status = session.scalar(sa.select(SurveyRound.status).where(SurveyRound.id == round_id))
    return ResponseRates(
        counts, by_code, rates.rr1, sum(counts.values()) + pending, pending, rates, interim=status != "closed"
    )


def interviewer_progress(session: Session, round_id: int) -> list[sa.Row]:
    """Per interviewer (None: not assigned) and place: cases assigned (not replaced),
    attempted (any outcome), completed, non-interviews, still pending."""
    return list(session.execute(queries.interviewer_progress(round_id)).all())


def close_fieldwork(session: Session, survey_round: SurveyRound) -> int:
    """End the fieldwork: the rates become final (cases still without an outcome stay unknown
    eligibility). Returns how many cases had no outcome. A conditional UPDATE claims the round,
    so two clicks close it once."""
    claimed = session.execute(
        sa.update(SurveyRound)
        .where(SurveyRound.id == survey_round.id, SurveyRound.status.in_(("sampled", "fieldwork")))
        .values(status="closed")
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:
        raise RoundError("Đợt khảo sát chưa ở thực địa hoặc đã kết thúc.")
    session.refresh(survey_round)
    return response_rates(session, survey_round.id).pending


def case_summary(session: Session, round_id: int) -> dict[str, Any]:
    return dict(
        session.execute(
            sa.select(SampledCase.role, sa.func.count())
            .where(SampledCase.round_id == round_id)
            .group_by(SampledCase.role)
        ).all()
    )


def log_pii_view(session: Session, user: User, cases: Sequence[SampledCase], purpose: str) -> None:
    """Record that `user` was shown the personal data of `cases`: one row per round and view,
    holding the ids of the cases shown (a list page shows one page of cases, so a row stays
    small at any round size)."""
    by_round: dict[int, list[int]] = {}
    for case in cases:
        by_round.setdefault(case.round_id, []).append(case.id)
    for round_id, case_ids in sorted(by_round.items()):
        log_pii_ids(session, user, round_id, case_ids, purpose)


def log_pii_ids(session: Session, user: User, round_id: int, case_ids: Sequence[int], purpose: str) -> None:
    """One access-log row for a view of the personal data of `case_ids` of a round (nothing
    when no case was shown)."""
    if case_ids:
        session.add(PiiAccess(user_id=user.id, round_id=round_id, case_ids=sorted(case_ids), purpose=purpose))
        session.flush()


def may_see_personal_data(user: User, surveyor_id: int | None) -> bool:
    """Whether `user` may see the applicant's name and contact details of cases assigned to
    `surveyor_id`: a supervisor always, an interviewer for their own cases only."""
    if user.role == "supervisor":
        return True
    return user.role == "surveyor" and surveyor_id is not None and user.id == surveyor_id
