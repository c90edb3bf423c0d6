"""Survey rounds of the paper channel: a period of completed dossiers, the questionnaire
version its interviews use, and the rules of its draw and verification."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from survey.models import Questionnaire, SurveyRound


class RoundError(ValueError):
    """A rule of the fieldwork was broken; the message is shown to the user."""


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
