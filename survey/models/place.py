"""Places of receipt (the provincial centre, commune/ward centres) and their counters."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.models.base import FIELD_GROUPS, Base, in_list, utcnow

PLACE_KINDS = ("tinh", "xa")  # provincial centre, commune/ward centre


class Place(Base):
    """A place of receipt (nơi tiếp nhận hồ sơ)."""

    __tablename__ = "place"
    __audited__ = True
    __table_args__ = (sa.CheckConstraint(in_list("kind", PLACE_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(10))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    counters: Mapped[list[Counter]] = relationship(
        back_populates="place", order_by="Counter.code", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Place {self.code} {self.name}>"


class Counter(Base):
    """A counter (quầy) at a place; it serves one or more field groups."""

    __tablename__ = "counter"
    __audited__ = True
    __table_args__ = (sa.UniqueConstraint("place_id", "code", name="uq_counter_place_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    place_id: Mapped[int] = mapped_column(sa.ForeignKey("place.id", ondelete="RESTRICT"), index=True)
    code: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(default=True)
    #: Incremented when an admin rotates the counter's QR code; old posters stop working.
    poster_serial: Mapped[int] = mapped_column(default=1)
    #: The questionnaire (slug) its poster and citizen's page use; None: the site's
    #: configured ``QR_QUESTIONNAIRE``. The newest published version of the slug is asked.
    questionnaire_slug: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    place: Mapped[Place] = relationship(back_populates="counters")
    field_group_rows: Mapped[list[CounterFieldGroup]] = relationship(
        cascade="all, delete-orphan", order_by="CounterFieldGroup.field_group"
    )

    @property
    def field_groups(self) -> list[str]:
        return [row.field_group for row in self.field_group_rows]

    def __repr__(self) -> str:
        return f"<Counter {self.code} @{self.place_id}>"


class CounterFieldGroup(Base):
    """A field group served by a counter."""

    __tablename__ = "counter_field_group"
    __audited__ = True
    __table_args__ = (sa.CheckConstraint(in_list("field_group", FIELD_GROUPS), name="field_group"),)

    counter_id: Mapped[int] = mapped_column(sa.ForeignKey("counter.id", ondelete="CASCADE"), primary_key=True)
    field_group: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
