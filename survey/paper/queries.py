"""Named queries of the paper channel's services (each returns an `sa.Select`)."""

from __future__ import annotations

import sqlalchemy as sa

from survey.models import FrameRecord, Place, Procedure, SampledCase, User
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


def printed_cases(round_id: int, surveyor_id: int) -> sa.Select:
    """An interviewer's cases of a round still to interview, with what their printed form and
    assignment sheet show, in one query (place, procedure name and interviewer joined)."""
    return (
        sa.select(
            SampledCase.id.label("case_id"),
            SampledCase.form_serial.label("serial"),
            FrameRecord.dossier_code,
            FrameRecord.procedure_code,
            Procedure.name.label("procedure_name"),
            FrameRecord.linh_vuc,
            FrameRecord.field_group,
            Place.name.label("place"),
            FrameRecord.result_date,
            User.full_name.label("interviewer"),
            FrameRecord.applicant_name,
            FrameRecord.phone,
            FrameRecord.address,
        )
        .join(FrameRecord, FrameRecord.id == SampledCase.frame_record_id)
        .join(Place, Place.id == FrameRecord.place_id)
        .outerjoin(Procedure, Procedure.code == FrameRecord.procedure_code)
        .outerjoin(User, User.id == SampledCase.surveyor_id)
        .where(
            SampledCase.round_id == round_id,
            SampledCase.active,
            SampledCase.surveyor_id == surveyor_id,
            SampledCase.replaced_by_id.is_(None),
        )
        .order_by(SampledCase.stratum, SampledCase.draw_order)
    )
