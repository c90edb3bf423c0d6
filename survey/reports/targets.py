"""Targets per questionnaire and indicator: what the admin set (table ``questionnaire_target``),
else the province's configured ``TARGETS`` for the questionnaire's overall index.

Shape everywhere: ``{indicator: {year: {domain: percent}}}``; domains are ``all`` and the
field-group codes (the land + construction + investment row reads ``dat_dai``'s target when it
has none of its own)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from analysis.questionnaire import index_spec
from survey import questionnaires
from survey.models import QuestionnaireTarget
from survey.models.base import FIELD_GROUPS

Targets = dict[str, dict[str, dict[str, float]]]
DOMAINS = ("all", *FIELD_GROUPS)


class TargetError(ValueError):
    """A target cannot be saved as asked; the message is one Vietnamese sentence."""


@dataclass(frozen=True)
class TargetRow:
    id: int | None
    indicator: str
    year: str
    domain: str
    target: float


def targets_for(session: Session, slug: str, index_code: str, default: dict[str, dict[str, float]]) -> Targets:
    """The targets of questionnaire `slug`: its own rows when the admin set any, else the
    province's `default` (``{year: {domain: percent}}``) for its overall index `index_code`."""
    rows = session.scalars(sa.select(QuestionnaireTarget).where(QuestionnaireTarget.slug == slug)).all()
    if not rows:
        return {index_code: {year: dict(by_domain) for year, by_domain in default.items()}}
    out: Targets = {}
    for row in rows:
        out.setdefault(row.indicator, {}).setdefault(row.year, {})[row.domain] = float(row.target)
    return out


def indicators_of(session: Session, slug: str) -> list[tuple[str, str]]:
    """The indicators of the newest published version of `slug` that can carry a target:
    (code, label) of the overall index, the further indices and the elements."""
    row = questionnaires.get(session, slug)
    if row is None:
        return []
    spec = index_spec(row.definition)
    labels = {spec.code: row.definition["index"]["label"]["vi"]}
    labels |= {str(i["code"]): i["label"]["vi"] for i in row.definition.get("indices", [])}
    labels |= {str(e["code"]): e["label"]["vi"] for e in row.definition.get("elements", [])}
    return [(code, labels.get(code, code)) for code in spec.indicators]


def target_rows(session: Session, slug: str) -> list[TargetRow]:
    """The admin's rows for `slug`, by indicator, year and domain."""
    rows = session.scalars(
        sa.select(QuestionnaireTarget)
        .where(QuestionnaireTarget.slug == slug)
        .order_by(QuestionnaireTarget.indicator, QuestionnaireTarget.year, QuestionnaireTarget.domain)
    )
    return [TargetRow(r.id, r.indicator, r.year, r.domain, r.target) for r in rows]


def save_target(
    session: Session,
    slug: str,
    *,
    indicator: str,
    year: str,
    domain: str,
    target: float,
    default: dict[str, dict[str, float]] | None = None,
) -> QuestionnaireTarget:
    """Set (insert or change) one target; the audit log records the change. The first target
    saved for `slug` first copies the province's `default` for its overall index into the
    table (as the targets in force until then), so that saving one never drops the others.
    Flushes."""
    indicators = indicators_of(session, slug)
    if default and indicators and not target_rows(session, slug):
        for default_year, by_domain in sorted(default.items()):
            for default_domain, value in by_domain.items():
                if default_domain in DOMAINS:
                    _put(session, slug, indicators[0][0], str(default_year), default_domain, float(value))
    known = {code for code, _label in indicators}
    if indicator not in known:
        raise TargetError(f"Phiếu {slug} không có chỉ số {indicator}.")
    if domain not in DOMAINS:
        raise TargetError(f"Miền {domain} không hợp lệ.")
    if not 0 <= target <= 100:
        raise TargetError("Chỉ tiêu phải từ 0 đến 100 (%).")
    return _put(session, slug, indicator, year, domain, target)


def _put(session: Session, slug: str, indicator: str, year: str, domain: str, target: float) -> QuestionnaireTarget:
    row = session.scalar(
        sa.select(QuestionnaireTarget).where(
            QuestionnaireTarget.slug == slug,
            QuestionnaireTarget.indicator == indicator,
            QuestionnaireTarget.year == year,
            QuestionnaireTarget.domain == domain,
        )
    )
    if row is None:
        row = QuestionnaireTarget(slug=slug, indicator=indicator, year=year, domain=domain, target=target)
        session.add(row)
    else:
        row.target = target
    session.flush()
    return row


def delete_target(session: Session, slug: str, target_id: int) -> None:
    """Remove one of `slug`'s targets (audit-logged). Flushes."""
    row = session.get(QuestionnaireTarget, target_id)
    if row is None or row.slug != slug:
        raise TargetError("Không có chỉ tiêu này.")
    session.delete(row)
    session.flush()


@dataclass(frozen=True)
class TargetPage:
    """What the admin's targets page shows for one questionnaire."""

    slug: str
    indicators: list[tuple[str, str]]
    rows: list[TargetRow]
    #: The targets in force (own rows, else the province's default for the overall index).
    effective: list[TargetRow]
    uses_default: bool


def target_page(session: Session, slug: str, default: dict[str, dict[str, float]]) -> TargetPage:
    indicators = indicators_of(session, slug)
    rows = target_rows(session, slug)
    index_code = indicators[0][0] if indicators else ""
    effective = [
        TargetRow(None, indicator, year, domain, value)
        for indicator, by_year in targets_for(session, slug, index_code, default).items()
        for year, by_domain in sorted(by_year.items())
        for domain, value in by_domain.items()
    ]
    return TargetPage(slug, indicators, rows, effective, uses_default=not rows)
