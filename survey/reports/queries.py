"""Named queries of the reports package (each returns an ``sa.Select``; the caller executes)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from survey.models import (
    DossierCount,
    DossierCountTable,
    FrameRecord,
    SampledCase,
    StratumDesign,
    SurveyRound,
    WeightingSnapshot,
)
from survey.responses.cases import case_responses


def paper_design_columns(round_id: int) -> sa.Select:
    """Response id, stratum, N_h and n_h of every interview of a round (keyed forms and
    interviews from the interviewer app)."""
    link = case_responses()
    return (
        sa.select(
            link.c.response_id.label("response_id"),
            SampledCase.stratum,
            StratumDesign.population,
            StratumDesign.sample_size,
        )
        .join(SampledCase, SampledCase.id == link.c.case_id)
        .join(
            StratumDesign,
            sa.and_(StratumDesign.round_id == SampledCase.round_id, StratumDesign.stratum == SampledCase.stratum),
        )
        .where(SampledCase.round_id == round_id)
    )


def stratum_designs(round_id: int) -> sa.Select:
    return (
        sa.select(
            StratumDesign.stratum,
            StratumDesign.place_id,
            StratumDesign.field_group,
            StratumDesign.population,
            StratumDesign.sample_size,
        )
        .where(StratumDesign.round_id == round_id)
        .order_by(StratumDesign.stratum)
    )


def frame_cell_counts(round_id: int) -> sa.Select:
    """Dossiers of a round's frame by place and field group (the database counts)."""
    return (
        sa.select(FrameRecord.place_id, FrameRecord.field_group, sa.func.count().label("dossiers"))
        .where(FrameRecord.round_id == round_id)
        .group_by(FrameRecord.place_id, FrameRecord.field_group)
        .order_by(FrameRecord.place_id, FrameRecord.field_group)
    )


def table_cell_counts(table_id: int, start: date, end: date) -> sa.Select:
    """Dossiers of an imported counts table by place and field group, over the rows whose
    period lies within ``start``–``end`` (the database adds them up)."""
    return (
        sa.select(DossierCount.place_id, DossierCount.field_group, sa.func.sum(DossierCount.dossiers).label("dossiers"))
        .where(DossierCount.table_id == table_id, DossierCount.period_start >= start, DossierCount.period_end <= end)
        .group_by(DossierCount.place_id, DossierCount.field_group)
        .order_by(DossierCount.place_id, DossierCount.field_group)
    )


def table_rows_partly_outside(table_id: int, start: date, end: date) -> sa.Select:
    """How many rows of a counts table overlap ``start``–``end`` without lying within it."""
    return (
        sa.select(sa.func.count())
        .select_from(DossierCount)
        .where(
            DossierCount.table_id == table_id,
            DossierCount.period_start <= end,
            DossierCount.period_end >= start,
            sa.or_(DossierCount.period_start < start, DossierCount.period_end > end),
        )
    )


def counts_tables_newest_first() -> sa.Select:
    return sa.select(DossierCountTable).order_by(DossierCountTable.id.desc())


def snapshots_newest_first() -> sa.Select:
    return sa.select(WeightingSnapshot).order_by(WeightingSnapshot.id.desc())


def rounds_with_forms() -> sa.Select:
    """Rounds with at least one interview (keyed or from a device): the paper rounds that can
    be weighted."""
    link = case_responses()
    return (
        sa.select(SurveyRound)
        .where(
            sa.exists(
                sa.select(link.c.case_id)
                .join(SampledCase, SampledCase.id == link.c.case_id)
                .where(SampledCase.round_id == SurveyRound.id)
            )
        )
        .order_by(SurveyRound.id.desc())
    )


def rounds_with_frame() -> sa.Select:
    """Rounds with a frame (their dossier counts can post-stratify a QR period)."""
    return (
        sa.select(SurveyRound)
        .where(sa.exists(sa.select(FrameRecord.id).where(FrameRecord.round_id == SurveyRound.id)))
        .order_by(SurveyRound.id.desc())
    )


def outcome_counts(round_id: int) -> sa.Select:
    """Interview outcomes of the cases put in the field (NULL = no outcome yet)."""
    return (
        sa.select(SampledCase.outcome, sa.func.count())
        .where(SampledCase.round_id == round_id, SampledCase.active)
        .group_by(SampledCase.outcome)
        .order_by(SampledCase.outcome)
    )
