"""Named queries of the public pages."""

import sqlalchemy as sa

from survey.models import Response


def receipt() -> sa.Select:
    """The receipt code of a stored response (parameter ``code``), to show on the thank-you
    page: built once, run with its parameter."""
    return _RECEIPT


_RECEIPT = sa.select(Response.receipt_code).where(Response.receipt_code == sa.bindparam("code"))


def ping() -> sa.Select:
    """The cheapest statement the database must answer (readiness)."""
    return sa.select(sa.literal(1))
