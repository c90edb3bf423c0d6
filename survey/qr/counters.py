"""Counters and their QR codes: shared by the admin pages, the CLI and the citizen pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from survey.models import Counter, Place
from survey.models.base import FIELD_GROUP_LABELS
from survey.qr.codes import grouped, make_code, normalise, read_code


@dataclass(frozen=True)
class CounterLookup:
    status: Literal["ok", "rotated", "inactive", "invalid"]
    counter: Counter | None = None


def lookup(session: Session, secret: str, text: str) -> CounterLookup:
    """Resolve the code printed on a poster (never raises on bad input)."""
    code = read_code(secret, text)  # then one statement: the counter, its place and field groups
    if code is None:
        return CounterLookup("invalid")
    counter = session.get(
        Counter, code.counter_id, options=[joinedload(Counter.place), joinedload(Counter.field_group_rows)]
    )
    if counter is None:
        return CounterLookup("invalid")
    if code.serial != counter.poster_serial:
        return CounterLookup("rotated", counter)
    if not counter.active or not counter.place.active:
        return CounterLookup("inactive", counter)
    return CounterLookup("ok", counter)


def questionnaire_slug(counter: Counter, default: str) -> str:
    """The questionnaire the counter's poster and citizen's page use: its own, else the
    site's configured ``QR_QUESTIONNAIRE`` (`default`)."""
    return counter.questionnaire_slug or default


def normalise_code(text: str) -> str:
    return normalise(text)


def counter_code(secret: str, counter: Counter) -> str:
    return make_code(secret, counter.id, counter.poster_serial)


def counter_url(base_url: str, secret: str, counter: Counter) -> str:
    return f"{base_url.rstrip('/')}/q/{counter_code(secret, counter)}"


def typed_address(base_url: str, secret: str, counter: Counter) -> str:
    host = base_url.split("://", 1)[-1].rstrip("/")
    return f"{host}/q/{grouped(counter_code(secret, counter))}"


def rotate(counter: Counter) -> None:
    """Invalidate the counter's printed posters: the next poster carries a new code."""
    counter.poster_serial += 1


def field_group_labels(counter: Counter) -> tuple[str, ...]:
    return tuple(FIELD_GROUP_LABELS[g] for g in counter.field_groups)


def counters_for_posters(session: Session, *, place_id: int | None = None) -> list[Counter]:
    stmt = (
        sa.select(Counter)
        .join(Place)
        .where(Counter.active, Place.active)
        .options(selectinload(Counter.place), selectinload(Counter.field_group_rows))
        .order_by(Place.kind, Place.code, Counter.code)
    )
    if place_id is not None:
        stmt = stmt.where(Counter.place_id == place_id)
    return list(session.scalars(stmt))
