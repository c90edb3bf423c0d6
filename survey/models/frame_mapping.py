"""Named column-mapping profiles of frame exports ("Xuất từ Một cửa Bắc Ninh")."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.models.base import Base, Json, utcnow
from survey.models.user import User


class FrameMappingProfile(Base):
    """How the columns of one kind of export map to the frame's fields: ``columns`` is
    {field: header in the file} (fields as in ``survey.paper.frames.COLUMNS``); ``headers`` are
    all the headers of the file it was saved from (an upload with the same headers picks it)."""

    __tablename__ = "frame_mapping_profile"
    __audited__ = True
    __table_args__ = (sa.CheckConstraint("length(name) > 0", name="name_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    columns: Mapped[dict[str, str]] = mapped_column(Json)
    headers: Mapped[list[str]] = mapped_column(Json)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<FrameMappingProfile {self.name!r}>"
