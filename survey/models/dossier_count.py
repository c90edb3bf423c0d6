"""Dossier counts imported from the one-stop system (place × field group × period): the
post-stratification totals of a QR period that no survey round's frame covers."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.models.base import FIELD_GROUPS, Base, in_list, utcnow
from survey.models.place import Place
from survey.models.user import User


class DossierCountTable(Base):
    """One imported file of dossier counts (all of its rows or none)."""

    __tablename__ = "dossier_count_table"
    __table_args__ = (
        sa.CheckConstraint("period_end >= period_start", name="period"),
        sa.CheckConstraint("dossiers >= 0", name="dossiers"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    filename: Mapped[str] = mapped_column(sa.String(255))
    #: The first and last day covered by its rows; the number of cells and of dossiers.
    period_start: Mapped[date]
    period_end: Mapped[date]
    cells: Mapped[int]
    dossiers: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<DossierCountTable {self.id} {self.name!r}>"


class DossierCount(Base):
    """Dossiers of one place and field group in one period (lĩnh vực rows already summed)."""

    __tablename__ = "dossier_count"
    __table_args__ = (
        sa.UniqueConstraint(
            "table_id", "place_id", "field_group", "period_start", "period_end", name="uq_dossier_count_cell"
        ),
        sa.CheckConstraint(in_list("field_group", FIELD_GROUPS), name="field_group"),
        sa.CheckConstraint("period_end >= period_start", name="period"),
        sa.CheckConstraint("dossiers >= 0", name="dossiers"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(sa.ForeignKey("dossier_count_table.id", ondelete="CASCADE"))
    place_id: Mapped[int] = mapped_column(sa.ForeignKey("place.id"))
    field_group: Mapped[str] = mapped_column(sa.String(10))
    period_start: Mapped[date]
    period_end: Mapped[date]
    dossiers: Mapped[int]

    place: Mapped[Place] = relationship()
