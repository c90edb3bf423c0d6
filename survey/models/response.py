"""Survey responses from both channels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.models.base import FIELD_GROUPS, Base, BigId, Json, in_list, utcnow
from survey.models.place import Counter, Place
from survey.models.procedure import Procedure
from survey.models.questionnaire import Questionnaire

CHANNELS = ("qr", "paper")
STATUSES = ("draft", "submitted", "verified", "rejected")
STATUS_LABELS = {
    "draft": "Nháp",
    "submitted": "Đã gửi",
    "verified": "Đã xác minh",
    "rejected": "Bị loại",
}
#: How an interview of the paper channel's sample was made: a paper form keyed twice, or the
#: interviewer app face to face or by phone (NULL: QR responses, and keyed forms stored
#: before the mode was recorded).
MODES = ("paper", "face", "phone")
#: Key of the index the wide table is read through (see `survey.responses.wide`).
WIDE_INDEX_COLUMNS = (
    "questionnaire_id",
    "status",
    "channel",
    "field_group",
    "mode",
    "place_id",
    "counter_id",
    "procedure_id",
    "id",
    "submitted_at",
    "coded",
)


class Response(Base):
    """One completed (or, for paper entry, draft) questionnaire.

    Answers are stored twice, on purpose:

    * ``answers`` — every answer keyed by question code (JSON): the record of truth;
    * ``coded`` — the codes of the questionnaire's ``scale`` questions as one string of
      digits in the order given by ``Questionnaire.coded_layout`` (``.`` for no answer).
      Reading a million of these into the wide item matrix the analysis needs is one
      column scan and a vectorised byte decode (see docs/architecture.md).
    """

    __tablename__ = "response"
    __table_args__ = (
        sa.CheckConstraint(in_list("channel", CHANNELS), name="channel"),
        sa.CheckConstraint(in_list("status", STATUSES), name="status"),
        sa.CheckConstraint(in_list("field_group", FIELD_GROUPS), name="field_group"),
        sa.CheckConstraint(in_list("mode", MODES), name="mode"),
        # At most one response per dossier and channel (the code is optional on the QR
        # channel; a citizen sampled for an interview may also have rated at the counter).
        sa.Index(
            "uq_response_channel_dossier_code",
            "channel",
            "dossier_code",
            unique=True,
            sqlite_where=sa.text("dossier_code IS NOT NULL"),
            postgresql_where=sa.text("dossier_code IS NOT NULL"),
        ),
        # The wide read (`survey.responses.wide`) reads only these columns: SQLite scans this
        # index instead of the rows (which carry the JSON answers), in the order of its GROUP BY
        # (labels, place, counter, procedure: sent once per group, not once per row). Its first
        # two columns serve every lookup by questionnaire and status.
        sa.Index("ix_response_wide", *WIDE_INDEX_COLUMNS),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaire.id"))
    channel: Mapped[str] = mapped_column(sa.String(10))
    status: Mapped[str] = mapped_column(sa.String(12), default="submitted")
    place_id: Mapped[int] = mapped_column(sa.ForeignKey("place.id"), index=True)
    counter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("counter.id"), index=True)
    field_group: Mapped[str] = mapped_column(sa.String(10))
    procedure_id: Mapped[int | None] = mapped_column(sa.ForeignKey("procedure.id"))
    dossier_code: Mapped[str | None] = mapped_column(sa.String(40))
    #: Short code shown to the respondent on the thank-you page / written on the paper form.
    receipt_code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    #: One key per rendered form: a resubmission of the same form stores nothing new.
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    #: Paper channel: the interviewer (Bưu điện) who conducted the interview.
    interviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    #: QR channel: salted, daily-rotated hash of the client, used to flag likely duplicates.
    device_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    #: Keyed digest of (device cookie, counter, answers): the same answers sent again from the
    #: same phone within minutes (Back after the thank-you page) are this response.
    resubmit_key: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    #: Another response came from the same device hash at the same counter that day. A
    #: flag for review, never a reason to refuse (families share phones).
    possible_duplicate: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    answers: Mapped[dict[str, Any]] = mapped_column(Json)
    coded: Mapped[str] = mapped_column(sa.String(200))
    #: Paper channel: how the interview was made (`MODES`).
    mode: Mapped[str | None] = mapped_column(sa.String(8))
    #: Interviewer app: when the interview ended on the device, and how long it took.
    ended_at: Mapped[datetime | None]
    duration_s: Mapped[int | None]
    started_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    questionnaire: Mapped[Questionnaire] = relationship()
    place: Mapped[Place] = relationship()
    counter: Mapped[Counter | None] = relationship()
    procedure: Mapped[Procedure | None] = relationship()

    def __repr__(self) -> str:
        return f"<Response {self.id} {self.channel} {self.receipt_code}>"
