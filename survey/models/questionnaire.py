"""Published questionnaire versions, as loaded from `questionnaires/` or published from the
admin pages, and the uploaded drafts waiting to be published."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from survey.models.base import Base, Json, in_list, utcnow


class Questionnaire(Base):
    """One published version of a questionnaire. Never updated once inserted: the
    content hash guards against a file edited after publication. A version published by a
    signed-in admin is audited (slug, version, hash; not the definition itself)."""

    __audited__ = True
    __audit_hidden__ = frozenset({"definition", "coded_layout"})
    __tablename__ = "questionnaire"
    __table_args__ = (sa.UniqueConstraint("slug", "version", name="uq_questionnaire_slug_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(sa.String(64))  # sha256 of the file's bytes
    title: Mapped[str] = mapped_column(sa.String(500))
    #: The whole definition (parsed file) so that old responses stay readable even if the
    #: file is no longer shipped.
    definition: Mapped[dict[str, Any]] = mapped_column(Json)
    #: Codes of the `scale` questions in file order: the layout of `Response.coded`.
    coded_layout: Mapped[list[str]] = mapped_column(Json)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Questionnaire {self.slug} v{self.version}>"


DRAFT_STATUSES = ("draft", "published", "discarded")


class QuestionnaireDraft(Base):
    """A questionnaire file uploaded on the admin pages: kept as uploaded (valid against the
    schema and the semantic rules) until an admin publishes it — it then points at the
    published version — or discards it. A published version with no file in
    `questionnaires/` is accepted at start-up when its draft's text has the same sha256."""

    __audited__ = True
    __audit_hidden__ = frozenset({"source"})
    __tablename__ = "questionnaire_draft"
    __table_args__ = (
        sa.CheckConstraint(in_list("status", DRAFT_STATUSES), name="status"),
        sa.CheckConstraint("status = 'published' OR questionnaire_id IS NULL", name="published"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), index=True)
    #: The `version` written in the file; the published version number is assigned on publishing.
    declared_version: Mapped[int]
    filename: Mapped[str] = mapped_column(sa.String(255))
    source: Mapped[str] = mapped_column(sa.Text)  # the file's text (UTF-8)
    content_hash: Mapped[str] = mapped_column(sa.String(64))  # sha256 of the file's bytes
    status: Mapped[str] = mapped_column(sa.String(10), default="draft")
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    questionnaire_id: Mapped[int | None] = mapped_column(sa.ForeignKey("questionnaire.id"), unique=True)

    def __repr__(self) -> str:
        return f"<QuestionnaireDraft {self.id} {self.slug} {self.status}>"
