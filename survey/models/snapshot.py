"""Weighting runs kept as numbered, immutable snapshots (the analyst's "lần tính quyền số")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.models.base import Base, Json, in_list, utcnow
from survey.models.paper import SurveyRound
from survey.models.user import User

SNAPSHOT_KINDS = ("paper", "qr")


class WeightingSnapshot(Base):
    """One weighting run: what went in (inputs hash, parameters, questionnaire versions,
    software versions), the final weight of every response (``weights``: a compressed NumPy
    archive) and what came out (the weighting report and the estimates).

    Never updated and never overwritten: a new run is a new row with the next number."""

    __tablename__ = "weighting_snapshot"
    __table_args__ = (
        sa.CheckConstraint(in_list("kind", SNAPSHOT_KINDS), name="kind"),
        sa.CheckConstraint("period_end >= period_start", name="period"),
        sa.CheckConstraint("kind = 'qr' OR round_id IS NOT NULL", name="paper_round"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    #: Paper: the round weighted. QR: the round whose frame gave the dossier counts.
    round_id: Mapped[int | None] = mapped_column(sa.ForeignKey("survey_round.id"))
    period_start: Mapped[date]
    period_end: Mapped[date]
    label: Mapped[str] = mapped_column(sa.String(200))
    questionnaire_slug: Mapped[str] = mapped_column(sa.String(64))
    versions: Mapped[list[int]] = mapped_column(Json)
    parameters: Mapped[dict[str, Any]] = mapped_column(Json)
    inputs_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    software: Mapped[dict[str, str]] = mapped_column(Json)
    respondents: Mapped[int]
    report: Mapped[dict[str, Any]] = mapped_column(Json)
    #: The estimates tables: ``{"rates": [...], "shares": [...]}`` (records of
    #: analysis.output.OUTPUT_COLUMNS, NaN stored as null).
    estimates: Mapped[dict[str, Any]] = mapped_column(Json)
    weights: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    survey_round: Mapped[SurveyRound | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<WeightingSnapshot {self.id} {self.kind}>"


class SnapshotImmutable(RuntimeError):
    """A stored snapshot was about to be changed."""


@event.listens_for(WeightingSnapshot, "before_update")
def _refuse_update(mapper: Any, connection: Any, target: WeightingSnapshot) -> None:
    raise SnapshotImmutable(f"weighting snapshot {target.id} is immutable; run a new one")
