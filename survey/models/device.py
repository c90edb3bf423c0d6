"""Interviews and outcomes sent by the interviewer app (one row per idempotency key)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.models.base import Base, BigId, Json, in_list, utcnow
from survey.models.paper import SampledCase
from survey.models.user import User

#: What a device sends: a finished interview, or the outcome of a contact without one.
SUBMISSION_KINDS = ("interview", "outcome")
#: recorded: stored like a keyed form; conflict: the case changed while the device was
#: offline, kept for the team leader; accepted / set_aside: the team leader's decision.
SUBMISSION_STATUSES = ("recorded", "conflict", "accepted", "set_aside")
#: How the interview was made (the response's `mode`).
INTERVIEW_MODES = ("face", "phone")


class DeviceSubmission(Base):
    """One item of an interviewer's device queue, as received. Its idempotency key is unique:
    a retry after a lost reply finds this row and stores nothing again."""

    __tablename__ = "device_submission"
    __audited__ = True
    __table_args__ = (
        sa.CheckConstraint(in_list("kind", SUBMISSION_KINDS), name="kind"),
        sa.CheckConstraint(in_list("status", SUBMISSION_STATUSES), name="status"),
        sa.CheckConstraint(in_list("mode", INTERVIEW_MODES), name="mode"),
        sa.Index("ix_device_submission_round_status", "round_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("survey_round.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("sampled_case.id", ondelete="CASCADE"), index=True)
    interviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(sa.String(10))
    #: The outcome code (an interview: ``completed``).
    outcome: Mapped[str] = mapped_column(sa.String(16))
    answers: Mapped[dict[str, Any] | None] = mapped_column(Json)
    mode: Mapped[str | None] = mapped_column(sa.String(8))
    #: An outcome sent with a request to replace the case by the next reserve: why.
    replacement_reason: Mapped[str | None] = mapped_column(sa.String(300))
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    duration_s: Mapped[int | None]
    status: Mapped[str] = mapped_column(sa.String(10))
    #: Why the case could not take the item (shown to the interviewer and the team leader).
    conflict: Mapped[str | None] = mapped_column(sa.String(300))
    response_id: Mapped[int | None] = mapped_column(sa.ForeignKey("response.id"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(sa.String(500))

    case: Mapped[SampledCase] = relationship()
    interviewer: Mapped[User] = relationship(foreign_keys=[interviewer_id])
