"""The procedure catalogue (danh mục thủ tục hành chính)."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from survey.models.base import FIELD_GROUPS, Base, in_list, utcnow

PROCEDURE_LEVELS = ("tinh", "xa")


class Procedure(Base):
    __tablename__ = "procedure"
    __audited__ = True
    __table_args__ = (
        sa.CheckConstraint(in_list("field_group", FIELD_GROUPS), name="field_group"),
        sa.CheckConstraint(in_list("level", PROCEDURE_LEVELS), name="level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)  # mã TTHC
    name: Mapped[str] = mapped_column(sa.String(500))
    linh_vuc: Mapped[str] = mapped_column(sa.String(200))
    field_group: Mapped[str] = mapped_column(sa.String(10), index=True)
    level: Mapped[str] = mapped_column(sa.String(10))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Procedure {self.code}>"
