"""Audit trail: one row for every change a signed-in user makes."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from survey.models.base import Base, BigId, Json, in_list, utcnow

AUDIT_ACTIONS = ("create", "update", "delete")


class AuditLog(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        sa.CheckConstraint(in_list("action", AUDIT_ACTIONS), name="action"),
        sa.Index("ix_audit_log_entity", "entity", "entity_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(sa.String(10))
    entity: Mapped[str] = mapped_column(sa.String(64))
    entity_id: Mapped[str | None] = mapped_column(sa.String(64))
    #: {column: [old, new]} — old is null on create, new is null on delete.
    changes: Mapped[dict[str, Any]] = mapped_column(Json)
