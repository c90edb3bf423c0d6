"""The procedure catalogue (danh mục thủ tục hành chính) and the lĩnh vực → field group table."""

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


class LinhVucGroup(Base):
    """The field group of a lĩnh vực name, as the admin edits it. ``name_key`` is the name in
    NFC, lower case, single spaces and without diacritics ("dat dai"), so that "Đất đai",
    "ĐẤT ĐAI" and "Dat dai" are one row. A frame row's lĩnh vực not in the table is "khac"."""

    __tablename__ = "linh_vuc_group"
    __audited__ = True
    __table_args__ = (
        sa.CheckConstraint(in_list("field_group", FIELD_GROUPS), name="field_group"),
        sa.CheckConstraint("length(name_key) > 0", name="name_key_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    name_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    field_group: Mapped[str] = mapped_column(sa.String(10))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<LinhVucGroup {self.name!r} → {self.field_group}>"
