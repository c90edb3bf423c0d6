"""Named queries of the paper channel's services (each returns an `sa.Select`)."""

from __future__ import annotations

import sqlalchemy as sa

from survey.models import FrameRecord, Place, SampledCase, User
from survey.models.paper import OUTCOMES

#: Outcome codes of an interview (AAPOR I and P).
_INTERVIEW_CODES = sorted(code for code, (disposition, _label) in OUTCOMES.items() if disposition in ("I", "P"))


def interviewer_progress(round_id: int) -> sa.Select:
    """Per interviewer and place: the cases in the field, attempted, completed, non-interview,
    pending, and cases handed to a reserve — counted by the database."""
    outcome = SampledCase.outcome

    def count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    return (
        sa.select(
            User.full_name.label("interviewer"),
            Place.name.label("place"),
            sa.func.count().label("assigned"),
            count_if(outcome.is_not(None)).label("attempted"),
            count_if(outcome.in_(_INTERVIEW_CODES)).label("completed"),
            count_if(outcome.is_not(None) & outcome.not_in(_INTERVIEW_CODES)).label("non_interview"),
            count_if(outcome.is_(None)).label("pending"),
            count_if(SampledCase.replaced_by_id.is_not(None)).label("replaced"),
        )
        .select_from(SampledCase)
        .join(FrameRecord, FrameRecord.id == SampledCase.frame_record_id)
        .join(Place, Place.id == FrameRecord.place_id)
        .outerjoin(User, User.id == SampledCase.surveyor_id)
        .where(SampledCase.round_id == round_id, SampledCase.active)
        .group_by(User.full_name, Place.name)
        .order_by(User.full_name.nulls_last(), Place.name)
    )
