"""Named queries of the Vietnam Post pages."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, selectinload

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


@dataclass(frozen=True)
class CaseFilter:
    """What a case list is narrowed to (None: everything)."""

    place_id: int | None = None
    field_group: str | None = None
    #: An interviewer's id, or UNASSIGNED.
    surveyor: int | str | None = None
    #: An outcome code, or NO_OUTCOME.
    outcome: str | None = None
    #: Part of a dossier code, or the first digits of a form serial.
    search: str = ""


UNASSIGNED, NO_OUTCOME = "chua-giao", "chua-co"


def cases_for_assignment(round_id: int, filters: CaseFilter = CaseFilter()) -> sa.Select:
    """The round's cases in the field under `filters`, each row with its dossier, place and
    interviewer loaded by the same SELECT (joins, no query per case); page it with LIMIT/OFFSET."""
    stmt = (
        sa.select(SampledCase)
        .join(SampledCase.record)
        .join(FrameRecord.place)
        .outerjoin(SampledCase.surveyor)
        .options(contains_eager(SampledCase.record).contains_eager(FrameRecord.place))
        .options(contains_eager(SampledCase.surveyor))
        .where(SampledCase.round_id == round_id, SampledCase.active)
        .order_by(SampledCase.stratum, SampledCase.draw_order, SampledCase.id)
    )
    if filters.place_id:
        stmt = stmt.where(FrameRecord.place_id == filters.place_id)
    if filters.field_group:
        stmt = stmt.where(FrameRecord.field_group == filters.field_group)
    if filters.surveyor == UNASSIGNED:
        stmt = stmt.where(SampledCase.surveyor_id.is_(None))
    elif isinstance(filters.surveyor, int):
        stmt = stmt.where(SampledCase.surveyor_id == filters.surveyor)
    if filters.outcome == NO_OUTCOME:
        stmt = stmt.where(SampledCase.outcome.is_(None), SampledCase.replaced_by_id.is_(None))
    elif filters.outcome:
        stmt = stmt.where(SampledCase.outcome == filters.outcome)
    if filters.search:
        matches = FrameRecord.dossier_code.icontains(filters.search, autoescape=True)
        digits = "".join(ch for ch in filters.search if ch.isdigit())
        if digits and digits == filters.search.replace(" ", "").replace("-", ""):
            matches = matches | SampledCase.form_serial.startswith(digits, autoescape=True)
        stmt = stmt.where(matches)
    return stmt


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
