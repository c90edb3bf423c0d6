"""Named queries of the Vietnam Post pages."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from survey.models import (
    Batch,
    Discrepancy,
    FrameRecord,
    PaperForm,
    Place,
    SampledCase,
    StratumDesign,
    SurveyRound,
    User,
)


def open_rounds() -> sa.Select:
    """Rounds whose sample is drawn and whose fieldwork is not over."""
    return (
        sa.select(SurveyRound).where(SurveyRound.status.in_(("sampled", "fieldwork"))).order_by(SurveyRound.id.desc())
    )


def active_cases(round_id: int) -> sa.Select:
    """Cases of a round put in the field, with their dossier, place and surveyor."""
    return (
        sa.select(SampledCase)
        .where(SampledCase.round_id == round_id, SampledCase.active)
        .options(selectinload(SampledCase.record).selectinload(FrameRecord.place), selectinload(SampledCase.surveyor))
        .order_by(SampledCase.stratum, SampledCase.draw_order)
    )


def surveyor_sheet(round_id: int, surveyor_id: int) -> sa.Select:
    """A surveyor's cases of a round still to interview (not replaced)."""
    return active_cases(round_id).where(SampledCase.surveyor_id == surveyor_id, SampledCase.replaced_by_id.is_(None))


def my_cases(surveyor_id: int) -> sa.Select:
    """A surveyor's cases in every round (not replaced)."""
    return (
        sa.select(SampledCase)
        .where(SampledCase.surveyor_id == surveyor_id, SampledCase.active, SampledCase.replaced_by_id.is_(None))
        .options(selectinload(SampledCase.record).selectinload(FrameRecord.place))
        .order_by(SampledCase.round_id, SampledCase.form_serial)
    )


def active_surveyors() -> sa.Select:
    return sa.select(User).where(User.role == "surveyor", User.active).order_by(User.full_name)


def round_places(round_id: int) -> sa.Select:
    """Places with at least one stratum in the round, for the assignment filter."""
    return (
        sa.select(Place.id, Place.name)
        .join(StratumDesign, StratumDesign.place_id == Place.id)
        .where(StratumDesign.round_id == round_id)
        .distinct()
        .order_by(Place.name)
    )


def round_batches(round_id: int) -> sa.Select:
    return sa.select(Batch).where(Batch.round_id == round_id).order_by(Batch.id)


def batch_forms(batch_id: int) -> sa.Select:
    return sa.select(PaperForm).where(PaperForm.batch_id == batch_id).order_by(PaperForm.serial)


def form_discrepancies(form_id: int) -> sa.Select:
    return sa.select(Discrepancy).where(Discrepancy.form_id == form_id).order_by(Discrepancy.question_code)


def returned_cases(round_id: int) -> sa.Select:
    """Cases the team leader returned to their interviewer, not re-done yet."""
    return (
        sa.select(SampledCase)
        .where(SampledCase.round_id == round_id, SampledCase.active, SampledCase.review_status == "returned")
        .options(selectinload(SampledCase.surveyor))
        .order_by(SampledCase.form_serial)
    )
