"""Breakdowns by the background questions of the questionnaire (sex, age group, education,
occupation, …): which questions they are, reading their answers, and their estimates.

The background questions are read from the questionnaire definition, not listed here: every
``choice`` question except the one that records the field group (its options are the field
groups, which the dashboard already breaks down by). The index and the element rates by each
of them come from :func:`analysis.rates.estimate_rates` with the snapshot's design; a
respondent who left the question blank is in no category of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from analysis.design import Design
from analysis.questionnaire import IndexSpec
from analysis.rates import estimate_rates
from survey.models import Response
from survey.models.base import FIELD_GROUPS

#: Prefix of the background columns in a snapshot's wide table (never a questionnaire code).
PREFIX = "bg:"


@dataclass(frozen=True)
class BackgroundQuestion:
    code: str
    text: str
    options: tuple[tuple[str, str], ...]  # (code, Vietnamese label), in the questionnaire's order


def background_questions(definition: dict[str, Any]) -> list[BackgroundQuestion]:
    """The questionnaire's background questions, in its order."""
    out = []
    for section in definition.get("sections", []):
        for q in section.get("questions", []):
            if q.get("type") != "choice":
                continue
            options = tuple((str(o["code"]), str(o["label"]["vi"])) for o in q.get("options", []))
            if {code for code, _label in options} == set(FIELD_GROUPS):
                continue  # the field group: a design column with its own table
            text = q.get("text", {}).get("vi", q["code"]) if isinstance(q.get("text"), dict) else q["code"]
            out.append(BackgroundQuestion(str(q["code"]), str(text), options))
    return out


def add_background_columns(
    session: Session,
    wide: pd.DataFrame,
    questions: list[BackgroundQuestion],
    *,
    questionnaire_ids: list[int],
    channel: str,
) -> pd.DataFrame:
    """``wide`` with one column ``bg:<code>`` per background question (the answer's code as a
    string, None when blank), read from the answers in one query (JSON extraction in SQL)."""
    if not questions:
        return wide
    columns = [Response.answers[q.code].as_string().label(f"q{i}") for i, q in enumerate(questions)]
    rows = session.execute(
        sa.select(Response.id, *columns).where(
            Response.questionnaire_id.in_(questionnaire_ids), Response.channel == channel
        )
    ).all()
    names = [f"{PREFIX}{q.code}" for q in questions]
    read = pd.DataFrame(rows, columns=["id", *names])
    out = wide.merge(read, on="id", how="left", validate="one_to_one")
    for name in names:
        out[name] = out[name].astype(object).where(out[name].notna(), None)
    return out


def estimate_background(
    wide: pd.DataFrame, design: Design, spec: IndexSpec, questions: list[BackgroundQuestion]
) -> pd.DataFrame:
    """The index and element rates in every category of every background question (the
    columns of :data:`analysis.output.OUTPUT_COLUMNS`; ``domain_var`` is the question code)."""
    present = [q for q in questions if f"{PREFIX}{q.code}" in wide]
    if not present or wide.empty:
        return pd.DataFrame()
    by = {q.code: wide[f"{PREFIX}{q.code}"].to_numpy(dtype=object) for q in present}
    levels = {q.code: [code for code, _label in q.options] for q in present}
    table = estimate_rates(
        wide[list(spec.items)],
        design,
        valid_codes=spec.valid_codes,
        success_codes=spec.satisfied_codes,
        composites=spec.composites(),
        by=by,
        levels=levels,
        include_overall=False,
    )
    keep = {spec.code, *(code for code, _items in spec.elements)}
    return table[table["indicator"].isin(keep)].reset_index(drop=True)


def background_codes(wide: pd.DataFrame) -> list[np.ndarray]:
    """The background columns of a wide table (for the inputs hash)."""
    return [wide[c].to_numpy(dtype=object) for c in wide.columns if str(c).startswith(PREFIX)]
