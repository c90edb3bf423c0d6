"""Case lists of a round at any size (2,000–20,000 cases): filtered and paged by the database.

A page is read with a few short queries, whatever the page size and wherever the page is:
the count and the page's ids over the narrow `sampled_case` rows (places and field groups
through the round's strata; a dossier code or serial matched exactly by its index first),
then the page's cases by id with their dossier, place and interviewer joined into the same
SELECT (no query per case)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager

from survey.models import FrameRecord, SampledCase, StratumDesign

UNASSIGNED, NO_OUTCOME = "chua-giao", "chua-co"


@dataclass(frozen=True)
class CaseFilter:
    """What a case list is narrowed to (None: everything)."""

    place_id: int | None = None
    field_group: str | None = None
    #: An interviewer's id, or UNASSIGNED.
    surveyor: int | str | None = None
    #: An outcome code, or NO_OUTCOME (no outcome yet, not replaced).
    outcome: str | None = None
    #: Part of a dossier code, or the first digits of a form serial.
    search: str = ""


@dataclass(frozen=True)
class Page:
    """One page of a list, with what a pager shows (the names of Flask-SQLAlchemy's
    `Pagination`, so one pager template serves both)."""

    items: Sequence[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(-(-self.total // self.per_page), 1)

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return max(self.page - 1, 1)

    @property
    def next_num(self) -> int:
        return self.page + 1


def case_ids(round_id: int, filters: CaseFilter = CaseFilter(), *, exact: bool = False) -> sa.Select:
    """The ids of the round's cases in the field under `filters` (`exact`: the search text is
    a whole dossier code or serial)."""
    stmt = sa.select(SampledCase.id).where(SampledCase.round_id == round_id, SampledCase.active)
    if filters.place_id or filters.field_group:
        # A stratum is a place and a field group: filter on the strata (a few hundred rows of
        # the design), never by joining each case to its frame row.
        strata = sa.select(StratumDesign.stratum).where(StratumDesign.round_id == round_id)
        if filters.place_id:
            strata = strata.where(StratumDesign.place_id == filters.place_id)
        if filters.field_group:
            strata = strata.where(StratumDesign.field_group == filters.field_group)
        stmt = stmt.where(SampledCase.stratum.in_(strata))
    if filters.surveyor == UNASSIGNED:
        stmt = stmt.where(SampledCase.surveyor_id.is_(None))
    elif isinstance(filters.surveyor, int):
        stmt = stmt.where(SampledCase.surveyor_id == filters.surveyor)
    if filters.outcome == NO_OUTCOME:
        stmt = stmt.where(SampledCase.outcome.is_(None), SampledCase.replaced_by_id.is_(None))
    elif filters.outcome:
        stmt = stmt.where(SampledCase.outcome == filters.outcome)
    if filters.search:
        stmt = stmt.where(_search(round_id, filters.search, exact=exact))
    return stmt


def _search(round_id: int, text: str, *, exact: bool) -> sa.ColumnElement[bool]:
    """Cases whose dossier code is (exact) or contains `text`, or whose serial is (exact) or
    starts with its digits."""
    code = FrameRecord.dossier_code
    dossiers = sa.select(FrameRecord.id).where(
        FrameRecord.round_id == round_id, code == text if exact else code.icontains(text, autoescape=True)
    )
    matches = SampledCase.frame_record_id.in_(dossiers)
    digits = text.replace(" ", "").replace("-", "")
    if digits.isdigit():
        serial = SampledCase.form_serial
        matches = matches | (serial == digits if exact else serial.startswith(digits, autoescape=True))
    return matches


def cases_by_id(ids: Sequence[int]) -> sa.Select:
    """The cases of `ids` with their dossier, place and interviewer in the same SELECT."""
    return (
        sa.select(SampledCase)
        .join(SampledCase.record)
        .join(FrameRecord.place)
        .outerjoin(SampledCase.surveyor)
        .options(contains_eager(SampledCase.record).contains_eager(FrameRecord.place))
        .options(contains_eager(SampledCase.surveyor))
        .where(SampledCase.id.in_(list(ids)))
    )


def case_page(session: Session, round_id: int, filters: CaseFilter, page: int, per_page: int) -> Page:
    """Page `page` (from 1; past the end: an empty page) of the round's cases under `filters`."""
    order = (SampledCase.stratum, SampledCase.draw_order, SampledCase.id)
    if filters.search:
        # A search finds a few cases: read all their ids once (an exact code or serial through
        # its unique index; only when none matches, the slower "contains" over the frame).
        matched = list(session.scalars(case_ids(round_id, filters, exact=True).order_by(*order)))
        matched = matched or list(session.scalars(case_ids(round_id, filters).order_by(*order)))
        total, ids = len(matched), matched[(page - 1) * per_page : page * per_page]
    else:
        ids_stmt = case_ids(round_id, filters)
        total = session.scalar(sa.select(sa.func.count()).select_from(ids_stmt.subquery())) or 0
        ids = list(session.scalars(ids_stmt.order_by(*order).limit(per_page).offset((page - 1) * per_page)))
    found = {case.id: case for case in session.scalars(cases_by_id(ids)).unique()} if ids else {}
    return Page(items=[found[i] for i in ids if i in found], total=total, page=page, per_page=per_page)
