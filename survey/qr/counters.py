"""Counters and their QR codes: shared by the admin pages, the CLI and the citizen pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from survey.models import Counter, CounterFieldGroup, Place
from survey.models.base import FIELD_GROUP_LABELS
from survey.qr.codes import grouped, make_code, normalise, read_code


@dataclass(frozen=True)
class PlaceView:
    name: str
    active: bool


@dataclass(frozen=True)
class CounterView:
    """What the citizen's pages need of a counter, read in one statement (no ORM objects):
    the same attribute names as `Counter`, so templates and helpers take either."""

    id: int
    place_id: int
    name: str
    active: bool
    poster_serial: int
    questionnaire_slug: str | None
    field_groups: tuple[str, ...]
    place: PlaceView


@dataclass(frozen=True)
class CounterLookup:
    status: Literal["ok", "rotated", "inactive", "invalid"]
    counter: CounterView | None = None


def lookup(session: Session, secret: str, text: str) -> CounterLookup:
    """Resolve the code printed on a poster (never raises on bad input)."""
    code = read_code(secret, text)  # then one statement: the counter, its place and field groups
    if code is None:
        return CounterLookup("invalid")
    row = session.connection().execute(_view_statement(session), {"counter_id": code.counter_id}).first()
    if row is None:
        return CounterLookup("invalid")
    groups = tuple(sorted(row.field_groups.split(","))) if row.field_groups else ()
    counter = CounterView(
        row.id,
        row.place_id,
        row.name,
        row.active,
        row.poster_serial,
        row.questionnaire_slug,
        groups,
        PlaceView(row.place_name, row.place_active),
    )
    if code.serial != counter.poster_serial:
        return CounterLookup("rotated", counter)
    if not counter.active or not counter.place.active:
        return CounterLookup("inactive", counter)
    return CounterLookup("ok", counter)


def _view_statement(session: Session) -> sa.Select[Any]:
    """The counter, its place's name and state, and its field groups joined by commas (built
    once per dialect: building a statement costs more than running this one)."""
    dialect = session.get_bind().dialect.name
    found = _VIEW_STATEMENTS.get(dialect)
    if found is None:
        found = _VIEW_STATEMENTS.setdefault(dialect, _build_view_statement(dialect))
    return found


_VIEW_STATEMENTS: dict[str, sa.Select[Any]] = {}


def _build_view_statement(dialect: str) -> sa.Select[Any]:
    concat = sa.func.string_agg if dialect == "postgresql" else sa.func.group_concat
    groups = (
        sa.select(concat(CounterFieldGroup.field_group, ","))
        .where(CounterFieldGroup.counter_id == Counter.id)
        .scalar_subquery()
    )
    return (
        sa.select(
            Counter.id,
            Counter.place_id,
            Counter.name,
            Counter.active,
            Counter.poster_serial,
            Counter.questionnaire_slug,
            groups.label("field_groups"),
            Place.name.label("place_name"),
            Place.active.label("place_active"),
        )
        .join(Place, Place.id == Counter.place_id)
        .where(Counter.id == sa.bindparam("counter_id"))
    )


def questionnaire_slug(counter: Counter | CounterView, default: str) -> str:
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
