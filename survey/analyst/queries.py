import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from survey.models import Response


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
