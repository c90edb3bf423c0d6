"""Places and counters: plain functions; they flush, the view commits (and the audit hook
records who changed what)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from survey.models import Counter, CounterFieldGroup, Place


class PlaceError(ValueError):
    """A rule the user broke; the message is shown beside the form."""


def save_place(session: Session, place: Place | None, *, code: str, name: str, kind: str, active: bool) -> Place:
    code = code.strip().upper()
    clash = session.scalar(sa.select(Place.id).where(Place.code == code, Place.id != (place.id if place else -1)))
    if clash is not None:
        raise PlaceError(f"Mã {code} đã được dùng cho nơi tiếp nhận khác.")
    if place is None:
        place = Place(code=code, name=name.strip(), kind=kind, active=active)
        session.add(place)
    else:
        place.code, place.name, place.kind, place.active = code, name.strip(), kind, active
    session.flush()
    return place


def save_counter(
    session: Session,
    counter: Counter | None,
    *,
    place: Place,
    code: str,
    name: str,
    field_groups: list[str],
    active: bool,
    questionnaire_slug: str | None = None,
) -> Counter:
    code = code.strip().upper()
    if not field_groups:
        raise PlaceError("Chọn ít nhất một nhóm lĩnh vực.")
    clash = session.scalar(
        sa.select(Counter.id).where(
            Counter.place_id == place.id, Counter.code == code, Counter.id != (counter.id if counter else -1)
        )
    )
    if clash is not None:
        raise PlaceError(f"Mã quầy {code} đã có tại {place.name}.")
    if counter is None:
        counter = Counter(place=place, code=code, name=name.strip(), active=active)
        session.add(counter)
    else:
        counter.code, counter.name, counter.active = code, name.strip(), active
    counter.questionnaire_slug = questionnaire_slug or None
    wanted = set(field_groups)
    for row in [r for r in counter.field_group_rows if r.field_group not in wanted]:
        counter.field_group_rows.remove(row)
        session.delete(row)  # explicitly, so the audit trail sees the removal
    for group in sorted(wanted - set(counter.field_groups)):
        counter.field_group_rows.append(CounterFieldGroup(field_group=group))
    session.flush()
    return counter
