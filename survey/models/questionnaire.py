"""Published questionnaire versions, as loaded from `questionnaires/`."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from survey.models.base import Base, Json, utcnow


class Questionnaire(Base):
    """One published version of a questionnaire. Never updated once inserted: the
    content hash guards against a file edited after publication."""

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
