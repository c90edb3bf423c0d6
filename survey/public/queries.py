"""Named queries of the public pages."""

import sqlalchemy as sa

from survey.models import Response


def receipt(code: str) -> sa.Select:
    """The receipt code of a stored response, to show on the thank-you page."""
    return sa.select(Response.receipt_code).where(Response.receipt_code == code)


def ping() -> sa.Select:
    """The cheapest statement the database must answer (readiness)."""
    return sa.select(sa.literal(1))
