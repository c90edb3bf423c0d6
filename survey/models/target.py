"""Targets per questionnaire and indicator, as the admin edits them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from survey.models.base import Base, utcnow


class QuestionnaireTarget(Base):
    """A target (percent) for one indicator of one questionnaire (slug), one target year and
    one domain (``all``, a field group code). A questionnaire without rows uses the
    province's configured ``TARGETS`` for its overall index."""

    __tablename__ = "questionnaire_target"
    __audited__ = True
    __table_args__ = (
        sa.UniqueConstraint("slug", "indicator", "year", "domain", name="uq_questionnaire_target"),
        sa.CheckConstraint("target >= 0 AND target <= 100", name="target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), index=True)
    indicator: Mapped[str] = mapped_column(sa.String(40))
    year: Mapped[str] = mapped_column(sa.String(4))
    domain: Mapped[str] = mapped_column(sa.String(20))
    target: Mapped[float] = mapped_column(sa.Float)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<QuestionnaireTarget {self.slug} {self.indicator} {self.year} {self.domain} {self.target}>"
