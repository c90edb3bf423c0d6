"""Declarative base with a naming convention so that every constraint has a stable name
in SQLite and PostgreSQL alike (Alembic batch mode needs it)."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, registry

from analysis.domains import FIELD_GROUPS, LAND_CONSTRUCTION_INVESTMENT, LAND_CONSTRUCTION_INVESTMENT_LABEL

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: Identifiers stored as BIGINT on PostgreSQL (millions of responses) and INTEGER on
#: SQLite, where only INTEGER PRIMARY KEY is an auto-incrementing rowid.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

#: JSON stored as JSONB on PostgreSQL.
Json = sa.JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """Callable default: evaluated per row, not once at import."""
    return datetime.now(UTC)


def in_list(column: str, values: tuple[str, ...]) -> str:
    """SQL text of a CHECK constraint restricting `column` to `values`."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: sa.DateTime(timezone=True)},
    )


FIELD_GROUP_LABELS = {
    "dat_dai": "Đất đai",
    "xay_dung": "Xây dựng",
    "dau_tu": "Đầu tư",
    "khac": "Lĩnh vực khác",
}


__all__ = [
    "FIELD_GROUPS",
    "FIELD_GROUP_LABELS",
    "LAND_CONSTRUCTION_INVESTMENT",
    "LAND_CONSTRUCTION_INVESTMENT_LABEL",
    "Base",
    "BigId",
    "Json",
    "in_list",
    "utcnow",
]
