"""Satisfaction estimates for the analyst pages. Every number comes from `analysis`; this
module only reads the stored responses and describes the design.

* **Paper channel** (a survey round): a stratified sample of dossiers, strata = place ×
  field group, fpc = dossiers in the stratum frame; with only fpc, `analysis` weights each
  respondent by N_h / r_h (design weight with the nonresponse adjustment within the stratum).
* **QR channel**: self-selected respondents — not a probability sample. Reported unweighted,
  each response its own unit, and labelled as such; never pooled with the paper channel.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from analysis.design import make_design
from analysis.questionnaire import IndexSpec, index_spec
from analysis.rates import estimate_rates
from survey.models import Place, Questionnaire, Response, SampledCase, StratumDesign, SurveyRound
from survey.models.base import FIELD_GROUPS, LAND_CONSTRUCTION_INVESTMENT, LAND_CONSTRUCTION_INVESTMENT_LABEL
from survey.responses.cases import case_responses
from survey.responses.wide import wide_table


@dataclass(frozen=True)
class Report:
    channel: str
    table: pd.DataFrame  # analysis.output.OUTPUT_COLUMNS
    respondents: int
    place_names: dict[str, str]
    round: SurveyRound | None = None
    element_labels: dict[str, str] | None = None
    #: The overall index's code in the questionnaire (``index.code``, e.g. ``SIPAS``).
    index_code: str = "SIPAS"
    #: Questionnaire versions whose responses are in the report, and versions left out
    #: because their index definition differs.
    versions: tuple[int, ...] = ()
    excluded_versions: tuple[int, ...] = field(default=())
    #: The questionnaire (slug) of every version in the report: one report, one questionnaire.
    slug: str = ""


def report_questionnaires(
    session: Session, slug: str, survey_round: SurveyRound | None = None
) -> tuple[list[Questionnaire], list[Questionnaire]]:
    """The questionnaire versions a report reads, and those it leaves out.

    A paper round is reported on the round's own questionnaire. The QR channel pools the
    published versions of ``slug`` whose index definition (items, elements, codes,
    aggregation, shares) **and** the wording of every index and share question and of their
    scales are identical to the newest version's; the others — a v2 that rewords an item, say —
    are left out (and the page says so) rather than mixed into one index. Versions of another
    slug are never read."""
    if survey_round is not None:
        own = session.get(Questionnaire, survey_round.questionnaire_id)
        return ([own] if own is not None else []), []
    rows = list(
        session.scalars(
            sa.select(Questionnaire).where(Questionnaire.slug == slug).order_by(Questionnaire.version.desc())
        )
    )
    if not rows:
        return [], []
    newest = _spec(rows[0])
    pooled = [q for q in rows if _spec(q) == newest]
    return sorted(pooled, key=lambda q: q.version), sorted(
        (q for q in rows if q not in pooled), key=lambda q: q.version
    )


def _spec(questionnaire: Questionnaire) -> tuple[IndexSpec, str]:
    """What must be equal for two versions to be pooled: the index definition and the wording
    (every language) of the questions and scales it reads."""
    spec = index_spec(questionnaire.definition)
    definition = questionnaire.definition
    read = set(spec.items) | {code for share in spec.shares for code in share.items}
    wording = {
        "questions": {
            q["code"]: q["text"]
            for section in definition["sections"]
            for q in section["questions"]
            if q["code"] in read
        },
        "scales": definition["scales"],
        "index": definition.get("index"),
        "indices": definition.get("indices", []),
        "elements": definition.get("elements", []),
    }
    return spec, json.dumps(wording, sort_keys=True, ensure_ascii=False)


def _paper_design_columns(session: Session, survey_round: SurveyRound) -> pd.DataFrame:
    link = case_responses()
    rows = session.execute(
        sa.select(link.c.response_id, SampledCase.stratum, StratumDesign.population)
        .join(SampledCase, SampledCase.id == link.c.case_id)
        .join(
            StratumDesign,
            sa.and_(StratumDesign.round_id == SampledCase.round_id, StratumDesign.stratum == SampledCase.stratum),
        )
        .where(SampledCase.round_id == survey_round.id)
    ).all()
    return pd.DataFrame(rows, columns=["id", "stratum", "population"])


def build_report(
    session: Session,
    versions: Sequence[Questionnaire],
    *,
    channel: str,
    survey_round: SurveyRound | None = None,
    excluded: Sequence[Questionnaire] = (),
) -> Report:
    """The estimates of one channel (or round) over the given questionnaire versions, which
    must share one index definition (see :func:`report_questionnaires`)."""
    if not versions:
        raise ValueError("a report needs at least one questionnaire version")
    questionnaire = versions[-1]
    spec = index_spec(questionnaire.definition)
    if any(_spec(q) != _spec(questionnaire) or q.slug != questionnaire.slug for q in versions):
        raise ValueError("questionnaire versions with different index definitions or wording are never pooled")
    wide = pd.concat([wide_table(session, q, channel=channel) for q in versions], ignore_index=True)
    wide = wide.sort_values("id", kind="stable", ignore_index=True)
    numbers = tuple(q.version for q in versions)
    left_out = tuple(q.version for q in excluded)
    if channel == "paper":
        if survey_round is None:
            raise ValueError("the paper channel is reported per survey round")
        design_columns = _paper_design_columns(session, survey_round)
        wide = wide.merge(design_columns, on="id", how="inner")
    places = dict(session.execute(sa.select(Place.id, Place.name)).all())
    labels = {e["code"]: e["label"]["vi"] for e in questionnaire.definition.get("elements", [])}
    if wide.empty:
        return Report(
            channel, pd.DataFrame(), 0, {}, survey_round, labels, spec.code, numbers, left_out, versions[-1].slug
        )
    if channel == "paper":
        design = make_design(strata=wide["stratum"].to_numpy(), fpc=wide["population"].to_numpy(dtype=float))
    else:
        design = make_design(n=len(wide))
    group = wide["field_group"].astype(str).to_numpy()
    ldx = np.where(np.isin(group, LAND_CONSTRUCTION_INVESTMENT), LAND_CONSTRUCTION_INVESTMENT_LABEL, None)
    place_label = wide["place_id"].astype(str).to_numpy()
    table = estimate_rates(
        wide[list(spec.items)],
        design,
        valid_codes=spec.valid_codes,
        success_codes=spec.satisfied_codes,
        composites=spec.composites(),
        by={"field_group": group, "ldx": ldx, "place": place_label},
        levels={"field_group": FIELD_GROUPS, "ldx": (LAND_CONSTRUCTION_INVESTMENT_LABEL,)},
    )
    names = {str(pid): places[int(pid)] for pid in set(place_label)}
    return Report(
        channel, table, len(wide), names, survey_round, labels, spec.code, numbers, left_out, versions[-1].slug
    )


def rounds_with_responses(session: Session) -> list[SurveyRound]:
    link = case_responses()
    return list(
        session.scalars(
            sa.select(SurveyRound)
            .where(
                sa.exists(
                    sa.select(link.c.case_id)
                    .join(SampledCase, SampledCase.id == link.c.case_id)
                    .where(SampledCase.round_id == SurveyRound.id)
                )
            )
            .order_by(SurveyRound.id.desc())
        )
    )


def response_total(session: Session, channel: str) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(Response).where(Response.channel == channel)) or 0)


def _rows(table: pd.DataFrame, domain_var: str, indicators: tuple[str, ...]) -> list[dict[str, Any]]:
    if table.empty:
        return []
    part = table[(table["domain_var"] == domain_var) & (table["indicator"].isin(indicators))]
    return list(part.to_dict("records"))


def report_sections(report: Report) -> dict[str, list[dict[str, Any]]]:
    """The report's tables as the page shows them: overall (SIPAS and elements), by field
    group and land + construction + investment, by place (lowest first), every item."""
    table = report.table
    index = (report.index_code,)
    headline = (report.index_code, *(report.element_labels or {}))  # the index, then its elements in order
    every = tuple(table["indicator"].unique()) if not table.empty else ()
    return {
        "overall": sorted(_rows(table, "all", headline), key=lambda r: headline.index(r["indicator"])),
        "by_group": _rows(table, "field_group", index) + _rows(table, "ldx", index),
        "by_place": sorted(_rows(table, "place", index), key=lambda r: r["estimate"]),
        "items": _rows(table, "all", every),
    }


def estimates_csv(report: Report) -> tuple[bytes, str]:
    """The estimates table as CSV (UTF-8 with a byte-order mark, for Excel), places by name,
    and its file name."""
    table = report.table.copy()
    if not table.empty:
        places = table["domain_var"] == "place"
        table.loc[places, "domain"] = table.loc[places, "domain"].map(report.place_names)
    name = f"sipas-{'giay-dot-' + str(report.round.id) if report.round else 'qr'}.csv"
    return ("\ufeff" + table.to_csv(index=False)).encode("utf-8"), name
