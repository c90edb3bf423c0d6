import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from survey.models import Response, StratumDesign, SurveyRound


def response_counts() -> sa.Select:
    """Stored responses by channel, field group and status."""
    return (
        sa.select(Response.channel, Response.field_group, Response.status, sa.func.count())
        .group_by(Response.channel, Response.field_group, Response.status)
        .order_by(Response.channel, Response.field_group, Response.status)
    )


def responses_newest_first() -> sa.Select:
    return (
        sa.select(Response)
        .options(selectinload(Response.place), selectinload(Response.counter))
        .order_by(Response.id.desc())
    )


def rounds_newest_first() -> sa.Select:
    return sa.select(SurveyRound).order_by(SurveyRound.id.desc())


def stratum_designs(round_id: int) -> sa.Select:
    """N_h, n_h and reserves per stratum of a round's draw."""
    return sa.select(StratumDesign).where(StratumDesign.round_id == round_id).order_by(StratumDesign.stratum)


def earlier_drawn_rounds(round_id: int) -> sa.Select:
    """Rounds other than this one that have drawn their sample (sources of a Neyman S_h)."""
    return (
        sa.select(SurveyRound)
        .where(SurveyRound.id != round_id, SurveyRound.seed.is_not(None))
        .order_by(SurveyRound.id.desc())
    )
