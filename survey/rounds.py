"""Survey rounds of the paper channel: creation, the sample draw (through
`analysis.sampling`), assignments, replacements, outcomes, response rates and the purge
of personal data. Plain functions: they flush, the caller commits."""

from __future__ import annotations

import secrets
from collections import Counter as Tally
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from analysis import sampling
from survey.models import FrameRecord, Questionnaire, SampledCase, StratumDesign, SurveyRound, User
from survey.models.base import utcnow
from survey.models.paper import OUTCOMES, PiiAccess


class RoundError(ValueError):
    """A rule of the fieldwork was broken; the message is shown to the user."""


def luhn_digit(digits: str) -> str:
    """Luhn check digit, so that a mistyped form serial is caught at entry."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def form_serial(round_id: int, sequence: int) -> str:
    body = f"{round_id}{sequence:06d}"
    return body + luhn_digit(body)


def serial_is_valid(serial: str) -> bool:
    return serial.isdigit() and len(serial) >= 8 and luhn_digit(serial[:-1]) == serial[-1]


def create_round(
    session: Session, *, name: str, period_start: date, period_end: date, questionnaire: Questionnaire
) -> SurveyRound:
    if period_end < period_start:
        raise RoundError("Ngày kết thúc kỳ khảo sát phải sau ngày bắt đầu.")
    if session.scalar(sa.select(SurveyRound.id).where(SurveyRound.name == name.strip())) is not None:
        raise RoundError(f"Đã có đợt khảo sát tên {name.strip()!r}.")
    survey_round = SurveyRound(
        name=name.strip(), period_start=period_start, period_end=period_end, questionnaire_id=questionnaire.id
    )
    session.add(survey_round)
    session.flush()
    return survey_round


def stratum_sd_from_round(session: Session, previous: SurveyRound) -> pd.Series:
    """S_h for a Neyman allocation from an earlier round's stored paper responses:
    ``sqrt(p_h (1 - p_h))`` with ``p_h`` the share of satisfied answers among the rated
    answers in stratum h, shrunk as ``(x + 0.5) / (m + 1)`` so that a stratum where everyone
    was satisfied still gets a positive S_h. Strata the earlier round did not reach are left
    out (the allocation then uses 0.5)."""
    from analysis.questionnaire import index_spec
    from survey.models import PaperForm, Response

    questionnaire = session.get(Questionnaire, previous.questionnaire_id)
    assert questionnaire is not None
    spec = index_spec(questionnaire.definition)
    layout = list(questionnaire.coded_layout)
    positions = [layout.index(code) for code in spec.items]
    rows = session.execute(
        sa.select(SampledCase.stratum, Response.coded)
        .join(PaperForm, PaperForm.case_id == SampledCase.id)
        .join(Response, Response.id == PaperForm.response_id)
        .where(SampledCase.round_id == previous.id)
    ).all()
    satisfied = {str(c) for c in spec.satisfied_codes}
    valid = {str(c) for c in spec.valid_codes}
    tally: dict[str, list[int]] = {}
    for stratum, coded in rows:
        counts = tally.setdefault(stratum, [0, 0])
        for i in positions:
            ch = coded[i]
            counts[0] += ch in satisfied
            counts[1] += ch in valid
    shares = {k: (x + 0.5) / (m + 1) for k, (x, m) in tally.items()}
    return pd.Series({k: float(np.sqrt(p * (1 - p))) for k, p in shares.items()}, name="S_h", dtype=float)


def draw_sample(
    session: Session,
    survey_round: SurveyRound,
    rule: sampling.AllocationRule,
    *,
    seed: int | None = None,
    stratum_sd: pd.Series | None = None,
) -> pd.DataFrame:
    """Allocate, draw main and reserve cases per stratum, and keep the design with the round.
    The same frame and seed give the same sample, bit for bit."""
    if survey_round.status != "frame":
        raise RoundError("Đợt khảo sát này đã chọn mẫu.")
    frame = pd.DataFrame(
        session.execute(
            sa.select(FrameRecord.id, FrameRecord.stratum, FrameRecord.place_id, FrameRecord.field_group).where(
                FrameRecord.round_id == survey_round.id
            )
        ).all(),
        columns=["id", "stratum", "place_id", "field_group"],
    )
    if frame.empty:
        raise RoundError("Đợt khảo sát chưa có khung mẫu: hãy nhập danh sách hồ sơ trước.")
    sizes = frame.groupby("stratum").size()
    groups = frame.groupby("stratum")["field_group"].first()
    try:
        sd = stratum_sd.reindex(sizes.index) if stratum_sd is not None and rule.method == "neyman" else None
        design = sampling.allocate(sizes, rule, field_group_of=groups, stratum_sd=sd)
    except ValueError as exc:
        raise RoundError(f"Không phân bổ được cỡ mẫu: {exc}") from None
    seed = seed if seed is not None else secrets.randbits(31)
    selection = sampling.draw(frame[["id", "stratum"]], design, stratum_col="stratum", id_col="id", seed=seed)
    places = frame.groupby("stratum")["place_id"].first()
    for stratum, row in design.iterrows():
        session.add(
            StratumDesign(
                round_id=survey_round.id,
                stratum=str(stratum),
                place_id=int(places[stratum]),
                field_group=str(groups[stratum]),
                population=int(row["N_h"]),
                sample_size=int(row["n_h"]),
                reserve_size=int(row["reserve_h"]),
            )
        )
    selection = selection.sort_values(["stratum", "role", "order"], kind="stable")
    cases = []
    for sequence, row in enumerate(selection.itertuples(index=False), start=1):
        cases.append(
            {
                "round_id": survey_round.id,
                "frame_record_id": int(row.id),
                "stratum": row.stratum,
                "role": row.role,
                "draw_order": int(row.order),
                "active": row.role == "main",
                "form_serial": form_serial(survey_round.id, sequence),
            }
        )
    session.execute(sa.insert(SampledCase.__table__), cases)
    survey_round.seed = seed
    survey_round.allocation = {
        "method": rule.method,
        "total_n": rule.total_n,
        "per_stratum": rule.per_stratum,
        "minimum": rule.minimum,
        "oversample": dict(rule.oversample),
        "reserve_rate": rule.reserve_rate,
    }
    survey_round.status = "sampled"
    session.flush()
    return design


def assign(session: Session, survey_round: SurveyRound, case_ids: list[int], surveyor: User | None) -> int:
    """Give active cases to a surveyor (None: take them back). Returns how many changed."""
    if surveyor is not None and surveyor.role != "surveyor":
        raise RoundError("Chỉ giao phiếu cho điều tra viên.")
    cases = session.scalars(
        sa.select(SampledCase).where(SampledCase.round_id == survey_round.id, SampledCase.id.in_(case_ids))
    ).all()
    if len(cases) != len(set(case_ids)):
        raise RoundError("Có trường hợp không thuộc đợt khảo sát này.")
    changed = 0
    for case in cases:
        if not case.active:
            raise RoundError(f"Phiếu {case.form_serial} là phiếu dự phòng chưa được dùng.")
        if case.outcome is not None:
            raise RoundError(f"Phiếu {case.form_serial} đã có kết quả phỏng vấn.")
        if case.surveyor_id != (surveyor.id if surveyor else None):
            case.surveyor_id = surveyor.id if surveyor else None
            case.assigned_at = utcnow() if surveyor else None
            changed += 1
    if survey_round.status == "sampled" and surveyor is not None:
        survey_round.status = "fieldwork"
    session.flush()
    return changed


def record_outcome(session: Session, case: SampledCase, outcome: str) -> None:
    if outcome not in OUTCOMES:
        raise RoundError(f"Mã kết quả {outcome!r} không hợp lệ.")
    if not case.active:
        raise RoundError("Phiếu dự phòng chưa được dùng: không ghi kết quả.")
    case.outcome = outcome
    case.outcome_at = utcnow()
    session.flush()


def replace_case(session: Session, case: SampledCase, reason: str) -> SampledCase:
    """Take the next unused reserve of the same stratum in place of `case`, recording why."""
    if not reason.strip():
        raise RoundError("Phải ghi lý do thay thế.")
    if not case.active or case.replaced_by_id is not None:
        raise RoundError(f"Phiếu {case.form_serial} không thể thay thế.")
    if case.outcome == "completed":
        raise RoundError(f"Phiếu {case.form_serial} đã phỏng vấn xong: không thay thế.")
    reserve = session.scalars(
        sa.select(SampledCase)
        .where(
            SampledCase.round_id == case.round_id,
            SampledCase.stratum == case.stratum,
            SampledCase.role == "reserve",
            SampledCase.active.is_(False),
        )
        .order_by(SampledCase.draw_order)
        .limit(1)
        .with_for_update()
    ).first()
    if reserve is None:
        raise RoundError(f"Tầng {case.stratum} đã hết phiếu dự phòng.")
    reserve.active = True
    reserve.surveyor_id = case.surveyor_id
    reserve.assigned_at = utcnow() if case.surveyor_id else None
    case.replaced_by_id = reserve.id
    case.replacement_reason = reason.strip()
    session.flush()
    return reserve


@dataclass(frozen=True)
class ResponseRates:
    counts: dict[str, int]
    dispositions: dict[str, int]
    rr1: float | None
    active: int
    pending: int


def response_rates(session: Session, round_id: int) -> ResponseRates:
    """AAPOR RR1 = I / (I + P + R + NC + O + UH + UO) over the cases put in the field."""
    rows = (
        session.execute(sa.select(SampledCase.outcome).where(SampledCase.round_id == round_id, SampledCase.active))
        .scalars()
        .all()
    )
    counts = Tally(o for o in rows if o)
    dispositions: dict[str, int] = Tally()
    for outcome, n in counts.items():
        dispositions[OUTCOMES[outcome][0]] += n
    eligible_or_unknown = sum(n for d, n in dispositions.items() if d != "NE")
    rr1 = dispositions.get("I", 0) / eligible_or_unknown if eligible_or_unknown else None
    return ResponseRates(dict(counts), dict(dispositions), rr1, len(rows), sum(1 for o in rows if not o))


def log_pii_view(session: Session, user: User, round_id: int, case_ids: list[int], purpose: str) -> None:
    if case_ids:
        session.add(PiiAccess(user_id=user.id, round_id=round_id, case_ids=sorted(case_ids), purpose=purpose))
        session.flush()


def purge_pii(session: Session, survey_round: SurveyRound) -> int:
    """Remove names, phones and addresses of the round's frame; responses, the design and
    the sample stay. Returns the number of frame rows cleared."""
    result = session.execute(
        sa.update(FrameRecord)
        .where(FrameRecord.round_id == survey_round.id)
        .values(applicant_name=None, phone=None, address=None)
    )
    survey_round.pii_purged_at = utcnow()
    session.flush()
    return int(result.rowcount or 0)


def case_summary(session: Session, round_id: int) -> dict[str, Any]:
    return dict(
        session.execute(
            sa.select(SampledCase.role, sa.func.count())
            .where(SampledCase.round_id == round_id)
            .group_by(SampledCase.role)
        ).all()
    )
